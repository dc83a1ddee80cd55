// Package evaluate measures a classifier against a labelled corpus in the JSONL format of
// normalize/learn/corpus, for `intake-gateway classify --eval`: accuracy, per-class
// precision and recall, emergency and out-of-scope recall with their false alarms (overall and on
// long letters), and k-fold cross-validation of the combined classifier (train the model on k−1
// folds, score the fold left out).
//
// One JSON object per line:
//
//	{"id": "dev-001", "channel": "wechat", "text": "…", "category": "utilities",
//	 "category_alt": [], "request_type": "consult", "emergency": null, "notes": "…",
//	 "out_of_scope": false, "referral": null}
//
// emergency is null or a kind (police, fire, medical, traffic). out_of_scope (true, false, or a
// reason code) is counted when present; referral names where an out-of-scope matter belongs.
// Phone transcripts ("坐席：…\n市民：…") are classified on the caller's turns only
// (normalize.ClassifiableText). Like normalize, the package does no I/O: the caller reads the
// files and passes the bytes.
package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

// LongLetterRunes is the length from which an example counts as a long letter in the report
// (the corpus's long formal letters are 250–1,000 characters).
const LongLetterRunes = 250

// Example is one labelled line of the corpus.
type Example struct {
	ID          string             `json:"id"`
	Channel     string             `json:"channel"`
	Text        string             `json:"text"`
	Category    string             `json:"category"`
	CategoryAlt []string           `json:"category_alt"`
	RequestType intake.RequestType `json:"request_type"`
	// Emergency is the expected kind, or "" for none.
	Emergency intake.EmergencyKind `json:"emergency"`
	// OutOfScope is nil when the line does not say; true or a reason code mean out of scope.
	OutOfScope *OutOfScopeLabel `json:"out_of_scope,omitempty"`
	// Referral is where an out-of-scope matter belongs (free text or a referral kind).
	Referral string `json:"referral"`
	Notes    string `json:"notes"`
}

// Long reports whether the example is a long letter.
func (e Example) Long() bool { return utf8.RuneCountInString(e.Text) >= LongLetterRunes }

// Training returns the example as training data (no out-of-scope label counts as in scope).
func (e Example) Training() normalize.TrainingExample {
	t := normalize.TrainingExample{Text: e.Text, Category: e.Category, CategoryAlt: e.CategoryAlt, RequestType: e.RequestType, Emergency: e.Emergency}
	if e.OutOfScope != nil && e.OutOfScope.Out {
		t.OutOfScope, t.Referral = true, e.Referral
		if t.Referral == "" {
			t.Referral = e.OutOfScope.Code
		}
	}
	return t
}

// OutOfScopeLabel accepts true/false or a reason code ("litigation"; "" means in scope).
type OutOfScopeLabel struct {
	Out  bool
	Code string
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *OutOfScopeLabel) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		l.Out = x
	case string:
		l.Out, l.Code = x != "", x
	case nil:
	default:
		return fmt.Errorf("out_of_scope: want true, false or a reason code, got %s", b)
	}
	return nil
}

// ParseJSONL parses a corpus. Blank lines and lines starting with '#' or "//" are skipped.
// Errors give the line number.
func ParseJSONL(data []byte) ([]Example, error) {
	var out []Example
	for n, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || bytes.HasPrefix(line, []byte("//")) {
			continue
		}
		var e Example
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&e); err != nil { // null leaves a string empty
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		if e.ID == "" {
			e.ID = fmt.Sprintf("line-%d", n+1)
		}
		if e.Category == "" || e.RequestType == "" {
			return nil, fmt.Errorf("line %d (%s): category and request_type are required", n+1, e.ID)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no examples")
	}
	return out, nil
}

// Outcome is one example with its prediction.
type Outcome struct {
	Example
	Result          normalize.Result
	CategoryOK      bool
	RequestTypeOK   bool
	EmergencyFound  bool // an emergency was labelled and one was detected (any kind)
	EmergencyKindOK bool
	FalseAlarm      bool // an emergency was detected where none was labelled
	// Fold is the cross-validation fold the example was scored in (-1 outside cross-validation).
	Fold int
}

// Report is the evaluation of a corpus.
type Report struct {
	Outcomes []Outcome
	// Folds is the number of cross-validation folds, 0 for a plain evaluation.
	Folds int

	Total, CategoryCorrect, RequestTypeCorrect int
	// Emergencies labelled, found (any kind), found with the right kind; false alarms among
	// the rest, among the lines whose notes say "hard negative", and among long letters.
	Emergencies, EmergenciesFound, EmergencyKindCorrect int
	FalseAlarms, HardNegatives, HardNegativeFalseAlarms int
	LongLetters, LongLetterFalseAlarms                  int
	// Out of scope: OutOfScopeLabelled is false when no line carries the label. OutOfScopeKind
	// counts the found ones whose referral kind is right (when the line names a referral).
	OutOfScopeLabelled                                 bool
	OutOfScopePositives, OutOfScopeFound, OutOfScopeFP int
	OutOfScopeNegatives                                int
	OutOfScopeKindCorrect, OutOfScopeKindLabelled      int
	// NeedsReview counts results marked for review, and how many of them had a wrong category or
	// request type.
	NeedsReview, NeedsReviewWrong int

	// Confusion counts gold category → predicted category (a prediction in category_alt counts
	// as the gold category). RequestConfusion does the same for request types.
	Confusion        map[string]map[string]int
	RequestConfusion map[string]map[string]int
	// Categories are the codes in taxonomy order, for printing.
	Categories []string

	referrals normalize.ReferralRules
}

// Evaluate parses a corpus and runs the classifier over it.
func Evaluate(c *normalize.Classifier, jsonl []byte) (*Report, error) {
	ex, err := ParseJSONL(jsonl)
	if err != nil {
		return nil, err
	}
	return Run(c, ex), nil
}

// Run classifies every example.
func Run(c *normalize.Classifier, examples []Example) *Report {
	results := make([]normalize.Result, len(examples))
	folds := make([]int, len(examples))
	for i, e := range examples {
		results[i] = c.Classify(normalize.ClassifiableText(e.Text))
		folds[i] = -1
	}
	return newReport(c, examples, results, folds, 0)
}

// CrossValidate scores the combined classifier by k-fold cross-validation: the examples are
// split into k folds (shuffled with opts.Seed); for each fold a model is trained with c's rules on
// the other k−1 and the fold is classified with the rules and that model. c's own model, if any,
// is not used.
func CrossValidate(c *normalize.Classifier, examples []Example, k int, opts learn.TrainOptions) (*Report, error) {
	return CrossValidateWith(c, examples, nil, k, opts)
}

// CrossValidateWith is CrossValidate with further examples that every fold trains on and none
// scores: data written by the project itself (normalize/learn/corpus/extra.jsonl) can then show
// what it adds on the other files without grading its own items. Each fold's model calibrates its
// thresholds by a nested cross-validation that holds out none of them either.
func CrossValidateWith(c *normalize.Classifier, examples, trainOnly []Example, k int, opts learn.TrainOptions) (*Report, error) {
	if k < 2 || k > len(examples) {
		return nil, fmt.Errorf("cross-validation: need 2 ≤ folds ≤ %d examples, got %d", len(examples), k)
	}
	if opts.Seed == 0 {
		opts.Seed = learn.DefaultOptions().Seed
	}
	fold := learn.Folds(len(examples), k, opts.Seed)
	results := make([]normalize.Result, len(examples))
	for f := range k {
		model, err := c.Train(foldTraining(examples, trainOnly, fold, f), opts)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f+1, err)
		}
		cm, err := c.WithModel(model)
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", f+1, err)
		}
		for i, e := range examples {
			if fold[i] == f {
				results[i] = cm.Classify(normalize.ClassifiableText(e.Text))
			}
		}
	}
	return newReport(c, examples, results, fold, k), nil
}

// foldTraining is what fold f's model trains on: the examples outside the fold, and every
// train-only example marked so, which keeps it out of the model's own threshold calibration too.
func foldTraining(examples, trainOnly []Example, fold []int, f int) []normalize.TrainingExample {
	var train []normalize.TrainingExample
	for i, e := range examples {
		if fold[i] != f {
			train = append(train, e.Training())
		}
	}
	for _, e := range trainOnly {
		t := e.Training()
		t.TrainOnly = true
		train = append(train, t)
	}
	return train
}

func newReport(c *normalize.Classifier, examples []Example, results []normalize.Result, folds []int, k int) *Report {
	r := &Report{
		Folds:            k,
		Confusion:        map[string]map[string]int{},
		RequestConfusion: map[string]map[string]int{},
		referrals:        c.Rules().Referrals,
	}
	for _, cat := range c.Rules().Taxonomy.Categories {
		r.Categories = append(r.Categories, cat.Code)
	}
	for i, e := range examples {
		res := results[i]
		o := Outcome{Example: e, Result: res, Fold: folds[i]}
		o.CategoryOK = res.Category == e.Category || slices.Contains(e.CategoryAlt, res.Category)
		o.RequestTypeOK = res.RequestType == e.RequestType
		r.Total++
		if o.CategoryOK {
			r.CategoryCorrect++
		}
		if o.RequestTypeOK {
			r.RequestTypeCorrect++
		}
		if res.NeedsReview {
			r.NeedsReview++
			if !o.CategoryOK || !o.RequestTypeOK {
				r.NeedsReviewWrong++
			}
		}
		gold, pred := e.Category, res.Category
		if o.CategoryOK {
			pred = gold
		}
		inc(r.Confusion, gold, pred)
		inc(r.RequestConfusion, string(e.RequestType), string(res.RequestType))

		switch {
		case e.Emergency != "":
			r.Emergencies++
			if res.Emergency != nil {
				o.EmergencyFound = true
				r.EmergenciesFound++
				if res.Emergency.Kind == e.Emergency {
					o.EmergencyKindOK = true
					r.EmergencyKindCorrect++
				}
			}
		case res.Emergency != nil:
			o.FalseAlarm = true
			r.FalseAlarms++
		}
		if e.Emergency == "" && e.Long() {
			r.LongLetters++
			if o.FalseAlarm {
				r.LongLetterFalseAlarms++
			}
		}
		if strings.Contains(strings.ToLower(e.Notes), "hard negative") {
			r.HardNegatives++
			if o.FalseAlarm {
				r.HardNegativeFalseAlarms++
			}
		}
		if e.OutOfScope != nil {
			r.OutOfScopeLabelled = true
			switch {
			case e.OutOfScope.Out:
				r.OutOfScopePositives++
				if res.OutOfScope {
					r.OutOfScopeFound++
					if want := r.goldKind(e); want != "" {
						r.OutOfScopeKindLabelled++
						if res.OutOfScopeCode == want {
							r.OutOfScopeKindCorrect++
						}
					}
				}
			default:
				r.OutOfScopeNegatives++
				if res.OutOfScope {
					r.OutOfScopeFP++
				}
			}
		}
		r.Outcomes = append(r.Outcomes, o)
	}
	return r
}

// goldKind is the referral kind an out-of-scope example is labelled with, or "".
func (r *Report) goldKind(e Example) string {
	label := e.Referral
	if label == "" && e.OutOfScope != nil {
		label = e.OutOfScope.Code
	}
	if label == "" {
		return ""
	}
	return r.referrals.KindOfLabel(label)
}

func inc(m map[string]map[string]int, a, b string) {
	if m[a] == nil {
		m[a] = map[string]int{}
	}
	m[a][b]++
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// CategoryAccuracy is the share of examples whose category is right (or an accepted alternative).
func (r *Report) CategoryAccuracy() float64 { return ratio(r.CategoryCorrect, r.Total) }

// RequestTypeAccuracy is the share of examples whose request type is right.
func (r *Report) RequestTypeAccuracy() float64 { return ratio(r.RequestTypeCorrect, r.Total) }

// EmergencyRecall is the share of labelled emergencies detected (any kind); 1 when none labelled.
func (r *Report) EmergencyRecall() float64 {
	if r.Emergencies == 0 {
		return 1
	}
	return ratio(r.EmergenciesFound, r.Emergencies)
}

// FalseAlarmRate is the share of examples without an emergency that raised one.
func (r *Report) FalseAlarmRate() float64 { return ratio(r.FalseAlarms, r.Total-r.Emergencies) }

// LongLetterFalseAlarmRate is FalseAlarmRate among long letters.
func (r *Report) LongLetterFalseAlarmRate() float64 {
	return ratio(r.LongLetterFalseAlarms, r.LongLetters)
}

// OutOfScopeRecall is the share of out-of-scope examples flagged; 1 when none are labelled.
func (r *Report) OutOfScopeRecall() float64 {
	if r.OutOfScopePositives == 0 {
		return 1
	}
	return ratio(r.OutOfScopeFound, r.OutOfScopePositives)
}

// OutOfScopeFalseRate is the share of in-scope examples (labelled so) flagged out of scope.
func (r *Report) OutOfScopeFalseRate() float64 { return ratio(r.OutOfScopeFP, r.OutOfScopeNegatives) }

// ClassScore is precision and recall of one class.
type ClassScore struct {
	Class                  string
	Gold, Predicted, Right int
	Precision, Recall, F1  float64
}

// PerClass returns precision and recall per class of one decision: "category" (a prediction in
// category_alt counts as the gold category), "request_type", "emergency" (kinds and "none"), or
// "out_of_scope" (referral kinds and "in_scope", over the lines that carry the label).
func (r *Report) PerClass(decision string) []ClassScore {
	var classes []string
	counts := map[string]*ClassScore{}
	add := func(gold, pred string) {
		for _, c := range []string{gold, pred} {
			if counts[c] == nil {
				counts[c] = &ClassScore{Class: c}
				classes = append(classes, c)
			}
		}
		counts[gold].Gold++
		counts[pred].Predicted++
		if gold == pred {
			counts[gold].Right++
		}
	}
	for _, o := range r.Outcomes {
		switch decision {
		case "category":
			pred := o.Result.Category
			if o.CategoryOK {
				pred = o.Category
			}
			add(o.Category, pred)
		case "request_type":
			add(string(o.RequestType), string(o.Result.RequestType))
		case "emergency":
			gold, pred := "none", "none"
			if o.Emergency != "" {
				gold = string(o.Emergency)
			}
			if o.Result.Emergency != nil {
				pred = string(o.Result.Emergency.Kind)
			}
			add(gold, pred)
		case "out_of_scope":
			if o.OutOfScope == nil {
				continue
			}
			gold, pred := "in_scope", "in_scope"
			if o.OutOfScope.Out {
				if gold = r.goldKind(o.Example); gold == "" {
					gold = "out_of_scope"
				}
			}
			if o.Result.OutOfScope {
				pred = o.Result.OutOfScopeCode
				if gold == "out_of_scope" {
					pred = gold
				}
			}
			add(gold, pred)
		}
	}
	order := map[string]int{}
	for i, c := range r.Categories {
		order[c] = i
	}
	slices.SortStableFunc(classes, func(a, b string) int {
		ia, oka := order[a]
		ib, okb := order[b]
		switch {
		case oka && okb:
			return ia - ib
		case oka:
			return -1
		case okb:
			return 1
		}
		return strings.Compare(a, b)
	})
	out := make([]ClassScore, len(classes))
	for i, c := range classes {
		s := *counts[c]
		s.Precision, s.Recall = ratio(s.Right, s.Predicted), ratio(s.Right, s.Gold)
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out[i] = s
	}
	return out
}
