// Command statsbench times the console's figures on a PostgreSQL store, as scripts/bench-growth.sh
// leaves one with a million cases (and scripts/stats-history.sql gives them resolutions and
// feedback): the dashboard (30 days), a month's report (console.BuildReport, what the report page
// and the `report` command run) and a half-year report. It first applies pending migrations and
// says how long they took. Each figure is timed -runs times; the median is what counts.
//
//	go run ./scripts/statsbench -db postgres://…/intake_growth -runs 7 -at 2026-12-05T12:00:00+08:00 -figures out.json
//
// It also times the dashboard and month report pages as a signed-in admin gets them over HTTPS
// (console handler, session check, every query and the template).
//
// -figures writes what was computed, so that two builds can be shown to count alike (same -at).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/postgres"
)

func main() {
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/intake_growth?sslmode=disable", "PostgreSQL URL")
	runs := flag.Int("runs", 7, "timed runs of each figure")
	at := flag.String("at", "", "the moment taken as now (RFC 3339; default: now)")
	figures := flag.String("figures", "", "write the computed figures to this JSON file")
	flag.Parse()
	if err := run(*dsn, *runs, *at, *figures); err != nil {
		log.Fatal(err)
	}
}

func run(dsn string, runs int, at, figuresPath string) error {
	ctx := context.Background()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return err
	}
	now := time.Now().In(loc)
	if at != "" {
		if now, err = time.Parse(time.RFC3339, at); err != nil {
			return fmt.Errorf("-at: %w", err)
		}
		now = now.In(loc)
	}
	s, err := postgres.Open(ctx, postgres.Config{URL: dsn, Options: store.Options{CaseNoPrefix: "WH", Location: loc}})
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	fmt.Printf("migrations (and ANALYZE where statistics were stale): %v\n", time.Since(start).Round(time.Millisecond))
	var total int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&total); err != nil {
		return err
	}
	today := store.LocalDayStart(now, loc)
	pages, err := newPageTimer(ctx, s, now)
	if err != nil {
		return fmt.Errorf("console pages: %w", err)
	}
	defer pages.Close()
	out := map[string]any{}
	for _, p := range []struct {
		name    string
		compute func() (any, int, error)
	}{
		{"dashboard (30 days)", func() (any, int, error) {
			st, err := s.CaseStats(ctx, intake.StatsQuery{From: today.AddDate(0, 0, -29), To: today.AddDate(0, 0, 1), Today: today, Now: now})
			return st, st.Total, err
		}},
		{"month report", func() (any, int, error) {
			r, err := console.BuildReport(ctx, s, today.AddDate(0, -1, 0), today.AddDate(0, 0, -1), loc, nil)
			return r, r.Total, err
		}},
		{"half-year report", func() (any, int, error) {
			r, err := console.BuildReport(ctx, s, today.AddDate(0, -6, 0), today.AddDate(0, 0, -1), loc, nil)
			return r, r.Total, err
		}},
		// The pages themselves, as an operator's browser gets them.
		{"dashboard page", func() (any, int, error) {
			body, err := pages.get("/console/")
			return nil, len(body), err
		}},
		{"month report page", func() (any, int, error) {
			body, err := pages.get("/console/reports")
			return nil, len(body), err
		}},
	} {
		var (
			took   []time.Duration
			result any
			cases  int
		)
		for range runs {
			start := time.Now()
			if result, cases, err = p.compute(); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		what := fmt.Sprintf("%d cases stored, %d in the period", total, cases)
		if result == nil {
			what = fmt.Sprintf("%d cases stored, a page of %d bytes", total, cases)
		}
		fmt.Printf("%-20s %s: median %v (min %v, max %v, %d runs)\n", p.name, what,
			took[len(took)/2].Round(time.Millisecond), took[0].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond), runs)
		if result != nil {
			out[p.name] = result
		}
	}
	if figuresPath == "" {
		return nil
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(figuresPath, append(b, '\n'), 0o644)
}
