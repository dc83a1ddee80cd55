package normalize

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

type expRow struct {
	ID, Text, Category string
	CategoryAlt        []string `json:"category_alt"`
	RequestType        string   `json:"request_type"`
	Emergency          *string  `json:"emergency"`
	OutOfScope         *bool    `json:"out_of_scope"`
	Referral           *string  `json:"referral"`
}

func expLoad(t *testing.T) []expRow {
	var out []expRow
	for _, p := range []string{"learn/corpus/train.jsonl", "learn/corpus/dev.jsonl"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var r expRow
			json.Unmarshal(sc.Bytes(), &r)
			out = append(out, r)
		}
		f.Close()
	}
	return out
}

func recallAt(pos, neg []float64, fa float64) (float64, float64) {
	slices.Sort(neg)
	slices.Reverse(neg)
	thr := neg[int(fa*float64(len(neg)))] + 1e-9
	n := 0
	for _, p := range pos {
		if p >= thr {
			n++
		}
	}
	return float64(n) / float64(len(pos)), thr
}

func auc(pos, neg []float64) float64 {
	type s struct {
		v float64
		p bool
	}
	var all []s
	for _, p := range pos {
		all = append(all, s{p, true})
	}
	for _, p := range neg {
		all = append(all, s{p, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	rank := 0.0
	for i, a := range all {
		if a.p {
			rank += float64(i + 1)
		}
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rank - np*(np+1)/2) / (np * nn)
}

func TestExpHeads(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	c, err := NewClassifier(Sources{Taxonomy: configs.Taxonomy, Emergency: configs.Emergency, OutOfScope: configs.OutOfScope, Gazetteer: configs.Gazetteer, Referrals: configs.Referrals})
	if err != nil {
		t.Fatal(err)
	}
	rows := expLoad(t)
	var ex []TrainingExample
	for _, r := range rows {
		e := TrainingExample{Text: r.Text, Category: r.Category, CategoryAlt: r.CategoryAlt, RequestType: intake.RequestType(r.RequestType)}
		if r.Emergency != nil {
			e.Emergency = intake.EmergencyKind(*r.Emergency)
		}
		if r.OutOfScope != nil && *r.OutOfScope {
			e.OutOfScope, e.Referral = true, *r.Referral
		}
		ex = append(ex, e)
	}
	opts := learn.DefaultOptions()
	opts.FalseAlarmRate = map[string]float64{}
	fmt.Sscan(os.Getenv("EPOCHS"), &opts.Epochs)
	fmt.Sscan(os.Getenv("LR"), &opts.LearningRate)
	fmt.Sscan(os.Getenv("L2"), &opts.L2)
	fmt.Sscan(os.Getenv("MINC"), &opts.MinCount)
	fmt.Sscan(os.Getenv("ALT"), &opts.AlternativeWeight)
	fold := learn.Folds(len(ex), 5, 99)
	var emPos, emNeg, emLong, oPos, oNeg []float64
	cat, rt := 0, 0
	for f := range 5 {
		var tr []TrainingExample
		for i := range ex {
			if fold[i] != f {
				tr = append(tr, ex[i])
			}
		}
		m, err := c.Train(tr, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range ex {
			if fold[i] != f {
				continue
			}
			mt := MatchText(ClassifiableText(e.Text))
			p := m.Predict(mt, c.classify(mt, nil).hints)
			pe, _, _ := p.Positive(HeadEmergency)
			po, _, _ := p.Positive(HeadOutOfScope)
			if e.Emergency != "" {
				emPos = append(emPos, pe)
			} else {
				emNeg = append(emNeg, pe)
				if len([]rune(e.Text)) >= 250 {
					emLong = append(emLong, pe)
				}
			}
			if e.OutOfScope {
				oPos = append(oPos, po)
			} else {
				oNeg = append(oNeg, po)
			}
			if k, _, _ := p.Best(HeadCategory); k == e.Category || slices.Contains(e.CategoryAlt, k) {
				cat++
			}
			if k, _, _ := p.Best(HeadRequestType); k == string(e.RequestType) {
				rt++
			}
		}
	}
	r1, _ := recallAt(emPos, emNeg, 0.015)
	r2, thr := recallAt(emPos, emNeg, 0.02)
	o2, _ := recallAt(oPos, oNeg, 0.02)
	o3, _ := recallAt(oPos, oNeg, 0.03)
	lmax := slices.Max(emLong)
	t.Logf("cat %.3f rt %.3f | em auc %.4f r@1.5%% %.3f r@2%% %.3f (thr %.2f, long max %.2f) | oos auc %.4f r@2%% %.3f r@3%% %.3f",
		float64(cat)/float64(len(ex)), float64(rt)/float64(len(ex)), auc(emPos, emNeg), r1, r2, thr, lmax, auc(oPos, oNeg), o2, o3)
}

func TestExpDump(t *testing.T) {
	dir := os.Getenv("EXPDIR")
	if dir == "" {
		t.Skip()
	}
	c, err := NewClassifier(Sources{Taxonomy: configs.Taxonomy, Emergency: configs.Emergency, OutOfScope: configs.OutOfScope, Gazetteer: configs.Gazetteer, Referrals: configs.Referrals})
	if err != nil {
		t.Fatal(err)
	}
	rows := expLoad(t)
	fold := learn.Folds(len(rows), 5, learn.DefaultOptions().Seed)
	var models []*learn.Model
	for f := range 5 {
		data, err := os.ReadFile(fmt.Sprintf("%s/fold-%d.model", dir, f))
		if err != nil {
			t.Fatal(err)
		}
		m, err := learn.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	out, _ := os.Create(dir + "/dump.jsonl")
	defer out.Close()
	for i, r := range rows {
		mt := MatchText(ClassifiableText(r.Text))
		o := c.classify(mt, nil)
		p := models[fold[i]].Predict(mt, o.hints)
		rec := map[string]any{"id": r.ID, "rule_cat": o.res.Category, "rule_conf": o.res.Confidence, "rule_cat_src": o.res.CategorySource,
			"rule_rt": o.res.RequestType, "rule_rt_conf": o.res.RequestTypeConfidence, "rule_rt_src": o.res.RequestTypeSource,
			"rule_em": o.res.Emergency != nil, "rule_oos": o.res.OutOfScope, "runes": len([]rune(r.Text)), "fold": fold[i], "mt": mt}
		for _, h := range models[fold[i]].Heads() {
			probs := p.Probs(h.Name)
			m := map[string]float32{}
			for j, cl := range h.Classes {
				m[cl] = probs[j]
			}
			rec[h.Name] = m
		}
		b, _ := json.Marshal(rec)
		out.Write(append(b, '\n'))
	}
}

func TestExpTrainAcc(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	c, _ := NewClassifier(Sources{Taxonomy: configs.Taxonomy, Emergency: configs.Emergency, OutOfScope: configs.OutOfScope, Gazetteer: configs.Gazetteer, Referrals: configs.Referrals})
	rows := expLoad(t)
	var ex []TrainingExample
	for _, r := range rows {
		ex = append(ex, TrainingExample{Text: r.Text, Category: r.Category, CategoryAlt: r.CategoryAlt, RequestType: intake.RequestType(r.RequestType)})
	}
	opts := learn.DefaultOptions()
	opts.FalseAlarmRate = map[string]float64{}
	m, err := c.Train(ex, opts)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ex {
		mt := MatchText(ClassifiableText(e.Text))
		if k, _, _ := m.Predict(mt, c.classify(mt, nil).hints).Best(HeadCategory); k == e.Category || slices.Contains(e.CategoryAlt, k) {
			n++
		}
	}
	t.Logf("train acc %.3f", float64(n)/float64(len(ex)))
}
