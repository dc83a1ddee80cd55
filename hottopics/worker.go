package hottopics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// Store is what hot topics need from the case store.
type Store interface {
	intake.Incidents
}

// maxOpenIncidents bounds the open incidents one run reads (a list page); more open at once
// would be a city-wide emergency, whose further growth the console shows anyway.
const maxOpenIncidents = 500

// Scanner is the hot_topics_scan River worker.
type Scanner struct {
	river.WorkerDefaults[jobs.HotTopicsScan]
	store Store
	opts  Options
	clock intake.Clock
	log   *slog.Logger
}

// NewScanner builds the clustering worker. clock and logger may be nil.
func NewScanner(st Store, opts Options, clock intake.Clock, logger *slog.Logger) (*Scanner, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if clock == nil {
		clock = intake.SystemClock
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Scanner{store: st, opts: opts, clock: clock, log: logger}, nil
}

// Work runs one clustering pass.
func (s *Scanner) Work(ctx context.Context, _ *river.Job[jobs.HotTopicsScan]) error {
	_, err := s.Scan(ctx)
	return err
}

// Scan clusters the cases of the window before now and stores what it found: incidents opened
// (each with its announcement queued), grown and closed.
func (s *Scanner) Scan(ctx context.Context) (intake.TopicResult, error) {
	now := s.clock.Now().UTC()
	cases, err := s.store.TopicCases(ctx, now.Add(-s.opts.Window), s.opts.MaxCases)
	if err != nil {
		return intake.TopicResult{}, fmt.Errorf("hot topics: %w", err)
	}
	openList, err := s.store.ListIncidents(ctx, intake.IncidentFilter{State: intake.IncidentOpen, Limit: maxOpenIncidents})
	if err != nil {
		return intake.TopicResult{}, fmt.Errorf("hot topics: %w", err)
	}
	open := make(map[string]bool, len(openList))
	for _, in := range openList {
		open[in.ID] = true
	}
	plan := Plan(cases, open, now, s.opts)
	res, err := s.store.ApplyTopics(ctx, plan)
	if err != nil {
		return intake.TopicResult{}, fmt.Errorf("hot topics: %w", err)
	}
	// Category and district only: the summary is shared wording, but logs keep to ids and counts.
	for _, in := range res.Opened {
		s.log.InfoContext(ctx, "hot topic: incident opened", "incident_id", in.ID, "category", in.Category,
			"district", in.District, "size", in.Size, "announced", plan.Announce)
	}
	return res, nil
}

// PeriodicJob is the River periodic job that clusters every opts.Interval, and once at start.
func PeriodicJob(opts Options) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(opts.Interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return jobs.HotTopicsScan{}, &river.InsertOpts{Queue: jobs.QueueHotTopics, MaxAttempts: 1}
		}, &river.PeriodicJobOpts{RunOnStart: true})
}

// ScanBound is the longest one clustering run may take; the next run starts over anyway.
const ScanBound = 2 * time.Minute

// Announcer is the announce_incident River worker: it posts a new incident, signed as deliveries
// to case systems are, to the configured webhook.
type Announcer struct {
	river.WorkerDefaults[jobs.AnnounceIncident]
	store  Store
	hook   Webhook
	client *http.Client
	clock  intake.Clock
	log    *slog.Logger
}

// NewAnnouncer builds the announcement worker. client, clock and logger may be nil.
func NewAnnouncer(st Store, hook Webhook, client *http.Client, clock intake.Clock, logger *slog.Logger) *Announcer {
	if client == nil {
		client = &http.Client{Transport: forward.NewTransport()}
	}
	if clock == nil {
		clock = intake.SystemClock
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if hook.Timeout <= 0 {
		hook.Timeout = 10 * time.Second
	}
	return &Announcer{store: st, hook: hook, client: client, clock: clock, log: logger}
}

// Bound is the longest one announcement job runs: the request and the bookkeeping around it.
func (a *Announcer) Bound() time.Duration { return a.hook.Timeout + forward.Bookkeeping }

// memberList bounds the case numbers an announcement lists.
const memberList = 100

// Announcement is the JSON body of an incident.opened webhook, in the Standard Webhooks shape.
type Announcement struct {
	Type      string           `json:"type"`
	Timestamp time.Time        `json:"timestamp"`
	Data      AnnouncementData `json:"data"`
}

// AnnouncementData is the incident as announced: no citizen's data, only the incident's own
// figures and the case numbers (at most 100, newest first) for the duty officer to open.
type AnnouncementData struct {
	intake.Incident
	CaseNos []string `json:"case_nos"`
}

// Work announces one incident. It is tried again (River's backoff) on a network error, a
// timeout, 408, 429 or 5xx, and given up on any other answer or after its last attempt. Every
// try carries the same webhook-id (the incident's id), so a receiver that saw a try whose
// answer was lost takes the next for the repeat it is.
func (a *Announcer) Work(ctx context.Context, job *river.Job[jobs.AnnounceIncident]) error {
	in, err := a.store.GetIncident(ctx, job.Args.IncidentID)
	if errors.Is(err, intake.ErrNotFound) {
		a.log.WarnContext(ctx, "announcement of an incident that does not exist", "incident_id", job.Args.IncidentID)
		return nil
	}
	if err != nil {
		return err
	}
	if in.Announcement == intake.DeliveryDelivered || in.Announcement == intake.DeliveryDead {
		return nil // a duplicate job; the announcement is settled
	}
	record := func(state intake.DeliveryState, reason string) error {
		return a.store.RecordAnnouncement(ctx, intake.AnnouncementOutcome{IncidentID: in.ID, State: state, Error: reason, At: a.clock.Now()})
	}
	if a.hook.URL == "" {
		return record(intake.DeliveryDead, "hot_topics.webhook.url is not configured")
	}
	members, err := a.store.IncidentCases(ctx, in.ID, memberList)
	if err != nil {
		return err
	}
	data := AnnouncementData{Incident: *in, CaseNos: make([]string, len(members))}
	for i, c := range members {
		data.CaseNos[i] = c.CaseNo
	}
	// The announcement shows the incident as it opened, not where its bookkeeping stands.
	data.Announcement, data.AnnounceAttempts, data.AnnounceError = "", 0, ""
	body, err := json.Marshal(Announcement{Type: intake.EventIncidentOpened, Timestamp: a.clock.Now().UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("encode incident announcement: %w", err)
	}
	status, sendErr := a.send(ctx, in.ID, body)
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		a.log.InfoContext(ctx, "hot topic: incident announced", "incident_id", in.ID)
		return record(intake.DeliveryDelivered, "")
	case sendErr == nil && status != 408 && status != 429 && status < 500:
		reason := fmt.Sprintf("%d %s", status, http.StatusText(status))
		a.log.WarnContext(ctx, "incident announcement refused", "incident_id", in.ID, "status", status)
		return record(intake.DeliveryDead, reason)
	}
	reason := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if sendErr != nil {
		reason = sendErr.Error()
	}
	if job.Attempt >= job.MaxAttempts {
		a.log.WarnContext(ctx, "incident announcement given up", "incident_id", in.ID, "error", reason)
		return record(intake.DeliveryDead, fmt.Sprintf("%s (gave up after %d attempts)", reason, job.Attempt))
	}
	if err := record(intake.DeliveryQueued, reason); err != nil {
		return err
	}
	return fmt.Errorf("announce incident %s: %s", in.ID, reason)
}

// send posts body, signed, and returns the status code. Errors are kept short and free of the
// URL, which may carry credentials.
func (a *Announcer) send(ctx context.Context, id string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.hook.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.hook.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("bad webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Intake-Event", intake.EventIncidentOpened)
	req.Header.Set("Idempotency-Key", id)
	now := a.clock.Now()
	if a.hook.Signature == "intake" {
		req.Header.Set("X-Intake-Signature", forward.Sign(a.hook.Secret, now, body))
	} else {
		key, err := forward.StandardWebhooksKey(a.hook.Secret)
		if err != nil {
			return 0, fmt.Errorf("hot_topics.webhook.secret: %w", err)
		}
		for k, v := range forward.StandardWebhookHeaders(key, id, now, body) {
			req.Header.Set(k, v)
		}
	}
	res, err := a.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return 0, errors.New("timeout")
		case errors.Is(err, context.Canceled):
			return 0, errors.New("canceled")
		}
		return 0, errors.New("connection error")
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, nil
}
