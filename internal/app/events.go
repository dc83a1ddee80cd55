package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize"
)

// StatusStore is what recording a case system's event needs of the store.
type StatusStore interface {
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
	AddStatus(ctx context.Context, caseID string, change intake.StatusChange, notes []intake.Notification) (applied bool, err error)
}

// NotificationPlanner renders what the citizen is told of a case event (notify.Notifier).
type NotificationPlanner interface {
	Plan(c *intake.Case, ch intake.StatusChange) ([]intake.Notification, error)
}

// StatusReport is one event as the case system reports it.
type StatusReport struct {
	EventID    string
	Type       string
	At         time.Time
	Department string
	Message    string
	// Notify asks for the citizen to be told.
	Notify bool
	// Source names who reported it (the API key's name).
	Source string
}

// StatusResult is what became of a report: whether it changed anything (a repeated event id
// does not) and the case as it stands afterwards.
type StatusResult struct {
	Applied bool
	Case    *intake.Case
}

// Limits of a report's free text.
const (
	maxEventIDChars    = 200
	maxEventMessage    = 2000
	maxDepartmentChars = 200
)

// StatusEvents records the case system's status events and the notifications they give the
// citizen, in one transaction: an event and what the citizen is told of it are recorded together
// or not at all.
type StatusEvents struct {
	store         StatusStore
	planner       NotificationPlanner
	clock         intake.Clock
	log           *slog.Logger
	maxFutureSkew time.Duration
}

// NewStatusEvents builds the use case. planner may be nil (nobody is notified); clock and logger
// may be nil. maxFutureSkew is how far in the future an event's time may lie (clock skew).
func NewStatusEvents(st StatusStore, planner NotificationPlanner, clock intake.Clock, logger *slog.Logger, maxFutureSkew time.Duration) *StatusEvents {
	if clock == nil {
		clock = intake.SystemClock
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &StatusEvents{store: st, planner: planner, clock: clock, log: logger, maxFutureSkew: maxFutureSkew}
}

// Record applies r to the case ref (its id or case number). It returns *intake.ValidationError
// for a malformed report, intake.ErrNotFound for an unknown case, and is idempotent by EventID.
func (e *StatusEvents) Record(ctx context.Context, ref string, r StatusReport) (StatusResult, error) {
	status, err := e.check(r)
	if err != nil {
		return StatusResult{}, err
	}
	c, err := e.store.GetCase(ctx, ref)
	if err != nil {
		return StatusResult{}, err
	}
	// What the case system writes reaches the citizen in a notification and the case record:
	// cleaned like every other text (control characters stripped).
	ch := intake.StatusChange{Status: status, Event: r.Type, At: r.At.UTC(), Source: r.Source,
		EventID: r.EventID, Department: normalize.CleanText(r.Department), Message: normalize.CleanText(r.Message)}
	var notes []intake.Notification
	if r.Notify && e.planner != nil {
		// Planned on the case as the event leaves it, and stored in the event's transaction.
		after := *c
		if intake.ChangesStatus(ch.Event) {
			after.Status = status
		}
		if notes, err = e.planner.Plan(&after, ch); err != nil {
			// A text that does not render is the operator's to fix; the event is still
			// recorded, without the notification.
			e.log.ErrorContext(ctx, "render citizen notification", "case_id", c.ID, "error", err.Error())
			notes = nil
		}
	}
	applied, err := e.store.AddStatus(ctx, c.ID, ch, notes)
	if err != nil {
		return StatusResult{}, err
	}
	updated, err := e.store.GetCase(ctx, c.ID)
	if err != nil {
		return StatusResult{}, err
	}
	return StatusResult{Applied: applied, Case: updated}, nil
}

// check validates a report and returns the status its type moves the case to.
func (e *StatusEvents) check(r StatusReport) (intake.Status, error) {
	var fields []intake.FieldError
	status, known := intake.StatusForEvent(r.Type)
	if !known {
		fields = append(fields, intake.FieldError{Field: "type", Reason: "must be one of accepted, assigned, progress, resolved, closed, rejected, reopened"})
	}
	if r.EventID == "" || utf8.RuneCountInString(r.EventID) > maxEventIDChars {
		fields = append(fields, intake.FieldError{Field: "event_id", Reason: fmt.Sprintf("must be 1-%d characters", maxEventIDChars)})
	}
	if r.At.IsZero() {
		fields = append(fields, intake.FieldError{Field: "at", Reason: "is required"})
	} else if r.At.After(e.clock.Now().Add(e.maxFutureSkew)) {
		fields = append(fields, intake.FieldError{Field: "at", Reason: "lies in the future"})
	}
	if utf8.RuneCountInString(r.Message) > maxEventMessage {
		fields = append(fields, intake.FieldError{Field: "message", Reason: fmt.Sprintf("longer than %d characters", maxEventMessage)})
	}
	if utf8.RuneCountInString(r.Department) > maxDepartmentChars {
		fields = append(fields, intake.FieldError{Field: "department", Reason: fmt.Sprintf("longer than %d characters", maxDepartmentChars)})
	}
	if len(fields) > 0 {
		return "", &intake.ValidationError{Fields: fields}
	}
	return status, nil
}
