package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// TestBackupWhileWriting backs the store up through its own connection (as the backup command
// does, beside a serving gateway) while cases keep being committed: the copy opens, passes its
// check, and holds every case whose commit returned before the backup began, byte for byte.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "intake.db")
	s, err := sqlite.Open(ctx, sqlite.Config{Path: path, Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		committed []*intake.Case
		stop      atomic.Bool
		wg        sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				res, err := s.CreateCase(ctx, storetest.NewCase("rest-main", fmt.Sprintf("bk-%d-%d", w, i), time.Now()))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				committed = append(committed, res.Case)
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(committed) }
	for count() < 200 {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := append([]*intake.Case(nil), committed...)
	mu.Unlock()

	out := filepath.Join(dir, "backup", "copy.db")
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Backup(ctx, path, out); err != nil {
		t.Fatal(err)
	}
	during := count()
	// Keep writing a moment longer, so the copy is also taken with writes in flight at its end.
	for count() < during+50 {
		time.Sleep(5 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if during <= len(before) {
		t.Fatalf("no case was committed while the backup ran (%d before, %d after)", len(before), during)
	}

	cp, err := sqlite.Open(ctx, sqlite.Config{Path: out, Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	for _, want := range before {
		got, err := cp.GetCase(ctx, want.ID)
		if err != nil {
			t.Fatalf("case %s committed before the backup is not in the copy: %v", want.CaseNo, err)
		}
		if got.CaseNo != want.CaseNo || got.Content.Text != want.Content.Text {
			t.Fatalf("case %s differs in the copy: %+v", want.CaseNo, got)
		}
	}
	var inCopy int
	if err := cp.DB().QueryRowContext(ctx, `SELECT count(*) FROM cases`).Scan(&inCopy); err != nil {
		t.Fatal(err)
	}
	if inCopy < len(before) || inCopy > count() {
		t.Fatalf("copy holds %d cases; %d were committed before and %d in all", inCopy, len(before), count())
	}
	t.Logf("%d cases committed before the backup, %d in the copy, %d in all", len(before), inCopy, count())

	// No partial file is left behind, and an existing copy is never overwritten.
	if left, _ := filepath.Glob(filepath.Join(dir, "backup", ".*partial*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	if err := sqlite.Backup(ctx, path, out); err == nil {
		t.Fatal("a second backup overwrote the first")
	}
	if err := s.Backup(ctx, out); err == nil {
		t.Fatal("Store.Backup overwrote an existing file")
	}
	// A missing database is an error, not an empty copy.
	missing := filepath.Join(dir, "nothing.db")
	if err := sqlite.Backup(ctx, missing, filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("backup of a missing database succeeded")
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("backing up a missing database created it: %v", err)
	}
}
