package learn

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Example is one labelled text for training.
type Example struct {
	// Text is folded by normalize.MatchText, as the model sees it when classifying.
	Text string
	// Hints are named facts found by other means (the rules), used as binary features.
	Hints []string
	// Labels give the class of each head by head name; a head without a label is not trained
	// on this example (a corpus that has no out-of-scope labels, for instance).
	Labels map[string]string
	// Alternatives are further acceptable classes of a head (a matter that belongs to two
	// departments): they share TrainOptions.AlternativeWeight of the example's target.
	Alternatives map[string][]string
	// TrainOnly examples are trained on (in every calibration fold too) but never held out when
	// a threshold is calibrated, so a false-alarm rate stays a share of the other (reference)
	// examples' negatives. Data written to teach the model — deliberately hard look-alikes above
	// all — would otherwise change the mix of negatives the rate is a share of. Thresholds still
	// follow the model: train-only data changes what the folds' models score. TrainOnly data must
	// not copy reference items, or a held-out item would be scored by a model that saw it.
	TrainOnly bool
}

// TrainOptions control training. The zero value of a field takes the default of DefaultOptions.
type TrainOptions struct {
	Seed         uint64  `json:"seed"`
	Epochs       int     `json:"epochs"`
	LearningRate float64 `json:"learning_rate"`
	L2           float64 `json:"l2"`
	// MinCount is the number of training texts an n-gram must occur in to become a feature.
	MinCount int `json:"min_count"`
	// FalseAlarmRate is, per thresholded head, the share of negatives allowed to reach the
	// threshold in cross-validation on the training corpus.
	FalseAlarmRate map[string]float64 `json:"false_alarm_rate,omitempty"`
	// CalibrationFolds is the number of folds for choosing thresholds.
	CalibrationFolds int `json:"calibration_folds"`
	// Prune drops features whose largest absolute weight is below this, after training.
	Prune float64 `json:"prune"`
	// AlternativeWeight is the share of an example's target given to its alternatives.
	AlternativeWeight float64 `json:"alternative_weight"`
	// HintValues are the values of hint features by name prefix: the longest prefix that
	// matches a hint's name gives its value; a hint that none matches has value 1. The n-grams
	// of a block have values of about 1/√(its n-grams), so a hint at 1 outweighs any of them
	// and, where the rules' findings are hints, a smaller value lets the text speak more.
	HintValues map[string]float64 `json:"hint_values,omitempty"`
}

// DefaultOptions are the options the embedded model is trained with. Epochs: 20 rather than 12
// scored better in 5-fold cross-validation on the corpus with and without extra.jsonl (category,
// out-of-scope recall and emergency false alarms all improved; 30 flagged more in-scope matters).
// The other values are as cross-validated before; none was tuned by nested cross-validation.
func DefaultOptions() TrainOptions {
	return TrainOptions{
		Seed:              12345,
		Epochs:            20,
		LearningRate:      0.2,
		L2:                1e-4,
		MinCount:          3,
		CalibrationFolds:  4,
		Prune:             0.01,
		AlternativeWeight: 0.5,
	}
}

func (o TrainOptions) withDefaults() TrainOptions {
	d := DefaultOptions()
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	if o.Epochs == 0 {
		o.Epochs = d.Epochs
	}
	if o.LearningRate == 0 {
		o.LearningRate = d.LearningRate
	}
	if o.L2 == 0 {
		o.L2 = d.L2
	}
	if o.MinCount == 0 {
		o.MinCount = d.MinCount
	}
	if o.CalibrationFolds == 0 {
		o.CalibrationFolds = d.CalibrationFolds
	}
	if o.Prune == 0 {
		o.Prune = d.Prune
	}
	if o.AlternativeWeight == 0 {
		o.AlternativeWeight = d.AlternativeWeight
	}
	return o
}

// Train fits a model with the given heads to the examples. The result depends only on the
// heads, the examples (in order) and the options: the same input gives a byte-identical model.
func Train(heads []Head, examples []Example, opts TrainOptions) (*Model, error) {
	opts = opts.withDefaults()
	if err := checkHeads(heads, examples); err != nil {
		return nil, err
	}
	m, err := fit(heads, examples, opts)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(opts.FalseAlarmRate)) {
		i := slices.IndexFunc(m.heads, func(h Head) bool { return h.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("false_alarm_rate: no head %q", name)
		}
		cal, threshold, err := calibrate(heads, examples, opts, name, opts.FalseAlarmRate[name])
		if err != nil {
			return nil, err
		}
		m.heads[i].Threshold, m.heads[i].Calibration = threshold, cal
	}
	m.info = Info{Examples: len(examples), Options: opts, Heads: m.Heads()}
	return m, nil
}

func checkHeads(heads []Head, examples []Example) error {
	if len(heads) == 0 {
		return errors.New("no heads")
	}
	if len(examples) == 0 {
		return errors.New("no examples")
	}
	names := map[string]bool{}
	for _, h := range heads {
		if h.Name == "" || names[h.Name] {
			return fmt.Errorf("head %q: empty or duplicate name", h.Name)
		}
		names[h.Name] = true
		if len(h.Classes) < 2 {
			return fmt.Errorf("head %s: needs at least two classes", h.Name)
		}
		seen := map[string]bool{}
		for _, c := range h.Classes {
			if seen[c] {
				return fmt.Errorf("head %s: duplicate class %q", h.Name, c)
			}
			seen[c] = true
		}
	}
	for i, e := range examples {
		for head, class := range e.Labels {
			j := slices.IndexFunc(heads, func(h Head) bool { return h.Name == head })
			if j < 0 {
				return fmt.Errorf("example %d: no head %q", i, head)
			}
			if !slices.Contains(heads[j].Classes, class) {
				return fmt.Errorf("example %d: %s %q is not one of %v", i, head, class, heads[j].Classes)
			}
			for _, alt := range e.Alternatives[head] {
				if !slices.Contains(heads[j].Classes, alt) {
					return fmt.Errorf("example %d: %s alternative %q is not one of %v", i, head, alt, heads[j].Classes)
				}
			}
		}
	}
	return nil
}

// trainingRow is an example as sparse features (rows sorted, unique), class indexes per head
// (-1 for no label), and per head the indexes of acceptable alternatives.
type trainingRow struct {
	rows   []int32
	vals   []float64
	labels []int
	alts   [][]int
}

// fit trains the weights (no thresholds).
func fit(heads []Head, examples []Example, opts TrainOptions) (*Model, error) {
	m := &Model{heads: make([]Head, len(heads))}
	for i, h := range heads {
		m.heads[i] = Head{Name: h.Name, Classes: slices.Clone(h.Classes), Conditional: h.Conditional}
	}
	m.info.Options = opts
	m.keys, m.names = vocabulary(examples, opts.MinCount)
	if err := m.build(); err != nil {
		return nil, err
	}
	data := make([]trainingRow, len(examples))
	for i, e := range examples {
		data[i] = m.trainingRow(e)
	}

	width, rows := m.width, m.Features()
	w := make([]float64, rows*width)
	g2 := make([]float64, rows*width) // AdaGrad: sums of squared gradients
	bias := make([]float64, width)
	bg2 := make([]float64, width)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x1a2b3c4d))
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	lr, l2 := opts.LearningRate, opts.L2
	scores := make([]float64, width)
	for range opts.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, k := range order {
			d := &data[k]
			for hi, h := range m.heads {
				y := d.labels[hi]
				if y < 0 {
					continue
				}
				lo, n := h.offset, len(h.Classes)
				s := scores[lo : lo+n]
				copy(s, bias[lo:lo+n])
				for i, row := range d.rows {
					x := d.vals[i]
					wr := w[int(row)*width+lo : int(row)*width+lo+n]
					for c := range s {
						s[c] += float64(wr[c] * x)
					}
				}
				softmax64(s)
				// Now the gradient of the cross-entropy by the score: probability − target.
				if alts := d.alts[hi]; len(alts) > 0 && opts.AlternativeWeight > 0 {
					s[y] -= 1 - opts.AlternativeWeight
					for _, a := range alts {
						s[a] -= opts.AlternativeWeight / float64(len(alts))
					}
				} else {
					s[y] -= 1
				}
				for c := range s {
					g := s[c]
					bg2[lo+c] += float64(g * g)
					bias[lo+c] -= float64(lr * g / (math.Sqrt(bg2[lo+c]) + 1e-8))
				}
				for i, row := range d.rows {
					x := d.vals[i]
					base := int(row)*width + lo
					for c := range s {
						j := base + c
						g := float64(s[c]*x) + float64(l2*w[j])
						g2[j] += float64(g * g)
						w[j] -= float64(lr * g / (math.Sqrt(g2[j]) + 1e-8))
					}
				}
			}
		}
	}
	m.setWeights(w, bias, opts.Prune)
	return m, nil
}

// softmax64 turns scores into probabilities in place.
func softmax64(s []float64) {
	top := s[0]
	for _, x := range s[1:] {
		top = max(top, x)
	}
	sum := 0.0
	for i, x := range s {
		e := math.Exp(x - top)
		s[i] = e
		sum += e
	}
	for i := range s {
		s[i] /= sum
	}
}

// vocabulary returns the n-gram keys (sorted) and hints (sorted) found in at least minCount
// examples.
func vocabulary(examples []Example, minCount int) ([]uint64, []string) {
	df := map[uint64]int{}
	hf := map[string]int{}
	seen := map[uint64]bool{}
	for _, e := range examples {
		clear(seen)
		add := func(k uint64) {
			if !seen[k] {
				seen[k] = true
				df[k]++
			}
		}
		grams(e.Text, 0, add)
		grams(RequestPart(e.Text), requestBit, add)
		for _, h := range slices.Compact(slices.Sorted(slices.Values(e.Hints))) {
			hf[h]++
		}
	}
	var keys []uint64
	for k, n := range df {
		if n >= minCount {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var names []string
	for h, n := range hf {
		if n >= minCount {
			names = append(names, h)
		}
	}
	slices.Sort(names)
	return keys, names
}

// trainingRow featurizes an example, merging repeated rows.
func (m *Model) trainingRow(e Example) trainingRow {
	v := &vector{}
	m.featurize(e.Text, e.Hints, v)
	idx := make([]int, len(v.rows))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v.rows[idx[a]] < v.rows[idx[b]] })
	var r trainingRow
	for _, i := range idx {
		row, x := v.rows[i], float64(v.vals[i])
		if n := len(r.rows); n > 0 && r.rows[n-1] == row {
			r.vals[n-1] += x
			continue
		}
		r.rows = append(r.rows, row)
		r.vals = append(r.vals, x)
	}
	r.labels = make([]int, len(m.heads))
	r.alts = make([][]int, len(m.heads))
	for i, h := range m.heads {
		r.labels[i] = -1
		class, ok := e.Labels[h.Name]
		if !ok {
			continue
		}
		r.labels[i] = slices.Index(h.Classes, class)
		for _, alt := range e.Alternatives[h.Name] {
			if j := slices.Index(h.Classes, alt); j >= 0 && j != r.labels[i] && !slices.Contains(r.alts[i], j) {
				r.alts[i] = append(r.alts[i], j)
			}
		}
	}
	return r
}

// quantSteps is the resolution of stored weights: each head's weights are multiples of
// (largest absolute weight of the head)/quantSteps, so that they fit an int16.
const quantSteps = 32767

// setWeights prunes features whose weights are all below prune, then rounds the weights to the
// int16 grid the model keeps them in.
func (m *Model) setWeights(w, bias []float64, prune float64) {
	width := m.width
	keep := func(row int) bool {
		for _, x := range w[row*width : row*width+width] {
			if math.Abs(x) >= prune {
				return true
			}
		}
		return false
	}
	var keys []uint64
	var names []string
	var kept []int
	for row := range m.Features() {
		if !keep(row) {
			continue
		}
		kept = append(kept, row)
		if row < len(m.keys) {
			keys = append(keys, m.keys[row])
		} else {
			names = append(names, m.names[row-len(m.keys)])
		}
	}
	m.keys, m.names = keys, names
	m.w = make([]float32, len(kept)*width)
	m.step = make([]float32, width)
	for _, h := range m.heads {
		top := 0.0
		for _, row := range kept {
			for c := range h.Classes {
				top = max(top, math.Abs(w[row*width+h.offset+c]))
			}
		}
		step := float32(top / quantSteps)
		if step == 0 {
			step = 1
		}
		for c := range h.Classes {
			m.step[h.offset+c] = step
		}
		for i, row := range kept {
			for c := range h.Classes {
				q := math.Round(w[row*width+h.offset+c] / float64(step))
				m.w[i*width+h.offset+c] = float32(max(-quantSteps, min(quantSteps, q)))
			}
		}
	}
	m.bias = make([]float32, width)
	for i, b := range bias {
		m.bias[i] = float32(b)
	}
	if err := m.build(); err != nil {
		panic(err) // keys and names are a subset of unique ones
	}
	m.buildJoint()
}

// calibrate chooses the threshold of a head by k-fold cross-validation on the training examples:
// the lowest threshold at which at most rate of the negatives (first class) held out score as
// positive. TrainOnly examples are in every fold's training and never held out.
func calibrate(heads []Head, examples []Example, opts TrainOptions, head string, rate float64) (*Calibration, float64, error) {
	k := opts.CalibrationFolds
	if k < 2 {
		return nil, 0, fmt.Errorf("calibration_folds: need at least 2, got %d", k)
	}
	hi := slices.IndexFunc(heads, func(h Head) bool { return h.Name == head })
	negative := heads[hi].Classes[0]
	var reference, trainOnly []Example
	for _, e := range examples {
		if e.TrainOnly {
			trainOnly = append(trainOnly, e)
		} else {
			reference = append(reference, e)
		}
	}
	if len(reference) < k {
		return nil, 0, fmt.Errorf("head %s: calibration needs at least %d reference (not train-only) examples, got %d (and %d train-only)", head, k, len(reference), len(trainOnly))
	}
	fold := Folds(len(reference), k, opts.Seed)
	var neg, pos []float64
	for f := range k {
		var train, test []Example
		for i, e := range reference {
			if fold[i] == f {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
		}
		train = append(train, trainOnly...)
		sub, err := fit(heads, train, opts)
		if err != nil {
			return nil, 0, fmt.Errorf("head %s: calibration fold %d: %w", head, f+1, err)
		}
		for _, e := range test {
			class, ok := e.Labels[head]
			if !ok {
				continue
			}
			p, _, _ := sub.Predict(e.Text, e.Hints).Positive(head)
			if class == negative {
				neg = append(neg, p)
			} else {
				pos = append(pos, p)
			}
		}
	}
	if len(neg) == 0 || len(pos) == 0 {
		return nil, 0, fmt.Errorf("head %s: calibration needs examples of both outcomes", head)
	}
	slices.Sort(neg)
	slices.Reverse(neg)
	allowed := int(math.Floor(rate * float64(len(neg))))
	// Just above the (allowed+1)-th highest negative score, so that at most allowed reach it.
	threshold := math.Nextafter(neg[min(allowed, len(neg)-1)], 2)
	// Never below 5 %: on a small corpus every negative may score near 0, and a threshold there
	// would flag anything.
	threshold = max(threshold, 0.05)
	cal := &Calibration{Folds: k, TargetFalse: rate, Negatives: len(neg), Positives: len(pos)}
	for _, p := range neg {
		if p >= threshold {
			cal.FalseAlarms++
		}
	}
	for _, p := range pos {
		if p >= threshold {
			cal.Found++
		}
	}
	return cal, threshold, nil
}

// Folds assigns each of n items to one of k folds, shuffled with seed and balanced in size.
func Folds(n, k int, seed uint64) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	fold := make([]int, n)
	for pos, i := range order {
		fold[i] = pos % k
	}
	return fold
}
