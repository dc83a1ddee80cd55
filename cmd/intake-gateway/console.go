package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/normalize"
)

// consoleStreams are the console's long-lived routes, exempt from server.request_timeout.
var consoleStreams = []string{"/console/live"}

// mountConsole adds the audit log's API route and, when enabled, the operator console (nil when
// disabled).
func mountConsole(ctx context.Context, e *echo.Echo, cfg *config.Config, st migratingStore, rules normalize.Options, auth *api.Authenticator, reg prometheus.Gatherer, logger *slog.Logger) (*console.Console, error) {
	e.GET("/v1/audit", api.AuditHandler(st), auth.Middleware(), api.RequireScope(api.ScopeAdmin))
	if !cfg.Console.Enabled {
		return nil, nil
	}
	var categories []console.Category
	if rules.Classifier != nil {
		for _, c := range rules.Classifier.Rules().Taxonomy.Categories {
			categories = append(categories, console.Category{Code: c.Code, Name: c.Name})
		}
	}
	// River's job UI, for admins (both stores: riverui reads River's SQLite schema too).
	jobsUI, err := jobs.UIFor(ctx, st, "/console/jobs", logger)
	if err != nil {
		return nil, err
	}
	c, err := console.New(st, console.Options{
		Jobs: jobsUI, Channels: consoleChannels(cfg), Refusals: func() []console.Refusal { return refusals(reg, logger) },
		IdleTimeout: cfg.Console.IdleTimeout, MaxAge: cfg.Console.SessionMaxAge,
		Location: cfg.CaseNo.Location(), Categories: categories, Logger: logger,
		LiveInterval: cfg.Console.LiveInterval, LiveStreams: cfg.Console.LiveStreams,
		LiveStreamsPerSession: cfg.Console.LiveStreamsPerSession,
	})
	if err != nil {
		return nil, err
	}
	// The console names clients by the address echo found, which believes X-Forwarded-For only
	// from the trusted proxies.
	h := func(ec echo.Context) error {
		r := ec.Request()
		c.ServeHTTP(ec.Response(), r.WithContext(console.WithClientIP(r.Context(), ec.RealIP())))
		return nil
	}
	e.Any("/console", h)
	e.Any("/console/*", h)
	// Its own route, so that the request timeout can tell it apart (consoleStreams).
	e.GET("/console/live", h)
	return c, nil
}

// bootstrapAdmin creates console.bootstrap_admin with a random password, printed once on out,
// when no account of that name exists.
func bootstrapAdmin(ctx context.Context, cfg *config.Config, st migratingStore, out io.Writer) error {
	name := cfg.Console.BootstrapAdmin
	if name == "" || !cfg.Console.Enabled {
		return nil
	}
	if _, err := st.UserByName(ctx, name); err == nil {
		return nil
	} else if !errors.Is(err, intake.ErrNotFound) {
		return fmt.Errorf("console.bootstrap_admin: %w", err)
	}
	raw := make([]byte, 15)
	if _, err := rand.Read(raw); err != nil {
		return fmt.Errorf("console.bootstrap_admin: %w", err)
	}
	password := base64.RawURLEncoding.EncodeToString(raw)
	_, err := console.AddUser(ctx, st, name, intake.RoleAdmin, password, console.DefaultPasswordParams, "console.bootstrap_admin", intake.ActorCLI)
	if errors.Is(err, intake.ErrExists) {
		return nil // another replica made it first; it printed the password
	}
	if err != nil {
		return fmt.Errorf("console.bootstrap_admin: %w", err)
	}
	fmt.Fprintf(out, "\nconsole: created the admin account %q with the password %s\n"+
		"console: it is shown this once; sign in at /console/login (development only: empty console.bootstrap_admin for real use)\n\n", name, password)
	return nil
}

// consoleChannels lists the configured channels for the console's channels page, each WeChat
// account with the key of its access token in the store (channels/wechat.StoreTokens).
func consoleChannels(cfg *config.Config) []console.ChannelInfo {
	out := make([]console.ChannelInfo, 0, len(cfg.Channels))
	for _, ch := range cfg.Channels {
		kind := intake.ChannelKind(ch.Type)
		if ch.Type == "twilio" {
			kind = intake.ChannelSMS
		}
		info := console.ChannelInfo{ID: ch.ID, Kind: kind}
		if ch.Type == "wechat" {
			info.TokenKey = "wechat:" + ch.AppID
		}
		out = append(out, info)
	}
	return out
}

// refusals reads this process's intake_webhook_refused_total by channel and reason.
func refusals(reg prometheus.Gatherer, logger *slog.Logger) []console.Refusal {
	families, err := reg.Gather()
	if err != nil {
		logger.Warn("console: read refusal counters", "error", err.Error())
	}
	var out []console.Refusal
	for _, f := range families {
		if f.GetName() != "intake_webhook_refused_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			r := console.Refusal{Count: int(m.GetCounter().GetValue())}
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "channel_id":
					r.ChannelID = l.GetValue()
				case "reason":
					r.Reason = l.GetValue()
				}
			}
			out = append(out, r)
		}
	}
	return out
}
