// Command statsbench times the console's figures (dashboard: 30 days; report: a month) on a
// PostgreSQL store, as scripts/bench-growth.sh leaves one with a million cases.
//
//	go run ./scripts/statsbench -db postgres://…/intake_growth -runs 5
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"sort"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/postgres"
)

func main() {
	dsn := flag.String("db", "postgres://postgres@127.0.0.1:5432/intake_growth?sslmode=disable", "PostgreSQL URL")
	runs := flag.Int("runs", 5, "timed runs of each query")
	flag.Parse()
	ctx := context.Background()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	s, err := postgres.Open(ctx, postgres.Config{URL: *dsn, Options: store.Options{CaseNoPrefix: "WH", Location: loc}})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	var total int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM cases`).Scan(&total); err != nil {
		log.Fatal(err)
	}
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	for _, p := range []struct {
		name     string
		from, to time.Time
	}{
		{"dashboard (30 days)", today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)},
		{"month report", today.AddDate(0, -1, 0), today},
		{"half-year report", today.AddDate(0, -6, 0), today},
	} {
		var took []time.Duration
		var st intake.Stats
		for range *runs {
			start := time.Now()
			st, err = s.CaseStats(ctx, intake.StatsQuery{From: p.from, To: p.to, Today: today, Now: now})
			if err != nil {
				log.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		fmt.Printf("%-20s %d cases stored, %d in the period: median %v, max %v\n", p.name, total, st.Total, took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	}
}
