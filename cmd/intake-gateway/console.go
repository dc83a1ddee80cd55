package main

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/normalize"
)

// mountConsole adds the audit log's API route and, when enabled, the operator console.
func mountConsole(e *echo.Echo, cfg *config.Config, st migratingStore, rules normalize.Options, auth *api.Authenticator, logger *slog.Logger) error {
	e.GET("/v1/audit", api.AuditHandler(st), auth.Middleware(), api.RequireScope(api.ScopeAdmin))
	if !cfg.Console.Enabled {
		return nil
	}
	var categories []console.Category
	if rules.Classifier != nil {
		for _, c := range rules.Classifier.Rules().Taxonomy.Categories {
			categories = append(categories, console.Category{Code: c.Code, Name: c.Name})
		}
	}
	c, err := console.New(st, console.Options{
		IdleTimeout: cfg.Console.IdleTimeout, MaxAge: cfg.Console.SessionMaxAge,
		Location: cfg.CaseNo.Location(), Categories: categories, Logger: logger,
	})
	if err != nil {
		return err
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
	return nil
}
