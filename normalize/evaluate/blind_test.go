package evaluate

import (
	"os"
	"testing"
)

// TestBlindSet keeps the shipped classifier (rules and embedded model) at what it scored, once,
// on testdata/blind/blind.jsonl: 150 labelled items written by someone who had seen neither the
// rules nor the corpus, scored before anything was built and after everything was, and never
// used to tune anything (testdata/blind/README.md).
func TestBlindSet(t *testing.T) {
	data, err := os.ReadFile("testdata/blind/blind.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(defaultClassifier(t), data)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 150 || rep.Emergencies == 0 || rep.OutOfScopePositives == 0 {
		t.Fatalf("blind set: %d items, %d emergencies, %d out of scope", rep.Total, rep.Emergencies, rep.OutOfScopePositives)
	}
	checkFloors(t, "blind set", rep, blindFloors)
}
