package evaluate

import "testing"

// floors are the least a report must show.
type floors struct {
	category, request     float64
	emergencyRecall       float64
	falseAlarmRate        float64 // at most
	longLetterFalseAlarms int     // at most
	outOfScopeRecall      float64
	outOfScopeFalseRate   float64 // at most
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

// blind6Floors are a little below blind set 6's last scoring (testdata/blind6/README.md:
// category 90.0 %, request type 78.0 % (79.0 % before the help → report relabelling of
// blindFloors' note), emergencies 41/43 with 2/157 false alarms and none on 22
// long letters, out of scope 29/33 with 4/167 in-scope matters flagged; its first scoring, with
// the model before this round's 1,850 items of extra.jsonl: 88.5 %, 76.5 %, 39/43, 3/157, 24/33,
// 4/167). Each floor allows one item fewer than the last scoring. Only these figures were read,
// never the items.
var blind6Floors = floors{
	category: 0.89, request: 0.775,
	emergencyRecall: 0.93, falseAlarmRate: 0.015, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.84, outOfScopeFalseRate: 0.031,
}

// blind7Floors hold blind set 7 where the present model leaves it (testdata/blind7/README.md:
// category 83.5 %, request type 81.0 %, emergencies 41/43 with 4/157 false alarms and none on 22
// long letters, out of scope 27/33 with 3/167 in-scope matters flagged; scored first with the
// model before the reference-only calibration and the relabelling: 83.5 %, 77.5 %, 41/43, 3/157,
// 27/33, 3/167). One item below each figure, the false alarms at the present count: the set
// misses the category target (its writer files fires under public_security, where train.jsonl
// files them by place or service) and the false-alarm target, and a floor is no place to hide
// either. Only these figures were read, never the items.
var blind7Floors = floors{
	category: 0.83, request: 0.805,
	emergencyRecall: 0.93, falseAlarmRate: 0.026, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.78, outOfScopeFalseRate: 0.024,
}

// blind5Floors are a little below blind set 5's scoring with the present model
// (testdata/blind5/README.md: category 92.2 %, request type 70.9 % (73.9 % before the
// help → report relabelling of blindFloors' note), emergencies 46/48 with 3/182
// false alarms and none on 27 long letters, out of scope 36/39 with 2/191 in-scope matters
// flagged; its first scoring: 90.4 %, 70.0 %, 44/48, 2/182, 34/39, 1/191), about one item below
// each figure. Only these figures were read, never the items.
var blind5Floors = floors{
	category: 0.915, request: 0.704,
	emergencyRecall: 0.93, falseAlarmRate: 0.022, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.89, outOfScopeFalseRate: 0.016,
}

// cvFloors are just below the 5-fold cross-validation of the shipped configuration on train.jsonl
// and dev.jsonl, every fold also trained on the project-written extra.jsonl (train-only: no fold
// model calibrates its thresholds on it either): category 88.4 %, request type 85.3 %, emergencies
// 182/183 with 28/1497 false alarms and none on 168 long letters, out of scope 148/170 with
// 30/1350 in-scope matters flagged. With extra.jsonl calibrated on too (before 2026-12-06, 20:10
// UTC): 88.4 %, 85.2 %, 182/183, 28/1497, 149/170, 33/1350; with its first 428 items: 87.3 %,
// 83.9 %, 179/183, 25/1497, 140/170, 37/1350. The emergency recall and false-alarm floors are
// the targets themselves.
var cvFloors = floors{
	category: 0.88, request: 0.85,
	emergencyRecall: 0.95, falseAlarmRate: 0.02, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.86, outOfScopeFalseRate: 0.023,
}

// blindFloors are a little below the blind set's scoring with the present model (category 93.3 %,
// request type 80.7 %, emergencies 24/25 with 1/125 false alarms and none on 15 long letters, out
// of scope 17/22 with 4/128 in-scope matters flagged; testdata/blind/README.md). Its scoring of the
// first finished classifier, when the floors were set: 90.0 %, 74.7 %, 24/25, 1/125, 13/22, 4/128.
// Raised on 2026-12-06 (04:10 UTC) to about one item below the present figures; the model was
// chosen by cross-validation on the corpus, not on this set. Request type lowered to 78 % on
// 2026-12-06 (20:30 UTC), when 67 project-written emergencies were relabelled help → report by
// the taxonomy's stance convention (train.jsonl's): this set's writer, who was not given that
// convention, labels more bystanders' emergencies help (121 → 118 of 150 right, every change one).
var blindFloors = floors{
	category: 0.92, request: 0.78,
	emergencyRecall: 0.92, falseAlarmRate: 0.016, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.72, outOfScopeFalseRate: 0.04,
}

// blind4Floors are a little below blind set 4's scoring with the present model
// (testdata/blind4/README.md: category 95.0 %, request type 78.6 %, emergencies 39/43 with 1/177
// false alarms and none on 27 long letters, out of scope 37/39 with 4/181 in-scope matters
// flagged; request type was 80.5 % before the help → report relabelling of blindFloors' note; its first scoring: 90.9 %, 80.0 %, 36/43, 1/177, 34/39, 6/181). They hold the classifier where it
// stands, about one item below each figure; they were not reached by tuning on the set. Only
// these figures were read, never the items.
var blind4Floors = floors{
	category: 0.94, request: 0.78,
	emergencyRecall: 0.88, falseAlarmRate: 0.012, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.92, outOfScopeFalseRate: 0.034,
}
