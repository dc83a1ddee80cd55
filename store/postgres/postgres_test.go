package postgres_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

func migrateTemplate(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	return postgres.Migrate(ctx, pool, nil)
}

// openStore returns a migrated store on a fresh database.
func openStore(t *testing.T, opts store.Options) *postgres.Store {
	t.Helper()
	url := pgtest.NewDatabase(t, "postgres-store", migrateTemplate)
	return openOn(t, url, opts)
}

func openStoreB(b *testing.B) *postgres.Store {
	b.Helper()
	url := pgtest.NewDatabase(b, "postgres-store", migrateTemplate)
	return openOn(b, url, storetest.Options())
}

func openOn(t testing.TB, url string, opts store.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
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
		OpenSecond: func(t *testing.T, s intake.Store, opts store.Options) intake.Store {
			return openOn(t, s.(*postgres.Store).Pool().Config().ConnString(), opts)
		},
		FailDeliveriesTo: func(t *testing.T, s intake.Store, target string) {
			_, err := s.(*postgres.Store).Pool().Exec(context.Background(), `
				CREATE FUNCTION fail_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'delivery to % refused by test', NEW.target; END $$;
				CREATE TRIGGER fail_delivery BEFORE INSERT ON deliveries
				FOR EACH ROW WHEN (NEW.target = '`+target+`') EXECUTE FUNCTION fail_delivery();`)
			if err != nil {
				t.Fatal(err)
			}
		},
		SetForwardJob: func(t *testing.T, s intake.Store, deliveryID, state string, ago time.Duration) {
			_, err := s.(*postgres.Store).Pool().Exec(context.Background(), `UPDATE river_job SET state = $2::river_job_state, attempt = 1,
					attempted_at = now() - $3::interval, attempted_by = ARRAY['storetest'],
					finalized_at = CASE WHEN $2 IN ('completed', 'discarded', 'cancelled') THEN now() END
				WHERE kind = 'forward_case' AND args->>'delivery_id' = $1`, deliveryID, state, ago)
			if err != nil {
				t.Fatal(err)
			}
		},
		JobsOfKind: func(t *testing.T, s intake.Store, kind string) int {
			var n int
			err := s.(*postgres.Store).Pool().QueryRow(context.Background(),
				`SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'available'`, kind).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		JobsForCase: func(t *testing.T, s intake.Store, caseID string) int {
			var n int
			err := s.(*postgres.Store).Pool().QueryRow(context.Background(),
				`SELECT count(*) FROM river_job WHERE kind = 'forward_case' AND args->>'case_id' = $1 AND state = 'available'`, caseID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		RawPayload: func(t *testing.T, s intake.Store, caseID string) intake.RawPayload {
			var raw intake.RawPayload
			err := s.(*postgres.Store).Pool().QueryRow(context.Background(),
				`SELECT raw_content_type, raw_body FROM cases WHERE id = $1`, caseID).Scan(&raw.ContentType, &raw.Body)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		},
		RawPayloads: func(t *testing.T, s intake.Store, caseID string) int {
			var n int
			err := s.(*postgres.Store).Pool().QueryRow(context.Background(), `SELECT
				(SELECT count(*) FROM cases WHERE id = $1 AND octet_length(raw_body) > 0) +
				(SELECT count(*) FROM case_payloads WHERE case_id = $1 AND octet_length(body) > 0) +
				(SELECT count(*) FROM case_messages WHERE case_id = $1 AND octet_length(body) > 0)`, caseID).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		MakeLegacyPayload: func(t *testing.T, s intake.Store, caseID string) {
			pool := s.(*postgres.Store).Pool()
			if _, err := pool.Exec(context.Background(), `INSERT INTO case_payloads (case_id, content_type, body, received_at)
				SELECT id, raw_content_type, raw_body, received_at FROM cases WHERE id = $1`, caseID); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(context.Background(), `UPDATE cases SET raw_body = NULL, raw_content_type = NULL WHERE id = $1`, caseID); err != nil {
				t.Fatal(err)
			}
		},
		ExecSQL: func(t *testing.T, s intake.Store, query string) error {
			_, err := s.(*postgres.Store).Pool().Exec(context.Background(), query)
			return err
		},
	}
}

func TestMigrateTwiceAndConcurrentlyIsSafe(t *testing.T) {
	url := pgtest.NewDatabase(t, "", nil)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- postgres.Migrate(ctx, pool, nil) }()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migrate: %v", err)
		}
	}
	if err := postgres.Migrate(ctx, pool, nil); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	s := openOn(t, url, store.Options{})
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after migrate: %v", err)
	}
}

func TestReadyReportsPendingMigrations(t *testing.T) {
	url := pgtest.NewDatabase(t, "", nil)
	s := openOn(t, url, store.Options{})
	if err := s.Ready(context.Background()); err == nil {
		t.Fatal("Ready on an unmigrated database must fail")
	}
}

// Past 99,999 cases a day the day's sequence goes on and the number grows a digit; it is never
// truncated or wrapped, and the longer number still finds its case.
func TestCaseNumbersPastFiveDigits(t *testing.T) {
	s := openStore(t, storetest.Options())
	received := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, err := s.CreateCase(ctx, storetest.NewCase("rest:crm", "first", received)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `SELECT setval('case_no_seq_20261127', 99998)`); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"WH2026112799999", "WH20261127100000"} {
		res, err := s.CreateCase(ctx, storetest.NewCase("rest:crm", fmt.Sprintf("n-%d", i), received))
		if err != nil {
			t.Fatal(err)
		}
		if res.Case.CaseNo != want {
			t.Fatalf("case number %s, want %s", res.Case.CaseNo, want)
		}
		got, err := s.GetCase(ctx, res.Case.CaseNo)
		if err != nil || got.ID != res.Case.ID || got.CaseNo != res.Case.CaseNo {
			t.Fatalf("GetCase(%s): %+v %v", res.Case.CaseNo, got, err)
		}
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
