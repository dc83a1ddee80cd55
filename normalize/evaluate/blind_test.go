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

// TestBlindSet4 keeps the classifier at what it scored on blind set 4 (220 items written without
// sight of the rules, the corpus or the model; testdata/blind4/README.md). A change that lowers a
// figure fails here; a change that raises one needs a new blind set to show it.
func TestBlindSet4(t *testing.T) {
	data, err := os.ReadFile("testdata/blind4/blind4.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(defaultClassifier(t), data)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 220 || rep.Emergencies != 43 || rep.OutOfScopePositives != 39 {
		t.Fatalf("blind set 4: %d items, %d emergencies, %d out of scope", rep.Total, rep.Emergencies, rep.OutOfScopePositives)
	}
	checkFloors(t, "blind set 4", rep, blind4Floors)
}

// TestBlindSet5 keeps the classifier at what it scored on blind set 5 (230 items written by a
// helper who saw only the taxonomy and a brief; testdata/blind5/README.md).
func TestBlindSet5(t *testing.T) {
	data, err := os.ReadFile("testdata/blind5/blind5.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(defaultClassifier(t), data)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 230 || rep.Emergencies != 48 || rep.OutOfScopePositives != 39 {
		t.Fatalf("blind set 5: %d items, %d emergencies, %d out of scope", rep.Total, rep.Emergencies, rep.OutOfScopePositives)
	}
	checkFloors(t, "blind set 5", rep, blind5Floors)
}
