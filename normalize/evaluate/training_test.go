//go:build !race

// Training on the whole corpus takes tens of seconds, and several times that under the race
// detector; these tests are left out of race builds (the training code runs under the race
// detector in normalize's and learn's own tests on small corpora).

package evaluate

import (
	"bytes"
	"os"
	"testing"

	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

// The embedded model is what `go generate ./configs` makes from the corpus and the rule files
// today: training is deterministic, so a model that was not regenerated after a change to the
// rules or the corpus shows up here.
func TestEmbeddedModelIsUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on the whole corpus")
	}
	ex := corpus(t)
	// As go generate trains it: extra.jsonl (the last file) is trained on but takes no part in
	// the thresholds' calibration (--train-also).
	n := len(ex) - extraItems(t)
	training := make([]normalize.TrainingExample, len(ex))
	for i, e := range ex {
		training[i] = e.Training()
		training[i].TrainOnly = i >= n
	}
	m, err := rulesOnly(t).Train(training, learn.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Encode(), configs.Model) {
		t.Fatal("configs/classifier.model differs from a model trained now on the corpus with the rule files: run go generate ./configs")
	}
}

// TestCrossValidation is the corpus evaluation that cannot fool itself: 5-fold cross-validation
// of the combined classifier (each example scored by rules and a model trained without its
// fold), on train.jsonl and dev.jsonl with extra.jsonl in every fold's training. The floors sit just below what it scores; see normalize/evaluate/testdata/blind for
// the figures on text nobody tuned anything to.
func TestCrossValidation(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 25 models")
	}
	// extra.jsonl is written by the project itself (normalize/learn/corpus/README.md): every fold
	// trains on it and none scores it, so the figures are on the other files alone.
	all := corpus(t)
	n := len(all) - extraItems(t)
	rep, err := CrossValidateWith(rulesOnly(t), all[:n], all[n:], 5, learn.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		rep.Print(os.Stdout)
	}
	checkFloors(t, "cross-validation", rep, cvFloors)
}
