package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

func openStore(t *testing.T, opts store.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "intake.db"), Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, harness())
}

func TestIncidentContract(t *testing.T) {
	storetest.RunIncidents(t, harness())
}

func TestOperatorContract(t *testing.T) {
	storetest.RunOperators(t, harness())
}

func harness() storetest.Harness {
	return storetest.Harness{
		Open: func(t *testing.T, opts store.Options) intake.Store { return openStore(t, opts) },
		FailDeliveriesTo: func(t *testing.T, s intake.Store, target string) {
			_, err := s.(*sqlite.Store).DB().Exec(`CREATE TRIGGER fail_delivery BEFORE INSERT ON deliveries
				WHEN NEW.target = '` + target + `' BEGIN SELECT RAISE(ABORT, 'delivery refused by test'); END`)
			if err != nil {
				t.Fatal(err)
			}
		},
		SetForwardJob: func(t *testing.T, s intake.Store, deliveryID, state string, ago time.Duration) {
			_, err := s.(*sqlite.Store).DB().Exec(`UPDATE river_job SET state = ?2, attempt = 1,
					attempted_at = strftime('%Y-%m-%d %H:%M:%f', 'now', ?3), attempted_by = json_array('storetest'),
					finalized_at = CASE WHEN ?2 IN ('completed', 'discarded', 'cancelled') THEN strftime('%Y-%m-%d %H:%M:%f', 'now') END
				WHERE kind = 'forward_case' AND json_extract(args, '$.delivery_id') = ?1`,
				deliveryID, state, fmt.Sprintf("-%d seconds", int(ago.Seconds())))
			if err != nil {
				t.Fatal(err)
			}
		},
		JobsOfKind: func(t *testing.T, s intake.Store, kind string) int {
			var n int
			err := s.(*sqlite.Store).DB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = ? AND state = 'available'`, kind).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		JobsForCase: func(t *testing.T, s intake.Store, caseID string) int {
			var n int
			err := s.(*sqlite.Store).DB().QueryRow(`SELECT count(*) FROM river_job
				WHERE kind = 'forward_case' AND json_extract(args, '$.case_id') = ? AND state = 'available'`, caseID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		RawPayload: func(t *testing.T, s intake.Store, caseID string) intake.RawPayload {
			var raw intake.RawPayload
			err := s.(*sqlite.Store).DB().QueryRow(`SELECT raw_content_type, raw_body FROM cases WHERE id = ?`, caseID).
				Scan(&raw.ContentType, &raw.Body)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		},
		RawPayloads: func(t *testing.T, s intake.Store, caseID string) int {
			var n int
			err := s.(*sqlite.Store).DB().QueryRow(`SELECT
				(SELECT count(*) FROM cases WHERE id = ?1 AND length(raw_body) > 0) +
				(SELECT count(*) FROM case_payloads WHERE case_id = ?1 AND length(body) > 0) +
				(SELECT count(*) FROM case_messages WHERE case_id = ?1 AND length(body) > 0)`, caseID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		MakeLegacyPayload: func(t *testing.T, s intake.Store, caseID string) {
			db := s.(*sqlite.Store).DB()
			if _, err := db.Exec(`INSERT INTO case_payloads (case_id, content_type, body, received_at)
				SELECT id, raw_content_type, raw_body, received_at FROM cases WHERE id = ?`, caseID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE cases SET raw_body = NULL, raw_content_type = NULL WHERE id = ?`, caseID); err != nil {
				t.Fatal(err)
			}
		},
		ExecSQL: func(t *testing.T, s intake.Store, query string) error {
			_, err := s.(*sqlite.Store).DB().Exec(query)
			return err
		},
	}
}

func TestReadyReportsPendingMigrations(t *testing.T) {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "x.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(context.Background()); err == nil {
		t.Fatal("Ready on an unmigrated database must fail")
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if err := s.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after migrate: %v", err)
	}
}

// Pruning deletes the case-number counters of days a week old and keeps the recent ones.
func TestPruneDeletesOldCaseNumberCounters(t *testing.T) {
	ctx := context.Background()
	st := harness().Open(t, storetest.Options()).(*sqlite.Store)
	now := time.Now().UTC()
	for i, at := range []time.Time{now.AddDate(0, 0, -10), now.AddDate(0, 0, -1), now} {
		if _, err := st.CreateCase(ctx, storetest.NewCase("rest:crm", fmt.Sprintf("seq-%d", i), at)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.PruneExpired(ctx, now); err != nil {
		t.Fatal(err)
	}
	var days []string
	rows, err := st.DB().Query(`SELECT day FROM case_no_counters ORDER BY day`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		days = append(days, d)
	}
	rows.Close()
	o := storetest.Options().WithDefaults()
	if want := []string{o.Day(now.AddDate(0, 0, -1)), o.Day(now)}; fmt.Sprint(days) != fmt.Sprint(want) {
		t.Fatalf("counters %v, want %v", days, want)
	}
}

// Migration 00013's backfill gives cases stored before it the figures' columns they would have
// had: taken back to 00012 and forward again, a store counts exactly as before.
func TestStatsColumnsBackfill(t *testing.T) {
	s := openStore(t, storetest.Options())
	storetest.RunFiguresSurviveRebuild(t, s, func(t *testing.T) {
		ctx := context.Background()
		if err := s.MigrateDownTo(ctx, 12); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
