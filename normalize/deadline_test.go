package normalize_test

import (
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize"
)

func calendar(t *testing.T) *normalize.Calendar {
	t.Helper()
	cal, err := normalize.LoadCalendar(configs.Holidays, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDueAt(t *testing.T) {
	cal := calendar(t)
	rules, err := normalize.ParseDeadlineRules(configs.Deadlines)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		received  string
		rt        intake.RequestType
		emergency bool
		want      string // local date; the time is always 23:59:59
	}{
		{"plain week: Tue + 2", "2026-11-24 10:00", intake.RequestConsult, false, "2026-11-26"},
		{"the received day never counts, even at 00:01", "2026-11-24 00:01", intake.RequestConsult, false, "2026-11-26"},
		{"over a weekend: Fri + 2", "2026-11-27 16:00", intake.RequestConsult, false, "2026-12-01"},
		{"received on Saturday: counts from Monday", "2026-11-28 09:00", intake.RequestConsult, false, "2026-12-01"},
		{"help: 5 working days", "2026-11-23 09:00", intake.RequestHelp, false, "2026-11-30"},
		{"complaint: 15 working days", "2026-11-02 09:00", intake.RequestComplaint, false, "2026-11-23"},
		// National Day 2026: Oct 1–7 off, Sat Oct 10 a make-up working day.
		{"before National Day", "2026-09-30 12:00", intake.RequestConsult, false, "2026-10-09"},
		{"make-up Saturday counts", "2026-10-09 12:00", intake.RequestConsult, false, "2026-10-12"},
		{"make-up Sunday Sep 20 counts", "2026-09-18 12:00", intake.RequestConsult, false, "2026-09-21"},
		// Spring Festival 2026: Feb 15–23 off; Sat Feb 14 and Sat Feb 28 are working days.
		{"into Spring Festival via make-up Saturday", "2026-02-13 12:00", intake.RequestConsult, false, "2026-02-24"},
		// Thu Feb 12 + 15: 13, 14(Sat, make-up), 24, 25, 26, 27, 28(Sat, make-up), Mar 2–6, 9, 10, 11.
		{"suggestion across Spring Festival", "2026-02-12 12:00", intake.RequestSuggestion, false, "2026-03-11"},
		// New Year 2026: Jan 1–3 off, Sun Jan 4 worked.
		{"New Year make-up Sunday", "2026-12-31 08:00", intake.RequestConsult, false, "2027-01-05"},
		{"year end 2025 into 2026", "2025-12-31 08:00", intake.RequestConsult, false, "2026-01-05"},
		// Emergencies: the end of the local day of receipt, whatever day it is.
		{"emergency on a holiday", "2026-10-03 21:30", intake.RequestHelp, true, "2026-10-03"},
		{"emergency late UTC is the next local day", "2026-11-24 17:30", intake.RequestHelp, true, "2026-11-24"},
	}
	for _, tt := range tests {
		got := normalize.DueAt(at(tt.received), tt.rt, tt.emergency, cal, rules)
		want, _ := time.ParseInLocation("2006-01-02 15:04:05", tt.want+" 23:59:59", cst)
		if !got.Equal(want) {
			t.Errorf("%s: DueAt(%s, %s) = %s, want %s", tt.name, tt.received, tt.rt, got.Format(time.RFC3339), want.Format(time.RFC3339))
		}
		if _, off := got.Zone(); off != 8*3600 {
			t.Errorf("%s: result not in the calendar's zone: %s", tt.name, got)
		}
	}
	// The zone decides the day: 2026-11-24 17:30 UTC is already 2026-11-25 in China.
	utc := time.Date(2026, 11, 24, 17, 30, 0, 0, time.UTC)
	if got := normalize.DueAt(utc, intake.RequestHelp, true, cal, rules); got.Day() != 25 {
		t.Errorf("emergency received %s: due %s, want the end of 2026-11-25 in China", utc, got)
	}
}

func TestDueAtRules(t *testing.T) {
	rules, err := normalize.ParseDeadlineRules([]byte("due_time: \"18:00:00\"\nworking_days: {consult: 0, praise: 1}\ndefault: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	cal := normalize.WeekdaysCalendar(nil) // no holiday file: Monday to Friday
	tests := []struct {
		rt        intake.RequestType
		emergency bool
		received  string
		want      string
	}{
		{intake.RequestConsult, false, "2026-11-24 10:00", "2026-11-24 18:00"}, // 0 days: the same day
		{intake.RequestPraise, false, "2026-11-27 10:00", "2026-11-30 18:00"},
		{intake.RequestHelp, false, "2026-11-24 10:00", "2026-12-01 18:00"}, // unchanged default 5: 25 26 27 30 1
		{intake.RequestHelp, true, "2026-11-24 20:00", "2026-11-24 20:00"},  // due time already past: due at once
	}
	for _, tt := range tests {
		got := normalize.DueAt(at(tt.received), tt.rt, tt.emergency, cal, rules)
		if w := at(tt.want); !got.Equal(w) {
			t.Errorf("%s emergency=%v at %s: %s, want %s", tt.rt, tt.emergency, tt.received, got, w)
		}
	}
	// A nil calendar counts Monday to Friday in China Standard Time.
	if got := normalize.DueAt(at("2026-11-27 10:00"), intake.RequestConsult, false, nil, normalize.DefaultDeadlineRules()); !got.Equal(at("2026-12-01 23:59").Add(59 * time.Second)) {
		t.Errorf("nil calendar: %s", got)
	}
}

func TestCalendar(t *testing.T) {
	cal := calendar(t)
	if cal.IsWorkingDay(at("2026-10-05 12:00")) || !cal.IsWorkingDay(at("2026-10-10 12:00")) || cal.IsWorkingDay(at("2026-11-28 12:00")) {
		t.Error("holiday / make-up day / weekend wrong")
	}
	if name, workday := cal.Holiday(at("2026-02-14 12:00")); name != "春节调休" || !workday {
		t.Errorf("Holiday(2026-02-14) = %q %v", name, workday)
	}
	if !cal.Covers(at("2026-12-31 12:00")) || cal.Covers(at("2027-01-02 12:00")) {
		t.Error("Covers: the file covers 2026 only")
	}
}

func TestLoadCalendarErrors(t *testing.T) {
	tests := []struct{ yaml, key string }{
		{"timezone: Europe/Nowhere", "timezone"},
		{"weekend: [caturday]", "weekend[0]"},
		{"holidays: [{name: x, from: 2026-13-01, to: 2026-13-02}]", "holidays[0].from"},
		{"holidays: [{name: x, from: 2026-10-07, to: 2026-10-01}]", "holidays[0]"},
		{"holidays: [{name: x, from: 2026-10-01, to: 2026-10-07}]\nworkdays: [{name: y, date: 2026-10-03}]", "workdays[0]"},
		{"holiday: []", "field holiday not found"},
	}
	for _, tt := range tests {
		_, err := normalize.LoadCalendar([]byte(tt.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%q: error %v, want one naming %q", tt.yaml, err, tt.key)
		}
	}
	if _, err := normalize.LoadCalendar([]byte("timezone: \"+05:30\""), nil); err != nil {
		t.Errorf("offset zone: %v", err)
	}
}

func TestParseDeadlineRulesErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, key string }{
		{"working_days: {urgent: 1}", "working_days.urgent"},
		{"working_days: {consult: -1}", "working_days.consult"},
		{"due_time: noon", "due_time"},
	} {
		if _, err := normalize.ParseDeadlineRules([]byte(tt.yaml)); err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%q: error %v, want one naming %q", tt.yaml, err, tt.key)
		}
	}
}
