package learn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// With 4-grams in one block or both, or skip-bigrams, the joint table must still give what the
// two blocks give for a short text (the 4-grams of the whole text alone enter it with their
// whole-text weights).
func TestJointTableMatchesTheTwoBlocksWithExtraGrams(t *testing.T) {
	pool := []rune(benchPool[:12]) // few runes, so that 4-grams repeat and become features
	rng := rand.New(rand.NewPCG(9, 9))
	randomText := func(n int) string {
		text := make([]rune, n)
		for i := range text {
			text[i] = pool[rng.IntN(len(pool))]
		}
		return string(text)
	}
	heads := []Head{{Name: "topic", Classes: []string{"a", "b", "c"}}}
	var examples []Example
	for i := range 150 {
		examples = append(examples, Example{Text: randomText(5 + rng.IntN(30)), Labels: map[string]string{"topic": fmt.Sprint(string(rune('a' + i%3)))}})
	}
	for _, mode := range []string{"text", "both", "skip"} {
		opts := DefaultOptions()
		opts.MinCount, opts.Epochs = 2, 3
		if mode == "skip" {
			opts.SkipGrams = true
		} else {
			opts.FourGrams = mode
		}
		m, err := Train(heads, examples, opts)
		if err != nil {
			t.Fatal(err)
		}
		extra := 0
		for _, k := range m.keys {
			if k&extraBit != 0 {
				extra++
			}
		}
		if extra == 0 {
			t.Fatalf("%s: no 4-gram or skip-bigram became a feature", mode)
		}
		slow := *m
		slow.jw = nil
		for trial := range 100 {
			text := randomText(4 + rng.IntN(shortRunes-4))
			fast, ref := m.Predict(text, nil), slow.Predict(text, nil)
			a, b := fast.Probs("topic"), ref.Probs("topic")
			for c := range a {
				if math.Abs(float64(a[c]-b[c])) > 1e-4 {
					t.Fatalf("%s, trial %d, class %d: joint %v, two blocks %v", mode, trial, c, a[c], b[c])
				}
			}
			fast.Release()
			ref.Release()
		}
	}
}
