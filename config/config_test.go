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
		{"standard-webhooks secret without prefix", `case_systems: [{name: default, url: "http://x/c", secret: plain, signature: standard-webhooks}]`, nil,
			[]string{`case_systems[0].secret: a standard-webhooks secret starts with "whsec_"`}},
		{"standard-webhooks secret too short", `case_systems: [{name: default, url: "http://x/c", secret: "whsec_c2hvcnQ=", signature: standard-webhooks}]`, nil,
			[]string{"case_systems[0].secret: the key is 5 bytes"}},
		{"unknown signature scheme", `case_systems: [{name: default, url: "http://x/c", secret: s, signature: jwt}]`, nil,
			[]string{"case_systems[0].signature: must be one of"}},
		{"case smaller than one message", "limits: {max_text_chars: 5000, max_case_chars: 4000}", nil,
			[]string{"limits.max_case_chars: must be at least limits.max_text_chars, got 4000"}},
		{"no query lockout", "conversation: {query_lockout: 0s}", nil, []string{"conversation.query_lockout: must be >"}},
		{"no replicas", "rate_limits: {replicas: 0}", nil, []string{"rate_limits.replicas: must be ≥ 1"}},
		{"attachments in an unknown store", `attachments: {url: "gs://bucket"}`, nil, []string{"attachments.url"}},
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

// Each replica enforces its share: together they never allow more than the configured limit,
// and no replica is left with a burst of zero.
func TestRateLimitShare(t *testing.T) {
	cfg, err := Load(writeFile(t, "rate_limits: { replicas: 3, sender: { rate: 0.6, burst: 20 }, api_key: { rate: 0 } }"), []string{})
	if err != nil {
		t.Fatal(err)
	}
	rl := cfg.RateLimits
	if got := rl.Share(rl.Sender); got.Burst != 6 || got.Rate < 0.1999 || got.Rate > 0.2001 {
		t.Fatalf("sender share %+v, want rate 0.2 burst 6", got)
	}
	if got := rl.Share(RateLimit{Rate: 1, Burst: 2}); got.Burst != 1 {
		t.Fatalf("a burst smaller than the replica count: %+v, want 1", got)
	}
	if got := rl.Share(rl.APIKey); got.Rate != 0 {
		t.Fatalf("an unlimited limit stays unlimited: %+v", got)
	}
	if got := rl.ShareCount(5); got != 1 {
		t.Fatalf("query limit share %d, want 1", got)
	}
	one, err := Load(writeFile(t, ""), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if got := one.RateLimits.Share(one.RateLimits.Sender); got != one.RateLimits.Sender || one.RateLimits.ShareCount(5) != 5 {
		t.Fatalf("one replica (the default) keeps the whole limit: %+v", got)
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

// A misspelt key is an error that names it and suggests the key meant, wherever it is written:
// before, config check called such a file valid and the gateway ran on the default.
func TestUnknownKeysAreErrorsWithSuggestions(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        []string
		want       []string
	}{
		{"nested typo", "server: { request_timout: 3s }", nil,
			[]string{"server.request_timout: unknown key; did you mean server.request_timeout?"}},
		{"top-level typo", "forwardng: { workers: 5 }", nil,
			[]string{"forwardng: unknown key; did you mean forwarding?"}},
		{"typo inside a list", `case_systems: [{ name: default, url: "http://x/c", secrt: s }]`, nil,
			[]string{"case_systems[0].secrt: unknown key; did you mean case_systems[0].secret?"}},
		{"typo two levels down", "rate_limits: { api_key: { rtae: 5 } }", nil,
			[]string{"rate_limits.api_key.rtae: unknown key; did you mean rate_limits.api_key.rate?"}},
		{"nothing near", "server: { colour: blue }", nil, []string{"server.colour: unknown key"}},
		{"typo in a section the application core defines", "conversation: { windw: 5m, messages_file: x.yaml }", nil,
			[]string{"conversation.windw: unknown key; did you mean conversation.window?"}},
		{"environment override", "", []string{"INTAKE_SERVER__REQUEST_TIMOUT=3s"},
			[]string{"server.request_timout (from INTAKE_SERVER__REQUEST_TIMOUT): unknown key; did you mean server.request_timeout?"}},
		{"several at once", "server: { listn: x }\ndatabse: {}", nil,
			[]string{"server.listn: unknown key; did you mean server.listen?", "databse: unknown key; did you mean database?"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = []string{}
			}
			_, err := Load(writeFile(t, tc.yaml), env)
			if err == nil {
				t.Fatal("config with an unknown key accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
			if tc.name == "nothing near" && strings.Contains(err.Error(), "did you mean") {
				t.Fatalf("a far-fetched suggestion: %v", err)
			}
		})
	}
}

// Keys a channel type reads for itself are the channel package's to check, not config's.
func TestChannelSpecificKeysAreLeftToTheChannel(t *testing.T) {
	_, err := Load(writeFile(t, "channels: [{ id: hook, type: webhook, scheme: sorted_sha1, menu: { A: b } }]"), []string{})
	if err != nil && strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("channel-specific keys flagged by config: %v", err)
	}
}

func TestMediaFetchDefaultsAreStrict(t *testing.T) {
	cfg, err := Load("", []string{})
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Media
	if len(m.RestHosts) != 0 || m.AllowHTTP || m.AllowPrivateNetworks || m.FetchTimeout != time.Minute || m.MaxRedirects != 3 {
		t.Fatalf("media defaults: %+v", m)
	}
}

func TestMediaHostListsAreChecked(t *testing.T) {
	p := writeFile(t, `
media:
  rest_hosts: ["recordings.callcentre.example", "http://bad.example/x"]
  max_redirects: 11
channels:
  - id: sms
    type: twilio
    account_sid: AC1
    auth_token: tok
    media_hosts: ["api.twilio.com", "*.twiliocdn.com", "*.com"]
    credential_hosts: ["*.twilio.com"]
`)
	_, err := Load(p, []string{})
	if err == nil {
		t.Fatal("bad host lists accepted")
	}
	for _, want := range []string{"media.rest_hosts[1]", "media.max_redirects", "channels[0].media_hosts[2]", "channels[0].credential_hosts[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "media_hosts[0]") || strings.Contains(err.Error(), "media_hosts[1]") || strings.Contains(err.Error(), "rest_hosts[0]") {
		t.Errorf("a good entry was refused:\n%v", err)
	}

	wx := writeFile(t, `
channels:
  - { id: wx, type: wechat, app_id: wx1, app_secret: s, token: t, credential_hosts: ["api.weixin.qq.com"] }
`)
	if _, err := Load(wx, []string{}); err == nil || !strings.Contains(err.Error(), "channels[0].credential_hosts") {
		t.Fatalf("credential_hosts on a wechat channel: %v", err)
	}

	ok := writeFile(t, `
media: { rest_hosts: ["recordings.callcentre.example:8443"], allow_http: true }
channels:
  - { id: sms, type: twilio, account_sid: AC1, auth_token: tok, media_hosts: ["127.0.0.1:9000"], credential_hosts: ["127.0.0.1:9000"] }
`)
	cfg, err := Load(ok, []string{"INTAKE_MEDIA__ALLOW_PRIVATE_NETWORKS=true"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Media.AllowHTTP || !cfg.Media.AllowPrivateNetworks || cfg.Channels[0].MediaHosts[0] != "127.0.0.1:9000" || cfg.Channels[0].CredentialHosts[0] != "127.0.0.1:9000" {
		t.Fatalf("%+v %+v", cfg.Media, cfg.Channels[0])
	}
	if _, ok := cfg.Channels[0].Settings["media_hosts"]; ok {
		t.Fatal("media_hosts also left among the channel package's settings")
	}
}

// The classifier section: the built-in model and a review threshold of 0.5 by default; a review
// threshold outside [0,1] is refused with its key.
func TestClassifierSection(t *testing.T) {
	cfg, err := Load("", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Classifier.ModelFile != "" || cfg.Classifier.ReviewBelow != 0.5 || cfg.Rules.ReferralsFile != "" {
		t.Fatalf("defaults: %+v %+v", cfg.Classifier, cfg.Rules)
	}
	cfg, err = Load(writeFile(t, "classifier: {model_file: /etc/hotline.model, review_below: 0.3}\nrules: {referrals_file: /etc/referrals.yaml}\n"), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Classifier.ModelFile != "/etc/hotline.model" || cfg.Classifier.ReviewBelow != 0.3 || cfg.Rules.ReferralsFile != "/etc/referrals.yaml" {
		t.Fatalf("from the file: %+v %+v", cfg.Classifier, cfg.Rules)
	}
	_, err = Load(writeFile(t, "classifier: {review_below: 1.5}\n"), []string{})
	if err == nil || !strings.Contains(err.Error(), "classifier.review_below") {
		t.Fatalf("review_below 1.5: %v", err)
	}
}
