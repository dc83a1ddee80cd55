package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// The gateway's sessions run without JIT compilation unless the operator's URL asks for it.
func TestSessionsRunWithoutJIT(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, "", nil)
	for _, tc := range []struct{ url, want string }{
		{url, "off"},
		{url + "&jit=on", "on"},
	} {
		s, err := Open(ctx, Config{URL: tc.url})
		if err != nil {
			t.Fatal(err)
		}
		// Hold several connections at once, so that more than one session is asked.
		var conns []*pgxpool.Conn
		for range 3 {
			c, err := s.pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			var jit string
			if err := c.QueryRow(ctx, "SHOW jit").Scan(&jit); err != nil {
				t.Fatal(err)
			}
			if jit != tc.want {
				t.Errorf("%s: SHOW jit = %s, want %s", tc.url, jit, tc.want)
			}
			c.Release()
		}
		_ = s.Close()
	}
}

// A gateway that starts on a large store whose planner statistics are missing (autovacuum off or
// behind, a restored dump) must still plan its case reads for what they are: an index probe or
// two per case. Without statistics PostgreSQL assumes 200 distinct case ids in the status
// history, so it expects hundreds of history rows per case and costs a batch read far above
// jit_above_cost.
func TestCaseReadsAreEstimatedTruthfullyOnALargeStore(t *testing.T) {
	const cases = 100_000
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
	// The server's autovacuum must not analyze behind the test's back.
	_, err = pool.Exec(ctx, fmt.Sprintf(`
		ALTER TABLE cases SET (autovacuum_enabled = off);
		ALTER TABLE case_status_history SET (autovacuum_enabled = off);
		INSERT INTO cases (id, case_no, channel, channel_id, external_id, status, priority, received_at, payload_hash,
		                   citizen_phone, record, updated_at)
		SELECT gen_random_uuid(), 'WH20261204' || lpad(i::text, 6, '0'), 'rest', 'rest', 'key-' || i, 'forwarded', 'normal',
		       now() - (i || ' seconds')::interval, 'hash-' || i, '+86138' || lpad(i::text, 8, '0'),
		       json_build_object('text', '小区门口的路灯坏了一个星期，请尽快维修', 'n', i), now()
		FROM generate_series(1, %d) AS i;
		INSERT INTO case_status_history (case_id, status, event, at, source, recorded_at)
		SELECT id, s, s, received_at, 'gateway', received_at FROM cases, unnest(ARRAY['received', 'forwarded']) AS s;`, cases))
	if err != nil {
		t.Fatal(err)
	}
	// What a gateway does when it starts.
	if err := Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	checkCaseReadPlans(t, pool)

	// A store restored from a dump has its rows but no statistics, and its counters say nothing
	// changed since the last analyze.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE cases, case_status_history`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM pg_statistic WHERE starelid IN ('cases'::regclass, 'case_status_history'::regclass)`); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, pool, nil); err != nil {
		t.Fatal(err)
	}
	checkCaseReadPlans(t, pool)
}

func checkCaseReadPlans(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()

	var jitAbove float64
	if err := pool.QueryRow(ctx, "SELECT current_setting('jit_above_cost')::float8").Scan(&jitAbove); err != nil {
		t.Fatal(err)
	}
	chIDs, extIDs := make([]string, 64), make([]string, 64)
	for i := range chIDs {
		chIDs[i], extIDs[i] = "rest", fmt.Sprintf("key-%d", 1+i*997)
	}
	for name, q := range map[string]struct {
		sql  string
		args []any
	}{
		"a group commit's read-back of 64 keys": {findByKeysSQL, []any{chIDs, extIDs}},
		"a case by number":                      {`SELECT ` + caseColumns + ` FROM cases c WHERE c.case_no = $1`, []any{"WH20261204000042"}},
	} {
		var raw []byte
		if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q.sql, q.args...).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var plans []struct{ Plan planNode }
		if err := json.Unmarshal(raw, &plans); err != nil {
			t.Fatal(err)
		}
		root := plans[0].Plan
		if root.TotalCost >= jitAbove {
			t.Errorf("%s: estimated cost %.0f reaches jit_above_cost %.0f", name, root.TotalCost, jitAbove)
		}
		root.walk(func(n planNode) {
			if n.Relation == "case_status_history" && n.Rows > 10 {
				t.Errorf("%s: the planner expects %.0f status-history rows per case; each has 2", name, n.Rows)
			}
		})
	}
}

type planNode struct {
	Relation  string     `json:"Relation Name"`
	Rows      float64    `json:"Plan Rows"`
	TotalCost float64    `json:"Total Cost"`
	Plans     []planNode `json:"Plans"`
}

func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}
