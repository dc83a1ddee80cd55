package channels

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/ratelimit"
)

// ErrThrottled: the sender has sent more messages than the per-citizen rate limit allows; the
// message was not handled. Test with errors.Is; errors.As to *ThrottledError for the wait.
var ErrThrottled = errors.New("sender is over the message rate limit")

// ThrottledError carries how long the sender should wait.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrThrottled, e.RetryAfter)
}

// Unwrap makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Failure is how a channel answers a Receiver error: the status, a short label for metrics and
// logs, the reason for the response body (no personal data), and Retry-After when it applies.
type Failure struct {
	Status     int
	Label      string
	Reason     string
	RetryAfter time.Duration
}

// Acknowledged is false for the failures that mean "nothing was stored, retry": the 5xx.
func (f Failure) Acknowledged() bool { return f.Status < 500 }

// FailureOf maps a Receiver error to the answer every channel gives it, so that all channels
// agree: input the core refuses is 400; an id reused for a different payload 409 (retrying
// would fail the same way); a sender over its rate 429; store trouble and deadlines 503 and
// anything else 500, both unacknowledged so the platform retries. conflict is the 409's reason in
// the platform's words ("MsgId already used for a different message").
func FailureOf(err error, conflict string) Failure {
	var ve *intake.ValidationError
	var te *ThrottledError
	switch {
	case errors.As(err, &ve):
		return Failure{Status: http.StatusBadRequest, Label: "invalid_submission", Reason: ve.Error()}
	case errors.Is(err, intake.ErrInvalid):
		return Failure{Status: http.StatusBadRequest, Label: "invalid_submission", Reason: "invalid submission"}
	case errors.Is(err, intake.ErrIdempotencyConflict):
		// Never the error's own text: it names the external id, which may hold a user id.
		return Failure{Status: http.StatusConflict, Label: "id_conflict", Reason: conflict}
	case errors.As(err, &te):
		return Failure{Status: http.StatusTooManyRequests, Label: "sender_throttled", Reason: "too many messages from this sender, retry later", RetryAfter: te.RetryAfter}
	case errors.Is(err, intake.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return Failure{Status: http.StatusServiceUnavailable, Label: "unavailable", Reason: "temporarily unavailable, retry"}
	}
	return Failure{Status: http.StatusInternalServerError, Label: "error", Reason: "internal error, retry"}
}

// SetRetryAfter writes the Retry-After header when the failure has one.
func (f Failure) SetRetryAfter(c echo.Context) {
	if f.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(f.RetryAfter.Seconds())))))
	}
}

// Throttle limits each citizen's messages to the bucket in limits (keyed by channel and the
// citizen's identifier); a message over the limit is not handed to next and fails with a
// *ThrottledError. Platform events (subscribe, menu clicks, location reports) are not limited:
// they create no cases. A message without any citizen identifier is not limited here.
func Throttle(next Receiver, limits *ratelimit.Keyed) Receiver {
	if limits == nil {
		return next
	}
	return throttled{next: next, limits: limits}
}

type throttled struct {
	next   Receiver
	limits *ratelimit.Keyed
}

func (t throttled) Receive(ctx context.Context, msg app.Message) (app.Reply, error) {
	if key, ok := app.SenderKey(msg.Submission.Citizen); ok {
		if ok, retry := t.limits.Allow(msg.Submission.ChannelID + "\x00" + string(key.Kind) + ":" + key.Value); !ok {
			return app.Reply{}, &ThrottledError{RetryAfter: retry}
		}
	}
	return t.next.Receive(ctx, msg)
}

func (t throttled) Event(ctx context.Context, ev app.Event) (app.Reply, error) {
	return t.next.Event(ctx, ev)
}
