// Package forward delivers cases to the hotline's case systems: a River worker POSTs
// the case record, signed, once per queued delivery, and keeps the gateway's own delivery record
// of every attempt.
//
// A delivery is retried on 408, 429, 5xx, timeouts and connection errors, with exponential
// backoff and full jitter, never sooner than a Retry-After asks; any other 4xx is permanent. It
// is dead after max_attempts tries or max_age, and a dead delivery stays listed until an operator
// replays it. Events of one case reach its case system in order: a later event waits for the
// earlier ones. When a case system keeps failing it counts as down (a circuit breaker per case
// system): its job queue is paused for every replica, so deliveries wait without spending
// attempts, while one probe at a time (its oldest waiting delivery, with growing pauses) tests
// whether it is back; then the queue resumes and a rate limit spreads the catch-up.
package forward

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/time/rate"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// Store is what forwarding needs from the case store.
type Store interface {
	intake.Forwarding
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
}

// Observer receives forwarding events for metrics; nil is allowed.
type Observer interface {
	Attempted(target, outcome string, took time.Duration)
	BreakerOpen(target string, open bool)
}

// target is one case system with its breaker and rate limit.
type target struct {
	cfg     CaseSystem
	breaker *Breaker
	limit   *rate.Limiter
	probing bool // guarded by Worker.mu
}

// Worker is the forward_case River worker.
type Worker struct {
	river.WorkerDefaults[jobs.ForwardCase]
	store    Store
	cfg      Options
	targets  map[string]*target
	client   *http.Client
	clock    intake.Clock
	log      *slog.Logger
	observer Observer

	mu     sync.Mutex
	runCtx context.Context
}

// OrderWait is how long a delivery waits before checking again whether the earlier events of
// its case have been delivered.
const OrderWait = 2 * time.Second

// NewWorker builds the worker on st. client, clock, logger and obs may be nil (defaults: a
// pooling HTTP client, the wall clock, no logging, no metrics).
func NewWorker(st Store, cfg Options, systems []CaseSystem, client *http.Client, clock intake.Clock, logger *slog.Logger, obs Observer) *Worker {
	if clock == nil {
		clock = intake.SystemClock
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if client == nil {
		client = &http.Client{Transport: NewTransport()}
	}
	w := &Worker{store: st, cfg: cfg, targets: map[string]*target{}, client: client, clock: clock, log: logger, observer: obs}
	for _, cs := range systems {
		lim := rate.NewLimiter(rate.Inf, 1)
		if cs.MaxRate > 0 {
			lim = rate.NewLimiter(rate.Limit(cs.MaxRate), max(1, int(cs.MaxRate/10)))
		}
		w.targets[cs.Name] = &target{cfg: cs, breaker: NewBreaker(cfg.BreakerThreshold), limit: lim}
	}
	return w
}

// NewTransport is the connection pool deliveries use: enough idle connections per case system
// for a hundred workers, and a short dial timeout so that an unreachable system fails fast.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConns: 512, MaxIdleConnsPerHost: 256,
		IdleConnTimeout: 90 * time.Second, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
}

// Bookkeeping is the time a delivery job spends besides its request: reading the delivery and
// its case, giving way to intake (at most maxYield), recording the outcome. Each is a
// millisecond-scale statement; a job that runs out of time is simply tried again.
const Bookkeeping = 5 * time.Second

// JobBound is the longest one delivery job runs: the request plus the bookkeeping around it. A
// job still "running" well past it was left behind by a process that died.
func JobBound(cfg Options) time.Duration { return cfg.Timeout + Bookkeeping }

// Bound is JobBound of the worker's configuration.
func (w *Worker) Bound() time.Duration { return JobBound(w.cfg) }

// Timeout bounds one job (see Bound).
func (w *Worker) Timeout(*river.Job[jobs.ForwardCase]) time.Duration { return w.Bound() }

// step is what became of one try at a delivery.
type step int

const (
	stepSettled step = iota // delivered, dead, or nothing to do
	stepRetry               // failed; try again after backoff
	stepWait                // not tried: an earlier event first, or the case system is down
)

// Work delivers one event of one case.
func (w *Worker) Work(ctx context.Context, job *river.Job[jobs.ForwardCase]) error {
	d, c, err := w.store.DeliveryWithCase(ctx, job.Args.DeliveryID)
	if errors.Is(err, intake.ErrNotFound) {
		w.log.WarnContext(ctx, "forward job for a delivery that does not exist", "delivery_id", job.Args.DeliveryID)
		return nil
	}
	if err != nil {
		return err
	}
	st, delay, err := w.attempt(ctx, d, c, false)
	if err != nil {
		return err
	}
	switch st {
	case stepRetry, stepWait:
		return river.JobSnooze(delay)
	}
	return nil
}

// attempt tries a delivery once, records the outcome, and says when to try again. c is the
// delivery's case when the caller has read it already. A probe's failures are the case system's
// outage, not the delivery's: they are recorded but never make it dead.
func (w *Worker) attempt(ctx context.Context, d *intake.Delivery, c *intake.Case, probe bool) (step, time.Duration, error) {
	if d.State == intake.DeliveryDelivered || d.State == intake.DeliveryDead {
		return stepSettled, 0, nil // a duplicate job; the delivery is settled
	}
	now := w.clock.Now()
	giveUp := func(reason string) (step, time.Duration, error) {
		return stepSettled, 0, w.store.RecordOutcome(ctx, intake.DeliveryOutcome{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event,
			At: now, Error: reason, State: intake.DeliveryDead})
	}
	if now.Sub(d.CreatedAt) > w.cfg.MaxAge {
		return giveUp(fmt.Sprintf("not delivered within %s", w.cfg.MaxAge))
	}
	t, ok := w.targets[d.Target]
	if !ok {
		return giveUp(fmt.Sprintf("case system %q is not configured", d.Target))
	}
	if !intake.IsFirstEvent(d.Event) {
		earlier, err := w.store.EarlierPending(ctx, *d)
		if err != nil {
			return 0, 0, err
		}
		if earlier != nil {
			if earlier.State == intake.DeliveryDead {
				return giveUp("an earlier event of this case (" + earlier.Event + ", delivery " + earlier.ID + ") is dead; replay it first")
			}
			return stepWait, OrderWait, nil
		}
	}
	if t.breaker.IsOpen() {
		// The case system is down and its queue paused; this job was already running. It comes
		// back as soon as the queue resumes, without spending an attempt.
		w.probeLater(d.Target, t)
		return stepWait, time.Second, nil
	}
	w.yieldToIntake(ctx)
	if err := t.limit.Wait(ctx); err != nil {
		return stepWait, time.Second, nil
	}
	if c == nil {
		var err error
		if c, err = w.store.GetCase(ctx, d.CaseID); err != nil {
			return 0, 0, err
		}
	}
	attempt := d.Attempts + 1
	res := w.send(ctx, t.cfg, *d, c)
	opened := w.settle(t, d.Target, res)
	o := intake.DeliveryOutcome{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Attempt: attempt, At: w.clock.Now(),
		StatusCode: res.status, Error: res.errText(), Duration: res.took, CaseRef: res.caseRef}
	switch {
	case res.ok():
		o.State = intake.DeliveryDelivered
	case !res.retryable():
		o.State = intake.DeliveryDead
	case attempt >= w.cfg.MaxAttempts && !probe:
		o.State = intake.DeliveryDead
		o.Error = fmt.Sprintf("%s (gave up after %d attempts)", o.Error, attempt)
	default:
		o.State = intake.DeliveryQueued
	}
	if err := w.store.RecordOutcome(ctx, o); err != nil {
		return 0, 0, err
	}
	if opened {
		w.probeLater(d.Target, t)
	}
	switch o.State {
	case intake.DeliveryQueued:
		if t.breaker.IsOpen() {
			return stepRetry, time.Second, nil // back as soon as the queue resumes
		}
		return stepRetry, w.backoff(attempt, res.retryAfter), nil
	case intake.DeliveryDead:
		w.log.WarnContext(ctx, "delivery dead", "delivery_id", d.ID, "case_id", d.CaseID, "event", d.Event, "target", d.Target, "error", o.Error)
	}
	return stepSettled, 0, nil
}

// intakeActivity is implemented by stores that know when new cases are being stored.
type intakeActivity interface {
	IntakeBusy(quiet time.Duration) bool
}

// maxYield bounds how long one delivery gives way to new cases, so forwarding keeps moving
// (about workers/maxYield deliveries a second) even under a flood of submissions; intakeQuiet is
// how long after the latest submission the intake counts as busy.
const (
	maxYield    = time.Second
	intakeQuiet = 50 * time.Millisecond
)

// yieldToIntake waits while new cases are coming in: a citizen waiting for a case number comes
// before a backlog catching up.
func (w *Worker) yieldToIntake(ctx context.Context) {
	b, ok := w.store.(intakeActivity)
	if !ok {
		return
	}
	for waited := time.Duration(0); waited < maxYield && b.IntakeBusy(intakeQuiet); waited += 10 * time.Millisecond {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// settle feeds a result to the breaker and reports whether it just opened. Only failures that
// say the case system is unwell (5xx, timeouts, refused connections) count; a 4xx is about the
// one request.
func (w *Worker) settle(t *target, name string, res result) bool {
	opened := false
	switch {
	case res.ok() || (res.status >= 400 && res.status < 500 && res.status != 408 && res.status != 429):
		t.breaker.Success()
	case res.status == 429:
	default:
		opened = t.breaker.Failure()
	}
	if w.observer != nil {
		w.observer.Attempted(name, res.outcome(), res.took)
		if opened {
			w.observer.BreakerOpen(name, true)
		}
	}
	return opened
}

// Run watches the case systems until ctx ends: a queue found paused without a probe in this
// process (its prober died with another replica) gets one here.
func (w *Worker) Run(ctx context.Context) {
	w.mu.Lock()
	w.runCtx = ctx
	w.mu.Unlock()
	tick := time.NewTicker(w.cfg.BreakerMin)
	defer tick.Stop()
	for {
		for name, t := range w.targets {
			paused, err := w.store.ForwardingPaused(ctx, name)
			if err == nil && paused {
				t.breaker.Trip()
				w.probeLater(name, t)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probeLater makes sure deliveries to a case system that is down are paused everywhere and that
// this process probes it until it is back.
func (w *Worker) probeLater(name string, t *target) {
	w.mu.Lock()
	ctx := w.runCtx
	if t.probing || ctx == nil {
		w.mu.Unlock()
		return
	}
	t.probing = true
	w.mu.Unlock()
	go w.probe(ctx, name, t)
}

// probe pauses the case system's queue, then tries its oldest waiting delivery, one at a time,
// with growing pauses in between, until one gets an answer; then it resumes the queue, and the
// backlog flows again (at the configured rate).
func (w *Worker) probe(ctx context.Context, name string, t *target) {
	defer func() {
		w.mu.Lock()
		t.probing = false
		w.mu.Unlock()
	}()
	if err := w.store.PauseForwarding(ctx, name); err != nil {
		w.log.ErrorContext(ctx, "could not pause forwarding", "target", name, "error", err.Error())
	}
	w.log.WarnContext(ctx, "case system is down; deliveries paused while probing", "target", name)
	wait := w.cfg.BreakerMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		up, err := w.probeOnce(ctx, name, t)
		if err != nil {
			w.log.WarnContext(ctx, "probe failed", "target", name, "error", err.Error())
		}
		if up {
			t.breaker.Success()
			if err := w.store.ResumeForwarding(ctx, name); err != nil {
				w.log.ErrorContext(ctx, "could not resume forwarding", "target", name, "error", err.Error())
				continue
			}
			if w.observer != nil {
				w.observer.BreakerOpen(name, false)
			}
			w.log.InfoContext(ctx, "case system is back; deliveries resumed", "target", name)
			return
		}
		wait = min(wait*2, w.cfg.BreakerMax)
	}
}

// probeOnce sends the oldest waiting delivery; up is true when the case system answered it
// (delivered, or refused it for a reason of its own), or when nothing waits.
func (w *Worker) probeOnce(ctx context.Context, name string, t *target) (bool, error) {
	d, err := w.store.OldestQueued(ctx, name)
	if err != nil || d == nil {
		return err == nil, err
	}
	t.breaker.Probe()
	defer t.breaker.EndProbe()
	st, _, err := w.attempt(ctx, d, nil, true)
	if err != nil || st == stepWait {
		return false, err
	}
	after, err := w.store.GetDelivery(ctx, d.ID)
	if err != nil {
		return false, err
	}
	return after.State != intake.DeliveryQueued, nil
}

// backoff is exponential from retry_min, capped at retry_max, with full jitter, and never
// shorter than the case system's Retry-After.
func (w *Worker) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := w.cfg.RetryMin << min(attempt-1, 30)
	if d <= 0 || d > w.cfg.RetryMax {
		d = w.cfg.RetryMax
	}
	d = d/2 + rand.N(d/2+1)
	return max(d, retryAfter)
}

type result struct {
	status     int
	err        error
	took       time.Duration
	caseRef    string
	retryAfter time.Duration
}

func (r result) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

func (r result) retryable() bool {
	return r.err != nil || r.status == 408 || r.status == 429 || r.status >= 500
}

func (r result) outcome() string {
	switch {
	case r.ok():
		return "delivered"
	case r.err != nil:
		return "error"
	case r.retryable():
		return "retry"
	}
	return "rejected"
}

func (r result) errText() string {
	if r.err != nil {
		return r.err.Error()
	}
	if r.ok() {
		return ""
	}
	return fmt.Sprintf("%d %s", r.status, http.StatusText(r.status))
}

// Sign computes X-Intake-Signature for body at t: "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// StandardWebhookHeaders signs body as the Standard Webhooks specification does: webhook-id
// (here the delivery's Idempotency-Key, the same on every retry), webhook-timestamp (Unix
// seconds) and webhook-signature "v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>".
func StandardWebhookHeaders(key []byte, id string, t time.Time, body []byte) map[string]string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte("."))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return map[string]string{
		"webhook-id":        id,
		"webhook-timestamp": ts,
		"webhook-signature": "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)),
	}
}

// IdempotencyKey is what the case system deduplicates on: the case id for the event that opens
// the case (case.created, or case.duplicate), and the case id with the delivery id for
// every later event, so that an update is never mistaken for a repeat of the creation.
func IdempotencyKey(d intake.Delivery) string {
	if intake.IsFirstEvent(d.Event) {
		return d.CaseID
	}
	return d.CaseID + ":" + d.ID
}

func (w *Worker) send(ctx context.Context, cs CaseSystem, d intake.Delivery, c *intake.Case) result {
	body, err := json.Marshal(c)
	if err != nil {
		return result{err: fmt.Errorf("encode case: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cs.URL, bytes.NewReader(body))
	if err != nil {
		return result{err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", IdempotencyKey(d))
	req.Header.Set("X-Intake-Event", d.Event)
	req.Header.Set("X-Intake-Delivery", d.ID)
	if cs.Signature == "standard-webhooks" {
		key, err := StandardWebhooksKey(cs.Secret)
		if err != nil {
			return result{err: fmt.Errorf("case system %s secret: %w", cs.Name, err)}
		}
		for k, v := range StandardWebhookHeaders(key, IdempotencyKey(d), w.clock.Now(), body) {
			req.Header.Set(k, v)
		}
	} else {
		req.Header.Set("X-Intake-Signature", Sign(cs.Secret, w.clock.Now(), body))
	}
	start := time.Now()
	res, err := w.client.Do(req)
	took := time.Since(start)
	if err != nil {
		return result{err: errors.New(describeTransportError(err)), took: took}
	}
	defer res.Body.Close()
	out := result{status: res.StatusCode, took: took, retryAfter: parseRetryAfter(res.Header.Get("Retry-After"), w.clock.Now())}
	if out.ok() {
		var ack struct {
			CaseRef string `json:"case_ref"`
		}
		b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		if json.Unmarshal(b, &ack) == nil {
			out.caseRef = ack.CaseRef
		}
	} else {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	}
	return out
}

// describeTransportError keeps the error short and free of the URL (which may carry credentials).
func describeTransportError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return "connection error: " + oe.Err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "request failed: " + ue.Err.Error()
	}
	return "request failed: " + err.Error()
}

// parseRetryAfter reads delay-seconds or an HTTP date; zero when absent or unreadable. It is
// capped at an hour so a bogus header cannot park a delivery for ever.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(h); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), time.Hour)
}
