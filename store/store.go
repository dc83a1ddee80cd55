// Package store holds what the two case stores share: options, case-number formatting, the
// stored form of the case record, list cursors and batch planning. The drivers live in
// store/postgres and store/sqlite; store/storetest is the contract suite both must pass.
package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// Options are the settings both drivers take.
type Options struct {
	// CaseNoPrefix starts every case number, e.g. "WH".
	CaseNoPrefix string
	// Location is the zone whose calendar day numbers the cases.
	Location *time.Location
	// Writers is how many group-commit transactions may run at once (PostgreSQL; SQLite has one
	// writer by nature). One by default: where the machine's cores are the limit, every writer
	// beyond the first splits the waiting cases into smaller batches whose fixed cost (round
	// trips, statements, a commit each) eats the CPU the cases need. Measured on 2 cores, one
	// writer carried ~10 cases per commit and 33-61% more WeChat messages per second than four
	// (~3.5 per commit). More writers pay off when commit latency, not CPU, dominates (a remote
	// database, slow disks).
	Writers int
	// MaxBatch caps the cases committed in one transaction.
	MaxBatch int
	// DefaultTarget is the case system a case goes to when NewCase.ForwardTo is empty.
	DefaultTarget string
	// ObserveBatch, when set, is told the size, duration and outcome of every group commit.
	ObserveBatch func(size int, took time.Duration, err error)
	// TraceBatch, when set, gives each group commit a context derived from its members' (a
	// tracing span linked to every request in it); see groupcommit.Options.Trace.
	TraceBatch func(members []context.Context) (context.Context, func())
}

// WithDefaults fills unset options.
func (o Options) WithDefaults() Options {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Writers < 1 {
		o.Writers = 1
	}
	if o.MaxBatch < 1 {
		o.MaxBatch = 64
	}
	if o.DefaultTarget == "" {
		o.DefaultTarget = "default"
	}
	return o
}

// Day is the local calendar day of t that numbers a case, as YYYYMMDD.
func (o Options) Day(t time.Time) string { return t.In(o.Location).Format("20060102") }

// CaseNoCutoff is the first day (YYYYMMDD) whose case-number sequence is kept when pruning at
// now: a week back, far beyond any batch still numbering cases of the day before.
func (o Options) CaseNoCutoff(now time.Time) string { return o.Day(now.AddDate(0, 0, -7)) }

// CaseNo formats a case number: prefix, local day and the day's sequence, at least five digits
// wide (a busy day simply gets a longer number rather than a collision).
func (o Options) CaseNo(day string, seq int64) string {
	return fmt.Sprintf("%s%s%05d", o.CaseNoPrefix, day, seq)
}

// EncodeRecord is the stored JSON of a case. Status history lives in its own table and the
// mutable fields in columns, so they are left out here and merged back by DecodeRecord.
func EncodeRecord(c *intake.Case) ([]byte, error) {
	stored := *c
	stored.StatusHistory = nil
	stored.Status = ""
	stored.CaseRef = ""
	stored.Related.MergedCount = 0
	b, err := json.Marshal(&stored)
	if err != nil {
		return nil, fmt.Errorf("encode case %s: %w", c.ID, err)
	}
	return b, nil
}

// EncodeInitialHistory is the JSON of the status entries a case is created with, kept in the
// case's own row (one row fewer per case than an entry in the history table).
func EncodeInitialHistory(c *intake.Case) ([]byte, error) {
	h := make([]intake.StatusChange, len(c.StatusHistory))
	for i, e := range c.StatusHistory {
		if e.Event == "" {
			e.Event = string(e.Status)
		}
		e.At = e.At.UTC()
		h[i] = e
	}
	b, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode status history of case %s: %w", c.ID, err)
	}
	return b, nil
}

// DecodeRecord rebuilds a case from its stored JSON and mutable columns. initial is the JSON of
// the entries the case was created with (nil for a case stored before they were kept in its
// row), later those from the history table in time order.
func DecodeRecord(record []byte, status string, caseRef string, mergedCount int, initial []byte, later []intake.StatusChange) (*intake.Case, error) {
	var c intake.Case
	if err := json.Unmarshal(record, &c); err != nil {
		return nil, fmt.Errorf("decode case record: %w", err)
	}
	c.Status = intake.Status(status)
	c.CaseRef = caseRef
	c.Related.MergedCount = mergedCount
	history := []intake.StatusChange{}
	if len(initial) > 0 {
		// Written in UTC by EncodeInitialHistory, so it decodes in UTC.
		if err := json.Unmarshal(initial, &history); err != nil {
			return nil, fmt.Errorf("decode initial status history: %w", err)
		}
	}
	mixed := len(history) > 0 && len(later) > 0
	history = append(history, later...)
	if mixed {
		// The table's entries come ordered by time; an entry a case system dated before the
		// case was received still sorts first, as it did when all entries were in the table.
		sort.SliceStable(history, func(i, j int) bool { return history[i].At.Before(history[j].At) })
	}
	c.StatusHistory = history
	return &c, nil
}

// Cursor is a position in the newest-first case listing.
type Cursor struct {
	ReceivedAt time.Time
	ID         string
}

// Encode makes the cursor opaque to clients.
func (c Cursor) Encode() string {
	raw := strconv.FormatInt(c.ReceivedAt.UnixMicro(), 10) + "," + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ErrBadCursor is returned for a cursor this gateway did not issue.
var ErrBadCursor = fmt.Errorf("%w: cursor", intake.ErrInvalid)

// DecodeCursor parses a cursor from Encode.
func DecodeCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	micros, id, ok := strings.Cut(string(raw), ",")
	if !ok {
		return Cursor{}, ErrBadCursor
	}
	us, err := strconv.ParseInt(micros, 10, 64)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	if _, err := uuid.Parse(id); err != nil {
		return Cursor{}, ErrBadCursor
	}
	return Cursor{ReceivedAt: time.UnixMicro(us).UTC(), ID: id}, nil
}

// ListLimit clamps a requested page size.
func ListLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

// Key is a submission's identity at its channel.
type Key struct{ ChannelID, ExternalID string }

// KeyOf returns the identity of a new case.
func KeyOf(nc intake.NewCase) Key { return Key{nc.Case.ChannelID, nc.Case.ExternalID} }

// BatchPlan says, for a batch of new cases, which request leads each distinct key: copies of the
// same submission inside one batch share the leader's result instead of racing each other.
type BatchPlan struct {
	// Leader[i] is the index of the request whose result request i shares (itself for leaders).
	Leader  []int
	Leaders []int
}

// PlanBatch finds duplicates within a batch.
func PlanBatch(reqs []intake.NewCase) BatchPlan {
	p := BatchPlan{Leader: make([]int, len(reqs))}
	seen := make(map[Key]int, len(reqs))
	for i, r := range reqs {
		k := KeyOf(r)
		if j, ok := seen[k]; ok {
			p.Leader[i] = j
			continue
		}
		seen[k] = i
		p.Leader[i] = i
		p.Leaders = append(p.Leaders, i)
	}
	return p
}

// NewDelivery is the delivery row and job for an event of a case (case.created when empty).
func NewDelivery(c *intake.Case, event, target string, now time.Time) (intake.Delivery, jobs.ForwardCase) {
	now = now.UTC().Truncate(time.Microsecond)
	if event == "" {
		event = intake.EventCaseCreated
	}
	d := intake.Delivery{
		ID:        NewID(),
		CaseID:    c.ID,
		Event:     event,
		Target:    target,
		State:     intake.DeliveryQueued,
		CreatedAt: now,
		UpdatedAt: now,
	}
	return d, jobs.ForwardCase{DeliveryID: d.ID, CaseID: c.ID, Event: d.Event, Target: target}
}

// JobPriority is the queue priority of a case's jobs: urgent cases are forwarded first.
func JobPriority(c *intake.Case) int {
	if c.Priority == intake.PriorityUrgent {
		return jobs.PriorityUrgent
	}
	return jobs.PriorityNormal
}

// NewID returns a fresh UUIDv7: time-ordered, so ids index well and sort by creation.
func NewID() string {
	id, err := uuid.NewV7FromReader(rand.Reader)
	if err != nil {
		// crypto/rand never fails on supported platforms; a gateway without randomness must stop.
		panic(fmt.Sprintf("uuid v7: %v", err))
	}
	return id.String()
}

// IsUUID reports whether ref looks like a gateway id rather than a case number.
func IsUUID(ref string) bool {
	_, err := uuid.Parse(ref)
	return err == nil && len(ref) == 36
}

// ErrNoRows is what drivers map "no row" to before wrapping in intake.ErrNotFound.
var ErrNoRows = errors.New("no rows")

// HistoryEntry returns the status and event to record for a change: the event defaults to the
// status, and a progress note records the status the case has now.
func HistoryEntry(ch intake.StatusChange, current intake.Status) (intake.Status, string) {
	event := ch.Event
	if event == "" {
		event = string(ch.Status)
	}
	status := ch.Status
	if !intake.ChangesStatus(event) || status == "" {
		status = current
	}
	return status, event
}

// FetchJobs are the media-fetch jobs for attachments of a case, first at offset in its list.
func FetchJobs(c *intake.Case, offset int, indexes []int) []river.InsertManyParams {
	out := make([]river.InsertManyParams, 0, len(indexes))
	for _, i := range indexes {
		out = append(out, river.InsertManyParams{
			Args:       jobs.FetchMedia{CaseID: c.ID, Index: offset + i, ChannelID: c.ChannelID},
			InsertOpts: &river.InsertOpts{Queue: jobs.QueueMedia, MaxAttempts: 20},
		})
	}
	return out
}

// CitizenColumn is the cases column holding a citizen identifier of kind k, the same in every
// dialect's schema.
func CitizenColumn(k intake.CitizenKeyKind) (string, error) {
	switch k {
	case intake.KeyOpenID:
		return "citizen_openid", nil
	case intake.KeyPhone:
		return "citizen_phone", nil
	case intake.KeyWeiboUID:
		return "citizen_weibo_uid", nil
	}
	return "", fmt.Errorf("%w: citizen key kind %q", intake.ErrInvalid, k)
}
