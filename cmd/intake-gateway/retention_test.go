package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// TestServeRunsTheRetentionSweep: with retention configured, a serving gateway sweeps at start
// (River's periodic job on the maintenance queue): a case stored 90 days ago has its citizen
// pseudonymized, a recent one does not; without the key the config does not pass.
func TestServeRunsTheRetentionSweep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "intake.db")
	st, err := sqlite.Open(ctx, sqlite.Config{Path: db, Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := st.CreateCase(ctx, storetest.NewCase("rest-main", "old", time.Now().AddDate(0, 0, -90)))
	if err != nil {
		t.Fatal(err)
	}
	recent, err := st.CreateCase(ctx, storetest.NewCase("rest-main", "recent", time.Now().AddDate(0, 0, -2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	write := func(extra string) string {
		path := filepath.Join(dir, "gateway.yaml")
		yaml := fmt.Sprintf("database: { sqlite_path: %q, attachments_dir: %q }\nlog: { level: error }\n%s\n", db, filepath.Join(dir, "att"), extra)
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	if _, err := config.Load(write("retention: { personal_data: 30 }"), []string{}); err == nil || !strings.Contains(err.Error(), "retention.pseudonym_key") {
		t.Fatalf("personal_data without a key: %v", err)
	}
	cfg, err := config.Load(write("retention: { raw_payload: 7, personal_data: 30, pseudonym_key: \"a-long-enough-test-key\" }"), []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(ctx, cfg, logging.New(testLog{t}, "error", "text"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := a.store.GetCase(ctx, old.Case.ID)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(c.Citizen.Name, "pn_") && strings.HasPrefix(c.Citizen.Phone, "pn_") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 90-day-old case was not pseudonymized within 15s: %+v", c.Citizen)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c, err := a.store.GetCase(ctx, recent.Case.ID); err != nil || c.Citizen.Name != "王女士" {
		t.Fatalf("the recent case: %+v %v", c, err)
	}
}
