package api

import (
	"context"
	"errors"
	"net/http"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
)

// PostCaseEvent records a status change or reply reported by the case system.
func (s *Server) PostCaseEvent(ctx context.Context, req PostCaseEventRequestObject) (PostCaseEventResponseObject, error) {
	body := req.Body
	p, _ := PrincipalFrom(ctx)
	res, err := s.deps.Events.Record(ctx, req.Ref, app.StatusReport{
		EventID: body.EventId, Type: string(body.Type), At: body.At, Department: deref(body.Department),
		Message: deref(body.Message), Notify: derefBool(body.Notify), Source: p.Name,
	})
	if err != nil {
		return nil, err
	}
	return PostCaseEvent200JSONResponse(CaseEventResult{Applied: res.Applied, Status: Status(res.Case.Status)}), nil
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
