package normalize

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

func TestMatchText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"full-width digits and punctuation", "１３８０００03390，请问？", "13800003390,请问?"},
		{"full-width latin is folded and lowered", "ＡＢＣ ｄｅｆ WeChat", "abc def wechat"},
		{"traditional to simplified", "噪音擾民，請問營業執照怎麼辦", "噪音扰民,请问营业执照怎么办"},
		{"emoji and skin tones removed", "赞👍🏻 太好了😀", "赞太好了"},
		{"ZWJ sequence and variation selector removed", "家庭👨‍👩‍👧真好❤️", "家庭真好"},
		{"keycap and flags removed", "1️⃣号楼🇨🇳", "1号楼"},
		{"decoration symbols removed, punctuation kept", "★★重要★★【通知】~", "重要【通知】~"},
		{"hashtags and mentions kept", "@某市12345 #暖心公交#", "@某市12345 #暖心公交#"},
		{"spaces next to Han removed (ASR)", "我 要 投诉 物业", "我要投诉物业"},
		{"spaces between latin words kept once", "iPhone   13  Pro", "iphone 13 pro"},
		{"line breaks kept as one", "第一行\r\n\r\n第二行\n", "第一行\n第二行"},
		{"ideographic space", "停水\u3000通知", "停水通知"},
		{"control and format characters removed", "停\u200b水\u0007了", "停水了"},
		{"NFD input composed", "cafe\u0301", "café"},
		{"compatibility ideograph to unified", "\uf900", "岂"},
		{"Kangxi radical (Han, symbol) kept", "\u2f00", "\u2f00"},
		{"currency and math kept", "¥50+20=70", "¥50+20=70"},
		{"invalid UTF-8 dropped (U+FFFD is a symbol)", "a\xffb", "ab"},
		{"empty", "", ""},
		{"only emoji", "😀😀", ""},
	}
	for _, tt := range tests {
		if got := MatchText(tt.in); got != tt.want {
			t.Errorf("%s: MatchText(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// alphabet mixes what citizen texts contain: simplified and traditional Han, full-width and
// half-width letters and digits, punctuation of both widths, emoji with modifiers, ZWJ and
// variation selectors, spaces and line breaks, combining marks.
var alphabet = []rune("的一是物业噪音擾民營業執照電梯壞了龍蝦瞭望乾坤薴abcXYZ019ＡＢＣｘｙｚ０１９，。！？,.!?#@【】 \t\n\u3000" +
	"😀👍🏻❤\ufe0f\u200d\u20e3🇨🇳★\u0301é\u00adｶﾞ")

func randomText(rng *rand.Rand) string {
	n := rng.IntN(40)
	var b strings.Builder
	for range n {
		b.WriteRune(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// counts returns the number of Han runes and of decimal digits in s.
func counts(s string) (han, digits int) {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case unicode.IsDigit(r):
			digits++
		}
	}
	return han, digits
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Han, r) {
			n++
		}
	}
	return n
}

func hasConjoiningJamo(s string) bool {
	for _, r := range s {
		if 0x1100 <= r && r <= 0x11ff || 0xa960 <= r && r <= 0xa97f || 0xd7b0 <= r && r <= 0xd7ff {
			return true
		}
	}
	return false
}

// checkMatchTextProperties asserts the properties MatchText promises for any input.
func checkMatchTextProperties(t *testing.T, in string) {
	t.Helper()
	out := MatchText(in)
	if again := MatchText(out); again != out {
		t.Fatalf("not idempotent: %q → %q → %q", in, out, again)
	}
	if !utf8.ValidString(out) {
		t.Fatalf("invalid UTF-8 out of %q", in)
	}
	if !norm.NFC.IsNormalString(out) {
		t.Fatalf("not NFC: %q → %q", in, out)
	}
	valid := strings.ToValidUTF8(in, "\ufffd")
	inHan, inDigits := counts(valid)
	outHan, outDigits := counts(out)
	if outHan != inHan {
		t.Fatalf("Han characters lost or added: %q (%d) → %q (%d)", in, inHan, out, outHan)
	}
	if outDigits != inDigits {
		t.Fatalf("digits lost or added: %q (%d) → %q (%d)", in, inDigits, out, outDigits)
	}
	// Letters can only merge by canonical composition (Hangul jamo), which the comparison
	// cannot predict once other characters between them are removed.
	if !hasConjoiningJamo(valid) {
		if want := letters(norm.NFC.String(width.Fold.String(valid))); letters(out) != want {
			t.Fatalf("letters lost or added: %q (%d) → %q (%d)", in, want, out, letters(out))
		}
	}
	if strings.ContainsAny(out, "\r\t\u3000") || strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") ||
		strings.Contains(out, "  ") || strings.Contains(out, "\n\n") {
		t.Fatalf("white space not collapsed: %q → %q", in, out)
	}
}

func TestMatchTextProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 5000 {
		checkMatchTextProperties(t, randomText(rng))
	}
}

func FuzzMatchText(f *testing.F) {
	for _, s := range []string{
		"燃气费怎么突然这么高？🤔", "來旅遊在經區一家海鮮酒樓", "１３８０００03390", "👨‍👩‍👧❤️", "ｶﾞ", "e\u0301\ufe0f\u0301",
		"我 要 投诉", "a\xffb", "\u1100\U0001f600\u1161", "薴瞭望一目瞭然", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkMatchTextProperties(t, s)
	})
}

func BenchmarkMatchTextTraditional(b *testing.B) {
	s := "@某市12345 來旅遊在經區一家海鮮酒樓吃飯，點了一隻龍蝦說380一斤，端上來說秤了三斤半，明顯不是我們選的那隻，跟老闆理論他態度還很兇。"
	for b.Loop() {
		_ = MatchText(s)
	}
}
