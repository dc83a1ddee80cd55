package learn_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/normalize/learn"
)

// toy is a small problem whose answers are clear from the wording: water texts name 水, power
// texts 电, and an alarm is raised by 着火 or 救命.
func toy() ([]learn.Head, []learn.Example) {
	heads := []learn.Head{
		{Name: "topic", Classes: []string{"water", "power"}},
		{Name: "alarm", Classes: []string{"no", "yes"}},
	}
	var ex []learn.Example
	add := func(text, topic, alarm string, hints ...string) {
		ex = append(ex, learn.Example{Text: text, Hints: hints, Labels: map[string]string{"topic": topic, "alarm": alarm}})
	}
	places := []string{"东区", "西区", "南区", "北区", "老城", "新城", "河边", "山脚"}
	for i, p := range places {
		add(p+"停水三天了,什么时候来水", "water", "no")
		add(p+"水管漏水,水压太低", "water", "no")
		add(p+"停电了,电表跳闸", "power", "no", "rule.power")
		add(p+"电线老化,电费太贵", "power", "no", "rule.power")
		add(p+"又停水了,水费照收", "water", "no")
		add(p+"自来水发黄,水质差", "water", "no")
		add(p+"停电两小时,冰箱坏了", "power", "no", "rule.power")
		add(p+"路灯不亮,电线乱拉", "power", "no", "rule.power")
		add(p+"配电箱着火了,快来人", "power", "yes", "rule.power")
		add(p+"水泵房着火了,救命", "water", "yes")
		if i%2 == 0 {
			add(p+"救命,有人掉进水池", "water", "yes")
		}
	}
	return heads, ex
}

func train(t *testing.T, opts learn.TrainOptions) *learn.Model {
	t.Helper()
	heads, ex := toy()
	m, err := learn.Train(heads, ex, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func smallOptions() learn.TrainOptions {
	o := learn.DefaultOptions()
	o.MinCount = 1
	o.CalibrationFolds = 3
	o.FalseAlarmRate = map[string]float64{"alarm": 0}
	return o
}

func TestLearnsTheToyProblem(t *testing.T) {
	m := train(t, smallOptions())
	for _, tt := range []struct{ text, topic string }{
		{"中区又停水了", "water"}, {"中区停电一整天", "power"},
	} {
		if got, p, _ := m.Predict(tt.text, nil).Best("topic"); got != tt.topic || p < 0.5 {
			t.Errorf("%s: topic %s (%.2f), want %s", tt.text, got, p, tt.topic)
		}
	}
	if _, _, yes := m.Predict("中区仓库着火了", nil).Positive("alarm"); !yes {
		t.Error("着火 raises no alarm")
	}
	if p, _, yes := m.Predict("中区停水了", nil).Positive("alarm"); yes {
		t.Errorf("停水 raises an alarm (%.2f)", p)
	}
	// The evidence for an alarm names the n-grams that carry it.
	top := m.Predict("中区仓库着火了", nil).Top("alarm", "yes", 3)
	if len(top) == 0 || !slices.ContainsFunc(top, func(c learn.Contribution) bool {
		return strings.Contains(c.Feature, "着火") || strings.Contains(c.Feature, "火")
	}) {
		t.Errorf("top features for the alarm: %+v", top)
	}
	for i := 1; i < len(top); i++ {
		if top[i].Weight > top[i-1].Weight {
			t.Errorf("top features not sorted: %+v", top)
		}
	}
	h, _ := m.Head("alarm")
	if h.Threshold <= 0 || h.Calibration == nil || h.Calibration.Negatives == 0 || h.Calibration.Positives == 0 {
		t.Errorf("alarm head not calibrated: %+v", h)
	}
	if h.Calibration.FalseAlarms != 0 || h.Calibration.Found == 0 {
		t.Errorf("calibration: %+v, want no false alarm at a target of 0", *h.Calibration)
	}
}

// Hints are features: a hint seen only with power texts pulls towards power.
func TestHintsAreFeatures(t *testing.T) {
	m := train(t, smallOptions())
	with := m.Predict("中区情况反映", []string{"rule.power"}).Probs("topic")
	without := m.Predict("中区情况反映", nil).Probs("topic")
	if !(with[1] > without[1]) {
		t.Errorf("P(power) with the hint %.3f, without %.3f", with[1], without[1])
	}
	if m.Predict("x", []string{"rule.unknown"}).Probs("topic") == nil {
		t.Error("an unknown hint must be ignored, not break prediction")
	}
}

// Grams counts the text's known n-grams of both blocks, and never a hint.
func TestGramsCountsNGramsNotHints(t *testing.T) {
	m := train(t, smallOptions())
	for _, tt := range []struct {
		text  string
		hints []string
		want  int
	}{
		{"", []string{"rule.power"}, 0},  // a hint the model knows, no text
		{"🙂", []string{"rule.power"}, 0}, // a character it has never seen
		{"停水", nil, 3},                   // 停, 水, 停水 (a short text is its own request: one block)
		{"停水", []string{"rule.power"}, 3},
	} {
		p := m.Predict(tt.text, tt.hints, "topic")
		if got := p.Grams(); got != tt.want {
			t.Errorf("Grams(%q, %v) = %d, want %d", tt.text, tt.hints, got, tt.want)
		}
		p.Release()
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	a := train(t, smallOptions()).Encode()
	b := train(t, smallOptions()).Encode()
	if !bytes.Equal(a, b) {
		t.Fatal("the same examples and seed gave different model files")
	}
	other := smallOptions()
	other.Seed = 7
	if bytes.Equal(a, train(t, other).Encode()) {
		t.Error("another seed gave the same model file: is the seed used?")
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	m := train(t, smallOptions())
	data := m.Encode()
	d, err := learn.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Encode(), data) {
		t.Error("decode then encode changed the file")
	}
	if d.Features() != m.Features() || d.MemoryBytes() != m.MemoryBytes() {
		t.Errorf("features %d/%d, memory %d/%d", d.Features(), m.Features(), d.MemoryBytes(), m.MemoryBytes())
	}
	for _, text := range []string{"中区停水", "西区配电箱着火了,快来人", "", "🙂"} {
		for _, head := range []string{"topic", "alarm"} {
			if a, b := m.Predict(text, []string{"rule.power"}).Probs(head), d.Predict(text, []string{"rule.power"}).Probs(head); !slices.Equal(a, b) {
				t.Errorf("%q %s: trained %v, decoded %v", text, head, a, b)
			}
		}
	}
	if got, want := jsonOf(t, d.Heads()), jsonOf(t, m.Heads()); got != want {
		t.Errorf("heads %s, want %s", got, want)
	}
}

// A damaged or foreign file is refused whole.
func TestDecodeRejectsDamage(t *testing.T) {
	data := train(t, smallOptions()).Encode()
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 0x40
	version := slices.Clone(data)
	version[4] = 9
	for name, in := range map[string][]byte{
		"empty":     nil,
		"foreign":   []byte("version: 1\ncategories: []\n"),
		"cut short": data[:len(data)-100],
		"flipped":   flipped,
		"version":   version, // also breaks the checksum: either error will do
	} {
		if _, err := learn.Decode(in); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	heads, ex := toy()
	for name, tt := range map[string]struct {
		heads []learn.Head
		ex    []learn.Example
	}{
		"no examples":   {heads, nil},
		"one class":     {[]learn.Head{{Name: "topic", Classes: []string{"water"}}}, ex},
		"unknown class": {heads, []learn.Example{{Text: "x", Labels: map[string]string{"topic": "gas"}}}},
		"unknown head":  {heads, []learn.Example{{Text: "x", Labels: map[string]string{"colour": "red"}}}},
		"bad alternative": {heads, []learn.Example{{Text: "x", Labels: map[string]string{"topic": "water"},
			Alternatives: map[string][]string{"topic": {"gas"}}}}},
	} {
		if _, err := learn.Train(tt.heads, tt.ex, smallOptions()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// An example's alternative classes share its target: with them the model gives the
// alternative more probability than without.
func TestAlternativesShareTheTarget(t *testing.T) {
	heads := []learn.Head{{Name: "topic", Classes: []string{"water", "power", "gas"}}}
	var plain, alt []learn.Example
	for _, p := range []string{"东区", "西区", "南区", "北区"} {
		for _, e := range []learn.Example{
			{Text: p + "水表和电表都坏了", Labels: map[string]string{"topic": "water"}},
			{Text: p + "停水", Labels: map[string]string{"topic": "water"}},
			{Text: p + "停电", Labels: map[string]string{"topic": "power"}},
			{Text: p + "停气", Labels: map[string]string{"topic": "gas"}},
		} {
			plain = append(plain, e)
			if strings.Contains(e.Text, "水表和电表") {
				e.Alternatives = map[string][]string{"topic": {"power"}}
			}
			alt = append(alt, e)
		}
	}
	opts := smallOptions()
	opts.FalseAlarmRate = nil
	a, err := learn.Train(heads, plain, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := learn.Train(heads, alt, opts)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := a.Predict("中区水表和电表都坏了", nil).Probs("topic"), b.Predict("中区水表和电表都坏了", nil).Probs("topic")
	if !(pb[1] > pa[1]) {
		t.Errorf("P(power) with the alternative %.3f, without %.3f", pb[1], pa[1])
	}
}

// The request of a long letter is the sentences that ask for something; short texts are their
// own request.
func TestRequestPart(t *testing.T) {
	short := "停水了,请尽快修复"
	if got := learn.RequestPart(short); got != short {
		t.Errorf("short text: %q", got)
	}
	letter := "市长您好。我家住在东区幸福路十八号,今年六十五岁,退休前在纺织厂工作。" +
		"去年冬天小区的供暖一直不热,屋里只有十二度,老伴因此感冒住院。物业每次都说锅炉老化。" +
		"恳请政府督促热力公司今年冬天前更换锅炉。谢谢。"
	got := learn.RequestPart(letter)
	if got != "恳请政府督促热力公司今年冬天前更换锅炉。" {
		t.Errorf("request of the letter: %q", got)
	}
	noCue := strings.Repeat("今天天气晴朗,我们去公园散步。", 6)
	if got := learn.RequestPart(noCue); got != "今天天气晴朗,我们去公园散步。" {
		t.Errorf("without a cue the last sentence: %q", got)
	}
}

func TestKeyText(t *testing.T) {
	m := train(t, smallOptions())
	top := m.Predict("西区配电箱着火了,快来人", []string{"rule.power"}).Top("topic", "power", 50)
	for _, c := range top {
		if c.Feature == "" || strings.ContainsRune(c.Feature, 0) {
			t.Errorf("feature name %q", c.Feature)
		}
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Heads named to Predict are computed together, the others when asked for: with the same
// result either way, and the Conditional flag of a head survives training and the file.
func TestHeadsComputedTogetherOrWhenAsked(t *testing.T) {
	heads, ex := toy()
	heads[1].Conditional = true
	m, err := learn.Train(heads, ex, smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	d, err := learn.Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := d.Head("alarm"); !h.Conditional {
		t.Fatal("Conditional lost in training or in the file")
	}
	for _, text := range []string{"中区仓库着火了", "中区停水了"} {
		together, asked := d.Predict(text, nil, "topic", "alarm"), d.Predict(text, nil)
		for _, head := range []string{"alarm", "topic"} {
			if a, b := together.Probs(head), asked.Probs(head); !slices.Equal(a, b) || len(a) != 2 {
				t.Errorf("%s %s: together %v, when asked %v", text, head, a, b)
			}
		}
		together.Release()
		asked.Release()
	}
}

// Hint values are part of the model: a decoded model gives its hints the values it was trained
// with, so it predicts exactly what the trained one does.
func TestHintValuesTravelWithTheModel(t *testing.T) {
	opts := smallOptions()
	opts.HintValues = map[string]float64{"rule.": 0.25}
	m := train(t, opts)
	d, err := learn.Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Info().Options.HintValues["rule."]; got != 0.25 {
		t.Fatalf("decoded hint value %v, want 0.25", got)
	}
	a := m.Predict("中区情况反映", []string{"rule.power"}).Probs("topic")
	b := d.Predict("中区情况反映", []string{"rule.power"}).Probs("topic")
	full := train(t, smallOptions()).Predict("中区情况反映", []string{"rule.power"}).Probs("topic")
	if !slices.Equal(a, b) {
		t.Errorf("decoded model: %v, trained: %v", b, a)
	}
	if slices.Equal(a, full) {
		t.Errorf("a hint at 0.25 gives the same probabilities as at 1: %v", a)
	}
}

// Train-only examples teach the model but are never held out to choose a threshold: the
// calibration counts only the reference examples' negatives, so the false-alarm rate stays a
// share of them. The threshold still follows the model, which the train-only data shapes in
// every calibration fold.
func TestTrainOnlyExamplesTakeNoPartInCalibration(t *testing.T) {
	heads, ex := toy()
	// A few reference look-alikes, so that the highest-scoring negative, which sets the
	// threshold at a false-alarm rate of 0, scores well above the 5 % floor.
	for _, p := range []string{"河边", "山脚"} {
		ex = append(ex, learn.Example{Text: p + "配电箱着火演练,快来人", Labels: map[string]string{"topic": "power", "alarm": "no"}})
	}
	var refNeg, refPos int
	for _, e := range ex {
		if e.Labels["alarm"] == "yes" {
			refPos++
		} else {
			refNeg++
		}
	}
	// Look-alikes that share the alarm's words but raise none.
	var hard []learn.Example
	for _, p := range []string{"东区", "西区", "南区", "北区", "老城", "新城"} {
		for _, text := range []string{p + "着火演练,快来人看", p + "去年着火了,救命钱还没赔"} {
			hard = append(hard, learn.Example{Text: text, Labels: map[string]string{"topic": "power", "alarm": "no"}, TrainOnly: true})
		}
	}
	m, err := learn.Train(heads, append(slices.Clone(ex), hard...), smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	h, _ := m.Head("alarm")
	if h.Calibration == nil || h.Calibration.Negatives != refNeg || h.Calibration.Positives != refPos {
		t.Fatalf("calibration %+v, want %d negatives and %d positives (the reference examples only)", h.Calibration, refNeg, refPos)
	}
	// The folds' models were trained on the look-alikes too: the threshold they give differs
	// from the one the reference examples alone give, whose folds are otherwise the same.
	plain, err := learn.Train(heads, slices.Clone(ex), smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := plain.Head("alarm"); p.Threshold == h.Threshold {
		t.Errorf("threshold %v with train-only look-alikes, the same as without them: the calibration folds did not train on them", h.Threshold)
	}
	// The same examples without the flag are all calibrated on.
	for i := range hard {
		hard[i].TrainOnly = false
	}
	m, err = learn.Train(heads, append(slices.Clone(ex), hard...), smallOptions())
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := m.Head("alarm"); h.Calibration.Negatives != refNeg+len(hard) {
		t.Errorf("calibration counted %d negatives, want %d", h.Calibration.Negatives, refNeg+len(hard))
	}
	// Every example train-only leaves nothing to calibrate on: an error, not a silent threshold.
	all := slices.Clone(ex)
	for i := range all {
		all[i].TrainOnly = true
	}
	if _, err := learn.Train(heads, all, smallOptions()); err == nil {
		t.Error("a corpus of train-only examples calibrated a threshold")
	}
}
