package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	intake "github.com/hotline12345/intake-gateway"
)

// IsOutage reports whether err means that the database cannot serve right now — it is
// unreachable, the connection broke, it is shutting down or failing over, it ran out of
// resources, or it did not answer in time — rather than that this one statement was wrong.
//
// It is the one classification both drivers use on every read and write: an outage is what
// callers turn into 503 with Retry-After (or a channel's own 5xx) so that the sender retries,
// and what a group commit must not retry member by member. Anything it does not recognise is
// treated as a fault of the request or of the gateway (500), so the list errs on the side of
// "outage" only for errors that a retry a little later can cure.
func IsOutage(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, intake.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// A connection that ended mid-message or between messages: the server went away, a proxy or
	// the network cut it, or the backend was terminated.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	// pgx: the connection was already closed by an earlier failure, a connection could not be
	// opened at all, or the pool is closing.
	var connectErr *pgconn.ConnectError
	if errors.Is(err, pgconn.ErrConnClosed) || errors.As(err, &connectErr) || errors.Is(err, puddle.ErrClosedPool) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgOutage(pgErr.Code)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return sqliteOutage(liteErr.Code())
	}
	return false
}

// pgOutage reports whether a PostgreSQL SQLSTATE says the server cannot serve now.
func pgOutage(code string) bool {
	if len(code) != 5 {
		return false
	}
	switch code[:2] {
	// 08 connection exception, 53 insufficient resources (too many connections, disk full, out
	// of memory), 57 operator intervention (shutdown, crash recovery, cannot connect now, query
	// cancelled by a statement timeout), 58 system error (I/O error).
	case "08", "53", "57", "58":
		return true
	}
	switch code {
	case "25006", // read_only_sql_transaction: connected to a standby during a failover
		"55P03": // lock_not_available: lock_timeout expired
		return true
	}
	return false
}

// sqliteOutage reports whether an SQLite result code (primary or extended) says the file cannot
// be used now: the busy timeout expired behind another writer, a lock or the disk failed, or a
// statement was interrupted because its context ended.
func sqliteOutage(code int) bool {
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT,
		sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}

// Unavailable wraps err in intake.ErrUnavailable when IsOutage says it is one, keeping its text;
// other errors (and nil) come back as they are.
func Unavailable(err error) error {
	if err == nil || errors.Is(err, intake.ErrUnavailable) || !IsOutage(err) {
		return err
	}
	return fmt.Errorf("%w: %w", intake.ErrUnavailable, err)
}
