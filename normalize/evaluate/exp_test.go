package evaluate

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

// TestExpCached: cross-validation with fold models cached in $EXPDIR (temporary experiment).
func TestExpCached(t *testing.T) {
	dir := os.Getenv("EXPDIR")
	if dir == "" {
		t.Skip()
	}
	os.MkdirAll(dir, 0o755)
	c := rulesOnly(t)
	ex := corpus(t)
	opts := learn.DefaultOptions()
	fold := learn.Folds(len(ex), 5, opts.Seed)
	results := make([]normalize.Result, len(ex))
	rule := make([]normalize.Result, len(ex))
	for i, e := range ex {
		rule[i] = c.Classify(normalize.ClassifiableText(e.Text))
	}
	for f := range 5 {
		path := fmt.Sprintf("%s/fold-%d.model", dir, f)
		data, err := os.ReadFile(path)
		var m *learn.Model
		if err == nil {
			m, err = learn.Decode(data)
		}
		if err != nil {
			var train []normalize.TrainingExample
			for i, e := range ex {
				if fold[i] != f {
					train = append(train, e.Training())
				}
			}
			m, err = c.Train(train, opts)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(path, m.Encode(), 0o644)
		}
		cm, err := c.WithModel(m)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range ex {
			if fold[i] == f {
				results[i] = cm.Classify(normalize.ClassifiableText(e.Text))
			}
		}
	}
	rep := newReport(c, ex, results, fold, 5)
	rep.Print(os.Stdout)
	out, _ := os.Create(dir + "/results.jsonl")
	defer out.Close()
	for i, o := range rep.Outcomes {
		r := o.Result
		em := ""
		if r.Emergency != nil {
			em = string(r.Emergency.Kind)
		}
		b, _ := json.Marshal(map[string]any{"id": o.ID, "cat": r.Category, "cat_src": r.CategorySource, "conf": r.Confidence, "rt": r.RequestType, "rt_src": r.RequestTypeSource, "rt_conf": r.RequestTypeConfidence,
			"rule_cat": rule[i].Category, "rule_conf": rule[i].Confidence, "rule_rt": rule[i].RequestType, "rule_rt_conf": rule[i].RequestTypeConfidence, "rule_rt_src": rule[i].RequestTypeSource, "rule_cat_src": rule[i].CategorySource,
			"m_cat": r.ModelCategory, "m_cat_p": r.ModelCategoryConfidence, "m_rt": r.ModelRequestType, "m_rt_p": r.ModelRequestConfidence, "rule_em": rule[i].Emergency != nil, "em": em, "em_src": r.EmergencySource, "em_p": r.EmergencyConfidence, "oos": r.OutOfScope, "oos_code": r.OutOfScopeCode, "oos_src": r.OutOfScopeSource, "oos_p": r.OutOfScopeConfidence, "evidence": r.Evidence})
		out.Write(append(b, '\n'))
	}
}
