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
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
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
	// Conditional heads answer a question that only arises after another head's answer (which
	// emergency kind, once there is an emergency) and are trained on those examples only.
	Conditional bool `json:"conditional,omitempty"`

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

	grams    keyTable         // n-gram key → row
	hints    map[string]int32 // hint → row
	hintVals []float32        // hint row − len(keys) → the hint's value (TrainOptions.HintValues)
	keys     []uint64         // row → key (grams first, in key order)
	names    []string         // hint rows, in name order, after the n-gram rows
	// w holds the weights as whole multiples of their head's step, as the file keeps them in
	// int16; a weight is w[row*width+col] × step[col]. They are float32 in memory, which spares
	// a conversion per weight and class in every prediction for twice the memory.
	w    []float32
	step []float32 // width: the step of each column's head
	bias []float32 // width

	// A short text is its own request (RequestPart), so its two blocks hold the same n-grams with
	// the same counts. The joint table serves such texts: each n-gram's whole-text weights plus
	// requestScale times its request weights, summed once when the weights are set, in units of
	// the column's step. A short text then costs one look-up and one row per n-gram, not two.
	joint     keyTable  // n-gram key without the request bit → joint row
	jointKeys []uint64  // joint row → key
	jw        []float32 // joint rows × width

	info Info
}

// Info describes how a model was made, for `classify --eval` and the CLI.
type Info struct {
	Examples int          `json:"examples"`
	Options  TrainOptions `json:"options"`
	Heads    []Head       `json:"heads"`
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
	n := 4*len(m.w) + 4*len(m.step) + 4*len(m.bias) + 8*len(m.keys) + m.grams.bytes() +
		4*len(m.jw) + 8*len(m.jointKeys) + m.joint.bytes()
	for _, s := range m.names {
		n += 16 + len(s) + 16 + 4 + 8
	}
	return n
}

// vector is a sparse feature vector: rows with values (a row may repeat; values add up), and
// rows of the joint table with theirs.
type vector struct {
	rows  []int32
	vals  []float32
	jrows []int32
	jvals []float32
}

// featurize appends the features of text and hints to v.
func (m *Model) featurize(text string, hints []string, v *vector) {
	if m.jw != nil && utf8.RuneCountInString(text) <= ShortRunes {
		m.jointBlock(text, v)
	} else {
		m.block(text, 0, v)
		m.block(RequestPart(text), requestBit, v)
	}
	for _, h := range hints {
		if row, ok := m.hints[h]; ok {
			v.rows = append(v.rows, row)
			v.vals = append(v.vals, m.hintVals[int(row)-len(m.keys)])
		}
	}
}

// block appends the n-grams of s that the model knows, each weighted 1/√(n-grams in s). It
// walks the n-grams as grams does, without a call per n-gram (this runs on every message).
func (m *Model) block(s string, tag uint64, v *vector) {
	start := len(v.rows)
	add := func(k uint64) {
		if row, ok := m.grams.get(k); ok {
			v.rows = append(v.rows, row)
		}
	}
	var p1, p2 rune
	n := 0
	for _, r := range s {
		if skipRune(r) {
			p1, p2 = 0, 0
			continue
		}
		add(tag | gramKey(0, 0, r))
		n++
		if p1 != 0 {
			add(tag | gramKey(0, p1, r))
			n++
			if p2 != 0 {
				add(tag | gramKey(p2, p1, r))
				n++
			}
		}
		p2, p1 = p1, r
	}
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

// jointBlock appends the n-grams of a short text that the joint table knows, each weighted
// 1/√(n-grams in text) (requestScale is in the table's weights).
func (m *Model) jointBlock(s string, v *vector) {
	start := len(v.jrows)
	add := func(k uint64) {
		if row, ok := m.joint.get(k); ok {
			v.jrows = append(v.jrows, row)
		}
	}
	var p1, p2 rune
	n := 0
	for _, r := range s {
		if skipRune(r) {
			p1, p2 = 0, 0
			continue
		}
		add(gramKey(0, 0, r))
		n++
		if p1 != 0 {
			add(gramKey(0, p1, r))
			n++
			if p2 != 0 {
				add(gramKey(p2, p1, r))
				n++
			}
		}
		p2, p1 = p1, r
	}
	if n == 0 {
		return
	}
	scale := float32(1 / math.Sqrt(float64(n)))
	for range len(v.jrows) - start {
		v.jvals = append(v.jvals, scale)
	}
}

// buildJoint fills the joint table from the weights.
func (m *Model) buildJoint() {
	width := m.width
	index := make(map[uint64]int32, len(m.keys))
	m.jointKeys = m.jointKeys[:0]
	for _, k := range m.keys {
		k &^= requestBit
		if _, ok := index[k]; !ok {
			index[k] = int32(len(m.jointKeys))
			m.jointKeys = append(m.jointKeys, k)
		}
	}
	m.jw = make([]float32, len(m.jointKeys)*width)
	for i, k := range m.keys {
		scale := float32(1)
		if k&requestBit != 0 {
			scale = requestScale
		}
		j := int(index[k&^requestBit]) * width
		for c := range width {
			m.jw[j+c] += float32(m.w[i*width+c] * scale)
		}
	}
	m.joint = newKeyTable(len(m.jointKeys))
	for j, k := range m.jointKeys {
		m.joint.put(k, int32(j))
	}
}

// Prediction is the model's output for one text: the probabilities of the classes of each
// head, computed when first asked for, and the features they are computed from. It is not safe
// for concurrent use; Release hands its buffers back for the next prediction.
type Prediction struct{ *prediction }

type prediction struct {
	m       *Model
	probs   []float32
	done    []bool // per head: probabilities computed
	v       vector
	scratch []float64 // Top's contributions
	ids     []int32   // and their features
}

var predictionPool = sync.Pool{New: func() any { return new(prediction) }}

// Predict prepares the prediction of a folded text with its hints, computing the named heads
// at once (in one pass over the features when they are adjacent in the model) and the others
// when they are asked for.
func (m *Model) Predict(text string, hints []string, heads ...string) Prediction {
	p := predictionPool.Get().(*prediction)
	p.m = m
	p.probs = slices.Grow(p.probs[:0], m.width)[:m.width]
	p.done = slices.Grow(p.done[:0], len(m.heads))[:len(m.heads)]
	clear(p.done)
	p.v.rows, p.v.vals, p.v.jrows, p.v.jvals = p.v.rows[:0], p.v.vals[:0], p.v.jrows[:0], p.v.jvals[:0]
	m.featurize(text, hints, &p.v)
	lo, hi := m.width, 0
	for i, h := range m.heads {
		if slices.Contains(heads, h.Name) {
			lo, hi = min(lo, h.offset), max(hi, h.offset+len(h.Classes))
			p.done[i] = true
		}
	}
	if lo < hi {
		m.scores(&p.v, p.probs, lo, hi)
	}
	for i, h := range m.heads {
		switch {
		case p.done[i]:
			softmax(p.probs[h.offset : h.offset+len(h.Classes)])
		case h.offset >= lo && h.offset+len(h.Classes) <= hi:
			// Computed with the named heads because it lies between them.
			softmax(p.probs[h.offset : h.offset+len(h.Classes)])
			p.done[i] = true
		}
	}
	return Prediction{p}
}

// Release returns the prediction's buffers for reuse; the prediction must not be used after.
func (p Prediction) Release() {
	if p.prediction != nil {
		p.m = nil
		predictionPool.Put(p.prediction)
	}
}

// scores writes bias + Σ w·x into out[lo:hi]. The explicit conversions keep the compiler from
// fusing multiply and add, whose rounding would differ between CPUs.
func (m *Model) scores(v *vector, out []float32, lo, hi int) {
	o := out[lo:hi]
	clear(o)
	width := m.width
	for i, row := range v.rows {
		x := v.vals[i]
		base := int(row) * width
		w := m.w[base+lo : base+hi]
		w = w[:len(o)]
		c := 0
		for ; c+4 <= len(o); c += 4 {
			oc, wc := o[c:c+4:c+4], w[c:c+4:c+4]
			oc[0] += float32(wc[0] * x)
			oc[1] += float32(wc[1] * x)
			oc[2] += float32(wc[2] * x)
			oc[3] += float32(wc[3] * x)
		}
		for ; c < len(o); c++ {
			o[c] += float32(w[c] * x)
		}
	}
	for i, row := range v.jrows {
		x := v.jvals[i]
		base := int(row) * width
		w := m.jw[base+lo : base+hi]
		w = w[:len(o)]
		// Four columns a step: the loop's own instructions were half of its cost.
		c := 0
		for ; c+4 <= len(o); c += 4 {
			oc, wc := o[c:c+4:c+4], w[c:c+4:c+4]
			oc[0] += float32(wc[0] * x)
			oc[1] += float32(wc[1] * x)
			oc[2] += float32(wc[2] * x)
			oc[3] += float32(wc[3] * x)
		}
		for ; c < len(o); c++ {
			o[c] += float32(w[c] * x)
		}
	}
	for c := range o {
		o[c] = float32(o[c]*m.step[lo+c]) + m.bias[lo+c]
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
	if p.prediction == nil {
		return nil
	}
	for i, h := range p.m.heads {
		if h.Name != head {
			continue
		}
		probs := p.probs[h.offset : h.offset+len(h.Classes)]
		if !p.done[i] {
			p.m.scores(&p.v, p.probs, h.offset, h.offset+len(h.Classes))
			softmax(probs)
			p.done[i] = true
		}
		return probs
	}
	return nil
}

// Grams is the number of the text's n-gram features the model knows, hints not counted (a long
// text's n-gram counts once in each block it is in). At 0 the model has seen none of the text,
// and its probabilities are its biases and the hints alone.
func (p Prediction) Grams() int {
	if p.prediction == nil {
		return 0
	}
	n := len(p.v.jrows)
	for _, row := range p.v.rows {
		if int(row) < len(p.m.keys) {
			n++
		}
	}
	return n
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
// that count against it are left out). A feature found several times counts with its sum; the
// order is by its largest single occurrence, which for the n-grams of a text is nearly always
// the same thing.
func (p Prediction) Top(head, class string, n int) []Contribution {
	if p.prediction == nil || n <= 0 {
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
	col, width, step := h.offset+c, p.m.width, float64(p.m.step[h.offset+c])
	// Features are identified by their row, or −1 − their joint row; only those that count for
	// the class are kept, with their contributions.
	ids, w := p.ids[:0], p.scratch[:0]
	for i, row := range p.v.rows {
		if x := float64(p.m.w[int(row)*width+col]) * step * float64(p.v.vals[i]); x > 0 {
			ids, w = append(ids, row), append(w, x)
		}
	}
	for i, row := range p.v.jrows {
		if x := float64(p.m.jw[int(row)*width+col]) * step * float64(p.v.jvals[i]); x > 0 {
			ids, w = append(ids, -1-row), append(w, x)
		}
	}
	p.ids, p.scratch = ids, w
	// One pass keeps the n features with the largest single contributions (ties to the lower
	// id); a feature pushed out can come back with a larger occurrence (its earlier one was
	// smaller than everything kept since), so the n kept are exactly the n largest.
	type candidate struct {
		id   int32
		best float64
	}
	better := func(x float64, id int32, than candidate) bool {
		return x > than.best || x == than.best && id < than.id
	}
	var buf [8]candidate
	kept := buf[:0]
	if n > len(buf) {
		kept = make([]candidate, 0, n)
	}
	for i, id := range ids {
		x := w[i]
		seen := false
		for j := range kept {
			if kept[j].id == id {
				kept[j].best, seen = max(kept[j].best, x), true
				break
			}
		}
		switch {
		case seen:
		case len(kept) < n:
			kept = append(kept, candidate{id, x})
		default:
			worst := 0
			for j := 1; j < len(kept); j++ {
				if better(kept[worst].best, kept[worst].id, kept[j]) {
					worst = j
				}
			}
			if better(x, id, kept[worst]) {
				kept[worst] = candidate{id, x}
			}
		}
	}
	slices.SortFunc(kept, func(a, b candidate) int {
		if better(a.best, a.id, b) {
			return -1
		}
		return 1
	})
	out := make([]Contribution, len(kept))
	for k, cand := range kept {
		sum := 0.0
		for i, id := range ids {
			if id == cand.id {
				sum += w[i]
			}
		}
		out[k] = Contribution{Feature: p.m.featureName(cand.id), Weight: sum}
	}
	return out
}

func (m *Model) featureName(row int32) string {
	if row < 0 {
		return KeyText(m.jointKeys[-1-row])
	}
	if int(row) < len(m.keys) {
		return KeyText(m.keys[row])
	}
	return m.names[int(row)-len(m.keys)]
}

// build fills the look-up maps from keys and names.
func (m *Model) build() error {
	m.grams = newKeyTable(len(m.keys))
	for i, k := range m.keys {
		if k == 0 || !m.grams.put(k, int32(i)) {
			return fmt.Errorf("duplicate or empty n-gram %q", KeyText(k))
		}
	}
	m.hints = make(map[string]int32, len(m.names))
	m.hintVals = make([]float32, len(m.names))
	for i, s := range m.names {
		if _, dup := m.hints[s]; dup {
			return fmt.Errorf("duplicate hint %q", s)
		}
		m.hints[s] = int32(len(m.keys) + i)
		m.hintVals[i] = hintValue(s, m.info.Options.HintValues)
	}
	m.width = 0
	for i, h := range m.heads {
		m.heads[i].offset = m.width
		m.width += len(h.Classes)
	}
	return nil
}

// hintValue is the value of the hint of that name (TrainOptions.HintValues).
func hintValue(name string, values map[string]float64) float32 {
	v, longest := 1.0, -1
	for prefix, x := range values {
		if len(prefix) > longest && strings.HasPrefix(name, prefix) {
			v, longest = x, len(prefix)
		}
	}
	return float32(v)
}

// keyTable maps n-gram keys to rows: open addressing with linear probing at a load of at most
// one half. It is faster than a Go map for the hundreds of look-ups of every prediction. Key 0
// (no rune) marks an empty slot.
type keyTable struct {
	keys  []uint64
	rows  []int32
	shift uint
}

func newKeyTable(n int) keyTable {
	size, shift := 2, uint(63)
	for size < 2*n {
		size, shift = size*2, shift-1
	}
	return keyTable{keys: make([]uint64, size), rows: make([]int32, size), shift: shift}
}

func (t *keyTable) slot(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15) >> t.shift }

// put adds k; false when it is there already.
func (t *keyTable) put(k uint64, row int32) bool {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return false
		case 0:
			t.keys[i], t.rows[i] = k, row
			return true
		}
	}
}

func (t *keyTable) get(k uint64) (int32, bool) {
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case k:
			return t.rows[i], true
		case 0:
			return 0, false
		}
	}
}

func (t *keyTable) bytes() int { return 12 * len(t.keys) }
