package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// testSupplementLimits: a supplement that would take a case past its number of supplements or
// its text length is refused with ErrCaseFull and leaves nothing behind; one over the text limit
// of a single message is invalid; concurrent supplements never overshoot the limits together.
func testSupplementLimits(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	c := mustCreate(t, s, wechatCase("L0", "oLIM", t0)).Case
	lim := intake.SupplementLimits{MaxTextChars: 100, MaxCaseChars: 10_000, MaxSupplements: 3}
	sup := func(id, text string) intake.Supplement {
		return intake.Supplement{ChannelID: "wechat-main", ExternalID: id, Text: text, ReceivedAt: t0.Add(time.Minute),
			PayloadHash: "hash-" + id, Limits: lim, Raw: intake.RawPayload{ContentType: "text/xml", Body: []byte("<xml/>")}}
	}
	for i := range 3 {
		if res, err := s.AddSupplement(ctx(t), c.ID, sup(fmt.Sprintf("L%d", i+1), "补充说明")); err != nil || !res.Applied || res.PayloadHash != fmt.Sprintf("hash-L%d", i+1) {
			t.Fatalf("supplement %d: %+v %v", i+1, res, err)
		}
	}
	before, _ := s.GetCase(ctx(t), c.ID)
	deliveriesBefore, _ := s.Deliveries(ctx(t), c.ID)
	if _, err := s.AddSupplement(ctx(t), c.ID, sup("L4", "第四条补充")); !errors.Is(err, intake.ErrCaseFull) {
		t.Fatalf("the 4th supplement of a case that takes 3: %v, want ErrCaseFull", err)
	}
	assertUnchanged := func(what, id string) {
		t.Helper()
		after, _ := s.GetCase(ctx(t), c.ID)
		if after.Content.Text != before.Content.Text {
			t.Fatalf("%s changed the case text: %q", what, after.Content.Text)
		}
		if ds, _ := s.Deliveries(ctx(t), c.ID); len(ds) != len(deliveriesBefore) {
			t.Fatalf("%s queued a delivery", what)
		}
		if _, _, found, _ := lookupMessage(s, "wechat-main", id); found {
			t.Fatalf("%s was stored as a message", what)
		}
	}
	assertUnchanged("a refused supplement", "L4")
	// A retry of a supplement that was applied is still a retry, full or not.
	if res, err := s.AddSupplement(ctx(t), c.ID, sup("L2", "补充说明")); err != nil || res.Applied || res.PayloadHash != "hash-L2" {
		t.Fatalf("retry of an applied supplement on a full case: %+v %v", res, err)
	}
	// The same external id with other content: not applied, and the first content's hash comes
	// back so the caller can tell it is no retry.
	other := sup("L2", "另一段内容")
	other.PayloadHash = "hash-other"
	if res, err := s.AddSupplement(ctx(t), c.ID, other); err != nil || res.Applied || res.PayloadHash != "hash-L2" {
		t.Fatalf("an id used again: %+v %v", res, err)
	}
	if got, err := s.MessageContext(ctx(t), intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "L1"}); err != nil || !got.Handled || got.PayloadHash != "hash-L1" {
		t.Fatalf("message context of a supplement: %+v %v", got, err)
	}
	if got, err := s.MessageContext(ctx(t), intake.MessageQuery{ChannelID: "wechat-main", ExternalID: "L0"}); err != nil || !got.Handled || got.PayloadHash != "hash-L0" {
		t.Fatalf("message context of a case: %+v %v", got, err)
	}

	// One message over the text limit is invalid, as an over-long new case is.
	if _, err := s.AddSupplement(ctx(t), c.ID, sup("L-long", strings.Repeat("长", 101))); !errors.Is(err, intake.ErrInvalid) {
		t.Fatalf("over-long supplement: %v, want ErrInvalid", err)
	}
	assertUnchanged("an over-long supplement", "L-long")

	// The case text as a whole: room for two more 40-character supplements, not three.
	c2 := mustCreate(t, s, wechatCase("T0", "oLIM2", t0)).Case
	textLim := intake.SupplementLimits{MaxTextChars: 100, MaxCaseChars: len([]rune(c2.Content.Text)) + 2*(40+len([]rune("\n[补充 11-27 10:01] ")))}
	applied, full := 0, 0
	for i := range 3 {
		x := sup(fmt.Sprintf("T%d", i+1), strings.Repeat("补", 40))
		x.Limits = textLim
		_, err := s.AddSupplement(ctx(t), c2.ID, x)
		switch {
		case err == nil:
			applied++
		case errors.Is(err, intake.ErrCaseFull):
			full++
		default:
			t.Fatal(err)
		}
	}
	if applied != 2 || full != 1 {
		t.Fatalf("text limit: %d applied, %d full; want 2 and 1", applied, full)
	}
	if got, _ := s.GetCase(ctx(t), c2.ID); len([]rune(got.Content.Text)) > textLim.MaxCaseChars {
		t.Fatalf("case text is %d characters, over %d", len([]rune(got.Content.Text)), textLim.MaxCaseChars)
	}

	// Concurrent supplements to one case: exactly the limit is applied, the rest refused.
	c3 := mustCreate(t, s, wechatCase("C0", "oLIM3", t0)).Case
	concurrent := intake.SupplementLimits{MaxTextChars: 100, MaxCaseChars: 10_000, MaxSupplements: 5}
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		okN, fullN int
		unexpected []error
	)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := sup(fmt.Sprintf("C%d", i+1), fmt.Sprintf("并发补充%d", i))
			x.Limits = concurrent
			_, err := s.AddSupplement(context.Background(), c3.ID, x)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				okN++
			case errors.Is(err, intake.ErrCaseFull):
				fullN++
			default:
				unexpected = append(unexpected, err)
			}
		}()
	}
	wg.Wait()
	if len(unexpected) > 0 || okN != 5 || fullN != 11 {
		t.Fatalf("16 concurrent supplements to a case that takes 5: %d applied, %d full, errors %v", okN, fullN, unexpected)
	}
	got, _ := s.GetCase(ctx(t), c3.ID)
	if n := strings.Count(got.Content.Text, "[补充"); n != 5 {
		t.Fatalf("case text carries %d supplements, want 5", n)
	}
	if ds, _ := s.Deliveries(ctx(t), c3.ID); len(ds) != 6 {
		t.Fatalf("%d deliveries, want case.created and 5 case.updated", len(ds))
	}
}

// testNonces: a signature is good for its first body and for retries with that body, never
// for another body, until it expires; racing copies agree; expired entries are pruned.
func testNonces(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	claim := func(st intake.Store, channel, sig, body string, at time.Time) bool {
		t.Helper()
		ok, err := st.ClaimNonce(ctx(t), intake.NonceClaim{ChannelID: channel, Signature: sig, Nonce: "n-" + sig,
			BodyHash: body, At: at, ExpiresAt: t0.Add(5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim(s, "wx", "sig1", "body-a", t0) {
		t.Fatal("first use refused")
	}
	if !claim(s, "wx", "sig1", "body-a", t0.Add(time.Second)) {
		t.Fatal("a retry with the same body refused")
	}
	if claim(s, "wx", "sig1", "body-b", t0.Add(2*time.Second)) {
		t.Fatal("the same signature with another body accepted")
	}
	if !claim(s, "wx", "sig1", "body-a", t0.Add(3*time.Second)) {
		t.Fatal("after a refused replay, the genuine retry must still pass")
	}
	// The signature is the key: the same signature under another nonce (a sorted signature also
	// verifies for another split of the same digits) is the same request.
	if ok, err := s.ClaimNonce(ctx(t), intake.NonceClaim{ChannelID: "wx", Signature: "sig1", Nonce: "other-split", BodyHash: "body-b",
		At: t0, ExpiresAt: t0.Add(5 * time.Minute)}); err != nil || ok {
		t.Fatalf("the same signature under another nonce with another body: %v %v", ok, err)
	}
	if !claim(s, "weibo", "sig1", "body-b", t0) {
		t.Fatal("the same signature on another channel is another request")
	}
	// Past its expiry the entry is gone (the timestamp check refuses such a request anyway).
	if !claim(s, "wx", "sig1", "body-c", t0.Add(6*time.Minute)) {
		t.Fatal("an expired entry still bound its signature")
	}

	// Racing copies: with the same body all pass; with different bodies exactly one does.
	var (
		wg            sync.WaitGroup
		mu            sync.Mutex
		same, differs int
	)
	for i := range 12 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ok, err := s.ClaimNonce(context.Background(), intake.NonceClaim{ChannelID: "wx", Signature: "race-same", BodyHash: "b", At: t0, ExpiresAt: t0.Add(time.Minute)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			} else if ok {
				same++
			}
		}()
		go func() {
			defer wg.Done()
			ok, err := s.ClaimNonce(context.Background(), intake.NonceClaim{ChannelID: "wx", Signature: "race-diff", BodyHash: fmt.Sprint("b", i), At: t0, ExpiresAt: t0.Add(time.Minute)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			} else if ok {
				differs++
			}
		}()
	}
	wg.Wait()
	if same != 12 || differs != 1 {
		t.Fatalf("racing copies: %d of 12 with one body passed (want 12), %d of 12 with different bodies (want 1)", same, differs)
	}

	// Pruning removes what expired and keeps the rest.
	for i := range 5 {
		claim(s, "prune", fmt.Sprint("old-", i), "x", t0) // expires t0+5m
	}
	if _, err := s.ClaimNonce(ctx(t), intake.NonceClaim{ChannelID: "prune", Signature: "young", BodyHash: "y", At: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneExpired(ctx(t), t0.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// The five old ones, sig1 (expired at t0+5m) and the raced ones (t0+1m); not "young".
	if n != 9 {
		t.Fatalf("pruned %d rows, want 9", n)
	}
	if n, _ := s.PruneExpired(ctx(t), t0.Add(10*time.Minute)); n != 0 {
		t.Fatalf("a second prune removed %d rows", n)
	}
	if claim(s, "prune", "young", "other", t0.Add(20*time.Minute)) {
		t.Fatal("pruning removed an entry that had not expired")
	}
}

// testLookupLimits: failed look-ups are counted per key; the limit-th within the window locks
// the key for the lockout, reported by exactly one failure; other keys are unaffected.
func testLookupLimits(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	p := intake.LookupPolicy{Limit: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	fail := func(at time.Time, keys ...string) []string {
		t.Helper()
		locked, err := s.RecordLookupFailure(ctx(t), keys, at, p)
		if err != nil {
			t.Fatal(err)
		}
		return locked
	}
	locked := func(at time.Time, keys ...string) bool {
		t.Helper()
		l, err := s.LookupLocked(ctx(t), keys, at)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	for i := range 4 {
		if got := fail(t0.Add(time.Duration(i)*time.Minute), "case:WH1", fmt.Sprint("sender:", i)); len(got) != 0 {
			t.Fatalf("failure %d locked %v", i+1, got)
		}
	}
	if locked(t0.Add(4*time.Minute), "case:WH1") {
		t.Fatal("locked after 4 failures")
	}
	if got := fail(t0.Add(4*time.Minute), "case:WH1", "sender:4"); len(got) != 1 || got[0] != "case:WH1" {
		t.Fatalf("the 5th failure locked %v, want [case:WH1]", got)
	}
	if !locked(t0.Add(5*time.Minute), "sender:x", "case:WH1") || locked(t0.Add(5*time.Minute), "case:WH2", "sender:0") {
		t.Fatal("lockout not reported for the locked key alone")
	}
	if got := fail(t0.Add(6*time.Minute), "case:WH1"); len(got) != 0 {
		t.Fatalf("a failure while locked locked again: %v", got)
	}
	if !locked(t0.Add(4*time.Minute+15*time.Minute-time.Second), "case:WH1") || locked(t0.Add(4*time.Minute+15*time.Minute), "case:WH1") {
		t.Fatal("the lockout does not last exactly its period")
	}
	// Failures spread wider than the window never add up to a lockout.
	for i := range 10 {
		if got := fail(t0.Add(time.Duration(i)*4*time.Minute), "case:WH3"); len(got) != 0 {
			t.Fatalf("slow failures locked the key at %d", i)
		}
	}
	if _, err := s.RecordLookupFailure(ctx(t), []string{"k"}, t0, intake.LookupPolicy{}); !errors.Is(err, intake.ErrInvalid) {
		t.Fatalf("a policy without a limit: %v", err)
	}

	// Racing failures on one key: all counted, exactly one reports the lockout.
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		lockes int
	)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := s.RecordLookupFailure(context.Background(), []string{"case:RACE", "sender:race"}, t0, p)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			}
			lockes += len(got)
		}()
	}
	wg.Wait()
	if lockes != 2 || !locked(t0, "case:RACE") || !locked(t0, "sender:race") {
		t.Fatalf("12 racing failures on two keys reported %d lockouts, want 2 (one per key)", lockes)
	}

	// Counters whose window and lockout are over are pruned.
	n, err := s.PruneExpired(ctx(t), t0.Add(24*time.Hour))
	if err != nil || n == 0 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if locked(t0, "case:RACE") {
		t.Fatal("a pruned counter is still locked")
	}
}

// testGuardsAcrossProcesses: a second process on the same database sees the first one's nonces
// and lockouts.
func testGuardsAcrossProcesses(t *testing.T, h Harness) {
	a := h.Open(t, Options())
	b := h.OpenSecond(t, a, Options())
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	nc := intake.NonceClaim{ChannelID: "wx", Signature: "shared", BodyHash: "first", At: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	if ok, err := a.ClaimNonce(ctx(t), nc); err != nil || !ok {
		t.Fatalf("first use: %v %v", ok, err)
	}
	nc.BodyHash = "second"
	if ok, err := b.ClaimNonce(ctx(t), nc); err != nil || ok {
		t.Fatalf("the other process accepted another body: %v %v", ok, err)
	}
	p := intake.LookupPolicy{Limit: 2, Window: time.Minute, Lockout: time.Minute}
	if _, err := a.RecordLookupFailure(ctx(t), []string{"case:X"}, t0, p); err != nil {
		t.Fatal(err)
	}
	if got, err := b.RecordLookupFailure(ctx(t), []string{"case:X"}, t0, p); err != nil || len(got) != 1 {
		t.Fatalf("the other process's failure did not complete the count: %v %v", got, err)
	}
	if l, err := a.LookupLocked(ctx(t), []string{"case:X"}, t0); err != nil || !l {
		t.Fatalf("lockout not shared: %v %v", l, err)
	}
}

// testCloseTwice: a store may be closed again (a restart in a test, then its cleanup), and the
// second Close neither panics nor fails.
func testCloseTwice(t *testing.T, h Harness) {
	s := h.Open(t, Options())
	mustCreate(t, s, NewCase("rest:crm", "close-1", time.Now().UTC()))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
