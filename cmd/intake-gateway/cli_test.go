package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := rootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestEverySubcommandHasHelp(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {"migrate"}, {"config", "check"}, {"apikey", "new"}, {"version"}} {
		out, err := run(t, append(args, "--help")...)
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Fatalf("%v --help: %v\n%s", args, err, out)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	out, err := run(t, "config", "check", "--config", "../../configs/gateway.example.yaml")
	if err != nil || !strings.Contains(out, "is valid") {
		t.Fatalf("example config: %v %s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("server: {listen: nowhere}\nchannels: [{id: x, type: telegraph}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "config", "check", "--config", bad)
	if err == nil || !strings.Contains(err.Error(), "server.listen") || !strings.Contains(err.Error(), "channels[0].type") {
		t.Fatalf("bad config: %v", err)
	}
}

func TestAPIKeyNewPrintsAKeyAndItsHash(t *testing.T) {
	out, err := run(t, "apikey", "new", "hotline-crm")
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`key:\s+(ig_[A-Za-z0-9_-]{43})`).FindStringSubmatch(out)
	sum := regexp.MustCompile(`sha256:\s+([0-9a-f]{64})`).FindStringSubmatch(out)
	if key == nil || sum == nil {
		t.Fatalf("output: %s", out)
	}
	h := sha256.Sum256([]byte(key[1]))
	if hex.EncodeToString(h[:]) != sum[1] || !strings.Contains(out, "name: hotline-crm") {
		t.Fatalf("hash does not match the key: %s", out)
	}
	again, _ := run(t, "apikey", "new", "hotline-crm")
	if strings.Contains(again, key[1]) {
		t.Fatal("two runs printed the same key")
	}
	if _, err := run(t, "apikey", "new", "bad name/with slash"); err == nil {
		t.Fatal("invalid name accepted")
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "intake-gateway ") {
		t.Fatalf("%v %q", err, out)
	}
}

func runSHA(s string) (string, error) {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:]), nil
}

func TestDeliveriesRetryAllDead(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "g.yaml")
	if err := os.WriteFile(cfgPath, []byte("database: { sqlite_path: "+filepath.Join(dir, "d.db")+" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ids []string
	err := withStore(context.Background(), cfgPath, func(ctx context.Context, st intake.Store) error {
		for i := range 3 {
			res, err := st.CreateCase(ctx, storetest.NewCase("rest:x", fmt.Sprintf("k%d", i), time.Now().UTC()))
			if err != nil {
				return err
			}
			d := res.Deliveries[0]
			ids = append(ids, d.ID)
			state := intake.DeliveryDead
			if i == 2 {
				state = intake.DeliveryDelivered
			}
			if err := st.RecordOutcome(ctx, intake.DeliveryOutcome{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Attempt: 1,
				At: time.Now(), StatusCode: 400, State: state}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "deliveries", "list", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "2 dead deliveries") {
		t.Fatalf("list: %v %s", err, out)
	}
	if _, err := run(t, "deliveries", "retry", "--config", cfgPath); err == nil {
		t.Fatal("retry without ids or --all-dead accepted")
	}
	out, err = run(t, "deliveries", "retry", "--all-dead", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "2 deliveries queued again") {
		t.Fatalf("retry: %v %s", err, out)
	}
	_ = withStore(context.Background(), cfgPath, func(ctx context.Context, st intake.Store) error {
		for i, id := range ids {
			d, _ := st.GetDelivery(ctx, id)
			want := intake.DeliveryQueued
			if i == 2 {
				want = intake.DeliveryDelivered
			}
			if d.State != want {
				t.Errorf("delivery %d: %s, want %s", i, d.State, want)
			}
		}
		return nil
	})
}
