package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/open311"
)

// maxKeywords is how many of a category's strongest phrases the service list shows.
const maxKeywords = 8

// registerOpen311 serves Open311 GeoReport v2 under /open311/v2/ when enabled. Its service list
// is the taxonomy loaded at start with the catalog's additions.
func registerOpen311(e *echo.Echo, cfg *config.Config, st open311.Store, svc *app.Intake, auth *api.Authenticator,
	rules normalize.Options, texts *replies.Current, logger *slog.Logger) error {
	oc := cfg.Open311
	if !oc.Enabled {
		return nil
	}
	catalog, err := loadOpen311Catalog(cfg)
	if err != nil {
		return err
	}
	var cats []open311.Category
	if rules.Classifier != nil {
		for _, c := range rules.Classifier.Rules().Taxonomy.Categories {
			cats = append(cats, open311.Category{Code: c.Code, Name: c.Name, Keywords: strongest(c.Terms)})
		}
	}
	services, err := open311.Services(cats, catalog)
	if err != nil {
		return fmt.Errorf("open311.catalog_file: %w", err)
	}
	h, err := open311.New(open311.Deps{
		Store: st, Submitter: svc, Keys: auth, Services: services, Texts: texts.Load, Logger: logger,
	}, open311.Options{
		PublicBaseURL: cfg.Server.PublicBaseURL, Contact: oc.Contact, KeyService: oc.KeyService,
		Jurisdiction: oc.Jurisdiction, DuplicateWindow: oc.DuplicateWindow, Location: cfg.CaseNo.Location(),
		PublicReads: oc.PublicReads,
	})
	if err != nil {
		return err
	}
	e.Any(strings.TrimSuffix(open311.Prefix, "/")+"/*", echo.WrapHandler(h))
	return nil
}

// loadOpen311Catalog reads and checks the configured catalog, or the built-in one.
func loadOpen311Catalog(cfg *config.Config) (open311.Catalog, error) {
	raw, err := readRuleFile("open311.catalog_file", cfg.Open311.CatalogFile, configs.Open311)
	if err != nil {
		return open311.Catalog{}, err
	}
	catalog, err := open311.ParseCatalog(raw)
	if err != nil {
		return open311.Catalog{}, fmt.Errorf("open311.catalog_file: %w", err)
	}
	return catalog, nil
}

// strongest returns the phrases of a category's heaviest weight, at most maxKeywords.
func strongest(terms []normalize.TermGroup) []string {
	best := -1.0
	var out []string
	for _, g := range terms {
		switch {
		case g.Weight > best:
			best, out = g.Weight, append([]string(nil), g.Phrases...)
		case g.Weight == best:
			out = append(out, g.Phrases...)
		}
	}
	if len(out) > maxKeywords {
		out = out[:maxKeywords]
	}
	return out
}
