package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	intake "github.com/hotline12345/intake-gateway"

	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/metrics"
	"github.com/hotline12345/intake-gateway/internal/telemetry"
	"github.com/hotline12345/intake-gateway/retention"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// migratingStore is a store that can bring its schema up to date.
type migratingStore interface {
	intake.Store
	wechat.Tokens
	metrics.BacklogSource
	retention.Store
	intake.Incidents
	intake.Operators
	intake.Review
	intake.ChannelReport
	Migrate(ctx context.Context) error
}

func loadConfig(path string) (*config.Config, string, error) {
	resolved := config.ResolvePath(path)
	cfg, err := config.Load(resolved, nil)
	if err != nil {
		return nil, resolved, fmt.Errorf("config %s:\n%w", describePath(resolved), err)
	}
	return cfg, resolved, nil
}

func newLogger(cfg *config.Config) *slog.Logger {
	return logging.New(os.Stderr, cfg.Log.Level, cfg.Log.Format, logging.WithPseudonymKey(cfg.Log.PseudonymKey))
}

func storeOptions(cfg *config.Config, m *metrics.Metrics, tel *telemetry.Telemetry) store.Options {
	return store.Options{
		ObserveBatch: m.ObserveBatch,
		TraceBatch:   tel.BatchContext("store.commit_cases"),
		CaseNoPrefix: cfg.CaseNo.Prefix,
		Location:     cfg.CaseNo.Location(),
		Writers:      cfg.Database.Writers,
		MaxBatch:     cfg.Database.MaxBatch,
	}
}

// openStore opens PostgreSQL when a URL is configured, else the embedded SQLite file.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger, m *metrics.Metrics, tel *telemetry.Telemetry) (migratingStore, string, error) {
	// River and the migrators narrate routine work at info level; only their warnings matter.
	logger = logging.AtLeast(logger, slog.LevelWarn)
	if cfg.Database.URL != "" {
		s, err := postgres.Open(ctx, postgres.Config{
			URL: cfg.Database.URL, Options: storeOptions(cfg, m, tel), Logger: logger, MaxConns: cfg.Database.MaxConns,
			QueryTracer: tel.QueryTracer(), JobMiddleware: tel.JobMiddleware(),
		})
		if err != nil {
			return nil, "", err
		}
		return s, "postgres", nil
	}
	s, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.Database.SQLitePath, Options: storeOptions(cfg, m, tel), Logger: logger,
		JobMiddleware: tel.JobMiddleware()})
	if err != nil {
		return nil, "", err
	}
	return s, "sqlite", nil
}
