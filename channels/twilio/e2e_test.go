package twilio_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// submitReceiver is the least a Receiver does: store the submission through the real intake
// service and answer with the case number. The shared conversation layer does more (threading,
// status queries, opt-outs); what matters here is that the adapter's submissions are accepted by
// the core and that retries are recognised.
type submitReceiver struct {
	svc     intake.Submitter
	created atomic.Int32
}

func (r *submitReceiver) Receive(ctx context.Context, msg app.Message) (app.Reply, error) {
	rc, err := r.svc.Submit(ctx, msg.Submission)
	if err != nil {
		return app.Reply{}, err
	}
	out := app.OutcomeDuplicate
	if rc.Created {
		r.created.Add(1)
		out = app.OutcomeCreated
	}
	return app.Reply{Text: "已受理，工单编号" + rc.Case.CaseNo + "，查询码" + rc.Case.QueryCode, Outcome: out, Case: rc.Case}, nil
}

func (r *submitReceiver) Event(context.Context, app.Event) (app.Reply, error) {
	return app.Reply{}, nil
}

func openCore(t *testing.T) (*sqlite.Store, *submitReceiver) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "intake.db"), Options: store.Options{CaseNoPrefix: "WH"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := app.NewIntake(st, nil, app.IntakeOptions{Normalize: normalize.Options{PhoneRegion: "CN"}}, nil)
	return st, &submitReceiver{svc: svc}
}

// Twilio delivers the same message several times at once (its retry racing the first
// delivery): one case, and every copy gets the same answer.
func TestConcurrentDuplicateDeliveriesMakeOneCase(t *testing.T) {
	st, rcv := openCore(t)
	e, _ := newServer(t, setup{other: rcv})
	sig := signBody(t, testToken, publicBase+smsPath, bodyMMS)
	const copies = 12
	bodies := make([]string, copies)
	codes := make([]int, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := post(e, smsPath, bodyMMS, sig)
			codes[i], bodies[i] = rec.Code, rec.Body.String()
		}()
	}
	wg.Wait()
	for i := range copies {
		if codes[i] != http.StatusOK || bodies[i] != bodies[0] {
			t.Fatalf("copy %d: %d %s (first: %s)", i, codes[i], bodies[i], bodies[0])
		}
	}
	if n := rcv.created.Load(); n != 1 {
		t.Fatalf("%d cases created", n)
	}
	page, err := st.ListCases(context.Background(), intake.CaseFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Cases) != 1 {
		t.Fatalf("%d cases stored", len(page.Cases))
	}
	c := page.Cases[0]
	if c.Channel != intake.ChannelSMS || c.ExternalID != "MM22222222222222222222222222222222" || c.Citizen.Phone != "+8613800001234" ||
		len(c.Attachments) != 2 || c.Content.Text != "这是图片" {
		t.Errorf("stored case = %+v", c)
	}
}

// Every kind of submission the adapter makes passes the core's validation.
func TestSubmissionsPassTheCore(t *testing.T) {
	_, rcv := openCore(t)
	e, _ := newServer(t, setup{other: rcv})
	for _, c := range []struct{ path, body string }{
		{smsPath, bodyPlain}, {smsPath, bodyStructured}, {smsPath, bodyFullWidth}, {smsPath, bodyMMSNoText},
		{trPath, bodyTranscribed}, {trPath, strings.Replace(bodyTranscriptionFailed, "CallSid=CA01", "CallSid=CA02", 1)},
	} {
		rec := post(e, c.path, c.body, signBody(t, testToken, publicBase+c.path, c.body))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", c.body[:40], rec.Code, rec.Body)
		}
	}
	if n := rcv.created.Load(); n != 6 {
		t.Errorf("%d cases created, want 6", n)
	}
}
