package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store"
)

// On a store of many cases, the console's text search of three or more characters is served by
// the trigram index (migration 00015), not by reading every case's record; a shorter query has
// no trigram to look up and walks the newest cases instead.
func TestTextSearchUsesTheTrigramIndex(t *testing.T) {
	const cases = 20_000
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
	// Most cases say the same; one in a thousand mentions a broken lamp. Each record carries
	// 1.5 KB besides its text, as real ones do (citizen, location, classification, attachments).
	_, err = pool.Exec(ctx, `
		INSERT INTO cases (id, case_no, channel, channel_id, external_id, status, priority, received_at, payload_hash, record, updated_at)
		SELECT gen_random_uuid(), 'WH20261205' || lpad(i::text, 6, '0'), 'wechat', 'wechat-main', 'm-' || i, 'forwarded', 'normal',
		       now() - (i || ' seconds')::interval, 'hash-' || i,
		       jsonb_build_object('content', jsonb_build_object('text',
		           CASE WHEN i % 1000 = 0 THEN '文化路' || i || '号门口路灯坏了' ELSE '幸福小区停水' || i || '天了，没人管' END),
		           'padding', repeat('某', 500)), now()
		FROM generate_series(1, $1::int) AS i;
		`, cases)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE cases`); err != nil {
		t.Fatal(err)
	}
	plan := func(text string) string {
		t.Helper()
		sql, args, err := searchSQL(intake.CaseSearch{Text: text}, store.ListLimit(0))
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var plans []struct{ Plan indexedNode }
		if err := json.Unmarshal(raw, &plans); err != nil {
			t.Fatal(err)
		}
		var used []string
		plans[0].Plan.walk(func(n indexedNode) {
			if n.Index != "" {
				used = append(used, n.Type+" "+n.Index)
			}
		})
		if len(used) == 0 || !strings.Contains(strings.Join(used, ";"), "cases_text_trgm") {
			t.Logf("plan of %q: %s", text, raw)
		}
		return strings.Join(used, "; ")
	}
	if got := plan("门口路灯"); !strings.Contains(got, "cases_text_trgm") {
		t.Errorf("a four-character query: the plan uses %q, not the trigram index", got)
	}
	if got := plan("口路灯"); !strings.Contains(got, "cases_text_trgm") {
		t.Errorf("a three-character query: the plan uses %q, not the trigram index", got)
	}
	// And the answers are right: 20 cases mention the lamp, the page holds the newest of them.
	s, err := New(pool, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.SearchCases(ctx, intake.CaseSearch{Text: "门口路灯", CaseFilter: intake.CaseFilter{Limit: 5}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range page.Cases {
		got = append(got, c.Content.Text)
	}
	if len(page.Cases) != 5 || page.NextCursor == "" || got[0] != "文化路1000号门口路灯坏了" || got[4] != "文化路5000号门口路灯坏了" {
		t.Errorf("first page of the lamp cases: %v (next %q)", got, page.NextCursor)
	}
}

type indexedNode struct {
	Type  string        `json:"Node Type"`
	Index string        `json:"Index Name"`
	Plans []indexedNode `json:"Plans"`
}

func (n indexedNode) walk(fn func(indexedNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}
