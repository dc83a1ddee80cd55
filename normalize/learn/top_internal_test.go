package learn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// naiveTop is Top as its documentation states it: repeatedly the largest single contribution,
// ties to the lower row, summed over its occurrences.
func naiveTop(p Prediction, head, class string, n int) []Contribution {
	h, _ := p.m.Head(head)
	col := h.offset + slices.Index(h.Classes, class)
	var ids []int32
	var w []float64
	for i, row := range p.v.rows {
		ids = append(ids, row)
		w = append(w, float64(p.m.w[int(row)*p.m.width+col])*float64(p.m.step[col])*float64(p.v.vals[i]))
	}
	for i, row := range p.v.jrows {
		ids = append(ids, -1-row)
		w = append(w, float64(p.m.jw[int(row)*p.m.width+col])*float64(p.m.step[col])*float64(p.v.jvals[i]))
	}
	var out []Contribution
	for len(out) < n {
		best := -1
		for i, x := range w {
			if x > 0 && (best < 0 || x > w[best] || x == w[best] && ids[i] < ids[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		row, sum := ids[best], 0.0
		for i, r := range ids {
			if r == row {
				sum += w[i]
				w[i] = math.Inf(-1)
			}
		}
		out = append(out, Contribution{Feature: p.m.featureName(row), Weight: sum})
	}
	return out
}

// Top keeps only a few candidates in one pass; on random texts, short (joint table) and long
// (two blocks), it must give what the slow, obvious selection gives, repeated n-grams and ties
// included.
func TestTopMatchesTheObviousSelection(t *testing.T) {
	m := syntheticModel(3000)
	pool := []rune(benchPool[:60])
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 300 {
		text := make([]rune, 5+rng.IntN(120))
		for i := range text {
			text[i] = pool[rng.IntN(len(pool))]
		}
		p := m.Predict(string(text), nil)
		for _, n := range []int{1, 3, 5, 12} {
			for _, class := range []string{"0", "3", "9"} {
				got, want := p.Top("referral", class, n), naiveTop(p, "referral", class, n)
				if !slices.Equal(got, want) {
					t.Fatalf("trial %d, n=%d, class %s:\n got %v\nwant %v", trial, n, class, got, want)
				}
			}
		}
		p.Release()
	}
}

// The joint table is a shortcut for short texts: the probabilities it gives must be those of
// the two blocks it replaces (up to float32 rounding).
func TestJointTableMatchesTheTwoBlocks(t *testing.T) {
	m := syntheticModel(3000)
	pool := []rune(benchPool[:60])
	rng := rand.New(rand.NewPCG(8, 8))
	slow := *m
	slow.jw = nil
	for trial := range 200 {
		text := make([]rune, 1+rng.IntN(ShortRunes))
		for i := range text {
			text[i] = pool[rng.IntN(len(pool))]
		}
		fast, ref := m.Predict(string(text), nil), slow.Predict(string(text), nil)
		if len(fast.v.rows) != 0 || len(ref.v.jrows) != 0 {
			t.Fatalf("trial %d: the short text did not take the joint table (%d rows, %d joint rows)", trial, len(fast.v.rows), len(ref.v.jrows))
		}
		for _, h := range m.heads {
			a, b := fast.Probs(h.Name), ref.Probs(h.Name)
			for c := range a {
				if math.Abs(float64(a[c]-b[c])) > 1e-4 {
					t.Fatalf("trial %d, %s[%d]: joint %v, two blocks %v", trial, h.Name, c, a[c], b[c])
				}
			}
		}
		fast.Release()
		ref.Release()
	}
}

// A hint's value comes from the longest prefix of TrainOptions.HintValues that its name starts
// with, 1 when none does.
func TestHintValueByLongestPrefix(t *testing.T) {
	values := map[string]float64{"rule.": 0.3, "rule.out_of_scope": 1, "rule.out_of_scope_phrase:": 0.5}
	for name, want := range map[string]float32{
		"rule.category:health":         0.3,
		"rule.out_of_scope:court":      1,
		"rule.out_of_scope_phrase:xyz": 0.5,
		"referral.cue:court":           1,
		"rule":                         1,
	} {
		if got := hintValue(name, values); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := hintValue("rule.category:health", nil); got != 1 {
		t.Errorf("no values: %v, want 1", got)
	}
}
