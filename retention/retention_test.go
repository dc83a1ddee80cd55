package retention_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/retention"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

const key = "retention-test-key-0123456789"

func TestPseudonymsAreKeyedStableAndOpaque(t *testing.T) {
	p, err := retention.NewPseudonymizer(key)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Pseudonym("phone", "+8613800138000")
	if !regexp.MustCompile(`^pn_[0-9a-f]{20}$`).MatchString(a) {
		t.Fatalf("pseudonym %q", a)
	}
	if p.Pseudonym("phone", "+8613800138000") != a {
		t.Fatal("the same value got two pseudonyms")
	}
	if p.Pseudonym("phone", "+8613800138001") == a || p.Pseudonym("openid", "+8613800138000") == a {
		t.Fatal("another value or kind got the same pseudonym")
	}
	other, _ := retention.NewPseudonymizer(key + "x")
	if other.Pseudonym("phone", "+8613800138000") == a {
		t.Fatal("another key gave the same pseudonym")
	}
	if _, err := retention.NewPseudonymizer("short"); err == nil {
		t.Fatal("a short key was accepted")
	}
	if err := (retention.Options{PersonalData: 30}).Check(); err == nil {
		t.Fatal("personal_data without a pseudonym key passed the check")
	}
	if _, err := retention.NewWorker(nil, retention.Options{PersonalData: 30, PseudonymKey: "short"}, nil, nil); err == nil {
		t.Fatal("a worker was built with a short key")
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type retainingStore interface {
	intake.Store
	retention.Store
}

// sweepOn runs the sweep against a store: old cases lose their payloads and personal data (to
// exactly the pseudonyms the key gives), recent ones keep theirs, counts come out right in
// batches, a second sweep finds nothing, and a sweep out of time stops without an error.
func sweepOn(t *testing.T, st retainingStore) {
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	var old []*intake.Case
	for i := range 5 {
		nc := storetest.NewCase("rest-main", "sweep-old-"+string(rune('a'+i)), now.AddDate(0, 0, -100+i))
		nc.Case.Citizen.Name = "钱先生"
		res, err := st.CreateCase(ctx, nc)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, res.Case)
	}
	mid, err := st.CreateCase(ctx, storetest.NewCase("rest-main", "sweep-mid", now.AddDate(0, 0, -45)))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := st.CreateCase(ctx, storetest.NewCase("rest-main", "sweep-new", now.AddDate(0, 0, -1)))
	if err != nil {
		t.Fatal(err)
	}

	opts := retention.Options{RawPayload: 30, PersonalData: 60, PseudonymKey: key, Interval: time.Hour, Batch: 2}
	w, err := retention.NewWorker(st, opts, fixedClock{now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A sweep whose time is up does nothing and says it stopped early, without an error.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if res, err := w.Sweep(cancelled); err != nil || !res.Partial {
		t.Fatalf("cancelled sweep: %+v %v", res, err)
	}

	res, err := w.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Personal data: the five old cases; raw payloads: those five (already cleared with their
	// personal data, but counted as gone through) and the 45-day-old one.
	if res.Pseudonymized != 5 || res.RawCleared != 6 || res.Partial {
		t.Fatalf("sweep: %+v, want 5 pseudonymized, 6 cleared", res)
	}
	p, _ := retention.NewPseudonymizer(key)
	for _, c := range old {
		got, err := st.GetCase(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Citizen.Name != p.Pseudonym("name", "钱先生") || got.Citizen.Phone != p.Pseudonym("phone", "+8613800138000") {
			t.Fatalf("old case citizen %+v", got.Citizen)
		}
		if got.Content.Text != c.Content.Text || got.Classification.Category != c.Classification.Category {
			t.Fatal("the sweep changed what statistics use")
		}
	}
	for _, c := range []*intake.Case{mid.Case, fresh.Case} {
		got, _ := st.GetCase(ctx, c.ID)
		if got.Citizen.Name != "王女士" || got.Citizen.Phone != "+8613800138000" {
			t.Fatalf("a case within the personal-data period was changed: %+v", got.Citizen)
		}
	}
	if again, err := w.Sweep(ctx); err != nil || again.Pseudonymized != 0 || again.RawCleared != 0 {
		t.Fatalf("second sweep: %+v %v", again, err)
	}
}

func TestSweepSQLite(t *testing.T) {
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "r.db"), Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	sweepOn(t, st)
}

func TestSweepPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t, "retention", func(ctx context.Context, url string) error {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return err
		}
		defer pool.Close()
		return postgres.Migrate(ctx, pool, nil)
	})
	st, err := postgres.Open(context.Background(), postgres.Config{URL: url, Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sweepOn(t, st)
}
