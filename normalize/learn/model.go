// Package learn is the learned half of the classifier: a linear model (multinomial logistic
// regression, one softmax head each for category, request type, emergency and out-of-scope) over
// character n-grams of the folded text, trained by a deterministic SGD.
//
// Like package normalize, learn does no I/O: a model is trained from examples in memory and
// encoded to bytes (Encode), or decoded from bytes (Decode). It works on text already folded by
// normalize.MatchText; normalize calls it with the text it matches its rules against.
//
// A Model is immutable after Train or Decode and safe for concurrent use.
package learn

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Head is one decision of the model: a set of classes of which exactly one applies.
type Head struct {
	Name    string   `json:"name"`
	Classes []string `json:"classes"`
	// Threshold, when set, turns the head into a yes/no decision: the text is positive when the
	// probability of any class but the first (the negative one: no emergency, in scope) reaches
	// it. Training sets it by cross-validation for a target false-alarm rate.
	Threshold float64 `json:"threshold,omitempty"`
	// Calibration records how the threshold was chosen.
	Calibration *Calibration `json:"calibration,omitempty"`

	offset int // first column of this head in the weight rows
}

// Calibration is the cross-validated behaviour of a thresholded head on its training corpus.
type Calibration struct {
	Folds       int     `json:"folds"`
	TargetFalse float64 `json:"target_false_alarm_rate"`
	FalseAlarms int     `json:"false_alarms"`
	Negatives   int     `json:"negatives"`
	Found       int     `json:"found"`
	Positives   int     `json:"positives"`
}

// Model is a trained classifier.
type Model struct {
	heads []Head
	width int // total classes over all heads: the length of a weight row

	grams map[uint64]int32 // n-gram key → row
	hints map[string]int32 // hint → row
	keys  []uint64         // row → key (grams first, in key order)
	names []string         // hint rows, in name order, after the n-gram rows
	// w holds the weights as multiples of their head's step (int16 keeps the model small in
	// memory and on disk); a weight is w[row*width+col] × step[col].
	w    []int16
	step []float32 // width: the step of each column's head
	bias []float32 // width

	info Info
}

// Info describes how a model was made, for `classify --eval` and the CLI.
type Info struct {
	Examples int            `json:"examples"`
	Options  TrainOptions   `json:"options"`
	Heads    []Head         `json:"heads"`
	Extra    map[string]any `json:"extra,omitempty"`
}

// Heads returns the model's heads.
func (m *Model) Heads() []Head { return slices.Clone(m.heads) }

// Head returns the head of that name.
func (m *Model) Head(name string) (Head, bool) {
	for _, h := range m.heads {
		if h.Name == name {
			return h, true
		}
	}
	return Head{}, false
}

// Info returns how the model was trained.
func (m *Model) Info() Info { return m.info }

// Features is the number of features (n-grams and hints) the model knows.
func (m *Model) Features() int { return len(m.keys) + len(m.names) }

// MemoryBytes estimates the model's footprint in memory: weights, keys, and the look-up maps.
func (m *Model) MemoryBytes() int {
	const mapEntry = 8 + 4 + 8 // key, value and the swiss table's control bytes and slack
	n := 2*len(m.w) + 4*len(m.step) + 4*len(m.bias) + 8*len(m.keys) + len(m.grams)*mapEntry
	for _, s := range m.names {
		n += 16 + len(s) + 16 + 4 + 8
	}
	return n
}

// vector is a sparse feature vector: rows with values (a row may repeat; values add up).
type vector struct {
	rows []int32
	vals []float32
}

// featurize appends the features of text and hints to v.
func (m *Model) featurize(text string, hints []string, v *vector) {
	m.block(text, 0, v)
	m.block(RequestPart(text), requestBit, v)
	for _, h := range hints {
		if row, ok := m.hints[h]; ok {
			v.rows = append(v.rows, row)
			v.vals = append(v.vals, 1)
		}
	}
}

// block appends the n-grams of s that the model knows, each weighted 1/√(n-grams in s).
func (m *Model) block(s string, tag uint64, v *vector) {
	start := len(v.rows)
	n := grams(s, tag, func(k uint64) {
		if row, ok := m.grams[k]; ok {
			v.rows = append(v.rows, row)
		}
	})
	if n == 0 {
		return
	}
	scale := float32(1 / math.Sqrt(float64(n)))
	if tag == requestBit {
		scale *= requestScale
	}
	for range len(v.rows) - start {
		v.vals = append(v.vals, scale)
	}
}

// Prediction is the model's output for one text: a probability for every class of every head,
// and the features it was computed from (for Top).
type Prediction struct {
	m     *Model
	probs []float32
	v     vector
}

// Predict scores a folded text with its hints.
func (m *Model) Predict(text string, hints []string) Prediction {
	p := Prediction{m: m, probs: make([]float32, m.width)}
	n := len(text)/2 + 8 // about three n-grams per rune, most of them known, in two blocks
	p.v.rows, p.v.vals = make([]int32, 0, n), make([]float32, 0, n)
	m.featurize(text, hints, &p.v)
	m.scores(&p.v, p.probs)
	for _, h := range m.heads {
		softmax(p.probs[h.offset : h.offset+len(h.Classes)])
	}
	return p
}

// scores writes bias + Σ w·x into out (length width). The explicit conversions keep the
// compiler from fusing multiply and add, whose rounding would differ between CPUs.
func (m *Model) scores(v *vector, out []float32) {
	clear(out)
	width := m.width
	for i, row := range v.rows {
		x := v.vals[i]
		w := m.w[int(row)*width : int(row)*width+width]
		for c := range out {
			out[c] += float32(float32(w[c]) * x)
		}
	}
	for c := range out {
		out[c] = float32(out[c]*m.step[c]) + m.bias[c]
	}
}

func softmax(s []float32) {
	top := s[0]
	for _, x := range s[1:] {
		top = max(top, x)
	}
	var sum float32
	for i, x := range s {
		e := float32(math.Exp(float64(x - top)))
		s[i] = e
		sum += e
	}
	for i := range s {
		s[i] /= sum
	}
}

// Probs returns the probabilities of the classes of a head, in the head's class order, or nil
// when the model has no such head.
func (p Prediction) Probs(head string) []float32 {
	if p.m == nil {
		return nil
	}
	for _, h := range p.m.heads {
		if h.Name == head {
			return p.probs[h.offset : h.offset+len(h.Classes)]
		}
	}
	return nil
}

// Best returns the most probable class of a head, its probability and the margin over the
// runner-up; "" when the model has no such head.
func (p Prediction) Best(head string) (class string, prob, margin float64) {
	probs := p.Probs(head)
	if probs == nil {
		return "", 0, 0
	}
	h, _ := p.m.Head(head)
	best, second := 0, -1
	for i := 1; i < len(probs); i++ {
		switch {
		case probs[i] > probs[best]:
			best, second = i, best
		case second < 0 || probs[i] > probs[second]:
			second = i
		}
	}
	margin = float64(probs[best])
	if second >= 0 {
		margin -= float64(probs[second])
	}
	return h.Classes[best], float64(probs[best]), margin
}

// Positive returns, for a thresholded head, the probability that the text is positive (any
// class but the first), the most probable positive class, and whether the probability reaches
// the head's threshold.
func (p Prediction) Positive(head string) (prob float64, class string, yes bool) {
	probs := p.Probs(head)
	if len(probs) < 2 {
		return 0, "", false
	}
	h, _ := p.m.Head(head)
	best := 1
	for i := 2; i < len(probs); i++ {
		if probs[i] > probs[best] {
			best = i
		}
	}
	prob = 1 - float64(probs[0])
	return prob, h.Classes[best], h.Threshold > 0 && prob >= h.Threshold
}

// Contribution is one feature's share of a class's score.
type Contribution struct {
	Feature string  // the n-gram ("请求:" in front for the request block) or hint
	Weight  float64 // weight × value
}

// Top returns the n features that add most to class's score in head, largest first (features
// that count against it are left out). A feature found several times counts with its sum.
func (p Prediction) Top(head, class string, n int) []Contribution {
	if p.m == nil || n <= 0 {
		return nil
	}
	h, ok := p.m.Head(head)
	if !ok {
		return nil
	}
	c := slices.Index(h.Classes, class)
	if c < 0 {
		return nil
	}
	col := h.offset + c
	type entry struct {
		row int32
		w   float64
	}
	sums := make([]entry, 0, 2*n)
	for i, row := range p.v.rows {
		w := float64(p.m.w[int(row)*p.m.width+col]) * float64(p.m.step[col]) * float64(p.v.vals[i])
		if j := slices.IndexFunc(sums, func(e entry) bool { return e.row == row }); j >= 0 {
			sums[j].w += w
			continue
		}
		if w <= 0 {
			continue
		}
		sums = append(sums, entry{row, w})
		if len(sums) == cap(sums) {
			// Keep the best n: a feature dropped here could only come back by repeating.
			slices.SortFunc(sums, func(a, b entry) int { return cmp.Or(cmp.Compare(b.w, a.w), cmp.Compare(a.row, b.row)) })
			sums = sums[:n]
		}
	}
	slices.SortFunc(sums, func(a, b entry) int { return cmp.Or(cmp.Compare(b.w, a.w), cmp.Compare(a.row, b.row)) })
	out := make([]Contribution, 0, n)
	for _, e := range sums {
		if len(out) == n {
			break
		}
		if e.w > 0 {
			out = append(out, Contribution{Feature: p.m.featureName(e.row), Weight: e.w})
		}
	}
	return out
}

func (m *Model) featureName(row int32) string {
	if int(row) < len(m.keys) {
		return KeyText(m.keys[row])
	}
	return m.names[int(row)-len(m.keys)]
}

// build fills the look-up maps from keys and names.
func (m *Model) build() error {
	m.grams = make(map[uint64]int32, len(m.keys))
	for i, k := range m.keys {
		if _, dup := m.grams[k]; dup {
			return fmt.Errorf("duplicate n-gram %q", KeyText(k))
		}
		m.grams[k] = int32(i)
	}
	m.hints = make(map[string]int32, len(m.names))
	for i, s := range m.names {
		if _, dup := m.hints[s]; dup {
			return fmt.Errorf("duplicate hint %q", s)
		}
		m.hints[s] = int32(len(m.keys) + i)
	}
	m.width = 0
	for i := range m.heads {
		m.heads[i].offset = m.width
		m.width += len(m.heads[i].Classes)
	}
	return nil
}
