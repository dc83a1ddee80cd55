package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pipelinedTx is a transaction whose BEGIN travels in the same pipeline as its first statements
// (beginPipelined), instead of costing a round trip of its own as pgx's Begin does. On the
// group-commit path that round trip was a tenth of every batch's latency, and with one writer
// batch latency bounds intake. It implements pgx.Tx so that River can insert jobs in it.
type pipelinedTx struct {
	conn *pgxpool.Conn
	done bool
}

// beginPipelined acquires a connection and sends BEGIN followed by b's statements in one
// round trip. The caller reads b's results (the BEGIN's own result is consumed here) and must
// end the transaction with Commit or Rollback, which also release the connection.
func beginPipelined(ctx context.Context, pool *pgxpool.Pool, b *pgx.Batch) (*pipelinedTx, pgx.BatchResults, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("acquire connection: %w", err)
	}
	withBegin := &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{{SQL: "BEGIN"}}, b.QueuedQueries...)}
	br := conn.SendBatch(ctx, withBegin)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		conn.Release()
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	return &pipelinedTx{conn: conn}, br, nil
}

var errNoNesting = errors.New("pipelinedTx: nested transactions are not supported")

func (t *pipelinedTx) end(ctx context.Context, sql string) error {
	if t.done {
		return pgx.ErrTxClosed
	}
	t.done = true
	tag, err := t.conn.Exec(ctx, sql)
	if err == nil && sql == "COMMIT" && tag.String() == "ROLLBACK" {
		// PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
		err = pgx.ErrTxCommitRollback
	}
	if err != nil && !errors.Is(err, pgx.ErrTxCommitRollback) {
		// A connection whose transaction state is unknown must not go back to the pool.
		_ = t.conn.Conn().Close(context.Background())
	}
	t.conn.Release()
	return err
}

// Commit commits the transaction and releases the connection.
func (t *pipelinedTx) Commit(ctx context.Context) error { return t.end(ctx, "COMMIT") }

// Rollback rolls back unless the transaction already ended (then it is a no-op, so that it can
// be deferred like pgx's).
func (t *pipelinedTx) Rollback(ctx context.Context) error {
	if t.done {
		return nil
	}
	return t.end(ctx, "ROLLBACK")
}

func (t *pipelinedTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNoNesting }

func (t *pipelinedTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.conn.CopyFrom(ctx, table, cols, src)
}

func (t *pipelinedTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.conn.SendBatch(ctx, b)
}

// LargeObjects is not supported: pgx builds them only from its own transactions, and nothing on
// the intake path uses them.
func (t *pipelinedTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *pipelinedTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Conn().Prepare(ctx, name, sql)
}

func (t *pipelinedTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.conn.Exec(ctx, sql, args...)
}

func (t *pipelinedTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.conn.Query(ctx, sql, args...)
}

func (t *pipelinedTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *pipelinedTx) Conn() *pgx.Conn { return t.conn.Conn() }
