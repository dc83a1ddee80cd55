package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// IncidentStore is a store with the hot-topic role.
type IncidentStore interface {
	intake.Store
	intake.Incidents
}

// TopicCase builds a new case about text, classified into category, in district, as the intake
// service would store it (the fields hot-topic clustering compares).
func TopicCase(externalID, text, category, district string, receivedAt time.Time) intake.NewCase {
	nc := NewCase("topics", externalID, receivedAt)
	nc.Case.Content.Text, nc.Case.Content.OriginalText = text, text
	nc.Case.Classification.Category = category
	nc.Case.Location = &intake.Location{District: district, Source: intake.LocationText}
	return nc
}

// RunIncidents runs the contract of the hot-topic role: what clustering reads, incidents opened
// once however many runs race, growth, closing and the one announcement.
func RunIncidents(t *testing.T, h Harness) {
	open := func(t *testing.T) IncidentStore {
		s, ok := h.Open(t, Options()).(IncidentStore)
		if !ok {
			t.Fatal("the store lacks intake.Incidents")
		}
		return s
	}
	t.Run("TopicCasesCarryWhatClusteringCompares", func(t *testing.T) { testTopicCases(t, open(t)) })
	t.Run("AnIncidentOpensOnceWithOneAnnouncement", func(t *testing.T) { testIncidentOpensOnce(t, h, open(t)) })
	t.Run("ConcurrentRunsOpenOneIncident", func(t *testing.T) { testConcurrentTopicRuns(t, h, open(t)) })
	t.Run("IncidentsGrowAndClose", func(t *testing.T) { testIncidentGrowth(t, open(t)) })
	t.Run("AnnouncementsSettleOnce", func(t *testing.T) { testAnnouncementOutcomes(t, open(t)) })
}

func createTopicCases(t *testing.T, s intake.Store, prefix string, n int, at time.Time) []*intake.Case {
	t.Helper()
	out := make([]*intake.Case, n)
	for i := range out {
		nc := TopicCase(fmt.Sprintf("%s-%d", prefix, i), "幸福小区停水了，什么时候来水？", "utilities", "江岸区", at.Add(time.Duration(i)*time.Minute))
		out[i] = mustCreate(t, s, nc).Case
	}
	return out
}

func ids(cases []*intake.Case) []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.ID
	}
	return out
}

func testTopicCases(t *testing.T, s IncidentStore) {
	base := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	old := mustCreate(t, s, TopicCase("old", "上周的停水", "utilities", "江岸区", base.Add(-3*time.Hour))).Case
	a := mustCreate(t, s, TopicCase("a", "幸福小区停水了", "utilities", "江岸区", base.Add(time.Minute))).Case
	rep := TopicCase("rep", "幸福小区停水了！！", "utilities", "江岸区", base.Add(2*time.Minute))
	rep.Case.Related.DuplicateOf = a.ID
	rep.Event = intake.EventCaseDuplicate
	mustCreate(t, s, rep)
	b := mustCreate(t, s, TopicCase("b", "路灯坏了", "roads", "", base.Add(3*time.Minute))).Case

	got, err := s.TopicCases(ctx(t), base, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("TopicCases since %s = %d cases, want 3 (the one three hours earlier left out): %+v", base, len(got), got)
	}
	if got[0].ID != a.ID || got[2].ID != b.ID {
		t.Fatalf("TopicCases not oldest first: %s, %s, %s", got[0].ID, got[1].ID, got[2].ID)
	}
	want := intake.TopicCase{ID: a.ID, CaseNo: a.CaseNo, ReceivedAt: a.ReceivedAt.UTC(), Category: "utilities", District: "江岸区", Text: "幸福小区停水了"}
	if got[0] != want {
		t.Fatalf("TopicCases[0] = %+v, want %+v", got[0], want)
	}
	if !got[1].Repeat || got[0].Repeat || got[2].Repeat {
		t.Fatalf("only the repeated request is marked Repeat: %v %v %v", got[0].Repeat, got[1].Repeat, got[2].Repeat)
	}
	if got[2].District != "" || got[2].Category != "roads" {
		t.Fatalf("a case without a district: %+v", got[2])
	}
	// Over the limit, the newest cases are the ones read, still oldest first.
	got, err = s.TopicCases(ctx(t), base.Add(-4*time.Hour), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ID != b.ID || got[0].Category != "utilities" || got[0].ID == old.ID {
		t.Fatalf("TopicCases with limit 2 = %+v, want the two newest, oldest first", got)
	}
}

func openPlan(cases []*intake.Case, now time.Time, announce bool) intake.TopicChanges {
	return intake.TopicChanges{Now: now, Announce: announce, Open: []intake.NewIncident{{
		Incident: intake.Incident{Category: "utilities", District: "江岸区", Summary: "停水、什么时候来水"},
		CaseIDs:  ids(cases),
	}}}
}

func testIncidentOpensOnce(t *testing.T, h Harness, s IncidentStore) {
	base := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	cases := createTopicCases(t, s, "burst", 4, base)
	now := base.Add(time.Hour)
	res, err := s.ApplyTopics(ctx(t), openPlan(cases, now, true))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Opened) != 1 || res.Skipped != 0 {
		t.Fatalf("ApplyTopics = %+v, want one incident opened", res)
	}
	in := res.Opened[0]
	if in.ID == "" || in.State != intake.IncidentOpen || in.Size != 4 || in.Category != "utilities" || in.District != "江岸区" ||
		in.Summary != "停水、什么时候来水" || in.Announcement != intake.DeliveryQueued {
		t.Fatalf("opened incident = %+v", in)
	}
	if !in.FirstSeen.Equal(cases[0].ReceivedAt) || !in.LastSeen.Equal(cases[3].ReceivedAt) {
		t.Fatalf("first/last seen = %s/%s, want the first and last member's reception %s/%s", in.FirstSeen, in.LastSeen,
			cases[0].ReceivedAt, cases[3].ReceivedAt)
	}
	if h.JobsOfKind != nil {
		if n := h.JobsOfKind(t, s, "announce_incident"); n != 1 {
			t.Fatalf("%d announcement jobs queued, want 1", n)
		}
	}
	// The same run applied again (a crash after the commit, a rescued job) finds the members
	// taken and opens nothing.
	res, err = s.ApplyTopics(ctx(t), openPlan(cases, now, true))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Opened) != 0 || res.Skipped != 1 {
		t.Fatalf("the repeated run = %+v, want the incident skipped", res)
	}
	if h.JobsOfKind != nil {
		if n := h.JobsOfKind(t, s, "announce_incident"); n != 1 {
			t.Fatalf("%d announcement jobs after the repeat, want still 1", n)
		}
	}
	got, err := s.GetIncident(ctx(t), in.ID)
	if err != nil || got.Size != 4 {
		t.Fatalf("GetIncident = %+v, %v", got, err)
	}
	members, err := s.IncidentCases(ctx(t), in.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 4 || members[0].ID != cases[3].ID || members[3].ID != cases[0].ID {
		t.Fatalf("IncidentCases = %d cases, want the 4 members newest first", len(members))
	}
	if n, err := s.CountIncidents(ctx(t), intake.IncidentOpen); err != nil || n != 1 {
		t.Fatalf("CountIncidents(open) = %d, %v; want 1", n, err)
	}
	if _, err := s.GetIncident(ctx(t), "01939a2b-0000-7000-8000-000000000000"); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("GetIncident(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetIncident(ctx(t), "not-an-id"); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("GetIncident(not an id) = %v, want ErrNotFound", err)
	}
	// Without a webhook, an incident opens with no announcement to make.
	quiet := createTopicCases(t, s, "quiet", 2, base)
	res, err = s.ApplyTopics(ctx(t), openPlan(quiet, now, false))
	if err != nil || len(res.Opened) != 1 || res.Opened[0].Announcement != "" {
		t.Fatalf("ApplyTopics without announcing = %+v, %v", res, err)
	}
	if h.JobsOfKind != nil {
		if n := h.JobsOfKind(t, s, "announce_incident"); n != 1 {
			t.Fatalf("%d announcement jobs, want still 1", n)
		}
	}
}

func testConcurrentTopicRuns(t *testing.T, h Harness, s IncidentStore) {
	base := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	cases := createTopicCases(t, s, "race", 5, base)
	stores := []IncidentStore{s}
	if h.OpenSecond != nil {
		// Two processes on one database: the serialisation must hold across them.
		stores = append(stores, h.OpenSecond(t, s, Options()).(IncidentStore))
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		opened int
		errs   []error
	)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := stores[i%len(stores)].ApplyTopics(ctx(t), openPlan(cases, base.Add(time.Hour), true))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			opened += len(res.Opened)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent runs failed: %v", errs)
	}
	if opened != 1 {
		t.Fatalf("8 concurrent runs opened %d incidents, want 1", opened)
	}
	if n, err := s.CountIncidents(ctx(t), ""); err != nil || n != 1 {
		t.Fatalf("CountIncidents = %d, %v; want 1", n, err)
	}
	if h.JobsOfKind != nil {
		if n := h.JobsOfKind(t, s, "announce_incident"); n != 1 {
			t.Fatalf("%d announcement jobs, want 1", n)
		}
	}
}

func testIncidentGrowth(t *testing.T, s IncidentStore) {
	base := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	cases := createTopicCases(t, s, "grow", 4, base)
	res, err := s.ApplyTopics(ctx(t), openPlan(cases[:3], base.Add(10*time.Minute), false))
	if err != nil || len(res.Opened) != 1 {
		t.Fatalf("open = %+v, %v", res, err)
	}
	id := res.Opened[0].ID
	later := mustCreate(t, s, TopicCase("grow-late", "幸福小区还是停水", "utilities", "江岸区", base.Add(90*time.Minute))).Case
	grow := intake.TopicChanges{Now: base.Add(100 * time.Minute), Grow: []intake.IncidentGrowth{
		{IncidentID: id, CaseIDs: []string{cases[3].ID, later.ID, cases[0].ID}, LastSeen: later.ReceivedAt},
	}}
	res, err = s.ApplyTopics(ctx(t), grow)
	if err != nil {
		t.Fatal(err)
	}
	if res.Grown != 2 {
		t.Fatalf("Grown = %d, want 2 (the member already in it not counted)", res.Grown)
	}
	in, err := s.GetIncident(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if in.Size != 5 || !in.LastSeen.Equal(later.ReceivedAt) || !in.FirstSeen.Equal(cases[0].ReceivedAt) {
		t.Fatalf("grown incident = %+v", in)
	}
	// Quiet for a window: closed, and a closed incident takes no more members.
	res, err = s.ApplyTopics(ctx(t), intake.TopicChanges{Now: base.Add(5 * time.Hour), CloseQuietBefore: later.ReceivedAt})
	if err != nil || res.Closed != 0 {
		t.Fatalf("an incident whose last member arrived at the cut-off stays open: %+v, %v", res, err)
	}
	res, err = s.ApplyTopics(ctx(t), intake.TopicChanges{Now: base.Add(5 * time.Hour), CloseQuietBefore: later.ReceivedAt.Add(time.Second)})
	if err != nil || res.Closed != 1 {
		t.Fatalf("close = %+v, %v; want 1 closed", res, err)
	}
	in, err = s.GetIncident(ctx(t), id)
	if err != nil || in.State != intake.IncidentClosed || !in.ClosedAt.Equal(base.Add(5*time.Hour)) {
		t.Fatalf("closed incident = %+v, %v", in, err)
	}
	extra := mustCreate(t, s, TopicCase("grow-extra", "又停水了", "utilities", "江岸区", base.Add(6*time.Hour))).Case
	res, err = s.ApplyTopics(ctx(t), intake.TopicChanges{Now: base.Add(6 * time.Hour), Grow: []intake.IncidentGrowth{
		{IncidentID: id, CaseIDs: []string{extra.ID}, LastSeen: extra.ReceivedAt},
	}})
	if err != nil || res.Grown != 0 {
		t.Fatalf("growing a closed incident = %+v, %v; want nothing", res, err)
	}
	open, err := s.ListIncidents(ctx(t), intake.IncidentFilter{State: intake.IncidentOpen})
	if err != nil || len(open) != 0 {
		t.Fatalf("open incidents = %+v, %v; want none", open, err)
	}
	all, err := s.ListIncidents(ctx(t), intake.IncidentFilter{})
	if err != nil || len(all) != 1 || all[0].ID != id {
		t.Fatalf("all incidents = %+v, %v", all, err)
	}
	// A period's incidents are those whose first case arrived in it.
	for _, p := range []struct {
		from, to time.Time
		want     int
	}{
		{cases[0].ReceivedAt, cases[0].ReceivedAt.Add(time.Second), 1},
		{cases[0].ReceivedAt.Add(time.Second), time.Time{}, 0},
		{time.Time{}, cases[0].ReceivedAt, 0},
		{base.Add(-24 * time.Hour), base.Add(24 * time.Hour), 1},
	} {
		got, err := s.ListIncidents(ctx(t), intake.IncidentFilter{FirstSeenFrom: p.from, FirstSeenTo: p.to})
		if err != nil || len(got) != p.want {
			t.Errorf("incidents first seen in [%s, %s) = %d, %v; want %d", p.from, p.to, len(got), err, p.want)
		}
	}
}

func testAnnouncementOutcomes(t *testing.T, s IncidentStore) {
	base := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	res, err := s.ApplyTopics(ctx(t), openPlan(createTopicCases(t, s, "ann", 2, base), base.Add(time.Hour), true))
	if err != nil || len(res.Opened) != 1 {
		t.Fatalf("open = %+v, %v", res, err)
	}
	id := res.Opened[0].ID
	at := base.Add(2 * time.Hour)
	for _, o := range []intake.AnnouncementOutcome{
		{IncidentID: id, State: intake.DeliveryQueued, Error: "503 Service Unavailable", At: at},
		{IncidentID: id, State: intake.DeliveryDelivered, At: at.Add(time.Minute)},
		// A duplicate job's late failure changes nothing once delivered.
		{IncidentID: id, State: intake.DeliveryDead, Error: "timeout", At: at.Add(2 * time.Minute)},
	} {
		if err := s.RecordAnnouncement(ctx(t), o); err != nil {
			t.Fatal(err)
		}
	}
	in, err := s.GetIncident(ctx(t), id)
	if err != nil {
		t.Fatal(err)
	}
	if in.Announcement != intake.DeliveryDelivered || in.AnnounceAttempts != 2 || in.AnnounceError != "" {
		t.Fatalf("announcement = %s, %d attempts, error %q; want delivered after 2 attempts", in.Announcement, in.AnnounceAttempts, in.AnnounceError)
	}
}
