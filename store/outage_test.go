package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store"
)

// The errors come from real drivers doing real things wrong, so that a driver that changes how
// it reports a broken connection or a busy file shows up here.

func TestOutageClassifiesSQLiteErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(0)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	writer, other := open(), open()
	if _, err := writer.Exec(`CREATE TABLE t (k text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	tx, err := writer.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO t VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	_, busy := other.Exec(`INSERT INTO t VALUES ('b')`)
	if busy == nil {
		t.Fatal("a second writer got in beside an open write transaction")
	}
	_, dup := tx.Exec(`INSERT INTO t VALUES ('a')`)
	if dup == nil {
		t.Fatal("duplicate key accepted")
	}
	check(t, "SQLITE_BUSY behind another writer", fmt.Errorf("insert case: %w", busy), true)
	check(t, "SQLite unique constraint", fmt.Errorf("insert case: %w", dup), false)
}

func TestOutageClassifiesPostgresErrors(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on a port that was just released.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := pgx.Connect(ctx, "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=5")
	check(t, "connection refused", refused, true)

	url := pgtest.NewDatabase(t, "", nil)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	check(t, "division by zero", conn.QueryRow(ctx, `SELECT 1/0`).Scan(&n), false)
	check(t, "unique violation", func() error {
		_, err := conn.Exec(ctx, `CREATE TEMP TABLE t (k int PRIMARY KEY); INSERT INTO t VALUES (1), (1)`)
		return err
	}(), false)
	expired, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	check(t, "deadline passed", conn.QueryRow(expired, `SELECT 1`).Scan(&n), true)

	victim, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close(ctx)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, victim.PgConn().PID()).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate backend: %v %v", ok, err)
	}
	check(t, "backend terminated by an administrator", victim.QueryRow(ctx, `SELECT 1`).Scan(&n), true)
	check(t, "statement on the connection that broke", victim.QueryRow(ctx, `SELECT 1`).Scan(&n), true)
}

func TestOutageClassifiesPlainErrors(t *testing.T) {
	check(t, "connection ended mid-message", fmt.Errorf("read cases: %w", io.ErrUnexpectedEOF), true)
	check(t, "already unavailable", fmt.Errorf("%w: store closed", intake.ErrUnavailable), true)
	check(t, "bad record", fmt.Errorf("decode case: %w", json.Unmarshal([]byte("{"), &struct{}{})), false)
	check(t, "invalid input", intake.Invalid("text", "is required"), false)
	check(t, "nil", nil, false)
}

func check(t *testing.T, what string, err error, outage bool) {
	t.Helper()
	if store.IsOutage(err) != outage {
		t.Errorf("%s: IsOutage(%v) = %v, want %v", what, err, !outage, outage)
	}
	wrapped := store.Unavailable(err)
	if errors.Is(wrapped, intake.ErrUnavailable) != outage {
		t.Errorf("%s: Unavailable(%v) = %v; wraps ErrUnavailable: %v, want %v", what, err, wrapped, !outage, outage)
	}
	if err != nil && !errors.Is(wrapped, err) {
		t.Errorf("%s: Unavailable lost the original error", what)
	}
}
