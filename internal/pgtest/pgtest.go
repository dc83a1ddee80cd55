// Package pgtest gives tests their own PostgreSQL database.
//
// Tests read TEST_DATABASE_URL (default: the local server). When the server cannot be reached
// they skip with a loud message on a developer's machine, and fail under CI=true, where a
// skipped database test would hide a broken store.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is used when TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the server tests create their databases on.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Require skips (or, under CI=true, fails) the test when PostgreSQL is unreachable.
func Require(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at TEST_DATABASE_URL is unreachable under CI=true: %v", err)
	}
	t.Skipf("\n*** SKIPPING PostgreSQL test: %v\n*** set TEST_DATABASE_URL or start PostgreSQL (CI=true turns this into a failure) ***", err)
}

var (
	templateMu sync.Mutex
	templates  = map[string]string{}
)

// NewDatabase creates an empty database for t, dropped when t ends, and returns its URL. When
// prepare is not nil it is run once per process on a template database (migrations), and every
// database is a copy of that template, which is far faster than migrating each one.
func NewDatabase(t testing.TB, templateKey string, prepare func(ctx context.Context, url string) error) string {
	t.Helper()
	Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	template := ""
	if prepare != nil {
		var err error
		template, err = ensureTemplate(ctx, templateKey, prepare)
		if err != nil {
			t.Fatalf("prepare template database: %v", err)
		}
	}
	name := databaseName("intake_test_")
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close(ctx)
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := admin.Exec(ctx, stmt); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(name) })
	return withDatabase(AdminURL(), name)
}

func ensureTemplate(ctx context.Context, key string, prepare func(context.Context, string) error) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if name, ok := templates[key]; ok {
		return name, nil
	}
	name := databaseName("intake_tmpl_")
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	sweepAbandoned(ctx, admin)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	if err := prepare(ctx, withDatabase(AdminURL(), name)); err != nil {
		dropDatabase(name)
		return "", err
	}
	templates[key] = name
	return name, nil
}

// databaseName carries its creation time so that a later run can tell a database left behind
// by a killed test process (whose cleanup never ran) from one a concurrent run is still using.
func databaseName(prefix string) string {
	return fmt.Sprintf("%s%d_%s", prefix, time.Now().Unix(), randomSuffix())
}

// abandonedAfter is far longer than any test run (CI's limit is 90 minutes).
const abandonedAfter = 6 * time.Hour

// sweepAbandoned drops test and template databases created more than abandonedAfter ago.
// Best effort: a failure here must not fail the test that happened to notice.
func sweepAbandoned(ctx context.Context, admin *pgx.Conn) {
	rows, err := admin.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'intake\_test\_%' OR datname LIKE 'intake\_tmpl\_%'`)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		if created, ok := createdAt(name); ok && time.Since(created) > abandonedAfter {
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		}
	}
}

// createdAt reads the time databaseName put in name; names without one are never swept.
func createdAt(name string) (time.Time, bool) {
	rest := strings.TrimPrefix(strings.TrimPrefix(name, "intake_test_"), "intake_tmpl_")
	stamp, _, found := strings.Cut(rest, "_")
	if !found {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

// DropTemplates removes the template databases; call it from TestMain after m.Run.
func DropTemplates() {
	templateMu.Lock()
	defer templateMu.Unlock()
	for k, name := range templates {
		dropDatabase(name)
		delete(templates, k)
	}
}

func dropDatabase(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return
	}
	defer admin.Close(ctx)
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(fmt.Sprintf("TEST_DATABASE_URL is not a URL: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
