package normalize

import (
	"math/rand/v2"
	"testing"
)

func TestSimilarity(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string
		min, max float64
	}{
		{"identical", "楼下路灯坏了一个月了", "楼下路灯坏了一个月了", 1, 1},
		{"punctuation, emoji and width do not count", "楼下路灯坏了！！😡", "楼下路灯坏了", 1, 1},
		{"traditional equals simplified", "樓下路燈壞了", "楼下路灯坏了", 1, 1},
		{"re-sent with small changes", "青槐街的路灯坏了一个月了，晚上太黑", "青槐街路灯坏了快一个月了，晚上特别黑", 0.6, 0.9},
		{"same topic, different request", "青槐街的路灯坏了", "青槐街的垃圾没人清", 0.2, 0.5},
		{"unrelated", "公积金怎么提取", "楼上装修噪音太大", 0, 0.1},
		{"single characters", "好", "好", 1, 1},
		{"empty is never similar", "", "", 0, 0},
		{"emoji only is empty", "😀", "😀", 0, 0},
	}
	for _, tt := range tests {
		got := Similarity(tt.a, tt.b)
		if got < tt.min || got > tt.max {
			t.Errorf("%s: Similarity(%q, %q) = %.3f, want in [%.2f, %.2f]", tt.name, tt.a, tt.b, got, tt.min, tt.max)
		}
	}
	// Dice, exactly: "abcd" has bigrams ab bc cd, "abce" has ab bc ce → 2·2/(3+3).
	if got := Similarity("abcd", "abce"); got != 4.0/6 {
		t.Errorf("Dice(abcd, abce) = %v, want %v", got, 4.0/6)
	}
	// Multisets: "aaa" (aa aa) vs "aa" (aa) → 2·1/(2+1).
	if got := Similarity("aaa", "aa"); got != 2.0/3 {
		t.Errorf("Dice(aaa, aa) = %v, want %v", got, 2.0/3)
	}
}

func TestSimilarityProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for range 2000 {
		a, b := randomText(rng), randomText(rng)
		ab, ba := Similarity(a, b), Similarity(b, a)
		if ab != ba {
			t.Fatalf("not symmetric: %q %q: %v %v", a, b, ab, ba)
		}
		if ab < 0 || ab > 1 {
			t.Fatalf("out of range: %v", ab)
		}
		if len(keyRunes(a)) > 0 && Similarity(a, a) != 1 {
			t.Fatalf("Similarity(a, a) = %v for %q", Similarity(a, a), a)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a := Fingerprint("楼下路灯坏了！！😡")
	if a == "" || len(a) != 16 {
		t.Fatalf("Fingerprint = %q", a)
	}
	if b := Fingerprint("樓下 路燈 壞了"); b != a {
		t.Errorf("traditional/spacing variant: %q != %q", b, a)
	}
	if c := Fingerprint("楼下路灯坏了两个"); c == a {
		t.Error("different content, same fingerprint")
	}
	if Fingerprint("😀 ！") != "" {
		t.Error("empty content should have no fingerprint")
	}
}

func BenchmarkSimilarity(b *testing.B) {
	x := "市民来电反映：高区观澜路（松涛路至杏林路段）路面多处坑洼，最深处约10厘米，雨天积水看不清。"
	y := "观澜路松涛路到杏林路这段路面坑坑洼洼的，最深的有十厘米，下雨积水根本看不清，已经有人摔倒了"
	for b.Loop() {
		_ = Similarity(x, y)
	}
}

// TestSimilarityKeyAgreesWithSimilarity: comparing precomputed keys gives exactly what
// Similarity gives for the texts, so hot-topic clustering measures what repeat detection does.
func TestSimilarityKeyAgreesWithSimilarity(t *testing.T) {
	texts := []string{"幸福小区停水了，什么时候来水？", "我们这里停水一上午了", "路灯坏了！！", "路灯坏了", "水", "", "🙂🙂", "Street light BROKEN 12"}
	for _, a := range texts {
		for _, b := range texts {
			if got, want := SimilarityKey(a).Similarity(SimilarityKey(b)), Similarity(a, b); got != want {
				t.Errorf("keys of %q and %q: %v, Similarity %v", a, b, got, want)
			}
		}
		if SimilarityKey(a).Empty() != (Similarity(a, a) == 0) {
			t.Errorf("Empty(%q) disagrees with Similarity", a)
		}
	}
}
