package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

func TestPipelinedTx(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t, "pipelined-tx", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE t (x int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	insert := func(xs ...int) (*pipelinedTx, pgx.BatchResults) {
		t.Helper()
		b := &pgx.Batch{}
		for _, x := range xs {
			b.Queue(`INSERT INTO t VALUES ($1)`, x)
		}
		tx, br, err := beginPipelined(ctx, pool, b)
		if err != nil {
			t.Fatal(err)
		}
		return tx, br
	}

	// Statements in the BEGIN's pipeline and after it share the transaction; COMMIT makes both
	// visible.
	tx, br := insert(1)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO t VALUES (2)`); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("uncommitted rows visible: %d", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after commit %d rows, want 2", n)
	}
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxClosed) {
		t.Fatalf("second commit: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("rollback after commit: %v", err)
	}

	// Rollback undoes everything.
	tx, br = insert(3)
	_, _ = br.Exec()
	_ = br.Close()
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after rollback %d rows, want 2", n)
	}

	// A statement that failed aborts the transaction: COMMIT reports it and nothing lands.
	tx, br = insert(4, 1)
	if _, err := br.Exec(); err != nil {
		t.Fatal(err)
	}
	if _, err := br.Exec(); err == nil {
		t.Fatal("duplicate key accepted")
	}
	_ = br.Close()
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("commit of a failed transaction: %v", err)
	}
	if n := count(); n != 2 {
		t.Fatalf("after failed commit %d rows, want 2", n)
	}

	// Every connection went back to the pool outside any transaction.
	if acquired := pool.Stat().AcquiredConns(); acquired != 0 {
		t.Fatalf("%d connections still acquired", acquired)
	}
	var idleInTx int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&idleInTx); err != nil || idleInTx != 0 {
		t.Fatalf("%d pooled connections left inside a transaction (%v)", idleInTx, err)
	}
	if _, err := tx.Begin(ctx); err == nil {
		t.Fatal("nested transaction accepted")
	}
}
