package store

import (
	"strings"
	"testing"
	"time"
)

// The partial index of open cases names the statuses as constants; they must be OpenStatuses.
func TestOpenStatusesSQLListsOpenStatuses(t *testing.T) {
	want := "'" + strings.Join(OpenStatuses, "', '") + "'"
	if OpenStatusesSQL != want {
		t.Fatalf("OpenStatusesSQL = %s, want %s", OpenStatusesSQL, want)
	}
}

// A period is cut at local midnights, its first and last day clipped to it, and a day of 23 or
// 25 hours (a zone with daylight saving) stays one day.
func TestDaySpans(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, sh)
	spans := DaySpans(from, from.AddDate(0, 0, 3), sh)
	if len(spans) != 3 || spans[0].Day != "2026-03-01" || !spans[0].From.Equal(from) || !spans[2].To.Equal(from.AddDate(0, 0, 3)) {
		t.Fatalf("three whole days: %+v", spans)
	}
	if !spans[1].From.Equal(time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("the second day starts at %v, want 16:00 UTC", spans[1].From)
	}
	spans = DaySpans(from.Add(10*time.Hour), from.Add(30*time.Hour), sh)
	if len(spans) != 2 || !spans[0].From.Equal(from.Add(10*time.Hour)) || !spans[1].To.Equal(from.Add(30*time.Hour)) || spans[1].Day != "2026-03-02" {
		t.Fatalf("clipped: %+v", spans)
	}
	if got := DaySpans(from, from, sh); len(got) != 0 {
		t.Fatalf("empty period: %+v", got)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	dst := time.Date(2026, 3, 8, 0, 0, 0, 0, ny) // 23 hours long
	spans = DaySpans(dst, dst.AddDate(0, 0, 2), ny)
	if len(spans) != 2 || spans[0].To.Sub(spans[0].From) != 23*time.Hour || spans[1].Day != "2026-03-09" {
		t.Fatalf("across the change to daylight saving: %+v", spans)
	}
}
