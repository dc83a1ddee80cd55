package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleConfigLoadsAndIsValid(t *testing.T) {
	cfg, err := Load("../configs/gateway.example.yaml", []string{})
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if cfg.Database.URL != "" || cfg.Database.SQLitePath != "data/intake.db" {
		t.Fatalf("example should use the embedded store: %+v", cfg.Database)
	}
	if len(cfg.APIKeys) != 2 || cfg.CaseSystems[0].Secret != "dev-only-secret" {
		t.Fatalf("keys %d, secret %q", len(cfg.APIKeys), cfg.CaseSystems[0].Secret)
	}
	if cfg.Limits.MaxTextChars != 10000 || cfg.Limits.MaxBodyBytes != 1<<20 || cfg.Limits.MaxFutureSkew != 5*time.Minute {
		t.Fatalf("limits %+v", cfg.Limits)
	}
}

func TestDefaultsWithoutFile(t *testing.T) {
	cfg, err := Load("", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "127.0.0.1:8080" || cfg.CaseNo.Prefix != "WH" || cfg.CaseNo.Location().String() != "Asia/Shanghai" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestEnvironmentOverridesAndSecrets(t *testing.T) {
	p := writeFile(t, `
database:
  url: "${DB_URL}"
case_systems:
  - { name: default, url: "http://cs.local/cases", secret: "${CS_SECRET}" }
channels:
  - { id: wx, type: wechat, app_id: wx1, app_secret: "${WX_SECRET}", token: tok }
`)
	cfg, err := Load(p, []string{
		"DB_URL=postgres://u@db/intake", "CS_SECRET=s3cret", "WX_SECRET=wxs",
		"INTAKE_SERVER__LISTEN=0.0.0.0:9999", "INTAKE_CASE_NO__PREFIX=SZ", "INTAKE_LIMITS__MAX_TEXT_CHARS=500",
		"OTHER_VAR=ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.URL != "postgres://u@db/intake" || cfg.CaseSystems[0].Secret != "s3cret" || cfg.Channels[0].AppSecret != "wxs" {
		t.Fatalf("secrets not expanded: %+v %+v", cfg.Database, cfg.CaseSystems)
	}
	if cfg.Server.Listen != "0.0.0.0:9999" || cfg.CaseNo.Prefix != "SZ" || cfg.Limits.MaxTextChars != 500 {
		t.Fatalf("overrides not applied: %+v %+v %+v", cfg.Server, cfg.CaseNo, cfg.Limits)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        []string
		want       []string
	}{
		{"unset secret", `case_systems: [{name: default, url: "http://x/c", secret: "${NOPE}"}]`, nil,
			[]string{"case_systems[0].secret: environment variable NOPE is not set"}},
		{"bad listen", "server: {listen: nonsense}", nil, []string{"server.listen: must be host:port"}},
		{"bad zone", "case_no: {timezone: Mars/Olympus}", nil, []string{"case_no.timezone: must be an IANA time zone"}},
		{"bad db url", "database: {url: mysql://x}", nil, []string{"database.url: must be a postgres:// URL"}},
		{"wechat without token", "channels: [{id: wx, type: wechat, app_id: a, app_secret: b}]", nil, []string{"channels[0].token: is required"}},
		{"unknown channel type", "channels: [{id: x, type: telegraph}]", nil, []string{"channels[0].type: must be one of"}},
		{"duplicate channel id", "channels: [{id: a, type: twilio, account_sid: AC1, auth_token: t}, {id: a, type: twilio, account_sid: AC2, auth_token: t}]", nil,
			[]string{`channels[1].id: "a" is already used by channels[0]`}},
		{"bad api key hash", "api_keys: [{name: k, sha256: xyz, scopes: [read]}]", nil, []string{"api_keys[0].sha256: must be 64 characters long"}},
		{"bad scope", "api_keys: [{name: k, sha256: " + strings.Repeat("a", 64) + ", scopes: [root]}]", nil, []string{"api_keys[0].scopes[0]: must be one of"}},
		{"safe mode without key", "channels: [{id: wx, type: wechat, app_id: a, app_secret: b, token: t, mode: safe}]", nil,
			[]string{"channels[0].encoding_aes_key: is required in safe mode"}},
		{"bad env override", "", []string{"INTAKE_LIMITS__MAX_TEXT_CHARS=-4"}, []string{"limits.max_text_chars: must be >"}},
		{"case smaller than one message", "limits: {max_text_chars: 5000, max_case_chars: 4000}", nil,
			[]string{"limits.max_case_chars: must be at least limits.max_text_chars, got 4000"}},
		{"no query lockout", "conversation: {query_lockout: 0s}", nil, []string{"conversation.query_lockout: must be >"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = []string{}
			}
			_, err := Load(writeFile(t, tc.yaml), env)
			if err == nil {
				t.Fatal("invalid config accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestUnreadableFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), []string{}); err == nil {
		t.Fatal("missing file accepted")
	}
	if _, err := Load(writeFile(t, "server: [unclosed"), []string{}); err == nil {
		t.Fatal("malformed YAML accepted")
	}
}

func TestChannelSettingsKeepUnknownKeys(t *testing.T) {
	p := writeFile(t, `
channels:
  - id: wx
    type: wechat
    app_id: wx1
    app_secret: s
    token: t
    timestamp_window: 2m
    menu: { HOW_TO: how_to_submit }
`)
	cfg, err := Load(p, []string{})
	if err != nil {
		t.Fatal(err)
	}
	st := cfg.Channels[0].Settings
	if st["timestamp_window"] != "2m" {
		t.Fatalf("settings %#v", st)
	}
	if m, ok := st["menu"].(map[string]any); !ok || m["HOW_TO"] != "how_to_submit" {
		t.Fatalf("menu %#v", st["menu"])
	}
	if _, ok := st["app_id"]; ok {
		t.Fatal("known keys must not be repeated in Settings")
	}
}
