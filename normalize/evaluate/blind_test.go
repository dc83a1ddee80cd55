package evaluate

import (
	"os"
	"testing"
)

// blindSet is a labelled file written without sight of the rules, the corpus or the model,
// with the size and the positives it was scored with (so that an edit to the file shows).
type blindSet struct {
	name, path                     string
	items, emergencies, outOfScope int
	floors                         floors
}

// check scores the shipped classifier on the set and holds it to the set's floors. A change
// that lowers a figure fails here; a change that raises one needs a new blind set to show it.
func (s blindSet) check(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(s.path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(defaultClassifier(t), data)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != s.items || rep.Emergencies != s.emergencies || rep.OutOfScopePositives != s.outOfScope {
		t.Fatalf("%s: %d items, %d emergencies, %d out of scope; want %d, %d, %d", s.name,
			rep.Total, rep.Emergencies, rep.OutOfScopePositives, s.items, s.emergencies, s.outOfScope)
	}
	checkFloors(t, s.name, rep, s.floors)
}

// TestBlindSet: 150 items written by someone who had seen neither the rules nor the corpus,
// scored before anything was built and after everything was, and never used to tune anything
// (testdata/blind/README.md).
func TestBlindSet(t *testing.T) {
	blindSet{"blind set", "testdata/blind/blind.jsonl", 150, 25, 22, blindFloors}.check(t)
}

// TestBlindSet4: 220 items by a writer who saw only the taxonomy (testdata/blind4/README.md).
func TestBlindSet4(t *testing.T) {
	blindSet{"blind set 4", "testdata/blind4/blind4.jsonl", 220, 43, 39, blind4Floors}.check(t)
}

// TestBlindSet5: 230 items by a helper who saw only the taxonomy and a brief
// (testdata/blind5/README.md).
func TestBlindSet5(t *testing.T) {
	blindSet{"blind set 5", "testdata/blind5/blind5.jsonl", 230, 48, 39, blind5Floors}.check(t)
}

// TestBlindSet6: 200 items by a helper who saw only the taxonomy and a brief
// (testdata/blind6/README.md), scored before the corpus grew by 1,850 project-written items and
// after each batch, never used to choose anything.
func TestBlindSet6(t *testing.T) {
	blindSet{"blind set 6", "testdata/blind6/blind6.jsonl", 200, 43, 33, blind6Floors}.check(t)
}

// TestBlindSet7: 200 items by a helper who saw only the taxonomy (testdata/blind7/README.md),
// scored once with the model as it stood before, then with the present one; never used to
// choose anything.
func TestBlindSet7(t *testing.T) {
	blindSet{"blind set 7", "testdata/blind7/blind7.jsonl", 200, 43, 33, blind7Floors}.check(t)
}
