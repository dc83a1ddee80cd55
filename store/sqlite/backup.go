package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
)

// Backup writes a consistent copy of the database file at path to out, while a gateway may be
// serving from it. SQLite's VACUUM INTO reads the whole database in one read transaction: the
// copy is the database as it stood when the backup began (every case committed before then, none
// half-written), and in WAL mode writers carry on meanwhile. The copy is written beside out,
// checked, synced and renamed into place, so out is either absent or complete. An existing out
// is never overwritten.
func Backup(ctx context.Context, path, out string) error {
	if _, err := os.Stat(path); err != nil {
		// Opening a missing file would create an empty database and back that up.
		return fmt.Errorf("backup: database %s: %w", path, err)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("backup: %s already exists", out)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %s: %w", out, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", path, err)
	}
	defer db.Close()
	return backupInto(ctx, db, out)
}

// Backup writes a consistent copy of the store's database to out (see the package function).
func (s *Store) Backup(ctx context.Context, out string) error {
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("backup: %s already exists", out)
	}
	return backupInto(ctx, s.db, out)
}

func backupInto(ctx context.Context, db *sql.DB, out string) error {
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".partial-"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp) // a leftover of an interrupted run of this process id
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup: copy: %w", err)
	}
	if err := checkCopy(ctx, tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := syncFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	// Link rather than rename: a file that appeared at out meanwhile is not replaced.
	if err := os.Link(tmp, out); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	_ = os.Remove(tmp)
	if d, err := os.Open(filepath.Dir(out)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// checkCopy opens the copy and runs SQLite's quick consistency check on it.
func checkCopy(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return fmt.Errorf("backup: open the copy: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return fmt.Errorf("backup: check the copy: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("backup: the copy fails its consistency check: %s", res)
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", path, err)
	}
	return nil
}
