package learn_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/normalize/learn"
)

func TestShapeFold(t *testing.T) {
	got := learn.ShapeFold("电话13800138000,车牌粤B12345,wifi坏了")
	want := "电话00000000000,车牌粤a00000,aaaa坏了"
	if got != want {
		t.Errorf("ShapeFold: %q, want %q", got, want)
	}
}

// With ShapeFold a model sees a number by its shape: two texts that differ only in their digits
// get the same probabilities, and the option travels with the model file.
func TestShapeFoldIgnoresTheDigitsValue(t *testing.T) {
	opts := smallOptions()
	opts.ShapeFold = true
	m := train(t, opts)
	d, err := learn.Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Info().Options.ShapeFold {
		t.Fatal("shape_fold lost in the model file")
	}
	a := d.Predict("3号楼停水了,电话13912345678", nil).Probs("topic")
	b := d.Predict("7号楼停水了,电话18800001111", nil).Probs("topic")
	if !slices.Equal(a, b) {
		t.Errorf("digits change the prediction under shape_fold: %v vs %v", a, b)
	}
	// Without it they are distinct n-grams (a check that the test above can fail).
	plain := train(t, smallOptions())
	text := "停水了,电话" + strings.Repeat("1", 3)
	if slices.Equal(plain.Predict(text, nil).Probs("topic"), plain.Predict(strings.ReplaceAll(text, "1", "水"), nil).Probs("topic")) {
		t.Error("changing runes did not change the plain model's prediction")
	}
}

// FourGrams adds features, the model still learns the toy problem, the option travels with the
// file, and a short text (joint table) and a long one (two blocks) both see the 4-grams.
func TestFourGrams(t *testing.T) {
	plain := train(t, smallOptions())
	opts := smallOptions()
	opts.FourGrams = "text"
	m := train(t, opts)
	if m.Features() <= plain.Features() {
		t.Errorf("four_grams: %d features, without %d", m.Features(), plain.Features())
	}
	d, err := learn.Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if d.Info().Options.FourGrams != "text" {
		t.Fatal("four_grams lost in the model file")
	}
	short := "中区停水三天了"
	long := short + strings.Repeat("今天天气晴朗我们去公园散步。", 6)
	for _, text := range []string{short, long} {
		if got, _, _ := d.Predict(text, nil).Best("topic"); got != "water" {
			t.Errorf("%s: topic %s, want water", text, got)
		}
		if !slices.Equal(m.Predict(text, nil).Probs("topic"), d.Predict(text, nil).Probs("topic")) {
			t.Errorf("%s: decoded model predicts otherwise", text)
		}
	}
	// "停水三天" occurs in the toy corpus; its 4-gram shows in the evidence as a hashed key.
	top := d.Predict("停水三天", nil).Top("topic", "water", 20)
	if !slices.ContainsFunc(top, func(c learn.Contribution) bool { return strings.HasPrefix(c.Feature, "4-gram#") }) {
		t.Errorf("no 4-gram among the evidence: %+v", top)
	}
}

func TestRequestWithLead(t *testing.T) {
	short := "小区停水了,请尽快处理"
	if got := learn.RequestWithLead(short); got != short {
		t.Errorf("a short text is its own request: %q", got)
	}
	// The opening states the matter without a cue; the cue sentence comes at the end.
	letter := "楼下餐馆油烟直排进我家窗户。" + strings.Repeat("这种情况已经持续了很久很久,家里老人孩子都受影响。", 3) + "希望有关部门管一管。"
	got := learn.RequestWithLead(letter)
	want := "楼下餐馆油烟直排进我家窗户。这种情况已经持续了很久很久,家里老人孩子都受影响。\n希望有关部门管一管。"
	if got != want {
		t.Errorf("RequestWithLead: %q, want %q", got, want)
	}
	if learn.RequestPart(letter) != "希望有关部门管一管。" {
		t.Errorf("RequestPart changed: %q", learn.RequestPart(letter))
	}
	// A request sentence within the opening is not repeated.
	asks := "希望尽快修好路灯。" + strings.Repeat("晚上路很黑,出行很不方便,老人容易摔倒。", 3)
	if got, want := learn.RequestWithLead(asks), "希望尽快修好路灯。"+strings.Repeat("晚上路很黑,出行很不方便,老人容易摔倒。", 2); got != want {
		t.Errorf("RequestWithLead: %q, want %q", got, want)
	}
	// A long opening without a sentence end is cut at shortRunes runes.
	run := strings.Repeat("油烟", 40) + "。希望处理。"
	if lead, _, _ := strings.Cut(learn.RequestWithLead(run), "\n"); len([]rune(lead)) != 60 {
		t.Errorf("opening of %d runes, want 60", len([]rune(lead)))
	}
}

// Skip-bigrams read back as text with '_' for the rune between; the evidence shows them ("水管漏水"
// in the toy corpus gives 管_水).
func TestSkipGrams(t *testing.T) {
	opts := smallOptions()
	opts.SkipGrams = true
	m := train(t, opts)
	d, err := learn.Decode(m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !d.Info().Options.SkipGrams {
		t.Fatal("skip_grams lost in the model file")
	}
	top := d.Predict("管里水", nil).Top("topic", "water", 20)
	if !slices.ContainsFunc(top, func(c learn.Contribution) bool { return c.Feature == "管_水" }) {
		t.Errorf("no skip-bigram 管_水 among the evidence: %+v", top)
	}
}

func TestNumberFold(t *testing.T) {
	for in, want := range map[string]string{
		"电话13800138000,3号楼": "电话#,3号楼",
		"打12345和120":        "打12345和120",
		"订单123456":          "订单#",
		"1234567":           "#",
		"":                  "",
	} {
		if got := learn.NumberFold(in); got != want {
			t.Errorf("NumberFold(%q) = %q, want %q", in, got, want)
		}
	}
}
