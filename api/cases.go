package api

import (
	"context"
	"net/http"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api/gen"
)

// GetCase reads one case by id or case number, with its deliveries.
func (s *Server) GetCase(ctx context.Context, req gen.GetCaseRequestObject) (gen.GetCaseResponseObject, error) {
	c, err := s.deps.Store.GetCase(ctx, req.Ref)
	if err != nil {
		return nil, err
	}
	ds, err := s.deps.Store.Deliveries(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if ds == nil {
		ds = []intake.Delivery{}
	}
	notes, err := s.deps.Store.CaseNotifications(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if notes == nil {
		notes = []intake.Notification{}
	}
	return gen.GetCase200JSONResponse(intake.CaseView{Case: c, Deliveries: ds, Notifications: notes}), nil
}

// ListCases pages through cases.
func (s *Server) ListCases(ctx context.Context, req gen.ListCasesRequestObject) (gen.ListCasesResponseObject, error) {
	f := intake.CaseFilter{}
	q := req.Params
	if q.Channel != nil {
		if !intake.ChannelKind(*q.Channel).Valid() {
			return nil, queryProblem("channel", "unknown channel kind")
		}
		f.Channel = intake.ChannelKind(*q.Channel)
	}
	if q.Status != nil {
		if !intake.Status(*q.Status).Valid() {
			return nil, queryProblem("status", "unknown status")
		}
		f.Status = intake.Status(*q.Status)
	}
	if q.ReceivedFrom != nil {
		f.ReceivedFrom = *q.ReceivedFrom
	}
	if q.ReceivedTo != nil {
		f.ReceivedTo = *q.ReceivedTo
	}
	if !f.ReceivedFrom.IsZero() && !f.ReceivedTo.IsZero() && !f.ReceivedFrom.Before(f.ReceivedTo) {
		return nil, queryProblem("received_to", "must be after received_from")
	}
	if q.Limit != nil {
		if *q.Limit < 1 || *q.Limit > 500 {
			return nil, queryProblem("limit", "must be between 1 and 500")
		}
		f.Limit = *q.Limit
	}
	if q.Cursor != nil {
		f.Cursor = *q.Cursor
	}
	page, err := s.deps.Store.ListCases(ctx, f)
	if err != nil {
		return nil, err
	}
	out := gen.CaseList{Cases: make([]gen.Case, len(page.Cases))}
	for i, c := range page.Cases {
		out.Cases[i] = *c
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return gen.ListCases200JSONResponse(out), nil
}

func queryProblem(field, reason string) *ProblemError {
	return &ProblemError{Status: http.StatusBadRequest, Kind: "validation", Title: "Invalid query",
		Detail: "A query parameter is invalid.", Fields: []intake.FieldError{{Field: field, Reason: reason}}}
}

// Healthz answers while the process runs.
func (s *Server) Healthz(context.Context, gen.HealthzRequestObject) (gen.HealthzResponseObject, error) {
	return gen.Healthz200JSONResponse(gen.Health{Status: gen.HealthStatusOk}), nil
}

// Readyz answers 200 when the store is reachable and migrated.
func (s *Server) Readyz(ctx context.Context, _ gen.ReadyzRequestObject) (gen.ReadyzResponseObject, error) {
	if s.deps.Draining != nil && s.deps.Draining() {
		checks := map[string]string{"process": "shutting down"}
		return gen.Readyz503JSONResponse(gen.Health{Status: gen.HealthStatusUnavailable, Checks: &checks}), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.deps.Store.Ready(ctx); err != nil {
		s.deps.Logger.WarnContext(ctx, "not ready", "error", err.Error())
		checks := map[string]string{"store": err.Error()}
		return gen.Readyz503JSONResponse(gen.Health{Status: gen.HealthStatusUnavailable, Checks: &checks}), nil
	}
	checks := map[string]string{"store": "ok"}
	return gen.Readyz200JSONResponse(gen.Health{Status: gen.HealthStatusOk, Checks: &checks}), nil
}
