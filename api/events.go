package api

import (
	"context"
	"errors"
	"net/http"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api/gen"
	"github.com/hotline12345/intake-gateway/internal/app"
)

// PostCaseEvent records a status change or reply reported by the case system.
func (s *Server) PostCaseEvent(ctx context.Context, req gen.PostCaseEventRequestObject) (gen.PostCaseEventResponseObject, error) {
	body := req.Body
	p, _ := PrincipalFrom(ctx)
	res, err := s.deps.Events.Record(ctx, req.Ref, app.StatusReport{
		EventID: body.EventId, Type: string(body.Type), At: body.At, Department: deref(body.Department),
		Message: deref(body.Message), Notify: derefBool(body.Notify), Source: p.Name,
	})
	if err != nil {
		return nil, err
	}
	return gen.PostCaseEvent200JSONResponse(gen.CaseEventResult{Applied: res.Applied, Status: gen.Status(res.Case.Status)}), nil
}

// ListDeliveries pages through the gateway's delivery records.
func (s *Server) ListDeliveries(ctx context.Context, req gen.ListDeliveriesRequestObject) (gen.ListDeliveriesResponseObject, error) {
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
	out := gen.DeliveryList{Deliveries: page.Deliveries}
	if out.Deliveries == nil {
		out.Deliveries = []intake.Delivery{}
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return gen.ListDeliveries200JSONResponse(out), nil
}

// GetDelivery reads one delivery with its attempts.
func (s *Server) GetDelivery(ctx context.Context, req gen.GetDeliveryRequestObject) (gen.GetDeliveryResponseObject, error) {
	d, err := s.deps.Store.GetDelivery(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	if d.History, err = s.deps.Store.DeliveryAttempts(ctx, d.ID); err != nil {
		return nil, err
	}
	return gen.GetDelivery200JSONResponse(*d), nil
}

// RetryDelivery replays a dead delivery.
func (s *Server) RetryDelivery(ctx context.Context, req gen.RetryDeliveryRequestObject) (gen.RetryDeliveryResponseObject, error) {
	d, err := s.deps.Store.RetryDelivery(ctx, req.Id)
	if errors.Is(err, intake.ErrInvalid) {
		return nil, problem(http.StatusConflict, "not-dead", "Delivery is not dead", "Only dead deliveries can be replayed.")
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, intake.AuditDeliveryRetry, "delivery:"+d.ID, "case "+d.CaseID+" "+d.Event+" → "+d.Target)
	return gen.RetryDelivery202JSONResponse(*d), nil
}

// audit records an action of the request's API key. The action has happened by then; an entry
// that cannot be written is logged, so that the operator finds the gap.
func (s *Server) audit(ctx context.Context, action, target, detail string) {
	if s.deps.Audit == nil {
		return
	}
	p, _ := PrincipalFrom(ctx)
	e := intake.AuditEntry{At: s.now(), Actor: p.Name, ActorKind: intake.ActorAPIKey, Action: action, Target: target,
		RemoteAddr: clientIPFrom(ctx), Detail: detail}
	if err := s.deps.Audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.deps.Logger.ErrorContext(ctx, "audit entry not written", "action", action, "target", target, "error", err.Error())
	}
}
