package normalize_test

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

var (
	shippedOnce sync.Once
	shippedC    *normalize.Classifier
	shippedErr  error
)

// shipped is the classifier the gateway runs by default: the rule files and the embedded model.
func shipped(t testing.TB) *normalize.Classifier {
	t.Helper()
	shippedOnce.Do(func() {
		shippedC, shippedErr = normalize.NewClassifier(shippedSources())
	})
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shippedC
}

func shippedSources() normalize.Sources {
	return normalize.Sources{
		Taxonomy: configs.Taxonomy, Emergency: configs.Emergency, OutOfScope: configs.OutOfScope,
		Gazetteer: configs.Gazetteer, Referrals: configs.Referrals, Model: configs.Model,
	}
}

func TestShippedModel(t *testing.T) {
	m := shipped(t).Model()
	if m == nil {
		t.Fatal("no model: configs/classifier.model is empty (go generate ./configs)")
	}
	// The budgets grew with the corpus: 2,108 → 3,958 → 4,758 examples took the model from 32,835
	// to 65,563 to 84,065 features (2.9 → 5.8 → 7.5 MB file, 11 → 22 → 29 MB in memory per
	// replica). BenchmarkPredict stays flat to 480,000 features, but BenchmarkClassifyWithModel
	// went from 24.6 to 26.4 µs a short message with the last growth (medians of 5 interleaved
	// runs); the budgets are here so that growth is a choice.
	if n := len(configs.Model); n > 8<<20 {
		t.Errorf("embedded model is %d bytes, keep it under 8 MiB", n)
	}
	if m.MemoryBytes() > 32<<20 {
		t.Errorf("model takes about %d bytes in memory", m.MemoryBytes())
	}
	for _, name := range []string{normalize.HeadCategory, normalize.HeadRequestType, normalize.HeadEmergency,
		normalize.HeadEmergencyKind, normalize.HeadOutOfScope, normalize.HeadReferral} {
		if _, ok := m.Head(name); !ok {
			t.Errorf("no head %s", name)
		}
	}
}

// Ordinary descriptions of strokes, unconsciousness, falls, assaults, break-ins, domestic
// violence and fire, worded without any of emergency.yaml's trigger phrases: the rules alone see
// no emergency, the model does, and the reply names the number to call.
func TestModelFindsEmergenciesTheRulesMiss(t *testing.T) {
	tests := []struct {
		text string
		kind intake.EmergencyKind
	}{
		{"我爸吃着饭突然说话含糊，嘴歪了，右手拿不住筷子", intake.EmergencyMedical},
		{"我妈在卫生间摔了一跤，头磕破了，现在叫她也不答应", intake.EmergencyMedical},
		{"有个人倒在公交站台上，脸色发白，叫了半天没动静", intake.EmergencyMedical},
		{"两个人在我们店门口动手了，一个拿酒瓶砸另一个的头", intake.EmergencyPolice},
		{"有人撬了我家窗户爬进来了，我躲在卧室里不敢出声", intake.EmergencyPolice},
		{"我老公又喝多了，刚才把我按在地上掐，孩子在哭", intake.EmergencyPolice},
		{"楼上邻居家一直往外冒黑烟，敲门没人应", intake.EmergencyFire},
	}
	rules, c := classifier(t), shipped(t)
	for _, tt := range tests {
		if r := rules.Classify(tt.text); r.Emergency != nil {
			t.Errorf("%s: the rules alone already find %s; the case does not test the model", tt.text, r.Emergency.Kind)
		}
		r := c.Classify(tt.text)
		if r.Emergency == nil || r.Emergency.Kind != tt.kind {
			t.Errorf("%s\n  want emergency %s, got %s", tt.text, tt.kind, explain(r))
			continue
		}
		if r.EmergencySource != "model" || r.Emergency.Number == "" || r.Emergency.Advice == "" || r.Priority() != intake.PriorityUrgent {
			t.Errorf("%s: source %q, emergency %+v", tt.text, r.EmergencySource, r.Emergency)
		}
		if !slices.ContainsFunc(r.ModelEvidence, func(e normalize.ModelEvidence) bool { return e.Head == normalize.HeadEmergency && e.Weight > 0 }) {
			t.Errorf("%s: no model evidence for the alarm: %+v", tt.text, r.ModelEvidence)
		}
		if r.RequestType != intake.RequestHelp && r.RequestType != intake.RequestReport {
			t.Errorf("%s: request type %s, want help (or report)", tt.text, r.RequestType)
		}
	}
}

// The model's alarms obey the guards that apply to the whole text (drill, resolved, praise, …):
// a model trained on a small corpus raises its alarm on the bare text, and the guard stops it,
// saying so in the evidence.
func TestModelAlarmsAreGuarded(t *testing.T) {
	rules := classifier(t)
	model, err := rules.Train(smallCorpus(), smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	c, err := rules.WithModel(model)
	if err != nil {
		t.Fatal(err)
	}
	bare := "中区有人躺在地上不动了，快来人"
	if r := c.Classify(bare); r.Emergency == nil || r.EmergencySource != "model" {
		t.Fatalf("the unguarded text raises no model alarm: %s", explain(r))
	}
	for _, tt := range []struct{ text, guard string }{
		{"消防演练：" + bare, "drill"},
		{bare + "，后来送医抢救过来了", "resolved"},
		{bare + "，好心人帮忙叫了车，给他们点赞", "praise"},
	} {
		r := c.Classify(tt.text)
		if r.Emergency != nil {
			t.Errorf("%s\n  raised %s by %s", tt.text, r.Emergency.Kind, r.EmergencySource)
		}
		if !slices.ContainsFunc(r.Evidence, func(e normalize.Evidence) bool {
			return strings.HasPrefix(e.Rule, "model:emergency:") && strings.HasPrefix(e.Ignored, "guard "+tt.guard)
		}) {
			t.Errorf("%s: evidence does not say that guard %s stopped the model: %s", tt.text, tt.guard, explain(r))
		}
	}
}

// A guard marked model_decides stops the rules' triggers but not the model's alarm: the model
// has the guard's phrases as a feature and weighed them itself. "He often drinks here" does not
// make a man lying motionless on the ground any less urgent.
func TestGuardLeftToTheModel(t *testing.T) {
	base := classifier(t)
	model, err := base.Train(smallCorpus(), smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	text := "中区有人躺在地上不动了，他经常在这喝酒"
	for _, decides := range []bool{false, true} {
		rules := base.Rules()
		rules.Emergency.Guards = slices.Clone(rules.Emergency.Guards)
		i := slices.IndexFunc(rules.Emergency.Guards, func(g normalize.GuardRule) bool { return g.Name == "habitual" })
		if i < 0 {
			t.Fatal("no habitual guard in the rules")
		}
		rules.Emergency.Guards[i].ModelDecides = decides
		compiled, err := normalize.Compile(rules)
		if err != nil {
			t.Fatal(err)
		}
		c, err := compiled.WithModel(model)
		if err != nil {
			t.Fatal(err)
		}
		r := c.Classify(text)
		if h, _ := c.Model().Head(normalize.HeadEmergency); r.EmergencyConfidence < h.Threshold {
			t.Fatalf("the model raises no alarm (%.2f, threshold %.2f): the case does not test the guard", r.EmergencyConfidence, h.Threshold)
		}
		stopped := slices.ContainsFunc(r.Evidence, func(e normalize.Evidence) bool {
			return strings.HasPrefix(e.Rule, "model:emergency:") && strings.HasPrefix(e.Ignored, "guard habitual")
		})
		switch {
		case decides && (r.Emergency == nil || r.EmergencySource != "model"):
			t.Errorf("model_decides: the alarm was stopped: %s", explain(r))
		case !decides && (r.Emergency != nil || !stopped):
			t.Errorf("without model_decides the habitual guard did not stop the alarm: %s", explain(r))
		}
	}
}

// The shipped guards leave the model's alarm to the model where they are only in passing, and the
// model still tells a fee question or a past event from an emergency by itself.
func TestShippedGuardsAndTheModel(t *testing.T) {
	c := shipped(t)
	for _, tt := range []struct {
		text string
		want intake.EmergencyKind // "" for none
	}{
		{"我妈突然倒地叫不醒，救护车要多少钱啊，我们没钱", intake.EmergencyMedical},
		{"老伴经常血压高，吃着饭突然嘴歪了说话含糊手抬不起来", intake.EmergencyMedical},
		{"请问120急救车出一次车怎么收费？上回拉我爸去医院收了两百多", ""},
		{"去年我爸在家晕倒，叫了救护车，花了八百多，医保能报销吗", ""},
		{"前天晚上楼下有人打架，吵得一晚上没睡，派出所能不能管管", ""},
		{"救护车来得太慢了，上周我邻居心梗，等了四十分钟，要求调查", ""},
	} {
		r := c.Classify(tt.text)
		switch {
		case tt.want == "" && r.Emergency != nil:
			t.Errorf("%s: false alarm %s by %s", tt.text, r.Emergency.Kind, r.EmergencySource)
		case tt.want != "" && (r.Emergency == nil || r.Emergency.Kind != tt.want):
			t.Errorf("%s: want %s\n%s", tt.text, tt.want, explain(r))
		}
	}
}

// A long letter tells its background first: an accident, a fight or a fire that is over does not
// raise an emergency, neither from a rule's trigger nor from the model. One that is happening now
// to the writer does.
func TestLongLetterGuard(t *testing.T) {
	background := "尊敬的市领导：您好！我是南湖区幸福里小区的一名退休职工，今年六十八岁。" +
		"前年冬天我骑电动车下班回家，在解放路口被一辆违规掉头的私家车撞倒，右腿骨折，住院做了手术。" +
		"交警认定对方负全部责任，可对方至今只赔了一部分医药费，后续的康复费用和误工费一直拖着不给。" +
		"我多次找对方协商，他先是说没钱，后来干脆不接电话。我年纪大了，腿脚不便，来回跑了很多趟也没有结果。" +
		"我现在每个月的退休金只有两千多元，看病吃药已经很吃力了，老伴身体也不好，家里的开销全靠我这点退休金撑着。" +
		"听说这类纠纷可以申请调解，可我不知道该去哪个部门，也不知道需要准备哪些材料。"
	request := "恳请领导督促相关部门帮助协调赔偿问题，谢谢！"
	if n := len([]rune(background + request)); n < 250 {
		t.Fatalf("the letter has %d characters, the test needs a long letter", n)
	}
	c := shipped(t)
	if r := c.Classify(background + request); r.Emergency != nil {
		t.Errorf("a letter about an accident two years ago raised %s by %s\n%s", r.Emergency.Kind, r.EmergencySource, explain(r))
	}
	urgent := background + "就在刚才，我家楼下电动车着火了，现在浓烟往楼上窜，我们被困在屋里！" + request
	r := c.Classify(urgent)
	if r.Emergency == nil || r.Emergency.Kind != intake.EmergencyFire {
		t.Errorf("a letter saying there is a fire downstairs now raised no fire alarm\n%s", explain(r))
	}
}

// Matters outside the hotline's remit that no out_of_scope.yaml phrase names: the model flags
// them, with a referral kind of referrals.yaml, its referral and the reply the citizen gets.
func TestModelRefersOutOfScopeMatters(t *testing.T) {
	tests := []struct {
		text  string
		kinds []string // acceptable referral kinds
	}{
		{"借给朋友五万块钱，他一直拖着不还，你们能不能帮我要回来", []string{"civil_dispute", "court", "legal_aid"}},
		{"我们村支书把扶贫款挪用了，我要实名举报", []string{"discipline"}},
	}
	rules, c := classifier(t), shipped(t)
	referrals := c.Rules().Referrals
	for _, tt := range tests {
		if r := rules.Classify(tt.text); r.OutOfScope {
			t.Errorf("%s: the rules alone flag it (%s); the case does not test the model", tt.text, r.OutOfScopeCode)
		}
		r := c.Classify(tt.text)
		if !r.OutOfScope || !slices.Contains(tt.kinds, r.OutOfScopeCode) || r.OutOfScopeSource != "model" {
			t.Errorf("%s\n  want out of scope (%v) by the model, got %s (source %q)", tt.text, tt.kinds, explain(r), r.OutOfScopeSource)
			continue
		}
		kind, _ := referrals.Kind(r.OutOfScopeCode)
		if r.Referral != kind.Referral || r.OutOfScopeReason != strings.TrimSpace(kind.Reply) {
			t.Errorf("%s: referral %q reason %q, want the kind's %q and reply", tt.text, r.Referral, r.OutOfScopeReason, kind.Referral)
		}
		cl := r.Classification()
		if !cl.OutOfScope || cl.Referral != kind.Referral || cl.OutOfScopeReason == "" || len(cl.ModelTerms) == 0 {
			t.Errorf("%s: case classification %+v", tt.text, cl)
		}
		// The record carries the model's own confidence, which decided here.
		if cl.OutOfScopeConfidence < 0.5 || cl.OutOfScopeConfidence > 1 || cl.EmergencyConfidence >= 0.5 {
			t.Errorf("%s: confidences in the record: out of scope %.3f, emergency %.3f", tt.text, cl.OutOfScopeConfidence, cl.EmergencyConfidence)
		}
	}
	// Ordinary matters stay in scope.
	for _, text := range []string{"小区门口的路灯坏了一个星期了，晚上走路很黑", "请问公积金贷款最多能贷多少", "我想在家门口开个小超市，营业执照怎么办"} {
		if r := c.Classify(text); r.OutOfScope || r.Emergency != nil {
			t.Errorf("%s: %s", text, explain(r))
		}
	}
}

// Where the model knows none of the text (nothing written, only emoji or an unknown script, a
// transcript in which the caller said nothing), or the text is a word or two ("对", "好的", "？"),
// its out-of-scope head answers mostly from its biases, which alone reach the threshold: such a
// text must not be referred away, nor raise an alarm, and the evidence says why. A short text
// with something in it is still referred.
func TestModelJudgesNothingItCannotRead(t *testing.T) {
	c := shipped(t)
	th, _ := c.Model().Head(normalize.HeadOutOfScope)
	for _, tt := range []struct {
		text  string
		grams bool   // whether the model knows some n-gram of it
		why   string // the start of the evidence's reason
	}{
		{"", false, "the model knows none"},
		{"🙂🙂🙂", false, "the model knows none"},
		{"абвгдеж", false, "the model knows none"}, // seven letters, none it has seen
		{normalize.ClassifiableText("坐席：您好，请讲。\n坐席：喂？您好？"), false, "the model knows none"},
		{"对", true, "fewer than 4 letters"},
		{"？", true, "fewer than 4 letters"},
		{"123", true, "fewer than 4 letters"},
	} {
		r := c.Classify(tt.text)
		p := c.Model().Predict(normalize.MatchText(tt.text), nil)
		grams := p.Grams()
		p.Release()
		if (grams > 0) != tt.grams || r.OutOfScopeConfidence < th.Threshold {
			t.Fatalf("%q: the model knows %d n-grams, out of scope %.2f (threshold %.2f): the case no longer tests the rule",
				tt.text, grams, r.OutOfScopeConfidence, th.Threshold)
		}
		if r.OutOfScope || r.Emergency != nil {
			t.Errorf("%q: %s", tt.text, explain(r))
		}
		if !slices.ContainsFunc(r.Evidence, func(e normalize.Evidence) bool {
			return strings.HasPrefix(e.Rule, "model:out_of_scope:") && strings.HasPrefix(e.Ignored, tt.why)
		}) {
			t.Errorf("%q: the evidence does not say why the model's referral was not taken: %s", tt.text, explain(r))
		}
	}
	if r := c.Classify("我要起诉"); !r.OutOfScope || r.OutOfScopeSource != "model" {
		t.Errorf("我要起诉: four letters are enough to be referred by the model: %s", explain(r))
	}
}

// A call exported on one line ("坐席：…。市民：…") is classified on the caller's words: before
// they were read as the agent's, and a caller whose father had collapsed was told the matter was
// not the government's business.
func TestOneLineTranscriptEmergency(t *testing.T) {
	c := shipped(t)
	text := "坐席：您好，12345热线。市民：我爸突然倒在地上叫不醒，嘴唇发紫，怎么办啊！坐席：请问您的地址？市民：幸福路18号3单元。"
	r := c.Classify(normalize.ClassifiableText(text))
	if r.Emergency == nil || r.Emergency.Kind != intake.EmergencyMedical || r.OutOfScope {
		t.Errorf("%s", explain(r))
	}
}

// The model decides the category where no rule is certain; a certain rule stands.
func TestModelAndRuleCategory(t *testing.T) {
	c := shipped(t)
	// No taxonomy phrase: the rules fall back to "other", the model reads the matter.
	r := c.Classify("我想在家门口开个小超市，营业执照怎么办")
	if r.CategorySource != "model" || r.Category != "government_services" || r.Confidence <= 0 {
		t.Errorf("category %s by %q (%.2f), want government_services by the model\n%s", r.Category, r.CategorySource, r.Confidence, explain(r))
	}
	// 公积金 is a weight-5 phrase on its own: the rule is certain and stands (and the model's
	// category is not even computed).
	r = c.Classify("请问公积金贷款最多能贷多少")
	if r.CategorySource != "rule" || r.Category != "housing_fund" || r.ModelCategory != "" || r.ModelRequestType == "" {
		t.Errorf("category %s by %q (model: %q, request %q), want housing_fund by the rule", r.Category, r.CategorySource, r.ModelCategory, r.ModelRequestType)
	}
}

func TestNeedsReview(t *testing.T) {
	text := "我想在家门口开个小超市，营业执照怎么办"
	src := shippedSources()
	for _, tt := range []struct {
		below float64
		want  bool
	}{{0, false}, {0.999, true}} {
		src.Settings = normalize.Settings{ReviewBelow: tt.below}
		c, err := normalize.NewClassifier(src)
		if err != nil {
			t.Fatal(err)
		}
		r := c.Classify(text)
		if r.NeedsReview != tt.want || r.Classification().NeedsReview != tt.want {
			t.Errorf("review below %.3f: needs review %v, want %v (confidence %.2f/%.2f)", tt.below, r.NeedsReview, tt.want, r.Confidence, r.RequestTypeConfidence)
		}
	}
}

// A model is refused when it predicts classes the rule files do not know, and WithModel(nil)
// leaves the rules alone.
func TestModelMustFitTheRules(t *testing.T) {
	src := shippedSources()
	src.Referrals = bytes.Replace(configs.Referrals, []byte("code: foreign"), []byte("code: abroad"), 1)
	if _, err := normalize.NewClassifier(src); err == nil || !strings.Contains(err.Error(), "foreign") {
		t.Errorf("a model predicting referral kind foreign loaded with a referrals file without it: %v", err)
	}
	src = shippedSources()
	src.Model = []byte("not a model")
	if _, err := normalize.NewClassifier(src); err == nil {
		t.Error("a broken model file loaded")
	}
	rulesOnly, err := shipped(t).WithModel(nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := rulesOnly.Classify("我爸吃着饭突然说话含糊，嘴歪了，右手拿不住筷子"); r.Emergency != nil || r.CategorySource == "model" {
		t.Errorf("rules only: %s", explain(r))
	}
}

// Training on the same examples with the same rules gives the same bytes (here on a small
// corpus; TestEmbeddedModelIsUpToDate does the full one).
func TestTrainIsDeterministic(t *testing.T) {
	ex := smallCorpus()
	c := classifier(t)
	opts := smallOptions()
	a, err := c.Train(ex, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Train(ex, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Encode(), b.Encode()) {
		t.Fatal("two trainings on the same corpus differ")
	}
	if _, ok := a.Head(normalize.HeadReferral); !ok {
		t.Error("no referral head although the corpus has out-of-scope examples")
	}
	cm, err := c.WithModel(a)
	if err != nil {
		t.Fatal(err)
	}
	if r := cm.Classify("东区停水三天了"); r.ModelRequestType == "" {
		t.Errorf("trained model gives no category: %s", explain(r))
	}
}

func TestTrainRejectsBadExamples(t *testing.T) {
	c := classifier(t)
	for name, e := range map[string]normalize.TrainingExample{
		"category":     {Text: "x", Category: "weather", RequestType: intake.RequestHelp},
		"request type": {Text: "x", Category: "other", RequestType: "demand"},
		"emergency":    {Text: "x", Category: "other", RequestType: intake.RequestHelp, Emergency: "flood"},
	} {
		if _, err := c.Train(append(smallCorpus(), e), learn.DefaultOptions()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// smallOptions train on smallCorpus: every n-gram counts, and three folds set the thresholds.
func smallOptions() learn.TrainOptions {
	o := learn.DefaultOptions()
	o.MinCount = 1
	o.CalibrationFolds = 3
	return o
}

// smallCorpus is a handful of labelled texts of every head, enough to train on.
func smallCorpus() []normalize.TrainingExample {
	var ex []normalize.TrainingExample
	for _, place := range []string{"东区", "西区", "南区", "北区", "新城", "老城"} {
		ex = append(ex,
			normalize.TrainingExample{Text: place + "停水三天了，什么时候来水", Category: "utilities", RequestType: intake.RequestConsult},
			normalize.TrainingExample{Text: place + "物业不修电梯，要求处理", Category: "property", RequestType: intake.RequestComplaint},
			normalize.TrainingExample{Text: place + "有人躺在地上不动了，快来人", Category: "health", RequestType: intake.RequestHelp, Emergency: intake.EmergencyMedical},
			normalize.TrainingExample{Text: place + "仓库着火了，浓烟很大", Category: "other", RequestType: intake.RequestHelp, Emergency: intake.EmergencyFire},
			normalize.TrainingExample{Text: place + "法院判决不公，请市长改判", Category: "other", RequestType: intake.RequestComplaint, OutOfScope: true, Referral: "人民法院/12368"},
			normalize.TrainingExample{Text: place + "朋友借钱不还，帮我要回来", Category: "other", RequestType: intake.RequestHelp, OutOfScope: true, Referral: "人民调解委员会/人民法院"},
		)
	}
	return ex
}
