// Package console serves the operator console under /console: server-rendered pages (Go
// templates and a stylesheet embedded in the binary, nothing fetched at run time) for the
// hotline's figures, its cases and the review of the classifier's work.
//
// Operators sign in with a name and password (argon2id); a session lives in the store, named by
// an HttpOnly, Secure, SameSite=Strict cookie, and ends on logout, after an idle period or at
// its absolute end. Every form carries the session's CSRF token, and browsers' cross-origin
// requests are refused before any handler runs. Sign-in failures are counted per account and
// per address in the store, so every replica enforces one limit. Lists mask citizens' personal
// data; revealing it on a case page is an explicit action, recorded in the audit log before the
// data is shown.
package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// Store is what the console needs from the case store.
type Store interface {
	intake.Operators
	intake.Review
	intake.ChannelReport
	intake.LookupLimits
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
	Deliveries(ctx context.Context, caseID string) ([]intake.Delivery, error)
	DeliveryAttempts(ctx context.Context, deliveryID string) ([]intake.DeliveryAttempt, error)
	CaseNotifications(ctx context.Context, caseID string) ([]intake.Notification, error)
	ListDeliveries(ctx context.Context, f intake.DeliveryFilter) (intake.DeliveryPage, error)
	RetryDelivery(ctx context.Context, id string) (*intake.Delivery, error)
	ListIncidents(ctx context.Context, f intake.IncidentFilter) ([]intake.Incident, error)
	CountIncidents(ctx context.Context, state intake.IncidentState) (int, error)
	IncidentCases(ctx context.Context, id string, limit int) ([]*intake.Case, error)
}

// Category is one entry of the taxonomy, for filters, names and the correction form.
type Category struct {
	Code string
	Name string
}

// Options configure the console. Zero values take the defaults.
type Options struct {
	// IdleTimeout ends a session nobody used for this long (default 30 minutes).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, however active (default 12 hours).
	MaxAge time.Duration
	// AccountLogins and AddressLogins limit failed sign-ins per account name and per client
	// address (defaults: 5 and 20 within 15 minutes, then locked for 15 minutes).
	AccountLogins intake.LookupPolicy
	AddressLogins intake.LookupPolicy
	// Location is the hotline's time zone: days and times are shown in it (default Asia/Shanghai).
	Location *time.Location
	// Categories is the taxonomy (codes and display names).
	Categories []Category
	// Password are the argon2id parameters for new hashes (default DefaultPasswordParams).
	Password PasswordParams
	Clock    intake.Clock
	Logger   *slog.Logger
	// LiveInterval is how often the dashboard's live figure is read from the store while a
	// dashboard is open (default 2 s).
	LiveInterval time.Duration
	// LiveMaxAge ends a live stream after this long; the browser reconnects, passing the session
	// check again (default 55 s, under the server's 60 s write timeout).
	LiveMaxAge time.Duration
	// LiveStreams and LiveStreamsPerSession bound the open live streams of this replica and of
	// one session (defaults 200 and 4).
	LiveStreams, LiveStreamsPerSession int
	// Channels are the configured channels, for the channels page (besides those the store
	// saw cases or notifications of).
	Channels []ChannelInfo
	// Refusals reads this replica's counts of refused webhook requests (nil: none shown).
	Refusals func() []Refusal
	// Jobs is River's job UI (riverui, built with prefix /console/jobs), served to admins at
	// /console/jobs; nil shows a page saying it is not available.
	Jobs http.Handler
	// ClientIP names the client of a request (default: the address set by WithClientIP, else
	// the connection's peer).
	ClientIP func(r *http.Request) string
}

func (o Options) withDefaults() Options {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 12 * time.Hour
	}
	if o.AccountLogins.Limit <= 0 {
		o.AccountLogins = intake.LookupPolicy{Limit: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	}
	if o.AddressLogins.Limit <= 0 {
		o.AddressLogins = intake.LookupPolicy{Limit: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		o.Location = loc
	}
	if o.Password == (PasswordParams{}) {
		o.Password = DefaultPasswordParams
	}
	if o.Clock == nil {
		o.Clock = intake.SystemClock
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ClientIP == nil {
		o.ClientIP = defaultClientIP
	}
	if o.LiveInterval <= 0 {
		o.LiveInterval = 2 * time.Second
	}
	if o.LiveMaxAge <= 0 {
		o.LiveMaxAge = 55 * time.Second
	}
	if o.LiveStreams <= 0 {
		o.LiveStreams = 200
	}
	if o.LiveStreamsPerSession <= 0 {
		o.LiveStreamsPerSession = 4
	}
	return o
}

type clientIPKey struct{}

// WithClientIP records the client address of a request as the surrounding server determined it
// (behind trusted proxies, from X-Forwarded-For).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

func defaultClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok && ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Console is the operator console.
type Console struct {
	store      Store
	opts       Options
	pages      map[string]*template.Template
	categories map[string]string
	// dummyHash is verified against when the account does not exist, so that a sign-in takes
	// as long for an unknown name as for a wrong password.
	dummyHash string
	handler   http.Handler
	live      *liveHub
}

// New builds the console.
func New(st Store, opts Options) (*Console, error) {
	opts = opts.withDefaults()
	c := &Console{store: st, opts: opts, categories: map[string]string{}}
	for _, cat := range opts.Categories {
		c.categories[cat.Code] = cat.Name
	}
	pages, err := parsePages(c.funcs())
	if err != nil {
		return nil, err
	}
	c.pages = pages
	dummy, err := HashPassword("not a password of anyone", opts.Password)
	if err != nil {
		return nil, err
	}
	c.dummyHash = dummy
	c.live = newLiveHub(c)
	c.handler = c.routes()
	return c, nil
}

// ServeHTTP serves every /console route.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.HandleFunc("POST /console/login", c.login)
	mux.Handle("POST /console/logout", c.authed(intake.RoleViewer, c.logout))
	mux.Handle("GET /console/{$}", c.authed(intake.RoleViewer, c.dashboard))
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusSeeOther))
	mux.Handle("GET /console/live", c.authed(intake.RoleViewer, c.liveStream))
	mux.Handle("GET /console/cases", c.authed(intake.RoleViewer, c.casesPage))
	mux.Handle("GET /console/cases/{ref}", c.authed(intake.RoleViewer, c.casePage))
	mux.Handle("POST /console/cases/{ref}/reveal", c.authed(intake.RoleOperator, c.reveal))
	mux.Handle("POST /console/cases/{ref}/correct", c.authed(intake.RoleOperator, c.correct))
	mux.Handle("GET /console/deliveries", c.authed(intake.RoleViewer, c.deliveriesPage))
	mux.Handle("POST /console/deliveries/{id}/retry", c.authed(intake.RoleOperator, c.retryDelivery))
	mux.Handle("GET /console/topics", c.authed(intake.RoleViewer, c.topicsPage))
	mux.Handle("GET /console/channels", c.authed(intake.RoleViewer, c.channelsPage))
	mux.Handle("GET /console/reports", c.authed(intake.RoleViewer, c.reportPage))
	mux.Handle("GET /console/audit", c.authed(intake.RoleAdmin, c.auditPage))
	mux.Handle("/console/jobs/", c.authed(intake.RoleAdmin, c.jobsUI))
	mux.Handle("GET /console/jobs", http.RedirectHandler("/console/jobs/", http.StatusSeeOther))
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusNotFound, "页面不存在。")
	})
	// Browsers' cross-origin form posts are refused here, whatever cookie they carry; the CSRF
	// token checked by each form's handler covers clients that send neither Origin nor
	// Sec-Fetch-Site.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, http.StatusForbidden, "跨站请求被拒绝。")
	}))
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders keeps the console's pages out of frames and caches, and lets them load
// nothing but their own stylesheet and scripts, and connect nowhere but back (the live figure).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (c *Console) now() time.Time { return c.opts.Clock.Now() }

func (c *Console) audit(r *http.Request, u *intake.User, action, target, detail string) intake.AuditEntry {
	e := intake.AuditEntry{At: c.now(), ActorKind: intake.ActorUser, Action: action, Target: target,
		RemoteAddr: c.opts.ClientIP(r), Detail: detail}
	if u != nil {
		e.Actor = u.Name
	}
	return e
}

func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "dashboard", "cases", "case", "deliveries", "topics", "reports", "audit", "channels", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/shares.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
