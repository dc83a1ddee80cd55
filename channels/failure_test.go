package channels_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/ratelimit"
)

func TestFailureOf(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		acked  bool
	}{
		{intake.Invalid("text", "is required"), http.StatusBadRequest, true},
		{fmt.Errorf("submit: %w", intake.ErrInvalid), http.StatusBadRequest, true},
		{&intake.ConflictError{Existing: &intake.Case{ExternalID: "oSecretOpenID:123", CaseNo: "WH1"}}, http.StatusConflict, true},
		{&channels.ThrottledError{RetryAfter: 1500 * time.Millisecond}, http.StatusTooManyRequests, true},
		{fmt.Errorf("store: %w", intake.ErrUnavailable), http.StatusServiceUnavailable, false},
		{context.DeadlineExceeded, http.StatusServiceUnavailable, false},
		{errors.New("boom"), http.StatusInternalServerError, false},
	} {
		f := channels.FailureOf(tc.err, "id reused")
		if f.Status != tc.status || f.Acknowledged() != tc.acked {
			t.Errorf("%v: %d acked=%v, want %d acked=%v", tc.err, f.Status, f.Acknowledged(), tc.status, tc.acked)
		}
		if f.Status == http.StatusConflict && f.Reason != "id reused" {
			t.Errorf("conflict reason %q leaks the error text", f.Reason)
		}
		if f.Status == http.StatusTooManyRequests && f.RetryAfter != 1500*time.Millisecond {
			t.Errorf("retry after %v", f.RetryAfter)
		}
	}
}

type countingReceiver struct{ messages, events int }

func (r *countingReceiver) Receive(context.Context, app.Message) (app.Reply, error) {
	r.messages++
	return app.Reply{}, nil
}
func (r *countingReceiver) Event(context.Context, app.Event) (app.Reply, error) {
	r.events++
	return app.Reply{}, nil
}

func TestThrottleLimitsEachSenderPerChannel(t *testing.T) {
	inner := &countingReceiver{}
	r := channels.Throttle(inner, ratelimit.New(ratelimit.Limit{Rate: 0.001, Burst: 2}, 0, nil))
	msg := func(channel string, c intake.CitizenInput) app.Message {
		return app.Message{Submission: intake.Submission{ChannelID: channel, Citizen: c}}
	}
	a := intake.CitizenInput{WeChatOpenID: "oA"}
	for range 2 {
		if _, err := r.Receive(context.Background(), msg("wx", a)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := r.Receive(context.Background(), msg("wx", a))
	if !errors.Is(err, channels.ErrThrottled) {
		t.Fatalf("third message: %v", err)
	}
	// The same citizen on another channel, another citizen, and anonymous messages pass.
	for _, m := range []app.Message{msg("wx2", a), msg("wx", intake.CitizenInput{WeChatOpenID: "oB"}),
		msg("sms", intake.CitizenInput{Phone: "+8613800138000"}), msg("rest", intake.CitizenInput{})} {
		if _, err := r.Receive(context.Background(), m); err != nil {
			t.Fatalf("%+v: %v", m.Submission.Citizen, err)
		}
	}
	for range 5 {
		if _, err := r.Event(context.Background(), app.Event{ChannelID: "wx", Citizen: a}); err != nil {
			t.Fatal("events are not limited")
		}
	}
	if inner.messages != 6 || inner.events != 5 {
		t.Fatalf("inner saw %d messages, %d events", inner.messages, inner.events)
	}
}
