package storetest

import (
	"fmt"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// testSearchRequests: the search that third-party clients' listings use filters by channel, case
// numbers, category, several statuses and a received range together, newest first, and honours
// its limit.
func testSearchRequests(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var all []*intake.Case
	for i := range 12 {
		nc := NewCase("open311:fms", fmt.Sprintf("s-%02d", i), base.Add(time.Duration(i)*time.Hour))
		nc.Case.Channel = intake.ChannelOpen311
		nc.Case.Classification.Category = "cityscape"
		if i%2 == 1 {
			nc.Case.Classification.Category = "transport"
		}
		if i%4 == 0 {
			nc.Case.Channel = intake.ChannelREST
			nc.Case.ChannelID = "rest:crm"
		}
		if i == 11 {
			nc.Case.ChannelID = "open311:another-app"
		}
		all = append(all, mustCreate(t, s, nc).Case)
	}
	for _, i := range []int{2, 3} {
		if _, err := s.AddStatus(ctx(t), all[i].ID, intake.StatusChange{Status: intake.StatusResolved, At: base.Add(50 * time.Hour), Source: "t"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddStatus(ctx(t), all[5].ID, intake.StatusChange{Status: intake.StatusRejected, At: base.Add(50 * time.Hour), Source: "t"}, nil); err != nil {
		t.Fatal(err)
	}
	search := func(q intake.RequestSearch) []int {
		t.Helper()
		got, err := s.SearchRequests(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		var idx []int
		for _, c := range got {
			for i, a := range all {
				if a.ID == c.ID {
					idx = append(idx, i)
				}
			}
		}
		return idx
	}
	eq := func(what string, got []int, want ...int) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: cases %v, want %v", what, got, want)
		}
	}
	eq("channel, newest first", search(intake.RequestSearch{Channel: intake.ChannelOpen311}), 11, 10, 9, 7, 6, 5, 3, 2, 1)
	eq("category", search(intake.RequestSearch{Channel: intake.ChannelOpen311, Category: "cityscape"}), 10, 6, 2)
	eq("closed statuses", search(intake.RequestSearch{Channel: intake.ChannelOpen311,
		Statuses: []intake.Status{intake.StatusResolved, intake.StatusClosed, intake.StatusRejected}}), 5, 3, 2)
	eq("received range", search(intake.RequestSearch{Channel: intake.ChannelOpen311, ReceivedFrom: base.Add(3 * time.Hour), ReceivedTo: base.Add(7 * time.Hour)}), 6, 5, 3)
	eq("limit", search(intake.RequestSearch{Channel: intake.ChannelOpen311, Limit: 2}), 11, 10)
	eq("one client's", search(intake.RequestSearch{Channel: intake.ChannelOpen311, ChannelID: "open311:fms"}), 10, 9, 7, 6, 5, 3, 2, 1)
	eq("another client's", search(intake.RequestSearch{Channel: intake.ChannelOpen311, ChannelID: "open311:another-app"}), 11)
	eq("case numbers", search(intake.RequestSearch{CaseNos: []string{all[1].CaseNo, all[4].CaseNo, "WH2099010100001"}}), 4, 1)
	eq("case numbers within a channel", search(intake.RequestSearch{Channel: intake.ChannelOpen311, CaseNos: []string{all[1].CaseNo, all[4].CaseNo}}), 1)
	eq("no case numbers", search(intake.RequestSearch{CaseNos: []string{}}))
	got, err := s.SearchRequests(ctx(t), intake.RequestSearch{CaseNos: []string{all[3].CaseNo}})
	if err != nil || len(got) != 1 || got[0].Status != intake.StatusResolved || len(got[0].StatusHistory) != 2 {
		t.Fatalf("a found case comes whole, with its status and history: %+v %v", got, err)
	}
}

// testStatusUpdates: the status changes of one channel's cases recorded in a period, oldest
// first, each with a stable id and its case number; other channels' and other periods' stay out.
func testStatusUpdates(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	mk := func(id string, kind intake.ChannelKind) *intake.Case {
		nc := NewCase(string(kind)+":x", id, t0)
		nc.Case.Channel = kind
		return mustCreate(t, s, nc).Case
	}
	a, b, other := mk("u1", intake.ChannelOpen311), mk("u2", intake.ChannelOpen311), mk("u3", intake.ChannelREST)
	// Recorded times come from the store's clock; mark the period around the events.
	time.Sleep(2 * time.Millisecond)
	from := time.Now()
	time.Sleep(2 * time.Millisecond)
	add := func(c *intake.Case, ch intake.StatusChange) {
		t.Helper()
		ch.Source = "case-system"
		if _, err := s.AddStatus(ctx(t), c.ID, ch, nil); err != nil {
			t.Fatal(err)
		}
	}
	add(a, intake.StatusChange{Status: intake.StatusAssigned, Event: "assigned", At: t0.Add(time.Hour), EventID: "e1", Department: "市城管局", Message: "已派单"})
	add(other, intake.StatusChange{Status: intake.StatusAssigned, Event: "assigned", At: t0.Add(time.Hour), EventID: "e2"})
	add(b, intake.StatusChange{Event: intake.EventProgress, At: t0.Add(2 * time.Hour), EventID: "e3", Message: "已到现场"})
	add(a, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: t0.Add(3 * time.Hour), EventID: "e4", Message: "已修复"})
	time.Sleep(2 * time.Millisecond)
	mid := time.Now()
	time.Sleep(2 * time.Millisecond)
	add(b, intake.StatusChange{Status: intake.StatusClosed, Event: "closed", At: t0.Add(4 * time.Hour), EventID: "e5"})

	ups, err := s.StatusUpdates(ctx(t), intake.UpdateQuery{Channel: intake.ChannelOpen311, RecordedFrom: from, RecordedTo: mid})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	ids := map[string]bool{}
	for _, u := range ups {
		seen = append(seen, u.CaseNo+"/"+u.Change.Event+"/"+u.Change.EventID)
		if u.ID == "" || ids[u.ID] {
			t.Fatalf("update without a unique id: %+v", u)
		}
		ids[u.ID] = true
		if u.RecordedAt.Before(from.Add(-time.Millisecond)) || u.RecordedAt.After(mid) {
			t.Fatalf("update recorded at %s, outside [%s, %s)", u.RecordedAt, from, mid)
		}
	}
	want := []string{a.CaseNo + "/assigned/e1", b.CaseNo + "/progress/e3", a.CaseNo + "/resolved/e4"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("updates %v, want %v", seen, want)
	}
	if u := ups[0]; u.CaseID != a.ID || u.Change.Department != "市城管局" || u.Change.Message != "已派单" ||
		!u.Change.At.Equal(t0.Add(time.Hour)) || u.Change.Status != intake.StatusAssigned {
		t.Fatalf("update lost fields: %+v", u)
	}
	if ups[1].Change.Status != intake.StatusReceived {
		t.Fatalf("a progress note carries the status the case had: %+v", ups[1].Change)
	}
	later, err := s.StatusUpdates(ctx(t), intake.UpdateQuery{Channel: intake.ChannelOpen311, RecordedFrom: mid})
	if err != nil || len(later) != 1 || later[0].Change.EventID != "e5" {
		t.Fatalf("updates from mid: %+v %v", later, err)
	}
	if mine, err := s.StatusUpdates(ctx(t), intake.UpdateQuery{Channel: intake.ChannelOpen311, ChannelID: "open311:x", RecordedTo: mid}); err != nil || len(mine) != 3 {
		t.Fatalf("one client's updates: %+v %v", mine, err)
	}
	if theirs, err := s.StatusUpdates(ctx(t), intake.UpdateQuery{Channel: intake.ChannelOpen311, ChannelID: "open311:y"}); err != nil || len(theirs) != 0 {
		t.Fatalf("another client's updates: %+v %v", theirs, err)
	}
	// A case's first entry (received) is kept with the case, not recorded as an update.
	if all, err := s.StatusUpdates(ctx(t), intake.UpdateQuery{Channel: intake.ChannelOpen311, Limit: 2}); err != nil || len(all) != 2 ||
		all[0].Change.EventID != "e1" || all[1].Change.EventID != "e3" {
		t.Fatalf("limit 2 from the start: %+v %v", all, err)
	}
	// Leaving out the cases' own received entries, the limit counts only what is left.
	if ups, err := s.StatusUpdates(ctx(t), intake.UpdateQuery{Channel: intake.ChannelOpen311, ExcludeEvents: []string{"received", "progress"}, Limit: 2}); err != nil ||
		len(ups) != 2 || ups[0].Change.EventID != "e1" || ups[1].Change.EventID != "e4" {
		t.Fatalf("updates without received and progress: %+v %v", ups, err)
	}
}
