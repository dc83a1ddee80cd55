package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store"
)

// The dashboard's figures must read indexes, never whole tables: on a store of a year of cases
// every statistics query is planned as index scans, the period's as an index-only scan of
// cases_received and the deadlines' on cases_open_due. (How fast they are at a million cases is
// measured by scripts/statsbench, not here.)
func TestStatsQueriesReadIndexes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	// 100,000 cases over 400 days, four in five resolved, one history entry each and feedback
	// on one in five; notifications for one in two.
	_, err = pool.Exec(ctx, `
		INSERT INTO cases (id, case_no, channel, channel_id, external_id, status, priority, received_at, payload_hash,
		                   record, updated_at, category, request_type, emergency, needs_review, due_at, first_resolved_at)
		SELECT gen_random_uuid(), 'WH' || lpad(i::text, 10, '0'), (ARRAY['wechat', 'sms', 'phone'])[1 + i % 3], 'rest', 'key-' || i,
		       CASE WHEN i % 5 = 0 THEN 'forwarded' ELSE 'resolved' END, 'normal', t, 'hash-' || i,
		       json_build_object('n', i), t, (ARRAY['water', 'roads', 'noise', 'lights'])[1 + i % 4], 'complaint',
		       i % 50 = 0, i % 7 = 0, t + interval '5 days', CASE WHEN i % 5 <> 0 THEN t + interval '3 days' END
		FROM generate_series(1, 100000) AS i, LATERAL (SELECT now() - i * interval '345 seconds' AS t) x;
		INSERT INTO case_status_history (case_id, status, event, at, source, message, recorded_at)
		SELECT id, 'resolved', CASE WHEN random() < 0.2 THEN 'feedback' ELSE 'resolved' END, received_at + interval '3 days',
		       'cs', 'satisfied: ok', received_at FROM cases;
		INSERT INTO notifications (id, case_id, event, channel, channel_id, address, body, state, created_at, updated_at)
		SELECT gen_random_uuid(), id, 'case.received', 'sms', 'sms', 'x', 'y', 'sent', received_at, received_at
		FROM cases WHERE random() < 0.5`)
	if err != nil {
		t.Fatal(err)
	}
	// As autovacuum leaves a store that has been running: statistics, and a visibility map that
	// lets the index answer alone.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE cases, case_status_history, notifications`); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(loc)
	today := store.LocalDayStart(now, loc)
	from := today.AddDate(0, 0, -29)
	var days []string
	var los, his []time.Time
	for _, d := range store.DaySpans(from, today.AddDate(0, 0, 1), loc) {
		days, los, his = append(days, d.Day), append(los, d.From), append(his, d.To)
	}
	for _, q := range []struct {
		name, sql string
		args      []any
		want      string // a node the plan must contain
	}{
		{"period", statsPeriodSQL, []any{days, los, his}, "Index Only Scan on cases_received"},
		{"today", statsTodaySQL, []any{today, today.AddDate(0, 0, 1)}, "cases_received"},
		{"deadlines", statsDueSQL, []any{now, now.Add(24 * time.Hour)}, "cases_open_due"},
		{"feedback", statsFeedbackSQL, []any{from, today}, "case_status_history_feedback"},
		{"notifications", statsNoticesSQL, []any{from, today}, "notifications_created"},
	} {
		var raw []byte
		if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q.sql, q.args...).Scan(&raw); err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		var plans []struct{ Plan statsPlanNode }
		if err := json.Unmarshal(raw, &plans); err != nil {
			t.Fatal(err)
		}
		var nodes []string
		plans[0].Plan.walk(func(n statsPlanNode) {
			nodes = append(nodes, strings.TrimSpace(n.Type+" on "+n.Index+n.Relation))
			if n.Type == "Seq Scan" && n.Relation != "" {
				t.Errorf("%s: reads the whole of %s", q.name, n.Relation)
			}
		})
		if all := strings.Join(nodes, "; "); !strings.Contains(all, q.want) {
			t.Errorf("%s: plan %s lacks %q", q.name, all, q.want)
		}
	}
}

type statsPlanNode struct {
	Type     string          `json:"Node Type"`
	Relation string          `json:"Relation Name"`
	Index    string          `json:"Index Name"`
	Plans    []statsPlanNode `json:"Plans"`
}

func (n statsPlanNode) walk(fn func(statsPlanNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}
