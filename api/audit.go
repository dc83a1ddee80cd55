package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
)

// AuditLog is what GET /v1/audit reads.
type AuditLog interface {
	ListAudit(ctx context.Context, f intake.AuditFilter) (intake.AuditPage, error)
}

// AuditPage is the body of GET /v1/audit.
type AuditPage struct {
	Entries    []intake.AuditEntry `json:"entries"`
	NextCursor *string             `json:"next_cursor,omitempty"`
}

// AuditHandler serves GET /v1/audit: the audit log, newest first, filtered by action, actor and
// target, one page at a time. It is mounted behind the admin scope: the log names who looked at
// which citizen's data.
func AuditHandler(log AuditLog) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		for name, values := range q {
			switch name {
			case "action", "actor", "target", "limit", "cursor":
				if len(values) > 1 {
					return writeProblem(c, queryProblem(name, "given more than once"))
				}
			default:
				return writeProblem(c, queryProblem(name, "unknown parameter"))
			}
		}
		f := intake.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"), Target: q.Get("target"), Cursor: q.Get("cursor")}
		for field, v := range map[string]string{"action": f.Action, "actor": f.Actor, "target": f.Target} {
			if len(v) > 200 {
				return writeProblem(c, queryProblem(field, "at most 200 bytes"))
			}
		}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 500 {
				return writeProblem(c, queryProblem("limit", "must be between 1 and 500"))
			}
			f.Limit = n
		}
		page, err := log.ListAudit(c.Request().Context(), f)
		if errors.Is(err, intake.ErrInvalid) {
			return writeProblem(c, queryProblem("cursor", "not a cursor this gateway issued"))
		}
		if err != nil {
			return err
		}
		out := AuditPage{Entries: page.Entries}
		if out.Entries == nil {
			out.Entries = []intake.AuditEntry{}
		}
		if page.NextCursor != "" {
			out.NextCursor = &page.NextCursor
		}
		return c.JSON(http.StatusOK, out)
	}
}
