package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// TestBackupCommandCopiesAServingGateway runs `backup` against the file a serving gateway
// uses: the copy holds the case the gateway acknowledged, and the command refuses what it
// cannot do well (no --out, an existing file, a PostgreSQL store).
func TestBackupCommandCopiesAServingGateway(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "intake.db")
	cfgPath := filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf("database: { sqlite_path: %q, attachments_dir: %q }\nlog: { level: error }\napi_keys: [{ name: crm, sha256: %q, scopes: [submit, read] }]\n",
		db, filepath.Join(dir, "att"), sha(e2eKey))
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(testLog{t}, "error", "text"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	req, _ := http.NewRequest(http.MethodPost, "/v1/submissions", strings.NewReader(`{"channel":"phone","text":"小区垃圾三天没人清运。"}`))
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusCreated {
		t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	caseNo := between(rec.Body.String(), `"case_no":"`, `"`)

	out := filepath.Join(dir, "copy.db")
	msg, err := run(t, "backup", "--config", cfgPath, "--out", out)
	if err != nil || !strings.Contains(msg, "written to "+out) {
		t.Fatalf("backup: %v %s", err, msg)
	}
	cp, err := sqlite.Open(context.Background(), sqlite.Config{Path: out, Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if c, err := cp.GetCase(context.Background(), caseNo); err != nil || c.Content.Text != "小区垃圾三天没人清运。" {
		t.Fatalf("acknowledged case %s in the copy: %+v %v", caseNo, c, err)
	}

	if _, err := run(t, "backup", "--config", cfgPath, "--out", out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwriting a backup: %v", err)
	}
	if _, err := run(t, "backup", "--config", cfgPath); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Fatalf("no --out: %v", err)
	}
	t.Setenv("INTAKE_DATABASE__URL", "postgres://nowhere/intake")
	if _, err := run(t, "backup", "--config", cfgPath, "--out", filepath.Join(dir, "pg.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup of a PostgreSQL store: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pg.db")); err == nil {
		t.Fatal("a file was written for a PostgreSQL store")
	}
}
