package console

import (
	"errors"
	"net/http"
	"net/url"

	intake "github.com/hotline12345/intake-gateway"
)

type deliveryRow struct {
	intake.Delivery
	StateName string
	CanRetry  bool
}

type deliveriesView struct {
	States  []option
	Target  string
	Rows    []deliveryRow
	NextURL string
}

// deliveriesPage lists deliveries to the case systems, dead ones first by default: what an
// operator replays once the case system is fixed.
func (c *Console) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := intake.DeliveryState(q.Get("state"))
	if !q.Has("state") {
		state = intake.DeliveryDead
	}
	switch state {
	case "", intake.DeliveryQueued, intake.DeliveryDelivered, intake.DeliveryFailed, intake.DeliveryDead:
	default:
		c.fail(w, r, nil, http.StatusBadRequest, "未知的转办状态："+string(state))
		return
	}
	f := intake.DeliveryFilter{State: state, Target: q.Get("target"), Cursor: q.Get("cursor"), Limit: 100}
	if len(f.Target) > 64 {
		c.fail(w, r, nil, http.StatusBadRequest, "目标名称过长。")
		return
	}
	page, err := c.store.ListDeliveries(r.Context(), f)
	if errors.Is(err, intake.ErrInvalid) {
		c.fail(w, r, nil, http.StatusBadRequest, "翻页参数无效，请从第一页重新查询。")
		return
	}
	if err != nil {
		c.opts.Logger.Error("console: list deliveries", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取转办记录，请稍后重试。")
		return
	}
	v := viewerFrom(r.Context())
	states := []intake.DeliveryState{intake.DeliveryDead, intake.DeliveryFailed, intake.DeliveryQueued, intake.DeliveryDelivered}
	view := deliveriesView{States: options(states, deliveryStateNames, string(state), "全部"), Target: f.Target}
	for _, d := range page.Deliveries {
		view.Rows = append(view.Rows, deliveryRow{Delivery: d, StateName: nameOr(deliveryStateNames, d.State),
			CanRetry: d.State == intake.DeliveryDead && v.user.Role.AtLeast(intake.RoleOperator)})
	}
	if page.NextCursor != "" {
		next := url.Values{}
		for k, vals := range q {
			next[k] = vals
		}
		next.Set("state", string(state))
		next.Set("cursor", page.NextCursor)
		view.NextURL = "/console/deliveries?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "deliveries", v, view)
}

// retryDelivery queues a dead delivery again, and audits the replay.
func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	id := r.PathValue("id")
	d, err := c.store.RetryDelivery(r.Context(), id)
	switch {
	case errors.Is(err, intake.ErrNotFound):
		c.fail(w, r, v, http.StatusNotFound, "转办记录不存在。")
		return
	case errors.Is(err, intake.ErrInvalid):
		c.fail(w, r, v, http.StatusConflict, "只有已放弃的转办可以重新转办。")
		return
	case err != nil:
		c.opts.Logger.Error("console: retry delivery", "error", err.Error())
		c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法重新转办，请稍后重试。")
		return
	}
	e := c.audit(r, v.user, intake.AuditDeliveryRetry, "delivery:"+d.ID, "case "+d.CaseID+" "+d.Event+" → "+d.Target)
	if err := c.store.AppendAudit(r.Context(), e); err != nil {
		// The replay has happened; the gap in the log is reported where operators look.
		c.opts.Logger.Error("console: audit entry not written", "action", e.Action, "target", e.Target, "error", err.Error())
	}
	http.Redirect(w, r, "/console/deliveries", http.StatusSeeOther)
}
