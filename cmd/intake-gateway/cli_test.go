package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/store/sqlite"
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
	for _, args := range [][]string{{"serve"}, {"migrate"}, {"config", "check"}, {"apikey", "new"}, {"version"}, {"deliveries", "requeue"}, {"backup"}} {
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
		// Each replay is in the audit log, as done from the command line.
		page, err := st.(intake.Operators).ListAudit(ctx, intake.AuditFilter{Action: intake.AuditDeliveryRetry})
		if err != nil {
			t.Fatal(err)
		}
		targets := map[string]bool{}
		for _, e := range page.Entries {
			if e.ActorKind != intake.ActorCLI || e.Actor == "" {
				t.Errorf("replay audited as %+v", e)
			}
			targets[e.Target] = true
		}
		if len(page.Entries) != 2 || !targets["delivery:"+ids[0]] || !targets["delivery:"+ids[1]] {
			t.Errorf("audited replays %+v", page.Entries)
		}
		return nil
	})
}

// A delivery whose job ended without delivering it waits for nothing; the operator's requeue
// gives it a fresh job and leaves the others alone.
func TestDeliveriesRequeue(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "g.yaml")
	if err := os.WriteFile(cfgPath, []byte("database: { sqlite_path: "+filepath.Join(dir, "d.db")+" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var lost string
	err := withStore(context.Background(), cfgPath, func(ctx context.Context, st intake.Store) error {
		for i := range 2 {
			res, err := st.CreateCase(ctx, storetest.NewCase("rest:x", fmt.Sprintf("k%d", i), time.Now().UTC()))
			if err != nil {
				return err
			}
			lost = res.Deliveries[0].ID
		}
		_, err := st.(*sqlite.Store).DB().ExecContext(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
			WHERE json_extract(args, '$.delivery_id') = ?`, lost)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "deliveries", "requeue", "--config", cfgPath)
	if err != nil || !strings.Contains(out, lost) || !strings.Contains(out, "1 deliveries queued again") {
		t.Fatalf("requeue: %v %s", err, out)
	}
	out, err = run(t, "deliveries", "requeue", "--stuck-for", "1m", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "0 deliveries queued again") {
		t.Fatalf("second requeue: %v %s", err, out)
	}
}

func TestClassifyCommand(t *testing.T) {
	out, err := run(t, "classify", "--config", "../../configs/gateway.example.yaml", "楼道里着火了，浓烟很大，快来人")
	if err != nil || !strings.Contains(out, "EMERGENCY     fire, call 119") {
		t.Fatalf("classify: %v\n%s", err, out)
	}
	fixture := filepath.Join(t.TempDir(), "eval.jsonl")
	lines := `{"id":"a","channel":"wechat","text":"公积金怎么提取？","category":"housing_fund","category_alt":[],"request_type":"consult","emergency":null}
{"id":"b","channel":"sms","text":"楼下着火了快来人","category":"other","category_alt":["property"],"request_type":"help","emergency":"fire"}
`
	if err := os.WriteFile(fixture, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "classify", "--eval", fixture)
	if err != nil || !strings.Contains(out, "examples                 2") || !strings.Contains(out, "emergency recall         100.0%") {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	if _, err := run(t, "classify"); err == nil {
		t.Fatal("classify without text accepted")
	}
}

func TestReloadSwapsRulesAndKeepsThemOnError(t *testing.T) {
	dir := t.TempDir()
	taxonomy := filepath.Join(dir, "taxonomy.yaml")
	shipped, err := os.ReadFile("../../configs/taxonomy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(taxonomy, shipped, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "g.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("database: { sqlite_path: %q }\nrules: { taxonomy_file: %q }\nlog: { level: error }\n",
		filepath.Join(dir, "r.db"), taxonomy)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, newLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	classify := func(ext string) string {
		r, err := a.service.Submit(context.Background(), intake.Submission{Channel: intake.ChannelREST, ChannelID: "rest:t", ExternalID: ext, Text: "想咨询一下无人机飞行许可"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Case.Classification.Category
	}
	if got := classify("1"); got != "other" {
		t.Fatalf("before the reload: %s", got)
	}
	// The operator adds a phrase to government_services and sends SIGHUP.
	edited := strings.Replace(string(shipped), "  - code: government_services\n", "  - code: government_services\n    # added by the test\n", 1)
	if edited == string(shipped) {
		t.Fatal("test could not find government_services in taxonomy.yaml")
	}
	edited = addTerm(t, edited, "government_services", "无人机")
	if err := os.WriteFile(taxonomy, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := classify("2"); got != "government_services" {
		t.Fatalf("after the reload: %s", got)
	}
	if err := os.WriteFile(taxonomy, []byte("version: 1\ncategories: [broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "rules") {
		t.Fatalf("a broken taxonomy must be refused: %v", err)
	}
	if got := classify("3"); got != "government_services" {
		t.Fatalf("after a failed reload the previous rules must stay: %s", got)
	}
}

// addTerm adds a weight-5 phrase group to a category of a taxonomy file.
func addTerm(t *testing.T, taxonomy, code, phrase string) string {
	t.Helper()
	i := strings.Index(taxonomy, "  - code: "+code+"\n")
	j := strings.Index(taxonomy[i:], "    terms:\n")
	if i < 0 || j < 0 {
		t.Fatalf("category %s not found", code)
	}
	at := i + j + len("    terms:\n")
	return taxonomy[:at] + "      - weight: 5\n        phrases: [" + phrase + "]\n" + taxonomy[at:]
}

// A channel configured only to receive (no from number, no Weibo access token) is valid: the gateway serves its webhook and warns that it cannot notify.
func TestConfigCheckAcceptsReceiveOnlyChannelsWithAWarning(t *testing.T) {
	dir := t.TempDir()
	receiveOnly := `channels:
  - { id: sms-in, type: twilio, account_sid: ACtest0123, auth_token: tok0123 }
  - { id: weibo-in, type: weibo, app_key: k, app_secret: weibo-secret-value, account_uid: "5001" }
`
	path := filepath.Join(dir, "receive-only.yaml")
	if err := os.WriteFile(path, []byte(receiveOnly), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "config", "check", "--config", path)
	if err != nil || !strings.Contains(out, "is valid") {
		t.Fatalf("receive-only channels rejected: %v\n%s", err, out)
	}
	for _, id := range []string{"sms-in", "weibo-in"} {
		if !strings.Contains(out, "channel="+id) {
			t.Errorf("no warning names channel %s:\n%s", id, out)
		}
	}
	if strings.Contains(out, "tok0123") || strings.Contains(out, "weibo-secret-value") {
		t.Errorf("a warning printed a secret:\n%s", out)
	}

	// Naming a receive-only channel as the SMS channel for notifications is an error: every
	// notification would fail.
	named := filepath.Join(dir, "named.yaml")
	if err := os.WriteFile(named, []byte(receiveOnly+"notifications: { sms_channel: sms-in }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "config", "check", "--config", named); err == nil || !strings.Contains(err.Error(), "notifications.sms_channel") {
		t.Fatalf("sms_channel naming a receive-only channel: %v", err)
	}
}

func TestPlatformClientsSkipOnlyTheChannelsThatCannotSend(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Channels = []channels.Config{
		{ID: "sms-in", Type: "twilio", AccountSID: "ACtest0123", AuthToken: "tok0123"},
		{ID: "sms-out", Type: "twilio", AccountSID: "ACtest0123", AuthToken: "tok0123", From: "+8610000000"},
		{ID: "weibo-in", Type: "weibo", AppKey: "k", AppSecret: "s", AccountUID: "5001"},
	}
	var logs bytes.Buffer
	routes, sms, fetchers, err := platformClients(cfg, nil, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := routes["sms-out"]; !ok || len(routes) != 1 {
		t.Fatalf("routes: %v", routes)
	}
	if sms != "sms-out" {
		t.Fatalf("SMS channel %q, want the first one that can send", sms)
	}
	// Twilio media needs only the account credentials, so a receive-only SMS channel still
	// downloads the photos citizens send.
	if _, ok := fetchers["sms-in"]; !ok {
		t.Fatal("receive-only twilio channel lost its media fetcher")
	}
	if _, ok := fetchers["weibo-in"]; ok {
		t.Fatal("weibo channel without an access token got a fetcher")
	}

	// A broken setting that is not about missing credentials still fails the start.
	cfg.Channels = append(cfg.Channels, channels.Config{ID: "wx", Type: "wechat", AppID: "wx0123456789abcdef", AppSecret: "x",
		Token: "tok", Mode: "plain", Settings: map[string]any{"account_id": "gh_0123456789ab", "notify_template": "not-a-map"}})
	if _, _, _, err := platformClients(cfg, nil, nil, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "notify_template") {
		t.Fatalf("bad notify_template: %v", err)
	}
}

// A misspelt key in a channel entry — a channel-specific one or a common one — is an error that
// names it and suggests the key meant; before, config check called the file valid and the
// channel ran on the default.
func TestConfigCheckRefusesUnknownChannelKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.yaml")
	yaml := `channels:
  - { id: wx, type: wechat, app_id: wx1, app_secret: s, token: t, reply_timout: 2s, app_secert: s2 }
  - { id: sms, type: twilio, account_sid: AC1, auth_token: t, recieve_timeout: 5s, menu: { A: welcome } }
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, "config", "check", "--config", path)
	if err == nil {
		t.Fatal("a config with misspelt channel keys is valid")
	}
	for _, want := range []string{
		"channels[wx].reply_timout: unknown key for a wechat channel; did you mean reply_timeout?",
		"channels[wx].app_secert: unknown key for a wechat channel; did you mean app_secret?",
		"channels[sms].recieve_timeout: unknown key for a twilio channel; did you mean receive_timeout?",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "menu") {
		t.Errorf("the shared menu key was flagged: %v", err)
	}
}
