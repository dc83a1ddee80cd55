// Package storetest is the contract every case store must pass. Each driver's tests call Run with
// a Harness that opens fresh stores of that driver; the suite then proves the same behaviour on
// both: idempotent creation under concurrency, unique case numbers, the forwarding job committed
// with the case (and not without it), status history, and listing with cursors.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/store"
)

// Harness adapts a driver to the suite.
type Harness struct {
	// Open returns a fresh, migrated, empty store.
	Open func(t *testing.T, opts store.Options) intake.Store
	// OpenSecond opens another, independent store (its own pool and writers) on the database of
	// s, standing in for a second gateway process. Nil when the driver has one process per file.
	OpenSecond func(t *testing.T, s intake.Store, opts store.Options) intake.Store
	// FailDeliveriesTo makes every transaction that inserts a delivery to target fail at that
	// point, after the case row has been written, so the suite can prove the rollback.
	FailDeliveriesTo func(t *testing.T, s intake.Store, target string)
	// JobsForCase counts the queued forward_case jobs whose args name caseID.
	JobsForCase func(t *testing.T, s intake.Store, caseID string) int
	// RawPayload reads back a case's stored raw payload.
	RawPayload func(t *testing.T, s intake.Store, caseID string) intake.RawPayload
	// RawPayloads counts the non-empty raw payloads stored for a case: its own (in the case row
	// or, for a case stored before payloads moved there, in case_payloads) and its messages'.
	RawPayloads func(t *testing.T, s intake.Store, caseID string) int
	// MakeLegacyPayload moves a case's raw payload from its row to case_payloads, where cases
	// stored by earlier versions keep it.
	MakeLegacyPayload func(t *testing.T, s intake.Store, caseID string)
	// SetForwardJob puts the forward_case jobs of a delivery into a River state as a worker
	// would: "running" since attemptedAgo, or finished ("completed", "discarded", "cancelled").
	SetForwardJob func(t *testing.T, s intake.Store, deliveryID, state string, attemptedAgo time.Duration)
	// JobsOfKind counts the available River jobs of a kind (e.g. announce_incident).
	JobsOfKind func(t *testing.T, s intake.Store, kind string) int
	// ExecSQL runs a raw statement on the store's database (to prove what the schema refuses).
	ExecSQL func(t *testing.T, s intake.Store, query string) error
}

// Shanghai is the zone the suite numbers cases in.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// Options are the store options the suite uses unless a test says otherwise.
func Options() store.Options {
	return store.Options{CaseNoPrefix: "WH", Location: Shanghai, Writers: 4, MaxBatch: 32}
}

// NewCase builds a valid new case as the intake service would.
func NewCase(channelID, externalID string, receivedAt time.Time) intake.NewCase {
	sub := intake.Submission{
		Channel:    intake.ChannelREST,
		ChannelID:  channelID,
		ExternalID: externalID,
		Citizen:    intake.CitizenInput{Name: "王女士", Phone: "138 0013 8000"},
		Text:       "小区门口路灯坏了一个星期，晚上很黑，请尽快修理。",
		Metadata:   map[string]string{"source": "storetest"},
	}
	c := normalize.Build(sub, receivedAt, normalize.Options{})
	c.ID = store.NewID()
	c.QueryCode = "123456"
	body := fmt.Sprintf(`{"external_id":%q}`, externalID)
	return intake.NewCase{
		Case:        &c,
		Raw:         intake.RawPayload{ContentType: "application/json", Body: []byte(body)},
		PayloadHash: "hash-" + externalID,
	}
}

// Run runs the contract suite.
func Run(t *testing.T, h Harness) {
	t.Run("CreateThenGetByIDAndCaseNo", func(t *testing.T) { testCreateAndGet(t, h) })
	t.Run("RetryReturnsTheFirstCase", func(t *testing.T) { testSequentialDuplicate(t, h) })
	t.Run("ConcurrentCopiesMakeOneCase", func(t *testing.T) { testConcurrentDuplicates(t, h) })
	t.Run("CaseNumbersUniqueUnderConcurrency", func(t *testing.T) { testCaseNumbersUnique(t, h) })
	t.Run("CaseNumbersFollowTheLocalDay", func(t *testing.T) { testCaseNumberDays(t, h) })
	t.Run("FailedTransactionLeavesNoCaseAndNoJob", func(t *testing.T) { testAtomicity(t, h) })
	t.Run("StatusHistory", func(t *testing.T) { testStatusHistory(t, h) })
	t.Run("ProgressNoteFirstKeepsStatus", func(t *testing.T) { testProgressNoteFirst(t, h) })
	t.Run("StatusAndItsNotificationsCommitTogether", func(t *testing.T) { testStatusWithNotifications(t, h) })
	t.Run("ListFiltersAndCursor", func(t *testing.T) { testList(t, h) })
	t.Run("NotFoundAndBadCursor", func(t *testing.T) { testErrors(t, h) })
	t.Run("SupplementsJoinACaseOnce", func(t *testing.T) { testSupplements(t, h) })
	t.Run("CitizenLookups", func(t *testing.T) { testCitizenLookups(t, h) })
	t.Run("OptOutsAndLocations", func(t *testing.T) { testOptOutsAndLocations(t, h) })
	t.Run("MessageContextAnswersLikeTheSeparateLookups", func(t *testing.T) { testMessageContext(t, h) })
	t.Run("DeliveryOutcomesAndReplay", func(t *testing.T) { testDeliveries(t, h) })
	t.Run("RetentionClearsPayloadsAndPseudonymizes", func(t *testing.T) { testRetention(t, h) })
	t.Run("DeliveryBacklogCountsQueuedAndDead", func(t *testing.T) { testDeliveryBacklog(t, h) })
	t.Run("StrandedDeliveriesRequeued", func(t *testing.T) { testRequeueStranded(t, h) })
	t.Run("RepeatedRequestsAreLinked", func(t *testing.T) { testRepeated(t, h) })
	t.Run("NotificationsAndDeliveryReports", func(t *testing.T) { testNotifications(t, h) })
	t.Run("SharedPlatformTokens", func(t *testing.T) { testTokens(t, h) })
	t.Run("SatisfactionFeedback", func(t *testing.T) { testFeedback(t, h) })
	t.Run("SupplementLimitsHoldUnderConcurrency", func(t *testing.T) { testSupplementLimits(t, h) })
	t.Run("RequestNoncesBindASignatureToOneBody", func(t *testing.T) { testNonces(t, h) })
	t.Run("FailedLookUpsLockAKeyOut", func(t *testing.T) { testLookupLimits(t, h) })
	t.Run("SearchRequests", func(t *testing.T) { testSearchRequests(t, h) })
	t.Run("StatusUpdatesByRecordedTime", func(t *testing.T) { testStatusUpdates(t, h) })
	t.Run("ClosingTwiceIsHarmless", func(t *testing.T) { testCloseTwice(t, h) })
	if h.OpenSecond != nil {
		t.Run("TwoProcessesShareCaseNumbersAndDedup", func(t *testing.T) { testTwoProcesses(t, h) })
		t.Run("TwoProcessesShareNoncesAndLockouts", func(t *testing.T) { testGuardsAcrossProcesses(t, h) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustCreate(t *testing.T, s intake.Store, nc intake.NewCase) intake.CreateResult {
	t.Helper()
	res, err := s.CreateCase(ctx(t), nc)
	if err != nil {
		t.Fatalf("CreateCase(%s): %v", nc.Case.ExternalID, err)
	}
	return res
}

func canonicalJSON(t *testing.T, c *intake.Case) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testCreateAndGet(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	received := time.Date(2026, 11, 27, 9, 30, 0, 123456000, time.UTC)
	nc := NewCase("rest:crm", "ext-1", received)
	lat, lng := 37.5, 122.1
	nc.Case.Location = &intake.Location{Lat: &lat, Lng: &lng, Address: "环翠区文化中路", Source: intake.LocationGPS}
	nc.Case.Attachments = []intake.Attachment{{Kind: intake.AttachmentImage, URL: "https://example.com/a.jpg"}}
	res := mustCreate(t, s, nc)
	if !res.Created {
		t.Fatal("first CreateCase reported Created=false")
	}
	if want := "WH2026112700001"; res.Case.CaseNo != want {
		t.Fatalf("case_no %q, want %q", res.Case.CaseNo, want)
	}
	if res.PayloadHash != "hash-ext-1" {
		t.Fatalf("payload hash %q", res.PayloadHash)
	}

	byID, err := s.GetCase(ctx(t), res.Case.ID)
	if err != nil {
		t.Fatalf("GetCase by id: %v", err)
	}
	byNo, err := s.GetCase(ctx(t), res.Case.CaseNo)
	if err != nil {
		t.Fatalf("GetCase by case_no: %v", err)
	}
	if canonicalJSON(t, byID) != canonicalJSON(t, byNo) {
		t.Fatal("GetCase by id and by case_no differ")
	}
	want := *res.Case
	if got, w := canonicalJSON(t, byID), canonicalJSON(t, &want); got != w {
		t.Fatalf("stored case differs from created one\n got %s\nwant %s", got, w)
	}
	if !byID.ReceivedAt.Equal(received) {
		t.Fatalf("received_at %v, want %v (microsecond precision)", byID.ReceivedAt, received)
	}
	if byID.Status != intake.StatusReceived || len(byID.StatusHistory) != 1 || byID.StatusHistory[0].Status != intake.StatusReceived {
		t.Fatalf("status %q history %+v", byID.Status, byID.StatusHistory)
	}

	ds, err := s.Deliveries(ctx(t), res.Case.ID)
	if err != nil {
		t.Fatalf("Deliveries: %v", err)
	}
	if len(ds) != 1 || ds[0].Event != intake.EventCaseCreated || ds[0].State != intake.DeliveryQueued || ds[0].Target != "default" {
		t.Fatalf("deliveries %+v, want one queued case.created to default", ds)
	}
	if len(res.Deliveries) != 1 || res.Deliveries[0].ID != ds[0].ID {
		t.Fatalf("CreateCase returned deliveries %+v, stored %+v", res.Deliveries, ds)
	}
	if n := h.JobsForCase(t, s, res.Case.ID); n != 1 {
		t.Fatalf("forward_case jobs for the case: %d, want 1", n)
	}
	raw := h.RawPayload(t, s, res.Case.ID)
	if raw.ContentType != "application/json" || string(raw.Body) != string(nc.Raw.Body) {
		t.Fatalf("raw payload %q %q", raw.ContentType, raw.Body)
	}
}

func testSequentialDuplicate(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	now := time.Now().UTC()
	first := mustCreate(t, s, NewCase("rest:crm", "dup", now))
	retry := NewCase("rest:crm", "dup", now.Add(time.Second))
	retry.PayloadHash = "a different body"
	again := mustCreate(t, s, retry)
	if again.Created || len(again.Deliveries) != 0 {
		t.Fatal("retry reported Created=true or queued deliveries")
	}
	if again.Case.ID != first.Case.ID || again.Case.CaseNo != first.Case.CaseNo || again.Case.QueryCode != first.Case.QueryCode {
		t.Fatalf("retry got %s/%s, want %s/%s", again.Case.ID, again.Case.CaseNo, first.Case.ID, first.Case.CaseNo)
	}
	if again.PayloadHash != "hash-dup" {
		t.Fatalf("retry should see the first payload hash, got %q", again.PayloadHash)
	}
	if n := h.JobsForCase(t, s, first.Case.ID); n != 1 {
		t.Fatalf("jobs %d after a retry, want 1", n)
	}
	// The same external id on another channel instance is a different submission.
	other := mustCreate(t, s, NewCase("rest:other", "dup", now))
	if !other.Created || other.Case.ID == first.Case.ID {
		t.Fatal("same external id on another channel must be a new case")
	}
}

func testConcurrentDuplicates(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	now := time.Now().UTC()
	const copies = 50
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]int{}
		created int
	)
	start := make(chan struct{})
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := s.CreateCase(context.Background(), NewCase("wechat-main", "msg-42", now))
			if err != nil {
				t.Errorf("CreateCase: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[res.Case.ID+" "+res.Case.CaseNo]++
			if res.Created {
				created++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(ids) != 1 || created != 1 {
		t.Fatalf("%d copies gave cases %v with %d created, want one case created once", copies, ids, created)
	}
	page, err := s.ListCases(ctx(t), intake.CaseFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Cases) != 1 {
		t.Fatalf("%d cases stored, want 1", len(page.Cases))
	}
	if n := h.JobsForCase(t, s, page.Cases[0].ID); n != 1 {
		t.Fatalf("jobs %d, want 1", n)
	}
}

func createMany(t *testing.T, s intake.Store, channelID string, n int, received time.Time) []*intake.Case {
	t.Helper()
	out := make([]*intake.Case, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.CreateCase(context.Background(), NewCase(channelID, fmt.Sprintf("m-%d", i), received))
			if err != nil {
				t.Errorf("CreateCase %d: %v", i, err)
				return
			}
			out[i] = res.Case
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

func assertContiguousNumbers(t *testing.T, cases []*intake.Case, prefix string, n int) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.CaseNo] {
			t.Fatalf("case number %s issued twice", c.CaseNo)
		}
		seen[c.CaseNo] = true
	}
	for i := 1; i <= n; i++ {
		if no := fmt.Sprintf("%s%05d", prefix, i); !seen[no] {
			t.Fatalf("case number %s missing: numbers should run 1..%d without gaps when nothing fails", no, n)
		}
	}
}

func testCaseNumbersUnique(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	received := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	cases := createMany(t, s, "rest:crm", 200, received)
	assertContiguousNumbers(t, cases, "WH20261127", 200)

	// A retry of a stored key takes no number: the next new case is the 201st.
	retry := mustCreate(t, s, NewCase("rest:crm", "m-5", received))
	if retry.Created || retry.Case.CaseNo != cases[5].CaseNo {
		t.Fatalf("retry: created=%v case_no %s, want %s", retry.Created, retry.Case.CaseNo, cases[5].CaseNo)
	}
	if next := mustCreate(t, s, NewCase("rest:crm", "m-new", received)); next.Case.CaseNo != "WH2026112700201" {
		t.Fatalf("case after a retry numbered %s, want WH2026112700201", next.Case.CaseNo)
	}
}

func testCaseNumberDays(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	// 15:59:59Z is 23:59:59 in Shanghai on the 27th; 16:00:00Z is already the 28th there.
	late := mustCreate(t, s, NewCase("rest:crm", "late", time.Date(2026, 11, 27, 15, 59, 59, 0, time.UTC)))
	early := mustCreate(t, s, NewCase("rest:crm", "early", time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)))
	early2 := mustCreate(t, s, NewCase("rest:crm", "early2", time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)))
	if late.Case.CaseNo != "WH2026112700001" || early.Case.CaseNo != "WH2026112800001" || early2.Case.CaseNo != "WH2026112800002" {
		t.Fatalf("case numbers %s %s %s: the sequence must follow the local day", late.Case.CaseNo, early.Case.CaseNo, early2.Case.CaseNo)
	}
}

func testAtomicity(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	h.FailDeliveriesTo(t, s, "explode")
	now := time.Now().UTC()

	var wg sync.WaitGroup
	bad := NewCase("rest:crm", "doomed", now)
	bad.ForwardTo = "explode"
	var badErr error
	good := make([]intake.CreateResult, 10)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, badErr = s.CreateCase(context.Background(), bad)
	}()
	for i := range good {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.CreateCase(context.Background(), NewCase("rest:crm", fmt.Sprintf("ok-%d", i), now))
			if err != nil {
				t.Errorf("good case %d failed beside a bad one: %v", i, err)
			}
			good[i] = res
		}()
	}
	wg.Wait()
	if badErr == nil {
		t.Fatal("a transaction whose delivery insert fails must fail")
	}
	if _, err := s.GetCase(ctx(t), bad.Case.ID); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("failed case is readable (err %v): the case row outlived its transaction", err)
	}
	if n := h.JobsForCase(t, s, bad.Case.ID); n != 0 {
		t.Fatalf("failed case left %d jobs", n)
	}
	for i, g := range good {
		if g.Case == nil || !g.Created {
			t.Fatalf("good case %d not created", i)
		}
		if n := h.JobsForCase(t, s, g.Case.ID); n != 1 {
			t.Fatalf("good case %d has %d jobs", i, n)
		}
	}
	// The failure left the external id free: a corrected retry succeeds.
	retry := NewCase("rest:crm", "doomed", now)
	if res := mustCreate(t, s, retry); !res.Created {
		t.Fatal("retry after a failed transaction was not created")
	}
}

// A case's first status entry may live in its own row rather than with the later ones: a
// progress note as the first event must still leave the status as it was.
func testProgressNoteFirst(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	c := mustCreate(t, s, NewCase("rest:crm", "progress-first", t0)).Case
	if _, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Event: intake.EventProgress, At: t0.Add(time.Hour), Source: "case-system", EventID: "p1", Message: "处理中"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetCase(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, h := range got.StatusHistory {
		seq = append(seq, h.Event)
	}
	if got.Status != intake.StatusReceived || strings.Join(seq, " ") != "received progress" {
		t.Fatalf("status %q, history %v; want received with received, progress", got.Status, seq)
	}
}

func testStatusHistory(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	c := mustCreate(t, s, NewCase("rest:crm", "st", t0)).Case

	add := func(ev string, st intake.Status, at time.Time) bool {
		t.Helper()
		ok, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: st, At: at, Source: "case-system", EventID: ev, Department: "市城管局", Message: "已处理"}, nil)
		if err != nil {
			t.Fatalf("AddStatus %s: %v", ev, err)
		}
		return ok
	}
	if !add("e1", intake.StatusAccepted, t0.Add(time.Hour)) {
		t.Fatal("first event not applied")
	}
	if add("e1", intake.StatusAccepted, t0.Add(time.Hour)) {
		t.Fatal("repeated event id applied twice")
	}
	// resolved arrives before assigned, though it happened after it.
	add("e3", intake.StatusResolved, t0.Add(3*time.Hour))
	add("e2", intake.StatusAssigned, t0.Add(2*time.Hour))

	got, err := s.GetCase(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != intake.StatusResolved {
		t.Fatalf("status %s, want resolved (a late event must not move the case back)", got.Status)
	}
	var seq []string
	for _, h := range got.StatusHistory {
		seq = append(seq, string(h.Status))
	}
	if want := "received accepted assigned resolved"; strings.Join(seq, " ") != want {
		t.Fatalf("history %v, want %s", seq, want)
	}
	// A progress note is history, not a change: even the latest one leaves the status alone.
	if _, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Event: intake.EventProgress, At: t0.Add(4 * time.Hour), Source: "case-system", EventID: "e4", Message: "已回访"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCase(ctx(t), c.ID); got.Status != intake.StatusResolved || got.StatusHistory[4].Event != intake.EventProgress || got.StatusHistory[4].Status != intake.StatusResolved {
		t.Fatalf("after progress: %s %+v", got.Status, got.StatusHistory)
	}
	if _, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: intake.StatusAssigned, Event: "reopened", At: t0.Add(5 * time.Hour), Source: "case-system", EventID: "e5"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetCase(ctx(t), c.ID); got.Status != intake.StatusAssigned || got.StatusHistory[5].Event != "reopened" {
		t.Fatalf("after reopened: %s", got.Status)
	}
	if got.StatusHistory[1].Department != "市城管局" || got.StatusHistory[1].EventID != "e1" {
		t.Fatalf("history entry lost fields: %+v", got.StatusHistory[1])
	}
	if _, err := s.AddStatus(ctx(t), store.NewID(), intake.StatusChange{Status: intake.StatusClosed, At: t0}, nil); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("AddStatus on a missing case: %v", err)
	}
}

// An event and the notifications it gives the citizen are one transaction: both are stored, or
// (when the notifications cannot be) neither, and a repeated event stores no second notification.
func testStatusWithNotifications(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	c := mustCreate(t, s, NewCase("wechat-main", "notes", t0)).Case
	note := func(id, event, text string) intake.Notification {
		return intake.Notification{ID: id, CaseID: c.ID, Event: event, Channel: intake.ChannelWeChat, ChannelID: "wechat-main", Address: "oCitizen", Text: text}
	}
	first := store.NewID()
	applied, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: t0.Add(time.Hour), Source: "cs", EventID: "r1"},
		[]intake.Notification{note(first, "resolved", "您的工单已办结。"), note("", "survey", "请评价")})
	if err != nil || !applied {
		t.Fatalf("AddStatus with notifications: %v %v", applied, err)
	}
	notes, err := s.CaseNotifications(ctx(t), c.ID)
	if err != nil || len(notes) != 2 || notes[0].ID != first || notes[0].State != intake.NotificationQueued || notes[1].Event != "survey" {
		t.Fatalf("notifications after the event: %+v %v", notes, err)
	}
	// The same event again: not applied, and nobody is told twice.
	if applied, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: t0.Add(time.Hour), Source: "cs", EventID: "r1"},
		[]intake.Notification{note("", "resolved", "again")}); err != nil || applied {
		t.Fatalf("repeated event: applied=%v %v", applied, err)
	}
	// A notification that cannot be stored (its id is taken) fails the event with it.
	_, err = s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: intake.StatusClosed, Event: "closed", At: t0.Add(2 * time.Hour), Source: "cs", EventID: "c1"},
		[]intake.Notification{note(first, "closed", "已关闭")})
	if err == nil {
		t.Fatal("an event whose notification could not be stored was recorded")
	}
	got, _ := s.GetCase(ctx(t), c.ID)
	for _, ch := range got.StatusHistory {
		if ch.EventID == "c1" {
			t.Fatalf("the event was recorded without its notification: %+v", got.StatusHistory)
		}
	}
	if got.Status != intake.StatusResolved {
		t.Fatalf("status %s after a failed event, want resolved", got.Status)
	}
	if notes, _ := s.CaseNotifications(ctx(t), c.ID); len(notes) != 2 {
		t.Fatalf("%d notifications after the failed event, want 2", len(notes))
	}
}

func testList(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var all []*intake.Case
	for i := range 25 {
		nc := NewCase("ch", fmt.Sprintf("l-%02d", i), base.Add(time.Duration(i)*time.Hour))
		if i%3 == 0 {
			nc.Case.Channel = intake.ChannelWeChat
		}
		all = append(all, mustCreate(t, s, nc).Case)
	}
	// Two cases in the same microsecond must still page deterministically.
	twin := NewCase("ch", "twin", base.Add(24*time.Hour))
	all = append(all, mustCreate(t, s, twin).Case)
	if _, err := s.AddStatus(ctx(t), all[5].ID, intake.StatusChange{Status: intake.StatusAccepted, At: base.Add(100 * time.Hour), Source: "t"}, nil); err != nil {
		t.Fatal(err)
	}

	var paged []string
	cursor := ""
	pages := 0
	for {
		page, err := s.ListCases(ctx(t), intake.CaseFilter{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range page.Cases {
			paged = append(paged, c.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	sorted := append([]*intake.Case(nil), all...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].ReceivedAt.Equal(sorted[j].ReceivedAt) {
			return sorted[i].ReceivedAt.After(sorted[j].ReceivedAt)
		}
		return sorted[i].ID > sorted[j].ID
	})
	var want []string
	for _, c := range sorted {
		want = append(want, c.ID)
	}
	if !reflect.DeepEqual(paged, want) || pages != 3 {
		t.Fatalf("paged listing (%d pages) is not every case once, newest first", pages)
	}

	count := func(f intake.CaseFilter) int {
		t.Helper()
		f.Limit = 100
		page, err := s.ListCases(ctx(t), f)
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Cases)
	}
	if n := count(intake.CaseFilter{Channel: intake.ChannelWeChat}); n != 9 {
		t.Fatalf("wechat filter: %d, want 9", n)
	}
	if n := count(intake.CaseFilter{Status: intake.StatusAccepted}); n != 1 {
		t.Fatalf("status filter: %d, want 1", n)
	}
	if n := count(intake.CaseFilter{ReceivedFrom: base.Add(10 * time.Hour), ReceivedTo: base.Add(20 * time.Hour)}); n != 10 {
		t.Fatalf("received range [10h,20h): %d, want 10", n)
	}
	if n := count(intake.CaseFilter{Channel: intake.ChannelREST, ReceivedFrom: base.Add(20 * time.Hour)}); n != 4 {
		t.Fatalf("rest from 20h: %d, want 4", n)
	}
}

func testErrors(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	if _, err := s.GetCase(ctx(t), store.NewID()); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := s.GetCase(ctx(t), "WH2099010100001"); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("unknown case_no: %v", err)
	}
	if _, err := s.ListCases(ctx(t), intake.CaseFilter{Cursor: "not-a-cursor"}); !errors.Is(err, intake.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
	if err := s.Ready(ctx(t)); err != nil {
		t.Fatalf("Ready on a migrated store: %v", err)
	}
}

func testTwoProcesses(t *testing.T, h Harness) {
	a := h.Open(t, Options())
	b := h.OpenSecond(t, a, Options())
	received := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		cases []*intake.Case
	)
	for _, s := range []intake.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := createManyNoFatal(t, s, "rest:crm", 100, received)
			mu.Lock()
			cases = append(cases, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Both processes submitted the same 100 external ids: 100 cases, numbered 1..100.
	byID := map[string]*intake.Case{}
	for _, c := range cases {
		if prev, ok := byID[c.ID]; ok && prev.CaseNo != c.CaseNo {
			t.Fatalf("case %s seen with two numbers", c.ID)
		}
		byID[c.ID] = c
	}
	if len(byID) != 100 {
		t.Fatalf("%d distinct cases from two processes submitting the same 100 ids", len(byID))
	}
	unique := make([]*intake.Case, 0, len(byID))
	for _, c := range byID {
		unique = append(unique, c)
	}
	seen := map[string]bool{}
	for _, c := range unique {
		if seen[c.CaseNo] {
			t.Fatalf("case number %s issued twice across processes", c.CaseNo)
		}
		seen[c.CaseNo] = true
	}
	// Distinct ids from both processes never share a number.
	more := append(createManyNoFatal(t, a, "rest:a", 50, received), createManyNoFatal(t, b, "rest:b", 50, received)...)
	for _, c := range more {
		if seen[c.CaseNo] {
			t.Fatalf("case number %s issued twice across processes", c.CaseNo)
		}
		seen[c.CaseNo] = true
	}
}

func createManyNoFatal(t *testing.T, s intake.Store, channelID string, n int, received time.Time) []*intake.Case {
	out := make([]*intake.Case, 0, n)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.CreateCase(context.Background(), NewCase(channelID, fmt.Sprintf("m-%d", i), received))
			if err != nil {
				t.Errorf("CreateCase %d: %v", i, err)
				return
			}
			mu.Lock()
			out = append(out, res.Case)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func wechatCase(externalID, openid string, received time.Time) intake.NewCase {
	nc := NewCase("wechat-main", externalID, received)
	nc.Case.Channel = intake.ChannelWeChat
	nc.Case.Citizen = intake.Citizen{WeChatOpenID: openid}
	return nc
}

func testSupplements(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	c := mustCreate(t, s, wechatCase("m1", "oOPEN1", t0)).Case

	if _, _, found, err := lookupMessage(s, "wechat-main", "m2"); err != nil || found {
		t.Fatalf("unknown message found=%v err=%v", found, err)
	}
	lat, lng := 37.5, 122.1
	sup := intake.Supplement{
		ChannelID: "wechat-main", ExternalID: "m2", Text: "补充一张照片和位置",
		Attachments: []intake.Attachment{{Kind: intake.AttachmentImage, MediaID: "media-9"}},
		Location:    &intake.Location{Lat: &lat, Lng: &lng, Address: "文化路", Source: intake.LocationGPS},
		ReceivedAt:  t0.Add(2 * time.Minute),
		Raw:         intake.RawPayload{ContentType: "text/xml", Body: []byte("<xml/>")},
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied int
	)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.AddSupplement(context.Background(), c.ID, sup)
			if err != nil {
				t.Errorf("AddSupplement: %v", err)
				return
			}
			if res.Case.ID != c.ID {
				t.Errorf("supplement joined case %s", res.Case.ID)
			}
			if res.Applied {
				mu.Lock()
				applied++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if applied != 1 {
		t.Fatalf("10 copies of a supplement applied %d times, want 1", applied)
	}
	got, err := s.GetCase(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Content.Text, c.Content.Text) || !strings.Contains(got.Content.Text, "[补充 11-27 10:02] 补充一张照片和位置") ||
		strings.Count(got.Content.Text, "补充一张照片") != 1 {
		t.Fatalf("text after supplement: %q", got.Content.Text)
	}
	if len(got.Attachments) != 1 || got.Attachments[0].MediaID != "media-9" || got.Location == nil || got.Location.Lat == nil {
		t.Fatalf("attachments %+v location %+v", got.Attachments, got.Location)
	}
	if got.CaseNo != c.CaseNo || got.Status != intake.StatusReceived {
		t.Fatal("a supplement must not change the case's number or status")
	}
	id, kind, found, err := lookupMessage(s, "wechat-main", "m2")
	if err != nil || !found || id != c.ID || kind != intake.MessageSupplement {
		t.Fatalf("message m2 became %s %s %v %v", id, kind, found, err)
	}
	if id, kind, found, _ := lookupMessage(s, "wechat-main", "m1"); !found || id != c.ID || kind != intake.MessageCase {
		t.Fatalf("message m1 became %s %s %v", id, kind, found)
	}
	ds, err := s.Deliveries(ctx(t), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Event != intake.EventCaseCreated || ds[1].Event != intake.EventCaseUpdated || ds[1].State != intake.DeliveryQueued {
		t.Fatalf("deliveries %+v, want case.created then case.updated", ds)
	}
	if n := h.JobsForCase(t, s, c.ID); n != 2 {
		t.Fatalf("jobs %d, want 2", n)
	}
	if _, err := s.AddSupplement(ctx(t), store.NewID(), intake.Supplement{ChannelID: "x", ExternalID: "y"}); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("supplement to a missing case: %v", err)
	}
}

func testCitizenLookups(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	older := mustCreate(t, s, wechatCase("a1", "oCIT", t0)).Case
	newer := mustCreate(t, s, wechatCase("a2", "oCIT", t0.Add(time.Hour))).Case
	mustCreate(t, s, wechatCase("a3", "oOTHER", t0.Add(2*time.Hour)))
	phoneCase := NewCase("sms-main", "SM1", t0.Add(3*time.Hour)) // phone +8613800138000
	mustCreate(t, s, phoneCase)

	who := intake.CitizenKey{Kind: intake.KeyOpenID, Value: "oCIT"}
	got, err := s.LatestCase(ctx(t), who, "", time.Time{})
	if err != nil || got.ID != newer.ID {
		t.Fatalf("latest case: %v %v", got, err)
	}
	if got, err := s.LatestCase(ctx(t), who, "wechat-main", t0.Add(30*time.Minute)); err != nil || got.ID != newer.ID {
		t.Fatalf("latest since 30m: %v", err)
	}
	if _, err := s.LatestCase(ctx(t), who, "", t0.Add(90*time.Minute)); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("nothing since 90m, got %v", err)
	}
	if _, err := s.LatestCase(ctx(t), who, "other-channel", time.Time{}); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("channel filter: %v", err)
	}
	if got, err := s.LatestCase(ctx(t), intake.CitizenKey{Kind: intake.KeyPhone, Value: "+8613800138000"}, "", time.Time{}); err != nil || got.ChannelID != "sms-main" {
		t.Fatalf("by phone: %v %v", got, err)
	}
	_ = older
}

func testOptOutsAndLocations(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	if out, err := s.OptedOut(ctx(t), "sms-main", "+8613800138000"); err != nil || out {
		t.Fatalf("fresh number opted out: %v %v", out, err)
	}
	if err := s.SetOptOut(ctx(t), "sms-main", "+8613800138000", true, t0); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.OptedOut(ctx(t), "sms-main", "+8613800138000"); !out {
		t.Fatal("opt-out not recorded")
	}
	if out, _ := s.OptedOut(ctx(t), "sms-other", "+8613800138000"); out {
		t.Fatal("opt-out leaked to another channel")
	}
	// An older, late-arriving opt-in does not undo a newer opt-out.
	if err := s.SetOptOut(ctx(t), "sms-main", "+8613800138000", false, t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.OptedOut(ctx(t), "sms-main", "+8613800138000"); !out {
		t.Fatal("an older opt-in overrode a newer opt-out")
	}
	if err := s.SetOptOut(ctx(t), "sms-main", "+8613800138000", false, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if out, _ := s.OptedOut(ctx(t), "sms-main", "+8613800138000"); out {
		t.Fatal("opt-in not recorded")
	}

	who := intake.CitizenKey{Kind: intake.KeyOpenID, Value: "oLOC"}
	lat, lng := 37.51, 122.12
	if loc, err := recentLocation(s, who, "wechat-main", t0.Add(-time.Hour)); err != nil || loc != nil {
		t.Fatalf("no location yet: %v %v", loc, err)
	}
	if err := s.RememberLocation(ctx(t), who, "wechat-main", intake.Location{Lat: &lat, Lng: &lng, Source: intake.LocationGPS}, t0); err != nil {
		t.Fatal(err)
	}
	loc, err := recentLocation(s, who, "wechat-main", t0.Add(-10*time.Minute))
	if err != nil || loc == nil || *loc.Lat != lat || *loc.Lng != lng {
		t.Fatalf("recent location: %+v %v", loc, err)
	}
	if loc, _ := recentLocation(s, who, "wechat-main", t0.Add(time.Minute)); loc != nil {
		t.Fatal("a stale location was returned")
	}
}

// lookupMessage asks only what a channel message already became.
func lookupMessage(s intake.Store, channelID, externalID string) (string, intake.MessageKind, bool, error) {
	got, err := s.MessageContext(context.Background(), intake.MessageQuery{ChannelID: channelID, ExternalID: externalID})
	return got.CaseID, got.Kind, got.Handled, err
}

// recentLocation asks only for the citizen's remembered position.
func recentLocation(s intake.Store, who intake.CitizenKey, channelID string, since time.Time) (*intake.Location, error) {
	got, err := s.MessageContext(context.Background(), intake.MessageQuery{ChannelID: channelID, ExternalID: "never-sent",
		LocationOf: &who, LocationSince: since})
	return got.Location, err
}

func testMessageContext(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	first := mustCreate(t, s, wechatCase("x1", "oCTX", t0)).Case
	second := mustCreate(t, s, wechatCase("x2", "oCTX", t0.Add(time.Hour))).Case
	mustCreate(t, s, wechatCase("x3", "oSOMEONE", t0.Add(time.Hour)))
	if _, err := s.AddSupplement(ctx(t), second.ID, intake.Supplement{ChannelID: "wechat-main", ExternalID: "x4", Text: "补充", ReceivedAt: t0.Add(61 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	who := intake.CitizenKey{Kind: intake.KeyOpenID, Value: "oCTX"}
	lat, lng := 37.52, 122.13
	if err := s.RememberLocation(ctx(t), who, "wechat-main", intake.Location{Lat: &lat, Lng: &lng, Source: intake.LocationGPS}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	ask := func(externalID string, since time.Time, location bool) intake.MessageContext {
		t.Helper()
		q := intake.MessageQuery{ChannelID: "wechat-main", ExternalID: externalID,
			Citizen: []intake.CitizenKey{who}, RecentSince: since, RecentLimit: 20}
		if location {
			q.LocationOf, q.LocationSince = &who, t0.Add(50*time.Minute)
		}
		got, err := s.MessageContext(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// A new message: not handled, both cases newest first, the remembered position.
	got := ask("x9", t0.Add(-time.Minute), true)
	if got.Handled || len(got.Recent) != 2 || got.Recent[0].ID != second.ID || got.Recent[1].ID != first.ID {
		t.Fatalf("new message: %+v", got)
	}
	if got.Location == nil || *got.Location.Lat != lat {
		t.Fatalf("location %+v", got.Location)
	}
	if len(got.Recent[0].StatusHistory) == 0 {
		t.Fatal("recent cases came back without their status history")
	}
	// The window and the location's age are honoured.
	if got := ask("x9", t0.Add(30*time.Minute), false); len(got.Recent) != 1 || got.Recent[0].ID != second.ID || got.Location != nil {
		t.Fatalf("since 30m, no location asked: %+v", got)
	}
	// Retries of what became a case and what became a supplement.
	if got := ask("x1", t0, false); !got.Handled || got.CaseID != first.ID || got.Kind != intake.MessageCase {
		t.Fatalf("retry of a case: %+v", got)
	}
	if got := ask("x4", t0, false); !got.Handled || got.CaseID != second.ID || got.Kind != intake.MessageSupplement {
		t.Fatalf("retry of a supplement: %+v", got)
	}
	// Nothing asked about the citizen: only the retry check.
	got, err := s.MessageContext(ctx(t), intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "x9"})
	if err != nil || got.Handled || got.Recent != nil || got.Location != nil {
		t.Fatalf("bare query: %+v %v", got, err)
	}
	if _, err := s.MessageContext(ctx(t), intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "x9",
		Citizen: []intake.CitizenKey{{Kind: "fax", Value: "1"}}, RecentLimit: 1}); err == nil {
		t.Fatal("an unknown kind of citizen identifier was accepted")
	}

	// Concurrent messages may be answered together (one pipeline on PostgreSQL): each still gets
	// its own answer, and a bad question fails alone.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				var (
					q     intake.MessageQuery
					check func(intake.MessageContext) bool
				)
				switch g % 4 {
				case 0:
					q = intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "x1"}
					check = func(m intake.MessageContext) bool {
						return m.Handled && m.CaseID == first.ID && m.Kind == intake.MessageCase
					}
				case 1:
					q = intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "x4"}
					check = func(m intake.MessageContext) bool {
						return m.Handled && m.CaseID == second.ID && m.Kind == intake.MessageSupplement
					}
				case 2:
					q = intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "x9", Citizen: []intake.CitizenKey{who},
						RecentSince: t0.Add(30 * time.Minute), RecentLimit: 20, LocationOf: &who, LocationSince: t0.Add(50 * time.Minute)}
					check = func(m intake.MessageContext) bool {
						return !m.Handled && len(m.Recent) == 1 && m.Recent[0].ID == second.ID && m.Location != nil
					}
				case 3:
					q = intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "x9",
						Citizen: []intake.CitizenKey{{Kind: "fax", Value: "1"}}, RecentLimit: 1}
				}
				got, err := s.MessageContext(ctx(t), q)
				if check == nil {
					if err == nil {
						errs <- fmt.Errorf("concurrent bad question was answered: %+v", got)
						return
					}
					continue
				}
				if err != nil || !check(got) {
					errs <- fmt.Errorf("concurrent question %d: %+v %v", g%4, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func testDeliveries(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	res := mustCreate(t, s, wechatCase("d1", "oDel", t0))
	c, created := res.Case, res.Deliveries[0]
	if _, err := s.AddSupplement(ctx(t), c.ID, intake.Supplement{ChannelID: "wechat-main", ExternalID: "d2", Text: "补充", ReceivedAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	ds, _ := s.Deliveries(ctx(t), c.ID)
	updated := ds[1]

	got, err := s.GetDelivery(ctx(t), updated.ID)
	if err != nil || got.Event != intake.EventCaseUpdated || got.CaseID != c.ID {
		t.Fatalf("GetDelivery: %+v %v", got, err)
	}
	if _, err := s.GetDelivery(ctx(t), store.NewID()); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("unknown delivery: %v", err)
	}
	if d, dc, err := s.DeliveryWithCase(ctx(t), updated.ID); err != nil || d.ID != updated.ID || dc.ID != c.ID ||
		!strings.Contains(dc.Content.Text, "补充") || len(dc.StatusHistory) != 1 {
		t.Fatalf("DeliveryWithCase: %+v %+v %v", d, dc, err)
	}
	if _, _, err := s.DeliveryWithCase(ctx(t), store.NewID()); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("unknown delivery with case: %v", err)
	}
	if e, err := s.EarlierPending(ctx(t), updated); err != nil || e == nil || e.ID != created.ID {
		t.Fatalf("case.updated must wait for case.created: %+v %v", e, err)
	}
	if e, err := s.EarlierPending(ctx(t), created); err != nil || e != nil {
		t.Fatalf("case.created waits for nothing: %+v %v", e, err)
	}

	record := func(o intake.DeliveryOutcome) {
		t.Helper()
		if err := s.RecordOutcome(ctx(t), o); err != nil {
			t.Fatalf("RecordOutcome: %v", err)
		}
	}
	record(intake.DeliveryOutcome{DeliveryID: created.ID, CaseID: c.ID, Event: created.Event, Attempt: 1, At: t0.Add(2 * time.Minute),
		StatusCode: 503, Error: "503 Service Unavailable", Duration: 1500 * time.Microsecond, State: intake.DeliveryQueued})
	if got, _ := s.GetCase(ctx(t), c.ID); got.Status != intake.StatusReceived {
		t.Fatal("a failed attempt changed the case status")
	}
	record(intake.DeliveryOutcome{DeliveryID: created.ID, CaseID: c.ID, Event: created.Event, Attempt: 2, At: t0.Add(3 * time.Minute),
		StatusCode: 201, State: intake.DeliveryDelivered, CaseRef: "CS-2026-0001"})
	// A late, stale outcome must not undo the delivery.
	record(intake.DeliveryOutcome{DeliveryID: created.ID, CaseID: c.ID, Event: created.Event, Attempt: 1, At: t0.Add(4 * time.Minute),
		StatusCode: 503, State: intake.DeliveryQueued})
	got, _ = s.GetDelivery(ctx(t), created.ID)
	if got.State != intake.DeliveryDelivered || got.Attempts != 2 {
		t.Fatalf("delivery after success: %+v", got)
	}
	attempts, err := s.DeliveryAttempts(ctx(t), created.ID)
	if err != nil || len(attempts) != 2 || attempts[0].StatusCode != 503 || attempts[0].Error == "" || attempts[0].DurationMS != 1.5 || attempts[1].StatusCode != 201 {
		t.Fatalf("attempts %+v %v", attempts, err)
	}
	cs, _ := s.GetCase(ctx(t), c.ID)
	if cs.Status != intake.StatusForwarded || cs.CaseRef != "CS-2026-0001" || cs.StatusHistory[len(cs.StatusHistory)-1].Status != intake.StatusForwarded {
		t.Fatalf("case after delivery: %s %q %+v", cs.Status, cs.CaseRef, cs.StatusHistory)
	}
	if e, _ := s.EarlierPending(ctx(t), updated); e != nil {
		t.Fatal("case.updated still waits after case.created was delivered")
	}

	record(intake.DeliveryOutcome{DeliveryID: updated.ID, CaseID: c.ID, Event: updated.Event, Attempt: 1, At: t0.Add(5 * time.Minute),
		StatusCode: 422, Error: "422 Unprocessable Entity", State: intake.DeliveryDead})
	page, err := s.ListDeliveries(ctx(t), intake.DeliveryFilter{State: intake.DeliveryDead})
	if err != nil || len(page.Deliveries) != 1 || page.Deliveries[0].ID != updated.ID || page.Deliveries[0].LastError == "" {
		t.Fatalf("dead list: %+v %v", page, err)
	}
	jobsBefore := h.JobsForCase(t, s, c.ID)
	if _, err := s.RetryDelivery(ctx(t), created.ID); !errors.Is(err, intake.ErrInvalid) {
		t.Fatalf("retrying a delivered delivery: %v", err)
	}
	if _, err := s.RetryDelivery(ctx(t), store.NewID()); !errors.Is(err, intake.ErrNotFound) {
		t.Fatalf("retrying an unknown delivery: %v", err)
	}
	again, err := s.RetryDelivery(ctx(t), updated.ID)
	if err != nil || again.State != intake.DeliveryQueued {
		t.Fatalf("retry: %+v %v", again, err)
	}
	if n := h.JobsForCase(t, s, c.ID); n != jobsBefore+1 {
		t.Fatalf("retry queued %d jobs, want 1", n-jobsBefore)
	}
	if page, _ := s.ListDeliveries(ctx(t), intake.DeliveryFilter{State: intake.DeliveryDead}); len(page.Deliveries) != 0 {
		t.Fatal("a retried delivery is still listed as dead")
	}

	// Many workers recording at once: every outcome lands.
	var wg sync.WaitGroup
	var ids []string
	for i := range 30 {
		r := mustCreate(t, s, wechatCase(fmt.Sprintf("many-%d", i), "oMany", t0))
		ids = append(ids, r.Deliveries[0].ID)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.RecordOutcome(context.Background(), intake.DeliveryOutcome{DeliveryID: r.Deliveries[0].ID, CaseID: r.Case.ID,
				Event: intake.EventCaseCreated, Attempt: 1, At: t0.Add(time.Hour), StatusCode: 200, State: intake.DeliveryDelivered}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if d, _ := s.GetDelivery(ctx(t), id); d.State != intake.DeliveryDelivered {
			t.Fatalf("delivery %s: %s", id, d.State)
		}
	}
}

// testRequeueStranded: a queued delivery whose job finished without delivering it, or whose job
// has been running far longer than any job may (its process died), gets a fresh job; deliveries
// whose jobs will still run, and settled ones, are left alone; a second pass finds nothing.
func testRequeueStranded(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Now().UTC()
	create := func(id string) intake.CreateResult {
		return mustCreate(t, s, NewCase("rest", "stranded-"+id, t0))
	}
	gone, stuck, waiting, fresh, delivered := create("gone"), create("stuck"), create("waiting"), create("fresh"), create("delivered")
	h.SetForwardJob(t, s, gone.Deliveries[0].ID, "completed", time.Hour)
	h.SetForwardJob(t, s, stuck.Deliveries[0].ID, "running", time.Hour)
	h.SetForwardJob(t, s, fresh.Deliveries[0].ID, "running", time.Second)
	h.SetForwardJob(t, s, delivered.Deliveries[0].ID, "completed", time.Hour)
	if err := s.RecordOutcome(ctx(t), intake.DeliveryOutcome{DeliveryID: delivered.Deliveries[0].ID, CaseID: delivered.Case.ID,
		Event: intake.EventCaseCreated, Attempt: 1, At: t0, StatusCode: 201, State: intake.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	jobs := map[string]int{}
	for _, r := range []intake.CreateResult{gone, stuck, waiting, fresh, delivered} {
		jobs[r.Case.ID] = h.JobsForCase(t, s, r.Case.ID)
	}

	got, err := s.RequeueStranded(ctx(t), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range got {
		ids = append(ids, d.ID)
		if d.State != intake.DeliveryQueued {
			t.Errorf("requeued delivery %s is %s", d.ID, d.State)
		}
	}
	want := []string{gone.Deliveries[0].ID, stuck.Deliveries[0].ID}
	sort.Strings(ids)
	sort.Strings(want)
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("requeued %v, want the delivery whose job is gone and the one whose job is stuck %v", ids, want)
	}
	for _, r := range []intake.CreateResult{gone, stuck, waiting, fresh, delivered} {
		n, wantNew := h.JobsForCase(t, s, r.Case.ID)-jobs[r.Case.ID], 0
		if r.Case.ID == gone.Case.ID || r.Case.ID == stuck.Case.ID {
			wantNew = 1
		}
		if n != wantNew {
			t.Errorf("case %s got %d new jobs, want %d", r.Case.ExternalID, n, wantNew)
		}
	}
	if again, err := s.RequeueStranded(ctx(t), time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("second pass requeued %d deliveries (%v), want none: each has a job that will run", len(again), err)
	}
}

func testRepeated(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	sms := NewCase("sms-main", "SM1", t0) // phone +8613800138000
	orig := mustCreate(t, s, sms).Case
	wx := wechatCase("w1", "oRep", t0.Add(time.Hour))
	wx.Case.Citizen.Phone = "+8613800138000"
	mustCreate(t, s, wx)
	mustCreate(t, s, NewCase("sms-main", "SM-old", t0.Add(-30*24*time.Hour)))
	other := NewCase("sms-main", "SM-other", t0.Add(2*time.Hour))
	other.Case.Citizen.Phone = "+8613900000000"
	mustCreate(t, s, other)

	keys := []intake.CitizenKey{{Kind: intake.KeyPhone, Value: "+8613800138000"}, {Kind: intake.KeyOpenID, Value: "oRep"}}
	recent, err := s.RecentCases(ctx(t), keys, t0.Add(-7*24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 2 || recent[0].ExternalID != "w1" || recent[1].ExternalID != "SM1" {
		var got []string
		for _, c := range recent {
			got = append(got, c.ExternalID)
		}
		t.Fatalf("recent cases %v, want [w1 SM1] (newest first, each once, none older than the window)", got)
	}
	if r, _ := s.RecentCases(ctx(t), keys, t0.Add(-7*24*time.Hour), 1); len(r) != 1 {
		t.Fatalf("limit ignored: %d", len(r))
	}

	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup := NewCase("sms-main", fmt.Sprintf("SM-dup-%d", i), t0.Add(time.Duration(3+i)*time.Hour))
			dup.Case.Related.DuplicateOf = orig.ID
			dup.Event = intake.EventCaseDuplicate
			res, err := s.CreateCase(context.Background(), dup)
			if err != nil {
				t.Error(err)
				return
			}
			if res.Deliveries[0].Event != intake.EventCaseDuplicate || res.Case.Related.DuplicateOf != orig.ID {
				t.Errorf("duplicate created with %+v", res.Deliveries)
			}
		}()
	}
	wg.Wait()
	got, _ := s.GetCase(ctx(t), orig.ID)
	if got.Related.MergedCount != 3 {
		t.Fatalf("merged_count %d, want 3", got.Related.MergedCount)
	}
	if page, _ := s.ListCases(ctx(t), intake.CaseFilter{Limit: 100}); len(page.Cases) != 7 {
		t.Fatalf("%d cases: a repeated request is still recorded as a case", len(page.Cases))
	}
}

func testNotifications(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	c := mustCreate(t, s, wechatCase("n1", "oNote", time.Now().UTC())).Case
	n, err := s.QueueNotification(ctx(t), intake.Notification{CaseID: c.ID, Event: "resolved", Channel: intake.ChannelWeChat,
		ChannelID: "wechat-main", Address: "oNote", Text: "您的工单已办结"})
	if err != nil || n.ID == "" || n.State != intake.NotificationQueued {
		t.Fatalf("queue: %+v %v", n, err)
	}
	if jobs := h.JobsForCase(t, s, c.ID); jobs != 1 {
		t.Fatalf("forward jobs %d: a notification must not queue a forward job", jobs)
	}
	got, err := s.GetNotification(ctx(t), n.ID)
	if err != nil || got.Text != "您的工单已办结" || got.Address != "oNote" {
		t.Fatalf("get: %+v %v", got, err)
	}
	// The first channel could not deliver; the worker fell back to SMS and Twilio accepted it.
	got.Channel, got.ChannelID, got.Address = intake.ChannelSMS, "sms-main", "+8613800138000"
	got.State, got.ProviderRef, got.Attempts, got.Reason = intake.NotificationSent, "SM123", 2, "wechat: 45015 out of window; sent by SMS"
	if err := s.UpdateNotification(ctx(t), *got); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	if found, err := s.UpdateNotificationByRef(ctx(t), "sms-main", "SM123", intake.NotificationDelivered, "", at); err != nil || !found {
		t.Fatalf("delivery report: %v %v", found, err)
	}
	// A late "sent" report must not undo "delivered".
	if found, _ := s.UpdateNotificationByRef(ctx(t), "sms-main", "SM123", intake.NotificationSent, "", at); !found {
		t.Fatal("late report not matched")
	}
	if found, _ := s.UpdateNotificationByRef(ctx(t), "sms-main", "SM-unknown", intake.NotificationFailed, "x", at); found {
		t.Fatal("an unknown reference matched")
	}
	list, err := s.CaseNotifications(ctx(t), c.ID)
	if err != nil || len(list) != 1 || list[0].State != intake.NotificationDelivered || list[0].Channel != intake.ChannelSMS || list[0].Attempts != 2 ||
		!strings.Contains(list[0].Reason, "45015") {
		t.Fatalf("notifications %+v %v", list, err)
	}
}

// tokenStore is the role a store plays for the WeChat channel's shared access tokens (the
// channel declares it as wechat.Tokens).
type tokenStore interface {
	intake.Store
	LoadToken(ctx context.Context, key string) (value string, expiresAt time.Time, err error)
	SaveToken(ctx context.Context, key, value string, expiresAt time.Time) error
	InvalidateToken(ctx context.Context, key, stale string) error
	WithTokenLock(ctx context.Context, key string, fn func(ctx context.Context) error) error
}

func testTokens(t *testing.T, h Harness) {
	s, ok := h.Open(t, Options()).(tokenStore)
	if !ok {
		t.Fatal("the store keeps no platform tokens")
	}
	exp := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Microsecond)
	if v, _, err := s.LoadToken(ctx(t), "wechat:wx1"); err != nil || v != "" {
		t.Fatalf("empty: %q %v", v, err)
	}
	if err := s.SaveToken(ctx(t), "wechat:wx1", "tok-1", exp); err != nil {
		t.Fatal(err)
	}
	if v, e, _ := s.LoadToken(ctx(t), "wechat:wx1"); v != "tok-1" || !e.Equal(exp) {
		t.Fatalf("load: %q %v", v, e)
	}
	_ = s.SaveToken(ctx(t), "wechat:wx1", "tok-2", exp)
	if err := s.InvalidateToken(ctx(t), "wechat:wx1", "tok-1"); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := s.LoadToken(ctx(t), "wechat:wx1"); v != "tok-2" {
		t.Fatal("invalidating a stale value removed the fresh token")
	}
	_ = s.InvalidateToken(ctx(t), "wechat:wx1", "tok-2")
	if v, _, _ := s.LoadToken(ctx(t), "wechat:wx1"); v != "" {
		t.Fatal("token not invalidated")
	}
	// The lock admits one holder at a time.
	var (
		wg      sync.WaitGroup
		inside  int32
		overlap bool
		mu      sync.Mutex
	)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.WithTokenLock(context.Background(), "wechat:wx1", func(context.Context) error {
				mu.Lock()
				inside++
				if inside > 1 {
					overlap = true
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				inside--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if overlap {
		t.Fatal("two holders of the token lock at once")
	}
}

func testFeedback(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Now().UTC().Add(-time.Hour)
	c := mustCreate(t, s, wechatCase("f1", "oFb", t0)).Case
	if _, err := s.AddStatus(ctx(t), c.ID, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: t0.Add(time.Minute), Source: "cs", EventID: "r1"}, nil); err != nil {
		t.Fatal(err)
	}
	fb := intake.Feedback{ChannelID: "wechat-main", ExternalID: "f2", Rating: "dissatisfied", Text: "3", ReceivedAt: t0.Add(10 * time.Minute), Reopen: true}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied int
	)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.RecordFeedback(context.Background(), c.ID, fb)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				applied++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if applied != 1 {
		t.Fatalf("feedback applied %d times", applied)
	}
	got, _ := s.GetCase(ctx(t), c.ID)
	var events []string
	for _, h := range got.StatusHistory {
		events = append(events, h.Event)
	}
	if got.Status != intake.StatusAssigned || strings.Join(events, ",") != "received,resolved,feedback,reopened" {
		t.Fatalf("after dissatisfied feedback: %s %v", got.Status, events)
	}
	if _, kind, found, _ := lookupMessage(s, "wechat-main", "f2"); !found || kind != intake.MessageFeedback {
		t.Fatalf("feedback message not recorded: %v %s", found, kind)
	}
	ds, _ := s.Deliveries(ctx(t), c.ID)
	if len(ds) != 2 || ds[1].Event != intake.EventCaseFeedback {
		t.Fatalf("deliveries %+v", ds)
	}
	// A satisfied answer neither reopens nor changes the status.
	c2 := mustCreate(t, s, wechatCase("f3", "oFb2", t0)).Case
	_, _ = s.AddStatus(ctx(t), c2.ID, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: t0.Add(time.Minute), Source: "cs", EventID: "r2"}, nil)
	if ok, err := s.RecordFeedback(ctx(t), c2.ID, intake.Feedback{ChannelID: "wechat-main", ExternalID: "f4", Rating: "satisfied", Text: "1", ReceivedAt: t0.Add(20 * time.Minute)}); err != nil || !ok {
		t.Fatal(err)
	}
	if got, _ := s.GetCase(ctx(t), c2.ID); got.Status != intake.StatusResolved {
		t.Fatalf("satisfied feedback changed the status to %s", got.Status)
	}
}

// backlogger is the store method the metrics' backlog gauges read.
type backlogger interface {
	DeliveryBacklog(ctx context.Context) ([]intake.DeliveryBacklog, error)
}

// testDeliveryBacklog: queued deliveries are counted per target with the oldest one's creation
// time, dead ones separately, and delivered ones not at all.
func testDeliveryBacklog(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	b, ok := s.(backlogger)
	if !ok {
		t.Fatalf("%T has no DeliveryBacklog", s)
	}
	if got, err := b.DeliveryBacklog(ctx(t)); err != nil || len(got) != 0 {
		t.Fatalf("empty store backlog: %+v %v", got, err)
	}
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	var ds []intake.Delivery
	for i := range 4 {
		res := mustCreate(t, s, wechatCase(fmt.Sprintf("bl-%d", i), "oBacklog", t0.Add(time.Duration(i)*time.Minute)))
		ds = append(ds, res.Deliveries[0])
	}
	record := func(d intake.Delivery, state intake.DeliveryState) {
		t.Helper()
		if err := s.RecordOutcome(ctx(t), intake.DeliveryOutcome{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Attempt: 1,
			At: t0.Add(time.Hour), StatusCode: 422, State: state}); err != nil {
			t.Fatal(err)
		}
	}
	record(ds[0], intake.DeliveryDelivered)
	record(ds[1], intake.DeliveryDead)
	got, err := b.DeliveryBacklog(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("backlog: %+v, want one target", got)
	}
	g := got[0]
	oldest := ds[2].CreatedAt
	for _, d := range ds[3:] {
		if d.CreatedAt.Before(oldest) {
			oldest = d.CreatedAt
		}
	}
	if g.Target != ds[0].Target || g.Queued != 2 || g.Dead != 1 || !g.OldestQueued.Equal(oldest) {
		t.Fatalf("backlog %+v, want target %q, 2 queued since %s, 1 dead", g, ds[0].Target, oldest)
	}
}

// retainer is what the retention sweep needs from a store.
type retainer interface {
	ClearRawPayloads(ctx context.Context, before time.Time, limit int) (int, error)
	PseudonymizeCases(ctx context.Context, before time.Time, limit int, p store.Pseudonym) (int, error)
}

// testRetention: past their period, cases lose their raw payloads (in the case row, in the
// legacy table, and their messages') and then their citizen's name, phone numbers, openid and
// Weibo uid, replaced by pseudonyms in the record, the columns and notification addresses; cases
// within the period are untouched; each case is done once, in batches, whatever the batch size;
// everything statistics use is kept.
func testRetention(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	r, ok := s.(retainer)
	if !ok {
		t.Fatalf("%T has no retention methods", s)
	}
	t0 := time.Date(2026, 1, 10, 2, 0, 0, 0, time.UTC)
	cutoff := t0.Add(30 * 24 * time.Hour)

	restOld := NewCase("rest-main", "ret-1", t0)
	restOld.Case.Citizen.Name = "王女士"
	wxOld := wechatCase("ret-2", "oRetentionOpenID", t0.Add(time.Hour))
	wxOld.Case.Citizen.Name = "李先生"
	wxOld.Case.Citizen.Phone, wxOld.Case.Citizen.PhoneRaw = "+8613900139000", "139 0013 9000"
	weiboOld := NewCase("weibo-main", "ret-3", t0.Add(2*time.Hour))
	weiboOld.Case.Channel = intake.ChannelWeibo
	weiboOld.Case.Citizen = intake.Citizen{WeiboUID: "5566778899"}
	legacyOld := NewCase("rest-main", "ret-4", t0.Add(3*time.Hour))
	recent := NewCase("rest-main", "ret-5", cutoff.Add(time.Hour))
	recent.Case.Citizen.Name = "赵女士"
	var cases []*intake.Case
	for _, nc := range []intake.NewCase{restOld, wxOld, weiboOld, legacyOld, recent} {
		cases = append(cases, mustCreate(t, s, nc).Case)
	}
	h.MakeLegacyPayload(t, s, cases[3].ID)
	if _, err := s.AddSupplement(ctx(t), cases[1].ID, intake.Supplement{ChannelID: "wechat-main", ExternalID: "ret-2b", Text: "补充说明",
		ReceivedAt: t0.Add(90 * time.Minute), Raw: intake.RawPayload{ContentType: "text/xml", Body: []byte("<xml>oRetentionOpenID</xml>")}}); err != nil {
		t.Fatal(err)
	}
	note := intake.Notification{ID: store.NewID(), CaseID: cases[1].ID, Event: "accepted", Channel: intake.ChannelWeChat,
		ChannelID: "wechat-main", Address: "oRetentionOpenID", Text: "您的工单已受理。"}
	if _, err := s.AddStatus(ctx(t), cases[1].ID, intake.StatusChange{Status: intake.StatusAccepted, Event: "accepted",
		At: t0.Add(2 * time.Hour), Source: "cs", EventID: "ret-acc"}, []intake.Notification{note}); err != nil {
		t.Fatal(err)
	}
	if n := h.RawPayloads(t, s, cases[1].ID); n != 2 {
		t.Fatalf("raw payloads of the WeChat case before retention: %d, want 2 (case and supplement)", n)
	}
	if n := h.RawPayloads(t, s, cases[3].ID); n != 1 {
		t.Fatalf("legacy raw payload before retention: %d", n)
	}

	// Raw payloads, two cases per batch: 2 + 2 old cases, then nothing; the recent one keeps its.
	var done []int
	for {
		n, err := r.ClearRawPayloads(ctx(t), cutoff, 2)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, n)
		if n < 2 {
			break
		}
	}
	if fmt.Sprint(done) != "[2 2 0]" {
		t.Fatalf("raw payload batches %v, want [2 2 0]", done)
	}
	for i, c := range cases {
		want := 0
		if i == 4 {
			want = 1
		}
		if n := h.RawPayloads(t, s, c.ID); n != want {
			t.Fatalf("case %d: %d raw payloads after retention, want %d", i, n, want)
		}
	}
	before, err := s.GetCase(ctx(t), cases[1].ID)
	if err != nil || before.Citizen.Name != "李先生" {
		t.Fatalf("clearing raw payloads touched the record: %+v %v", before, err)
	}

	// Personal data, three per batch.
	pseudo := func(kind, value string) string { return "pn:" + kind + ":" + strings.ToUpper(value) }
	done = nil
	for {
		n, err := r.PseudonymizeCases(ctx(t), cutoff, 3, pseudo)
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, n)
		if n < 3 {
			break
		}
	}
	if fmt.Sprint(done) != "[3 1]" {
		t.Fatalf("pseudonymizing batches %v, want [3 1]", done)
	}
	// Again: every case was done once, and a pseudonym is not pseudonymized again.
	if n, err := r.PseudonymizeCases(ctx(t), cutoff, 3, pseudo); err != nil || n != 0 {
		t.Fatalf("second pass: %d %v", n, err)
	}

	get := func(i int) *intake.Case {
		t.Helper()
		c, err := s.GetCase(ctx(t), cases[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := get(0); c.Citizen.Name != "pn:name:王女士" || c.Citizen.Phone != "pn:phone:+8613800138000" {
		t.Fatalf("REST case citizen: %+v", c.Citizen)
	}
	wx := get(1)
	if wx.Citizen.Name != "pn:name:李先生" || wx.Citizen.WeChatOpenID != "pn:openid:ORETENTIONOPENID" ||
		wx.Citizen.Phone != "pn:phone:+8613900139000" || wx.Citizen.PhoneRaw != wx.Citizen.Phone {
		t.Fatalf("WeChat case citizen: %+v", wx.Citizen)
	}
	if c := get(2); c.Citizen.WeiboUID != "pn:weibo_uid:5566778899" {
		t.Fatalf("Weibo case citizen: %+v", c.Citizen)
	}
	if c := get(4); c.Citizen.Name != "赵女士" || c.Citizen.Phone != "+8613800138000" {
		t.Fatalf("a case within the period was pseudonymized: %+v", c.Citizen)
	}
	// What statistics use is kept: channel, category, status, text, times, history.
	if wx.Channel != before.Channel || wx.Classification.Category != before.Classification.Category || wx.Status != before.Status ||
		wx.Content.Text != before.Content.Text || !wx.ReceivedAt.Equal(before.ReceivedAt) || len(wx.StatusHistory) != len(before.StatusHistory) ||
		wx.CaseNo != before.CaseNo {
		t.Fatalf("pseudonymizing changed more than the citizen:\nbefore %+v\nafter  %+v", before, wx)
	}
	// The columns follow the record: the real openid finds nothing, its pseudonym the case.
	if got, err := s.RecentCases(ctx(t), []intake.CitizenKey{{Kind: intake.KeyOpenID, Value: "oRetentionOpenID"}}, t0.Add(-time.Hour), 10); err != nil || len(got) != 0 {
		t.Fatalf("the real openid still finds %d cases (%v)", len(got), err)
	}
	if got, err := s.RecentCases(ctx(t), []intake.CitizenKey{{Kind: intake.KeyOpenID, Value: "pn:openid:ORETENTIONOPENID"}}, t0.Add(-time.Hour), 10); err != nil || len(got) != 1 {
		t.Fatalf("the pseudonym finds %d cases (%v)", len(got), err)
	}
	notes, err := s.CaseNotifications(ctx(t), cases[1].ID)
	if err != nil || len(notes) != 1 || notes[0].Address != "pn:openid:ORETENTIONOPENID" || notes[0].Text != note.Text {
		t.Fatalf("notification after pseudonymizing: %+v %v", notes, err)
	}
}
