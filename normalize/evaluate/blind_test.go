package evaluate

import (
	"bytes"
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

// The blind sets, each written without sight of the rules, the corpus or the model. None was
// used to choose anything by its words; the structure of the misses of sets 1 and 4–11 (which
// guard stopped which alarm) led to the guards marked model_decides, chosen by cross-validation
// (floors_test.go), and set 12 was scored only after. Blind set 3 is not among them: a defect
// it exposed was fixed (see TestBlindSet3), and it was scored more often than the others.
var (
	blind1  = blindSet{"blind set", "testdata/blind/blind.jsonl", 150, 25, 22, blindFloors}
	blind4  = blindSet{"blind set 4", "testdata/blind4/blind4.jsonl", 220, 43, 39, blind4Floors}
	blind5  = blindSet{"blind set 5", "testdata/blind5/blind5.jsonl", 230, 48, 39, blind5Floors}
	blind6  = blindSet{"blind set 6", "testdata/blind6/blind6.jsonl", 200, 43, 33, blind6Floors}
	blind7  = blindSet{"blind set 7", "testdata/blind7/blind7.jsonl", 200, 43, 33, blind7Floors}
	blind8  = blindSet{"blind set 8", "testdata/blind8/blind8.jsonl", 200, 43, 33, blind8Floors}
	blind9  = blindSet{"blind set 9", "testdata/blind9/blind9.jsonl", 200, 104, 3, blind9Floors}
	blind10 = blindSet{"blind set 10", "testdata/blind10/blind10.jsonl", 200, 32, 33, blind10Floors}
	blind11 = blindSet{"blind set 11", "testdata/blind11/blind11.jsonl", 200, 62, 27, blind11Floors}
	blind12 = blindSet{"blind set 12", "testdata/blind12/blind12.jsonl", 200, 62, 27, blind12Floors}

	blindSets = []blindSet{blind1, blind4, blind5, blind6, blind7, blind8, blind9, blind10, blind11, blind12}
)

// TestBlindSetsPooled holds the classifier to the targets themselves over all the blind
// sets at once (2,000 items: 505 emergencies, 289 out-of-scope matters). Each set is small, and
// each writer has conventions of their own (where a fire belongs, who asks for help): one set
// can miss a target by a single item where the pooled figure shows what the classifier does.
// It is a regression test, not a held-out estimate: the structure of the misses of sets 1 and
// 4–11 informed the model_decides guards; blind set 12 alone was scored only after them.
func TestBlindSetsPooled(t *testing.T) {
	var all []byte
	for _, s := range blindSets {
		data, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, bytes.TrimRight(data, "\n")...)
		all = append(all, '\n')
	}
	rep, err := Evaluate(defaultClassifier(t), all)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 2000 || rep.Emergencies != 505 || rep.OutOfScopePositives != 289 {
		t.Fatalf("pooled: %d items, %d emergencies, %d out of scope; want 2000, 505, 289", rep.Total, rep.Emergencies, rep.OutOfScopePositives)
	}
	checkFloors(t, "pooled blind sets", rep, pooledFloors)
}

// TestBlindSet: 150 items written by someone who had seen neither the rules nor the corpus,
// scored before anything was built and after everything was, and never used to tune anything
// (testdata/blind/README.md).
func TestBlindSet(t *testing.T) {
	blind1.check(t)
}

// TestBlindSet4: 220 items by a writer who saw only the taxonomy (testdata/blind4/README.md).
func TestBlindSet4(t *testing.T) {
	blind4.check(t)
}

// TestBlindSet5: 230 items by a helper who saw only the taxonomy and a brief
// (testdata/blind5/README.md).
func TestBlindSet5(t *testing.T) {
	blind5.check(t)
}

// TestBlindSet6: 200 items by a helper who saw only the taxonomy and a brief
// (testdata/blind6/README.md), scored before the corpus grew by 1,850 project-written items and
// after each batch, never used to choose anything.
func TestBlindSet6(t *testing.T) {
	blind6.check(t)
}

// TestBlindSet7: 200 items by a helper who saw only the taxonomy (testdata/blind7/README.md),
// scored once with the model as it stood before, then with the present one; never used to
// choose anything.
func TestBlindSet7(t *testing.T) {
	blind7.check(t)
}

// TestBlindSet8: 200 items by a helper who saw only the taxonomy (testdata/blind8/README.md),
// scored once with the shipped model before any change of its session.
func TestBlindSet8(t *testing.T) { blind8.check(t) }

// TestBlindSet9: 200 items, 104 of them emergencies and 60 hard look-alikes, by a helper who saw
// only the taxonomy (testdata/blind9/README.md), scored once before any change of its session.
func TestBlindSet9(t *testing.T) { blind9.check(t) }

// TestBlindSet10: 200 items by a helper who saw only the taxonomy (testdata/blind10/README.md),
// scored once before any change of its session.
func TestBlindSet10(t *testing.T) { blind10.check(t) }

// TestBlindSet11: 200 items, 62 of them emergencies told with context, by a helper who saw only
// the taxonomy (testdata/blind11/README.md).
func TestBlindSet11(t *testing.T) { blind11.check(t) }

// TestBlindSet12: 200 items written like blind set 11 (testdata/blind12/README.md), scored once
// after every change of its session.
func TestBlindSet12(t *testing.T) { blind12.check(t) }

// TestBlindSet3: 200 items written without sight of the rules or the corpus
// (testdata/blind3/README.md). It is no longer blind: a third scoring found its one-line call
// transcripts classified on the agent's words alone, and that defect was fixed. It stays as a
// regression test of what it found.
func TestBlindSet3(t *testing.T) {
	blindSet{"blind set 3", "testdata/blind3/blind3.jsonl", 200, 39, 34, blind3Floors}.check(t)
}

// TestProbeSets: two batches written as training data by helpers who saw only the taxonomy
// (testdata/probes/README.md): emergencies worded as no phrase list would have them, with hard
// look-alikes (xh), and request types that turn on the writer's stance (xi). Cross-validation
// did not take them into the training corpus; each was scored once before that decision.
func TestProbeSets(t *testing.T) {
	blindSet{"probe xh", "testdata/probes/xh.jsonl", 200, 120, 0, probeXHFloors}.check(t)
	blindSet{"probe xi", "testdata/probes/xi.jsonl", 200, 0, 0, probeXIFloors}.check(t)
}
