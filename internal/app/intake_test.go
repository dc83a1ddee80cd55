package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

type counter struct{ created, replayed int }

func (c *counter) CaseCreated(*intake.Case)  { c.created++ }
func (c *counter) CaseReplayed(*intake.Case) { c.replayed++ }

func newService(t *testing.T, now time.Time) (*app.Intake, *counter, intake.Store) {
	return newServiceWithLimit(t, now, 20)
}

func newServiceWithLimit(t *testing.T, now time.Time, maxText int) (*app.Intake, *counter, intake.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "a.db"), Options: store.Options{CaseNoPrefix: "WH"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	obs := &counter{}
	return app.NewIntake(st, intake.ClockFunc(func() time.Time { return now }), app.IntakeOptions{MaxTextChars: maxText, MaxFutureSkew: time.Minute}, obs), obs, st
}

func TestSubmitCreatesThenReplays(t *testing.T) {
	now := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	svc, obs, _ := newService(t, now)
	sub := intake.Submission{Channel: intake.ChannelWeChat, ChannelID: "wx", ExternalID: "1", Text: "路灯坏了", PayloadHash: "h1"}
	r1, err := svc.Submit(context.Background(), sub)
	if err != nil || !r1.Created || r1.Case.CaseNo != "WH2026112700001" || len(r1.Case.QueryCode) != 6 || len(r1.Deliveries) != 1 {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := svc.Submit(context.Background(), sub)
	if err != nil || r2.Created || r2.Case.ID != r1.Case.ID {
		t.Fatalf("replay: %+v %v", r2, err)
	}
	sub.PayloadHash = "h2"
	_, err = svc.Submit(context.Background(), sub)
	var ce *intake.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, intake.ErrIdempotencyConflict) || ce.Existing.ID != r1.Case.ID {
		t.Fatalf("different payload: %v", err)
	}
	if obs.created != 1 || obs.replayed != 1 {
		t.Fatalf("observer: %+v", obs)
	}
}

func TestSubmitRejectsBadSubmissions(t *testing.T) {
	now := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	svc, _, st := newService(t, now)
	good := intake.Submission{Channel: intake.ChannelREST, ChannelID: "rest:x", ExternalID: "k", Text: "ok"}
	for name, tc := range map[string]struct {
		mutate func(*intake.Submission)
		field  string
	}{
		"unknown channel":  {func(s *intake.Submission) { s.Channel = "fax" }, "channel"},
		"no channel id":    {func(s *intake.Submission) { s.ChannelID = " " }, "channel_id"},
		"no external id":   {func(s *intake.Submission) { s.ExternalID = "" }, "external_id"},
		"blank text":       {func(s *intake.Submission) { s.Text = "\u3000\n" }, "text"},
		"text too long":    {func(s *intake.Submission) { s.Text = strings.Repeat("长", 21) }, "text"},
		"future time":      {func(s *intake.Submission) { s.OccurredAt = now.Add(time.Hour) }, "occurred_at"},
		"bad request type": {func(s *intake.Submission) { s.OperatorRequestType = "rant" }, "request_type"},
		"bad attachment":   {func(s *intake.Submission) { s.Attachments = []intake.Attachment{{Kind: "x", URL: "::"}} }, "attachments[0].kind"},
		"bad latitude": {func(s *intake.Submission) {
			lat, lng := 91.0, 0.0
			s.Location = &intake.Location{Lat: &lat, Lng: &lng}
		}, "location.lat"},
	} {
		t.Run(name, func(t *testing.T) {
			sub := good
			tc.mutate(&sub)
			_, err := svc.Submit(context.Background(), sub)
			var ve *intake.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, intake.ErrInvalid) {
				t.Fatalf("err %v, want a validation error", err)
			}
			found := false
			for _, f := range ve.Fields {
				found = found || f.Field == tc.field
			}
			if !found {
				t.Fatalf("errors %+v do not name %s", ve.Fields, tc.field)
			}
		})
	}
	page, _ := st.ListCases(context.Background(), intake.CaseFilter{})
	if len(page.Cases) != 0 {
		t.Fatal("bad submissions were stored")
	}
	// A transcript without text is described by the caller's turns.
	sub := good
	sub.Text = ""
	sub.Transcript = []intake.Segment{{Speaker: intake.SpeakerCaller, Text: "停水了", EndMS: 10, Confidence: 0.9}}
	if r, err := svc.Submit(context.Background(), sub); err != nil || r.Case.Content.Text != "停水了" {
		t.Fatalf("transcript: %v", err)
	}
}

func TestQueryCodesAreSixRandomDigits(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := app.QueryCode()
		if err != nil || len(c) != 6 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("query code %q %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}

func TestValidatorOverridesMatchTheRules(t *testing.T) {
	v := app.NewValidator()
	type probe struct {
		U string   `validate:"uuid"`
		P string   `validate:"e164"`
		N string   `validate:"numeric"`
		A *float64 `validate:"latitude"`
		G *float64 `validate:"longitude"`
	}
	ok, lat91, lng181 := 45.0, 91.0, 181.0
	good := probe{U: "01a21cb0-0978-77e9-94d3-772c0126c995", P: "+8613800138000", N: "012345", A: &ok, G: &ok}
	if err := v.Struct(good); err != nil {
		t.Fatalf("good values rejected: %v", err)
	}
	for name, bad := range map[string]probe{
		"uuid without dashes": {U: "01a21cb0097877e994d3772c0126c99500", P: good.P, N: good.N, A: &ok, G: &ok},
		"uuid with g":         {U: "01a21cb0-0978-77e9-94d3-772c0126c99g", P: good.P, N: good.N, A: &ok, G: &ok},
		"e164 without plus":   {U: good.U, P: "8613800138000", N: good.N, A: &ok, G: &ok},
		"e164 too long":       {U: good.U, P: "+8613800138000123", N: good.N, A: &ok, G: &ok},
		"e164 leading zero":   {U: good.U, P: "+0613800138000", N: good.N, A: &ok, G: &ok},
		"numeric with letter": {U: good.U, P: good.P, N: "12a456", A: &ok, G: &ok},
		"latitude 91":         {U: good.U, P: good.P, N: good.N, A: &lat91, G: &ok},
		"longitude 181":       {U: good.U, P: good.P, N: good.N, A: &ok, G: &lng181},
	} {
		if err := v.Struct(bad); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}
