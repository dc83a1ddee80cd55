package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// Notifier says what a citizen is told of a case event; nil when notifications are not
// configured.
type Notifier interface {
	// Plan renders the notifications of ch for the citizen of c (none when ch notifies nobody).
	Plan(c *intake.Case, ch intake.StatusChange) ([]intake.Notification, error)
}

const maxEventMessage = 2000

// PostCaseEvent records a status change or reply reported by the case system.
func (s *Server) PostCaseEvent(ctx context.Context, req PostCaseEventRequestObject) (PostCaseEventResponseObject, error) {
	body := req.Body
	var fields []intake.FieldError
	status, known := intake.StatusForEvent(string(body.Type))
	if !known {
		fields = append(fields, intake.FieldError{Field: "type", Reason: "must be one of accepted, assigned, progress, resolved, closed, rejected, reopened"})
	}
	if body.EventId == "" || utf8.RuneCountInString(body.EventId) > 200 {
		fields = append(fields, intake.FieldError{Field: "event_id", Reason: "must be 1-200 characters"})
	}
	if body.At.IsZero() {
		fields = append(fields, intake.FieldError{Field: "at", Reason: "is required"})
	} else if body.At.After(s.now().Add(s.deps.Limits.MaxFutureSkew)) {
		fields = append(fields, intake.FieldError{Field: "at", Reason: "lies in the future"})
	}
	if utf8.RuneCountInString(deref(body.Message)) > maxEventMessage {
		fields = append(fields, intake.FieldError{Field: "message", Reason: fmt.Sprintf("longer than %d characters", maxEventMessage)})
	}
	if utf8.RuneCountInString(deref(body.Department)) > 200 {
		fields = append(fields, intake.FieldError{Field: "department", Reason: "longer than 200 characters"})
	}
	if len(fields) > 0 {
		return nil, &intake.ValidationError{Fields: fields}
	}
	c, err := s.deps.Store.GetCase(ctx, req.Ref)
	if err != nil {
		return nil, err
	}
	p, _ := PrincipalFrom(ctx)
	ch := intake.StatusChange{Status: status, Event: string(body.Type), At: body.At.UTC(), Source: p.Name,
		EventID: body.EventId, Department: deref(body.Department), Message: deref(body.Message)}
	var notes []intake.Notification
	if derefBool(body.Notify) && s.deps.Notifier != nil {
		// Planned on the case as the event leaves it, and stored in the event's transaction.
		after := *c
		if intake.ChangesStatus(ch.Event) {
			after.Status = status
		}
		if notes, err = s.deps.Notifier.Plan(&after, ch); err != nil {
			// A text that does not render is the operator's to fix; the event is still
			// recorded, without the notification.
			s.deps.Logger.ErrorContext(ctx, "render citizen notification", "case_id", c.ID, "error", err.Error())
			notes = nil
		}
	}
	applied, err := s.deps.Store.AddStatus(ctx, c.ID, ch, notes)
	if err != nil {
		return nil, err
	}
	updated, err := s.deps.Store.GetCase(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return PostCaseEvent200JSONResponse(CaseEventResult{Applied: applied, Status: Status(updated.Status)}), nil
}

// ListDeliveries pages through the gateway's delivery records.
func (s *Server) ListDeliveries(ctx context.Context, req ListDeliveriesRequestObject) (ListDeliveriesResponseObject, error) {
	q := req.Params
	f := intake.DeliveryFilter{Target: deref(q.Target), Cursor: deref(q.Cursor)}
	if q.State != nil {
		switch st := intake.DeliveryState(*q.State); st {
		case intake.DeliveryQueued, intake.DeliveryDelivered, intake.DeliveryDead:
			f.State = st
		default:
			return nil, queryProblem("state", "must be queued, delivered or dead")
		}
	}
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > 500 {
			return nil, queryProblem("limit", "must be between 1 and 500")
		}
		f.Limit = *q.Limit
	}
	page, err := s.deps.Store.ListDeliveries(ctx, f)
	if err != nil {
		return nil, err
	}
	out := DeliveryList{Deliveries: page.Deliveries}
	if out.Deliveries == nil {
		out.Deliveries = []intake.Delivery{}
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return ListDeliveries200JSONResponse(out), nil
}

// GetDelivery reads one delivery with its attempts.
func (s *Server) GetDelivery(ctx context.Context, req GetDeliveryRequestObject) (GetDeliveryResponseObject, error) {
	d, err := s.deps.Store.GetDelivery(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	if d.History, err = s.deps.Store.DeliveryAttempts(ctx, d.ID); err != nil {
		return nil, err
	}
	return GetDelivery200JSONResponse(*d), nil
}

// RetryDelivery replays a dead delivery.
func (s *Server) RetryDelivery(ctx context.Context, req RetryDeliveryRequestObject) (RetryDeliveryResponseObject, error) {
	d, err := s.deps.Store.RetryDelivery(ctx, req.Id)
	if errors.Is(err, intake.ErrInvalid) {
		return nil, problem(http.StatusConflict, "not-dead", "Delivery is not dead", "Only dead deliveries can be replayed.")
	}
	if err != nil {
		return nil, err
	}
	return RetryDelivery202JSONResponse(*d), nil
}
