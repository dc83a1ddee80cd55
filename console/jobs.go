package console

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// River's job UI (riverui) is mounted under /console/jobs for admins. It is a single-page app
// whose API mutates jobs and queues with JSON POSTs, PATCHes and DELETEs: authed refuses every
// one of them that does not carry the session's CSRF token, here in the X-CSRF-Token header. The
// app does not know that header, so every HTML page of it gets the token in a meta element and
// the console's own script (static/jobs-csrf.js), which adds the header to the app's non-GET
// fetches. Another site cannot read the token, and browsers' cross-origin requests are refused
// before any handler runs.

// jobsCSP lets the app run: its own scripts and styles (React and its libraries insert style
// elements), and its API calls back to this origin.
const jobsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// csrfHeader carries the session's CSRF token on requests made by scripts.
const csrfHeader = "X-CSRF-Token"

func (c *Console) jobsUI(w http.ResponseWriter, r *http.Request) {
	if c.opts.Jobs == nil {
		c.fail(w, r, nil, http.StatusNotFound, "任务队列界面在此部署中不可用。")
		return
	}
	w.Header().Set("Content-Security-Policy", jobsCSP)
	v := viewerFrom(r.Context())
	iw := &injectWriter{ResponseWriter: w, head: `<meta name="console-csrf" content="` + template.HTMLEscapeString(v.session.CSRFToken) +
		`"><script src="/console/static/jobs-csrf.js"></script>`}
	c.opts.Jobs.ServeHTTP(iw, r)
	iw.finish()
}

// injectWriter passes a response through, except an HTML page: that is held back and written
// with head inserted right after its <head> tag, so that the console's script runs before the
// app's own (deferred module) scripts.
type injectWriter struct {
	http.ResponseWriter
	head    string
	status  int
	html    bool
	decided bool
	buf     bytes.Buffer
}

func (w *injectWriter) WriteHeader(status int) {
	if w.decided {
		return
	}
	w.decided, w.status = true, status
	w.html = strings.HasPrefix(w.Header().Get("Content-Type"), "text/html")
	if !w.html {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *injectWriter) Write(b []byte) (int, error) {
	if !w.decided {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", http.DetectContentType(b))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.html {
		return w.buf.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes through for anything but a held-back page.
func (w *injectWriter) Flush() {
	if w.html {
		return
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *injectWriter) finish() {
	if !w.html {
		return
	}
	body := w.buf.Bytes()
	if i := bytes.Index(body, []byte("<head>")); i >= 0 {
		at := i + len("<head>")
		body = append(body[:at:at], append([]byte(w.head), body[at:]...)...)
	}
	w.Header().Del("Content-Length")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
}
