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

// The blind sets' floors hold the shipped model where it stands on each: about one item below
// each present figure. Every scoring is in the set's
// README; only the summary figures were read, never the items. On 2026-12-06 the structure of
// the misses of blind sets 1 and 4–10 (which guard stopped which alarm; no text was read) showed
// that rule guards stopped the model's alarms on 16 of their 18 missed emergencies; the guards
// marked model_decides in configs/emergency.yaml followed, chosen by cross-validation. Since then
// those sets are development sets; blind set 12 is the one scored only after every change.
// The present model (2026-12-06, 21:45 UTC) is trained with extra.jsonl's 3,078 items
// (train-only), 67 of them emergencies relabelled help → report by the taxonomy's stance
// convention, which train.jsonl follows and only blind set 7's writer was given: request type on
// sets 1, 4, 5 and 6 lost 3, 4, 7 and 2 items to it, blind set 7 gained 7.

// blindFloors: blind set 1 (testdata/blind/README.md): category 93.3 %, request type 84.0 %,
// emergencies 24/25 (25/25 with model_decides) with 1/125 false alarms and none on 15 long
// letters, out of scope 18/22 with 3/128 in-scope matters flagged. Its scoring of the first finished classifier: 90.0 %, 74.7 %,
// 24/25, 1/125, 13/22, 4/128.
var blindFloors = floors{
	category: 0.92, request: 0.83,
	emergencyRecall: 0.96, falseAlarmRate: 0.016, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.77, outOfScopeFalseRate: 0.032,
}

// blind4Floors: blind set 4 (testdata/blind4/README.md): category 94.1 %, request type 80.9 %,
// emergencies 39/43 with 1/177 false alarms (model_decides: 42/43 with 2/177) and none on 27
// long letters, out of scope 37/39 with 5/181 flagged. First scoring: 90.9 %, 80.0 %, 36/43, 1/177, 34/39, 6/181. Its emergency recall
// was below the 95 % target until model_decides.
var blind4Floors = floors{
	category: 0.935, request: 0.80,
	emergencyRecall: 0.95, falseAlarmRate: 0.017, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.92, outOfScopeFalseRate: 0.034,
}

// blind5Floors: blind set 5 (testdata/blind5/README.md): category 92.2 %, request type 69.6 %,
// emergencies 46/48 (model_decides: 47/48) with 2/182 false alarms and none on 27 long letters, out of scope 37/39 with
// 2/191 flagged. First scoring: 90.4 %, 70.0 %, 44/48, 2/182, 34/39, 1/191. Its writer labels
// help more widely than the taxonomy (request type far below target on every model).
var blind5Floors = floors{
	category: 0.915, request: 0.69,
	emergencyRecall: 0.955, falseAlarmRate: 0.017, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.92, outOfScopeFalseRate: 0.016,
}

// blind6Floors: blind set 6 (testdata/blind6/README.md): category 91.5 %, request type 80.5 %,
// emergencies 41/43 (model_decides: 43/43) with 2/157 false alarms and none on 22 long letters, out of scope 32/33 with
// 4/167 flagged. First scoring, before 1,850 items of extra.jsonl: 88.5 %, 76.5 %, 39/43, 3/157,
// 24/33, 4/167.
var blind6Floors = floors{
	category: 0.91, request: 0.80,
	emergencyRecall: 0.97, falseAlarmRate: 0.015, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.93, outOfScopeFalseRate: 0.031,
}

// blind7Floors: blind set 7 (testdata/blind7/README.md): category 85.0 %, request type 81.0 %,
// emergencies 41/43 (model_decides: 42/43) with 3/157 false alarms and none on 22 long letters, out of scope 29/33 with
// 4/167 flagged. First scoring, with the model before this session's changes: 83.5 %, 77.5 %,
// 41/43, 3/157, 27/33, 3/167. Its category misses the target: its writer files fires under
// public_security, where train.jsonl files them by place or service (TAXONOMY.md now says so).
var blind7Floors = floors{
	category: 0.845, request: 0.805,
	emergencyRecall: 0.95, falseAlarmRate: 0.02, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.84, outOfScopeFalseRate: 0.024,
}

// blind8Floors: blind set 8 (testdata/blind8/README.md), scored once with the shipped model
// before any change: category 93.0 %, request type 87.0 %, emergencies 41/43 (model_decides: 42/43) with 1/157 false
// alarms and none on 22 long letters, out of scope 28/33 with 3/167 flagged.
var blind8Floors = floors{
	category: 0.925, request: 0.865,
	emergencyRecall: 0.95, falseAlarmRate: 0.013, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.81, outOfScopeFalseRate: 0.024,
}

// blind9Floors: blind set 9 (testdata/blind9/README.md), 104 emergencies and 60 hard look-alikes
// among its 96 other items, scored once before any change: category 83.0 %, request type
// 79.0 %, emergencies 100/104 (model_decides: 104/104) with 4/96 false alarms (the look-alikes are most of its
// negatives) and none on 11 long letters, out of scope 3/3 with 0/197 flagged. Category and
// request type miss the targets: the writer files market and shop fires under consumer (6 of the
// 7 consumer misses are predicted other, the fire convention of train.jsonl) and counts teachers
// and co-workers as asking for help (its decision 1); read from the confusion tables only.
var blind9Floors = floors{
	category: 0.825, request: 0.785,
	emergencyRecall: 0.99, falseAlarmRate: 0.053, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.66, outOfScopeFalseRate: 0.006,
}

// blind10Floors: blind set 10 (testdata/blind10/README.md), scored once before any change:
// category 92.5 %, request type 87.5 %, emergencies 31/32 (model_decides: 32/32) with 2/168 false alarms and none on 23
// long letters, out of scope 26/33 (one item under the 80 % target) with 3/167 flagged.
var blind10Floors = floors{
	category: 0.92, request: 0.87,
	emergencyRecall: 0.96, falseAlarmRate: 0.018, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.75, outOfScopeFalseRate: 0.024,
}

// blind11Floors: blind set 11 (testdata/blind11/README.md), 62 emergencies often told with
// context (a habit, the past, the cost), 40 hard look-alikes among its 138 other items. Scored
// first with habitual and news model_decides: category 91.0 %, request type 86.5 %, emergencies
// 57/62 with 3/138 false alarms (none on 18 letters), out of scope 22/27 with 1/173 flagged
// (before model_decides: 54/62). Its five misses were the model's alarms stopped by the fee and
// past guards, which then became model_decides too: 62/62, false alarms unchanged.
var blind11Floors = floors{
	category: 0.905, request: 0.86,
	emergencyRecall: 0.98, falseAlarmRate: 0.03, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.77, outOfScopeFalseRate: 0.012,
}

// blind12Floors: blind set 12 (testdata/blind12/README.md), written like blind set 11 and scored
// once, after every change of its session: category 88.0 %, request type 83.5 %, emergencies
// 60/62 with 3/138 false alarms (40 of the 138 are hard look-alikes; none on 18 letters), out of
// scope 24/27 with 3/173 flagged. The model of the session's start found 57/62 there.
var blind12Floors = floors{
	category: 0.875, request: 0.83,
	emergencyRecall: 0.95, falseAlarmRate: 0.03, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.85, outOfScopeFalseRate: 0.024,
}

// pooledFloors are the targets themselves, held over the ten blind sets pooled (2,000
// items). Present figures: category 90.3 % (1,807), request type 81.7 % (1,634), emergencies
// 499/505 (98.8 %) with 23/1,495 false alarms (1.5 %) and none on 205 long letters, out of scope
// 256/289 (88.6 %) with 28/1,711 in-scope matters flagged (1.6 %). Before the guards became
// model_decides, over the eight sets then blind: 363/381 emergencies (95.3 %), 16/1,219 false
// alarms. The false alarms on long letters are held at the present none (the target is 0.5 %).
var pooledFloors = floors{
	category: 0.88, request: 0.80,
	emergencyRecall: 0.95, falseAlarmRate: 0.02, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.80, outOfScopeFalseRate: 0.03,
}

// blind3Floors: blind set 3 (testdata/blind3/README.md), no longer blind. With one-line
// transcripts split into turns and the model silent on texts it cannot read: category 95.0 %,
// request type 75.0 %, emergencies 38/39 (model_decides: 39/39) with 1/161 false alarms and none on 27 long letters,
// out of scope 28/34 with 5/166 flagged. Before that fix: 90.5 %, 72.0 %, 32/39, 1/161, 29/34,
// 13/166.
var blind3Floors = floors{
	category: 0.945, request: 0.745,
	emergencyRecall: 0.97, falseAlarmRate: 0.013, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.79, outOfScopeFalseRate: 0.037,
}

// probeXHFloors: probe xh (testdata/probes/README.md), 120 emergencies without the obvious words
// and 80 hard look-alikes, scored once: category 80.5 %, request type 77.5 %, emergencies 116/120
// with 5/80 false alarms (all its negatives are look-alikes), 1/200 flagged out of scope. With
// model_decides: request type 77.0 %, emergencies 118/120 with 6/80 false alarms.
var probeXHFloors = floors{
	category: 0.80, request: 0.765,
	emergencyRecall: 0.975, falseAlarmRate: 0.088, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0, outOfScopeFalseRate: 0.011,
}

// probeXIFloors: probe xi, request types that turn on the writer's stance, scored once:
// category 95.0 %, request type 95.5 %, no false alarm on 200, 1/200 flagged out of scope.
var probeXIFloors = floors{
	category: 0.945, request: 0.95,
	emergencyRecall: 0, falseAlarmRate: 0.006, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0, outOfScopeFalseRate: 0.011,
}

// cvFloors are just below the 5-fold cross-validation of the shipped configuration on train.jsonl
// and dev.jsonl, every fold also trained on the project-written extra.jsonl (train-only: no fold
// model calibrates its thresholds on it either). With its 3,078 items: category 89.2 %, request
// type 86.8 %, emergencies 182/183 (183/183 on both seeds once the guards past, habitual, news
// and fee became model_decides; nothing else moved) with 26/1497 false alarms and none on 168 long letters, out of
// scope 143/170 with 25/1350 in-scope matters flagged (fold seed 7: 89.3 %, 86.7 %, 182/183,
// 24/1497, 143/170, 29/1350). With 2,278 items: 88.4 %, 85.3 %, 182/183, 28/1497, 148/170,
// 30/1350; with them calibrated on too (before 2026-12-06, 20:10 UTC): 88.4 %, 85.2 %, 182/183,
// 28/1497, 149/170, 33/1350. The emergency recall and false-alarm floors are the targets
// themselves.
var cvFloors = floors{
	category: 0.89, request: 0.865,
	emergencyRecall: 0.95, falseAlarmRate: 0.02, longLetterFalseAlarms: 0,
	outOfScopeRecall: 0.835, outOfScopeFalseRate: 0.02,
}
