package evaluate

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

// A small taxonomy and corpus whose every figure can be worked out by hand.
const fixtureTaxonomy = `
categories:
  - {code: utilities, name: 水电气暖, terms: [{weight: 5, phrases: [停水, 燃气]}]}
  - {code: property, name: 物业管理, terms: [{weight: 5, phrases: [物业]}]}
  - {code: other, name: 其他, terms: [{weight: 1, phrases: [杂事]}]}
request_types:
  - {code: consult, name: 咨询, terms: [{weight: 5, phrases: [请问]}]}
  - {code: help, name: 求助, terms: [{weight: 5, phrases: [帮忙]}]}
emergency_request_type: help
`

const fixtureEmergency = `
kinds: [{kind: fire, number: "119", advice: 请拨打119}]
guards: [{name: past, scope: sentence, phrases: [上个月]}]
triggers: [{kind: fire, phrases: [着火]}]
`

const fixtureOOS = `
rules: [{code: litigation, reason: 已进入诉讼, phrases: [已起诉]}]
`

const fixtureCorpus = `# comment lines and blank lines are skipped

{"id": "f1", "channel": "sms", "text": "请问什么时候来水，停水两天了", "category": "utilities", "category_alt": [], "request_type": "consult", "emergency": null, "notes": ""}
{"id": "f2", "channel": "phone", "text": "坐席：您好，物业的事吗？\n市民：燃气着火了，快帮忙", "category": "utilities", "category_alt": ["property"], "request_type": "help", "emergency": "fire", "notes": "caller turn only: the agent's 物业 must not count"}
{"id": "f3", "channel": "sms", "text": "上个月楼道着火了，物业到现在不修", "category": "property", "category_alt": [], "request_type": "complaint", "emergency": null, "notes": "hard negative: past fire"}
{"id": "f4", "channel": "sms", "text": "物业着火了", "category": "property", "category_alt": [], "request_type": "complaint", "emergency": null, "notes": "hard negative written badly: counts as a false alarm"}
{"id": "f5", "channel": "sms", "text": "我已起诉物业，请问还要做什么", "category": "property", "category_alt": [], "request_type": "consult", "emergency": null, "notes": "", "out_of_scope": "litigation"}
{"id": "f6", "channel": "sms", "text": "请帮忙看看停水的事", "category": "property", "category_alt": [], "request_type": "consult", "emergency": null, "notes": "", "out_of_scope": false}
`

func fixtureClassifier(t *testing.T) *normalize.Classifier {
	t.Helper()
	c, err := normalize.NewClassifier(normalize.Sources{Taxonomy: []byte(fixtureTaxonomy), Emergency: []byte(fixtureEmergency), OutOfScope: []byte(fixtureOOS)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEvaluateFixture(t *testing.T) {
	rep, err := Evaluate(fixtureClassifier(t), []byte(fixtureCorpus))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"total", rep.Total, 6},
		// f1 f2 f3 f4 f5 right; f6 (停水 → utilities, gold property) wrong.
		{"category correct", rep.CategoryCorrect, 5},
		// f1 consult ✓ (请问 beats nothing), f2 help ✓ (emergency), f3 complaint ✓ (default with a
		// category), f4 help ✗ (the false alarm makes it help), f5 consult ✓, f6 help ✗ (帮忙).
		{"request type correct", rep.RequestTypeCorrect, 4},
		{"emergencies", rep.Emergencies, 1},
		{"emergencies found", rep.EmergenciesFound, 1},
		{"right kind", rep.EmergencyKindCorrect, 1},
		{"false alarms", rep.FalseAlarms, 1},
		{"hard negatives", rep.HardNegatives, 2},
		{"hard-negative false alarms", rep.HardNegativeFalseAlarms, 1},
		{"out-of-scope positives", rep.OutOfScopePositives, 1},
		{"out-of-scope found", rep.OutOfScopeFound, 1},
		{"out-of-scope wrongly flagged", rep.OutOfScopeFP, 0},
		{"confusion utilities→utilities", rep.Confusion["utilities"]["utilities"], 2},
		{"confusion property→utilities", rep.Confusion["property"]["utilities"], 1},
		{"request confusion complaint→help", rep.RequestConfusion["complaint"]["help"], 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if !rep.OutOfScopeLabelled || rep.OutOfScopeRecall() != 1 || rep.EmergencyRecall() != 1 {
		t.Errorf("recalls: oos labelled %v recall %v, emergency %v", rep.OutOfScopeLabelled, rep.OutOfScopeRecall(), rep.EmergencyRecall())
	}

	var out bytes.Buffer
	if err := rep.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"category accuracy         83.3%  (5/6",
		"request type accuracy     66.7%  (4/6)",
		"emergency recall         100.0%  (1/1 found; right kind 1)",
		"emergency false alarms    20.0%  (1 of 5 without emergency; hard negatives: 1 of 2; long letters: 0 of 0)",
		"out-of-scope recall      100.0%  (1/1; referral kind right 0 of 0)",
		"out-of-scope false flags   0.0%  (0 of 1 in scope)",
		"category confusion",
		"f4         request complaint→help; false alarm fire by rule",
		"f6         category property→utilities",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParseJSONLErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"id": "x", "text": "a"}`, "line 1 (x): category and request_type are required"},
		{"\n{not json}", "line 2"},
		{"# only a comment", "no examples"},
		{`{"id": "x", "category": "a", "request_type": "help", "out_of_scope": 3}`, "out_of_scope"},
	} {
		if _, err := ParseJSONL([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestNoOutOfScopeLabels(t *testing.T) {
	rep, err := Evaluate(fixtureClassifier(t), []byte(`{"id": "a", "text": "停水", "category": "utilities", "request_type": "complaint"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.Print(&out)
	if rep.OutOfScopeLabelled || !strings.Contains(out.String(), "out-of-scope recall      n/a") {
		t.Errorf("unlabelled corpus should say n/a:\n%s", out.String())
	}
}

// Per-class precision and recall of the fixture, worked out by hand.
func TestPerClass(t *testing.T) {
	rep, err := Evaluate(fixtureClassifier(t), []byte(fixtureCorpus))
	if err != nil {
		t.Fatal(err)
	}
	find := func(decision, class string) ClassScore {
		for _, s := range rep.PerClass(decision) {
			if s.Class == class {
				return s
			}
		}
		t.Fatalf("%s: no class %s in %+v", decision, class, rep.PerClass(decision))
		return ClassScore{}
	}
	// Gold utilities f1 f2; property f3 f4 f5 f6. Predicted utilities f1 f2 f6 (f2 counts as
	// utilities, its gold), property f3 f4 f5.
	if s := find("category", "utilities"); s.Gold != 2 || s.Predicted != 3 || s.Right != 2 || s.Recall != 1 || s.Precision < 0.66 || s.Precision > 0.67 {
		t.Errorf("utilities: %+v", s)
	}
	if s := find("category", "property"); s.Gold != 4 || s.Predicted != 3 || s.Right != 3 || s.Precision != 1 || s.Recall != 0.75 {
		t.Errorf("property: %+v", s)
	}
	// Emergencies: f2 fire found, f4 a false fire alarm.
	if s := find("emergency", "fire"); s.Gold != 1 || s.Predicted != 2 || s.Right != 1 || s.Precision != 0.5 || s.Recall != 1 {
		t.Errorf("fire: %+v", s)
	}
	if s := find("emergency", "none"); s.Gold != 5 || s.Predicted != 4 || s.Right != 4 {
		t.Errorf("none: %+v", s)
	}
	// Out of scope: only f5 (litigation, no referral kinds in the fixture) and f6 carry labels.
	if s := find("out_of_scope", "in_scope"); s.Gold != 1 || s.Right != 1 {
		t.Errorf("in scope: %+v", s)
	}
}

// Cross-validation scores every example exactly once, by a model that did not see it: on a
// corpus where each example's label is written in it but never repeated, a model could only be
// right by memorising, so cross-validation must not be perfect while scoring on the training
// data is.
func TestCrossValidateFixture(t *testing.T) {
	var lines []string
	words := []string{"甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸", "子", "丑", "寅", "卯", "辰", "巳", "午", "未", "申", "酉"}
	for i, w := range words {
		cat := []string{"utilities", "property"}[i%2]
		lines = append(lines, fmt.Sprintf(`{"id": "x%d", "text": "%s%s事", "category": %q, "request_type": "consult"}`, i, w, w, cat))
	}
	ex, err := ParseJSONL([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	c := fixtureClassifier(t)
	opts := learn.DefaultOptions()
	opts.MinCount = 1
	opts.CalibrationFolds = 2
	rep, err := CrossValidate(c, ex, 4, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != len(ex) || rep.Folds != 4 {
		t.Fatalf("total %d folds %d", rep.Total, rep.Folds)
	}
	seen := map[string]bool{}
	folds := map[int]int{}
	for _, o := range rep.Outcomes {
		if seen[o.ID] || o.Fold < 0 || o.Fold >= 4 {
			t.Errorf("%s scored twice or in fold %d", o.ID, o.Fold)
		}
		seen[o.ID] = true
		folds[o.Fold]++
	}
	for f, n := range folds {
		if n != len(ex)/4 {
			t.Errorf("fold %d has %d examples", f, n)
		}
	}
	// The labels alternate by position, which no n-gram of an unseen word reveals.
	if rep.CategoryAccuracy() > 0.8 {
		t.Errorf("cross-validated accuracy %.2f on labels a model cannot know: is the fold left out?", rep.CategoryAccuracy())
	}
	if _, err := CrossValidate(c, ex, 1, opts); err == nil {
		t.Error("one fold accepted")
	}
}

// Examples given to CrossValidateWith as training-only are learnt by every fold and scored by
// none: with them the fixture's unseen words become known, and the report still counts the
// corpus alone.
func TestCrossValidateWithTrainOnly(t *testing.T) {
	words := []string{"甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸", "子", "丑", "寅", "卯", "辰", "巳", "午", "未", "申", "酉"}
	var lines, taught []string
	for i, w := range words {
		cat := []string{"utilities", "property"}[i%2]
		lines = append(lines, fmt.Sprintf(`{"id": "x%d", "text": "%s%s事", "category": %q, "request_type": "consult"}`, i, w, w, cat))
		taught = append(taught, fmt.Sprintf(`{"id": "t%d", "text": "又是%s%s的情况", "category": %q, "request_type": "consult"}`, i, w, w, cat))
	}
	ex, err := ParseJSONL([]byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	also, err := ParseJSONL([]byte(strings.Join(taught, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	opts := learn.DefaultOptions()
	opts.MinCount = 1
	opts.CalibrationFolds = 2
	rep, err := CrossValidateWith(fixtureClassifier(t), ex, also, 4, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != len(ex) {
		t.Fatalf("scored %d examples, want the corpus's %d (training-only examples are not scored)", rep.Total, len(ex))
	}
	for _, o := range rep.Outcomes {
		if strings.HasPrefix(o.ID, "t") {
			t.Errorf("training-only example %s was scored", o.ID)
		}
	}
	if rep.CategoryAccuracy() < 0.9 {
		t.Errorf("accuracy %.2f with every word taught by the training-only examples: were they trained on?", rep.CategoryAccuracy())
	}
	// Each fold trains on the corpus outside it and on every training-only example, marked so
	// that the fold model's own threshold calibration holds none of them out either.
	fold := learn.Folds(len(ex), 4, opts.Seed)
	train := foldTraining(ex, also, fold, 0)
	var marked, inFold int
	for _, f := range fold {
		if f == 0 {
			inFold++
		}
	}
	for _, e := range train {
		if e.TrainOnly {
			marked++
		}
	}
	if len(train) != len(ex)-inFold+len(also) || marked != len(also) {
		t.Errorf("fold 0 trains on %d examples, %d marked train-only; want %d and %d", len(train), marked, len(ex)-inFold+len(also), len(also))
	}
}
