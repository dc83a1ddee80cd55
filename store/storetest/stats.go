package storetest

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// figures is the figures of the local days from..to (both included) as a report asks for them,
// with today and now at the period's end.
func figures(t *testing.T, s OperatorStore, from, to time.Time) intake.Stats {
	t.Helper()
	end := to.AddDate(0, 0, 1)
	st, err := s.CaseStats(ctx(t), intake.StatsQuery{From: from, To: end, Today: to, Now: end})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func keyCounts(counts []intake.KeyCount) string {
	parts := make([]string, 0, len(counts))
	for _, k := range counts {
		parts = append(parts, k.Key+"="+strconv.Itoa(k.Count))
	}
	return strings.Join(parts, " ")
}

func dayCounts(days []intake.DayCount) string {
	parts := make([]string, 0, len(days))
	for _, d := range days {
		parts = append(parts, d.Day+"/"+string(d.Channel)+"="+strconv.Itoa(d.Count))
	}
	return strings.Join(parts, " ")
}

// A correction changes what the figures count a case as: its category and request type move,
// the emergency it adds is counted, and the review it settles is no longer pending.
func testStatsFollowCorrections(t *testing.T, s OperatorStore) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, Shanghai)
	c := classified(t, s, "fc1", day.Add(9*time.Hour), intake.ChannelWeChat, "water", intake.RequestConsult, func(c *intake.Case) {
		c.Classification.NeedsReview = true
	})
	classified(t, s, "fc2", day.Add(10*time.Hour), intake.ChannelSMS, "water", intake.RequestComplaint, nil)
	st := figures(t, s, day, day)
	if got := keyCounts(st.Categories); got != "water=2" {
		t.Fatalf("categories before the correction: %s", got)
	}
	if st.NeedsReview != 1 || st.Emergencies != 0 {
		t.Fatalf("before the correction: needs review %d, emergencies %d; want 1 and 0", st.NeedsReview, st.Emergencies)
	}
	audit := intake.AuditEntry{Actor: "olga", ActorKind: intake.ActorUser, Action: intake.AuditCorrection, Target: "case:" + c.CaseNo}
	if _, err := s.CorrectClassification(ctx(t), c.ID, intake.Correction{Actor: "olga", Category: "roads", RequestType: intake.RequestComplaint,
		Emergency: intake.EmergencyTraffic}, audit); err != nil {
		t.Fatal(err)
	}
	st = figures(t, s, day, day)
	if got := keyCounts(st.Categories); got != "roads=1 water=1" {
		t.Errorf("categories after the correction: %s, want roads=1 water=1", got)
	}
	if got := keyCounts(st.RequestTypes); got != "complaint=2" {
		t.Errorf("request types after the correction: %s, want complaint=2", got)
	}
	if st.NeedsReview != 0 || st.Emergencies != 1 || st.Total != 2 {
		t.Errorf("after the correction: needs review %d, emergencies %d, total %d; want 0, 1, 2", st.NeedsReview, st.Emergencies, st.Total)
	}
	// Taking the emergency back out counts it out again; search follows the columns too.
	if _, err := s.CorrectClassification(ctx(t), c.ID, intake.Correction{Actor: "olga", Category: "noise", RequestType: intake.RequestHelp}, audit); err != nil {
		t.Fatal(err)
	}
	st = figures(t, s, day, day)
	if got := keyCounts(st.Categories); got != "noise=1 water=1" || st.Emergencies != 0 {
		t.Errorf("after the second correction: categories %s, emergencies %d; want noise=1 water=1 and 0", got, st.Emergencies)
	}
	page, err := s.SearchCases(ctx(t), intake.CaseSearch{Category: "noise", RequestType: intake.RequestHelp})
	if err != nil || len(page.Cases) != 1 || page.Cases[0].ID != c.ID {
		t.Errorf("search by the corrected category: %+v %v", page.Cases, err)
	}
	if page, err := s.SearchCases(ctx(t), intake.CaseSearch{Category: "roads"}); err != nil || len(page.Cases) != 0 {
		t.Errorf("search by the category corrected away: %+v %v", page.Cases, err)
	}
}

// 办结 counts the period's cases now resolved or closed; 按时办结 those first resolved or closed
// by their deadline (or without one), whatever order the case system's events arrive in, however
// often they repeat, and after a reopening.
func testStatsCountResolutions(t *testing.T, s OperatorStore) {
	day := time.Date(2026, 4, 1, 0, 0, 0, 0, Shanghai)
	at := day.Add(8 * time.Hour)
	due := at.Add(48 * time.Hour)
	withDue := func(c *intake.Case) { d := due.UTC(); c.DueAt = &d }
	status := func(c *intake.Case, st intake.Status, event string, when time.Time, id string) {
		t.Helper()
		if _, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: st, Event: event, At: when, Source: "cs", EventID: id}, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := func(stage string, resolved, onTime int) {
		t.Helper()
		st := figures(t, s, day, day)
		if st.Resolved != resolved || st.ResolvedOnTime != onTime {
			t.Errorf("%s: 办结 %d, 按时办结 %d; want %d and %d", stage, st.Resolved, st.ResolvedOnTime, resolved, onTime)
		}
	}
	early := classified(t, s, "r1", at, intake.ChannelWeChat, "water", intake.RequestComplaint, withDue)
	late := classified(t, s, "r2", at.Add(time.Minute), intake.ChannelWeChat, "water", intake.RequestComplaint, withDue)
	exact := classified(t, s, "r3", at.Add(2*time.Minute), intake.ChannelSMS, "roads", intake.RequestHelp, withDue)
	none := classified(t, s, "r4", at.Add(3*time.Minute), intake.ChannelSMS, "roads", intake.RequestHelp, func(c *intake.Case) { c.DueAt = nil })
	want("nothing resolved", 0, 0)

	status(early, intake.StatusAssigned, "assigned", at.Add(time.Hour), "a1")
	want("assigned is not resolved", 0, 0)
	status(early, intake.StatusResolved, "resolved", due.Add(-time.Hour), "e1")
	want("one resolved before its deadline", 1, 1)
	status(early, intake.StatusResolved, "resolved", due.Add(-time.Hour), "e1")
	want("the same event again", 1, 1)

	status(late, intake.StatusResolved, "resolved", due.Add(time.Hour), "l1")
	want("one resolved after its deadline", 2, 1)
	// A closure dated before the resolution arrives after it: the first resolution is the closure's.
	status(late, intake.StatusClosed, "closed", due.Add(-2*time.Hour), "l2")
	want("an earlier closure arriving late", 2, 2)

	status(exact, intake.StatusResolved, "resolved", due, "x1")
	want("resolved at the deadline itself", 3, 3)

	// Reopened: no longer 办结; resolved again after the deadline, it was still first resolved in time.
	status(early, intake.StatusAssigned, "reopened", due.Add(time.Hour), "e2")
	want("one reopened", 2, 2)
	status(early, intake.StatusResolved, "resolved", due.Add(3*time.Hour), "e3")
	want("resolved again late", 3, 3)

	status(none, intake.StatusClosed, "closed", due.Add(240*time.Hour), "n1")
	want("closed without a deadline", 4, 4)

	// The figures of the day before know nothing of these cases.
	if st := figures(t, s, day.AddDate(0, 0, -1), day.AddDate(0, 0, -1)); st.Total != 0 || st.Resolved != 0 {
		t.Errorf("the day before: total %d resolved %d", st.Total, st.Resolved)
	}
}

// Days are the store's local days: a case received at local midnight belongs to the new day, one
// a microsecond before to the old; a period starts and ends at local midnights, not UTC ones.
func testStatsLocalDays(t *testing.T, s OperatorStore) {
	midnight := time.Date(2026, 5, 20, 0, 0, 0, 0, Shanghai) // 2026-05-19T16:00:00Z
	classified(t, s, "b1", midnight.Add(-time.Microsecond), intake.ChannelWeChat, "water", intake.RequestComplaint, nil)
	classified(t, s, "b2", midnight, intake.ChannelWeChat, "water", intake.RequestComplaint, func(c *intake.Case) {
		c.Emergency = &intake.Emergency{Kind: intake.EmergencyFire, Number: "119"}
	})
	classified(t, s, "b3", midnight.Add(24*time.Hour-time.Microsecond), intake.ChannelSMS, "roads", intake.RequestHelp, nil)
	classified(t, s, "b4", midnight.Add(24*time.Hour), intake.ChannelSMS, "roads", intake.RequestHelp, nil)
	// 00:30 UTC on the 20th is 08:30 local: the same local day as b2, another UTC day than b1.
	classified(t, s, "b5", time.Date(2026, 5, 20, 0, 30, 0, 0, time.UTC), intake.ChannelPhone, "noise", intake.RequestHelp, nil)

	st := figures(t, s, midnight, midnight)
	if st.Total != 3 || st.Today != 3 || st.Emergencies != 1 {
		t.Errorf("2026-05-20: total %d today %d emergencies %d; want 3, 3, 1", st.Total, st.Today, st.Emergencies)
	}
	if got, w := dayCounts(st.Days), "2026-05-20/phone=1 2026-05-20/sms=1 2026-05-20/wechat=1"; got != w {
		t.Errorf("days of 2026-05-20: %s, want %s", got, w)
	}
	st = figures(t, s, midnight.AddDate(0, 0, -1), midnight.AddDate(0, 0, 1))
	if got, w := dayCounts(st.Days), "2026-05-19/wechat=1 2026-05-20/phone=1 2026-05-20/sms=1 2026-05-20/wechat=1 2026-05-21/sms=1"; got != w {
		t.Errorf("days of 2026-05-19..21: %s, want %s", got, w)
	}
	if got := keyCounts(st.Channels); got != "sms=2 wechat=2 phone=1" || st.Total != 5 {
		t.Errorf("channels of 2026-05-19..21: %s (total %d), want sms=2 wechat=2 phone=1", got, st.Total)
	}
	// A period that starts inside a day counts only its part of that day, in the day's total
	// and in the daily figures alike.
	st, err := s.CaseStats(ctx(t), intake.StatsQuery{From: midnight.Add(time.Hour), To: midnight.Add(24 * time.Hour), Today: midnight, Now: midnight})
	if err != nil {
		t.Fatal(err)
	}
	if got, w := dayCounts(st.Days), "2026-05-20/phone=1 2026-05-20/sms=1"; got != w || st.Total != 2 {
		t.Errorf("from 01:00: days %s (total %d), want %s", got, st.Total, w)
	}
}

// RunFiguresSurviveRebuild checks a migration that rebuilds the figures' columns from the
// records and histories (the backfill of migration 00013): a varied set of cases, some corrected,
// resolved, reopened, answered, is counted; rebuild takes the store's schema back before the
// columns and forward again; the figures must be the same to the last count.
func RunFiguresSurviveRebuild(t *testing.T, s OperatorStore, rebuild func(t *testing.T)) {
	day := time.Date(2026, 6, 10, 0, 0, 0, 0, Shanghai)
	channels := []intake.ChannelKind{intake.ChannelWeChat, intake.ChannelSMS, intake.ChannelPhone}
	categories := []string{"water", "roads", "noise", ""}
	types := []intake.RequestType{intake.RequestComplaint, intake.RequestHelp, intake.RequestConsult}
	audit := intake.AuditEntry{Actor: "olga", ActorKind: intake.ActorUser, Action: intake.AuditCorrection}
	for i := range 40 {
		at := day.Add(time.Duration(i) * 97 * time.Minute) // about three days, across midnights
		c := classified(t, s, "rb"+strconv.Itoa(i), at, channels[i%3], categories[i%4], types[i%3], func(c *intake.Case) {
			c.Classification.NeedsReview = i%5 == 0
			if i%7 == 0 {
				c.Emergency = &intake.Emergency{Kind: intake.EmergencyPolice, Number: "110"}
			}
			if i%6 != 0 {
				due := at.Add(time.Duration(24+i) * time.Hour).UTC().Add(123456789 * time.Nanosecond)
				c.DueAt = &due
			}
		})
		if i%9 == 0 {
			if _, err := s.CorrectClassification(ctx(t), c.ID, intake.Correction{Actor: "olga", Category: "lights", RequestType: intake.RequestHelp}, audit); err != nil {
				t.Fatal(err)
			}
		}
		change := func(st intake.Status, event string, when time.Time, id string) {
			if _, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: st, Event: event, At: when, Source: "cs", EventID: id}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 != 2 {
			change(intake.StatusResolved, "resolved", at.Add(time.Duration(i*2)*time.Hour), "res")
		}
		if i%4 == 0 {
			change(intake.StatusClosed, "closed", at.Add(time.Duration(i*3)*time.Hour), "clo")
		}
		if i%8 == 1 {
			change(intake.StatusAssigned, "reopened", at.Add(time.Duration(i*4)*time.Hour), "reo")
		}
		if i%2 == 0 {
			fb := intake.Feedback{ChannelID: "console", ExternalID: "rbf" + strconv.Itoa(i), Rating: []string{"satisfied", "dissatisfied"}[i/2%2],
				Text: "回访", ReceivedAt: at.Add(30 * time.Hour)}
			if _, err := s.RecordFeedback(ctx(t), c.ID, fb); err != nil {
				t.Fatal(err)
			}
		}
	}
	queries := []intake.StatsQuery{
		{From: day, To: day.AddDate(0, 0, 3), Today: day.AddDate(0, 0, 1), Now: day.Add(50 * time.Hour)},
		{From: day.AddDate(0, 0, 1), To: day.AddDate(0, 0, 2), Today: day.AddDate(0, 0, 1), Now: day.AddDate(0, 0, 5)},
	}
	before := make([]intake.Stats, len(queries))
	for i, q := range queries {
		st, err := s.CaseStats(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total == 0 || st.Resolved == 0 || st.ResolvedOnTime == st.Resolved || st.Overdue+st.DueSoon == 0 || len(st.Satisfaction) == 0 {
			t.Fatalf("query %d: the figures exercise too little to compare: %+v", i, st)
		}
		before[i] = st
	}
	rebuild(t)
	for i, q := range queries {
		st, err := s.CaseStats(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(st, before[i]) {
			t.Errorf("query %d after the rebuild:\n got %+v\nwant %+v", i, st, before[i])
		}
	}
}
