package evaluate

import (
	"os"
	"testing"
)

// TestHoldout evaluates two sets written for this package, in wording deliberately unlike
// dev.jsonl (dialect, traditional characters, ASR spacing, idioms, out-of-scope matters):
//
//   - testdata/holdout.jsonl (80 lines) was written after a first version of the taxonomy and
//     then used to improve it, so it is a regression set now, not an unseen one;
//   - testdata/blind.jsonl (40 lines) was written last. Its first run, before any rule was
//     changed for it, gave category 87.5%, request type 80.0%, emergencies 3/4 found, 1 false
//     alarm ("威胁" as a police trigger): the best estimate of how the rules do on unseen text.
//     The misses were then fixed with general vocabulary, so it is a regression set now too.
//
// The floors are below the current figures, so that a rule change that generalises worse
// fails here even when dev.jsonl still passes.
func TestHoldout(t *testing.T) {
	tests := []struct {
		file              string
		category, request float64
	}{
		{"testdata/holdout.jsonl", 0.95, 0.90},
		{"testdata/blind.jsonl", 0.85, 0.75},
	}
	for _, tt := range tests {
		data, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Evaluate(defaultClassifier(t), data)
		if err != nil {
			t.Fatal(err)
		}
		if testing.Verbose() {
			t.Logf("%s:", tt.file)
			rep.Print(os.Stdout)
		}
		if a := rep.CategoryAccuracy(); a < tt.category {
			t.Errorf("%s: category accuracy %.3f, want ≥ %.2f", tt.file, a, tt.category)
		}
		if a := rep.RequestTypeAccuracy(); a < tt.request {
			t.Errorf("%s: request type accuracy %.3f, want ≥ %.2f", tt.file, a, tt.request)
		}
		if rep.EmergenciesFound != rep.Emergencies || rep.FalseAlarms != 0 {
			t.Errorf("%s: emergencies %d/%d found, %d false alarms", tt.file, rep.EmergenciesFound, rep.Emergencies, rep.FalseAlarms)
		}
		if rep.OutOfScopeFound != rep.OutOfScopePositives || rep.OutOfScopeFP != 0 {
			t.Errorf("%s: out of scope %d/%d found, %d wrongly", tt.file, rep.OutOfScopeFound, rep.OutOfScopePositives, rep.OutOfScopeFP)
		}
	}
}
