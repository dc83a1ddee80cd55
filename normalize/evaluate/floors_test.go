package evaluate

import "testing"

// floors are the least a report must show.
type floors struct {
	category, request        float64
	emergencyRecall          float64
	falseAlarmRate           float64 // at most
	longLetterFalseAlarms    int     // at most
	outOfScopeRecall         float64
	outOfScopeFalseRate      float64 // at most
}

func checkFloors(t *testing.T, name string, rep *Report, f floors) {
	t.Helper()
	if a := rep.CategoryAccuracy(); a < f.category {
		t.Errorf("%s: category accuracy %.3f, want ≥ %.3f", name, a, f.category)
	}
	if a := rep.RequestTypeAccuracy(); a < f.request {
		t.Errorf("%s: request type accuracy %.3f, want ≥ %.3f", name, a, f.request)
	}
	if r := rep.EmergencyRecall(); r < f.emergencyRecall {
		t.Errorf("%s: emergency recall %.3f (%d/%d), want ≥ %.3f", name, r, rep.EmergenciesFound, rep.Emergencies, f.emergencyRecall)
	}
	if r := rep.FalseAlarmRate(); r > f.falseAlarmRate {
		t.Errorf("%s: false alarms %.3f (%d), want ≤ %.3f", name, r, rep.FalseAlarms, f.falseAlarmRate)
	}
	if rep.LongLetterFalseAlarms > f.longLetterFalseAlarms {
		t.Errorf("%s: %d false alarms on %d long letters, want ≤ %d", name, rep.LongLetterFalseAlarms, rep.LongLetters, f.longLetterFalseAlarms)
	}
	if r := rep.OutOfScopeRecall(); r < f.outOfScopeRecall {
		t.Errorf("%s: out-of-scope recall %.3f (%d/%d), want ≥ %.3f", name, r, rep.OutOfScopeFound, rep.OutOfScopePositives, f.outOfScopeRecall)
	}
	if r := rep.OutOfScopeFalseRate(); r > f.outOfScopeFalseRate {
		t.Errorf("%s: in-scope matters flagged %.3f (%d), want ≤ %.3f", name, r, rep.OutOfScopeFP, f.outOfScopeFalseRate)
	}
}
