package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// Cases stored before the case row carried its raw payload and first status entry keep them in
// case_payloads and case_status_history; they must read back, and take status events, exactly
// as new cases do.
func TestCaseStoredInTheEarlierLayoutReadsBack(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, storetest.Options())
	received := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	const id = "01939a60-0000-7000-8000-0000000000aa"
	for _, q := range []string{
		`INSERT INTO cases (id, case_no, channel, channel_id, external_id, status, priority, received_at, payload_hash, record, updated_at)
		 VALUES ($1::uuid, 'WH2026112000001', 'rest', 'rest:legacy', 'legacy-1', 'forwarded', 'normal', $2::timestamptz, 'h',
		         json_build_object('id', $1::text, 'case_no', 'WH2026112000001', 'channel', 'rest', 'channel_id', 'rest:legacy',
		                           'external_id', 'legacy-1', 'received_at', $2::timestamptz, 'content', json_build_object('text', '路灯坏了')), $2::timestamptz)`,
		`INSERT INTO case_payloads (case_id, content_type, body, received_at) VALUES ($1, 'application/json', '{"text":"路灯坏了"}', $2)`,
		`INSERT INTO case_status_history (case_id, status, event, at, source, recorded_at) VALUES
		 ($1, 'received', 'received', $2, 'gateway', $2),
		 ($1, 'forwarded', 'forwarded', $2::timestamptz + interval '1 second', 'gateway', $2)`,
	} {
		if _, err := s.Pool().Exec(ctx, q, id, received); err != nil {
			t.Fatal(err)
		}
	}
	c, err := s.GetCase(ctx, "WH2026112000001")
	if err != nil {
		t.Fatal(err)
	}
	if got := events(c); got != "received,forwarded" {
		t.Fatalf("history %s, want received,forwarded", got)
	}
	// A progress note changes no status; a case stored before keeps its own.
	if _, err := s.AddStatus(ctx, id, intake.StatusChange{Status: intake.StatusForwarded, Event: "progress", At: received.Add(time.Hour),
		Source: "case_system", EventID: "p-1", Message: "已派单"}, nil); err != nil {
		t.Fatal(err)
	}
	c, err = s.GetCase(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != intake.StatusForwarded || events(c) != "received,forwarded,progress" {
		t.Fatalf("status %s history %s, want forwarded with received,forwarded,progress", c.Status, events(c))
	}
}

func events(c *intake.Case) string {
	s := ""
	for i, h := range c.StatusHistory {
		if i > 0 {
			s += ","
		}
		s += h.Event
	}
	return s
}

// Each local day's case numbers come from a sequence of their own; pruning drops those a week
// old and keeps the recent ones, whose numbering goes on.
func TestPruneDropsOldCaseNumberSequences(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, storetest.Options())
	now := time.Now().UTC()
	for i, at := range []time.Time{now.AddDate(0, 0, -10), now.AddDate(0, 0, -1), now} {
		if _, err := s.CreateCase(ctx, storetest.NewCase("rest:crm", fmt.Sprintf("seq-%d", i), at)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PruneExpired(ctx, now); err != nil {
		t.Fatal(err)
	}
	day := func(at time.Time) string { return storetest.Options().WithDefaults().Day(at) }
	exists := func(d string) bool {
		var ok bool
		if err := s.Pool().QueryRow(ctx, `SELECT to_regclass('case_no_seq_' || $1) IS NOT NULL`, d).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if exists(day(now.AddDate(0, 0, -10))) {
		t.Error("the sequence of ten days ago survived pruning")
	}
	if !exists(day(now.AddDate(0, 0, -1))) || !exists(day(now)) {
		t.Fatal("a recent day's sequence was dropped")
	}
	res, err := s.CreateCase(ctx, storetest.NewCase("rest:crm", "seq-after", now))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.Case.CaseNo, "00002") {
		t.Fatalf("today's numbering restarted: %s", res.Case.CaseNo)
	}
}
