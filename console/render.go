package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// page is what the layout template receives.
type page struct {
	Title string
	Nav   string
	User  *intake.User
	CSRF  string
	// IsAdmin and IsOperator say what the signed-in operator may do, for the navigation.
	IsAdmin, IsOperator bool
	Data                any
}

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		// dict passes several values to a sub-template.
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(c.opts.Location).Format("2006-01-02 15:04:05")
		},
	}
}

var titles = map[string]string{
	"login": "登录", "dashboard": "运行概况", "cases": "工单", "case": "工单详情", "deliveries": "转办记录", "topics": "热点诉求", "reports": "统计报表", "audit": "审计日志", "channels": "渠道状态", "error": "出错了",
}

// render writes a page; it is written to a buffer first so that a template error becomes a
// clean 500 instead of half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *viewer, data any) {
	p := page{Title: titles[name], Nav: name, Data: data}
	if v != nil {
		p.User, p.CSRF = v.user, v.session.CSRFToken
		p.IsAdmin, p.IsOperator = v.user.Role.AtLeast(intake.RoleAdmin), v.user.Role.AtLeast(intake.RoleOperator)
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		c.opts.Logger.Error("console: render page", "page", name, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorView struct {
	Status  int
	Message string
	Details []string
}

// fail answers with an error page; v may be nil (signed out).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string, details ...string) {
	if v == nil {
		v = viewerFrom(r.Context())
	}
	c.render(w, r, status, "error", v, errorView{Status: status, Message: msg, Details: details})
}
