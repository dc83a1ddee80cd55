package console

import (
	"errors"
	"net/http"
	"net/url"

	intake "github.com/hotline12345/intake-gateway"
)

type auditRow struct {
	intake.AuditEntry
	ActionName string
}

type auditView struct {
	Action, Actor, Target string
	Actions               []option
	Rows                  []auditRow
	NextURL               string
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := intake.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"), Target: q.Get("target"), Cursor: q.Get("cursor"), Limit: 100}
	if f.Action != "" {
		if _, ok := auditActionNames[f.Action]; !ok {
			c.fail(w, r, nil, http.StatusBadRequest, "未知的操作类型："+f.Action)
			return
		}
	}
	if len(f.Actor) > 64 || len(f.Target) > 100 {
		c.fail(w, r, nil, http.StatusBadRequest, "筛选条件过长。")
		return
	}
	page, err := c.store.ListAudit(r.Context(), f)
	if errors.Is(err, intake.ErrInvalid) {
		c.fail(w, r, nil, http.StatusBadRequest, "翻页参数无效，请从第一页重新查询。")
		return
	}
	if err != nil {
		c.opts.Logger.Error("console: read audit log", "error", err.Error())
		c.fail(w, r, nil, http.StatusServiceUnavailable, "暂时无法读取审计日志，请稍后重试。")
		return
	}
	actions := []string{intake.AuditLogin, intake.AuditLoginFailed, intake.AuditLogout, intake.AuditReveal, intake.AuditCorrection, intake.AuditUserAdd, intake.AuditUserChange, intake.AuditDeliveryRetry}
	view := auditView{Action: f.Action, Actor: f.Actor, Target: f.Target, Actions: options(actions, auditActionNames, f.Action, "全部操作")}
	for _, e := range page.Entries {
		view.Rows = append(view.Rows, auditRow{AuditEntry: e, ActionName: nameOr(auditActionNames, e.Action)})
	}
	if page.NextCursor != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", page.NextCursor)
		view.NextURL = "/console/audit?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "audit", viewerFrom(r.Context()), view)
}
