// Package config loads and validates the gateway's configuration file: YAML, with any
// key overridable by an INTAKE_ environment variable (INTAKE_DATABASE__URL → database.url) and
// any string value written as ${NAME} read from the environment (for secrets).
package config

import (
	"errors"

	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/hottopics"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/notify"
	"github.com/hotline12345/intake-gateway/retention"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// DefaultPath is the file `serve` reads when --config is not given and the file exists.
const DefaultPath = "configs/gateway.yaml"

// EnvPrefix starts every environment override.
const EnvPrefix = "INTAKE_"

// Config is the whole configuration.
type Config struct {
	Server        Server                `koanf:"server"`
	Database      Database              `koanf:"database"`
	Attachments   Attachments           `koanf:"attachments"`
	CaseNo        CaseNo                `koanf:"case_no"`
	Limits        Limits                `koanf:"limits"`
	Log           Log                   `koanf:"log"`
	RateLimits    RateLimits            `koanf:"rate_limits"`
	Conversation  Conversation          `koanf:"conversation"`
	Rules         Rules                 `koanf:"rules"`
	Classifier    Classifier            `koanf:"classifier"`
	Duplicates    app.DuplicateSettings `koanf:"duplicates"`
	Notifications notify.Options        `koanf:"notifications"`
	APIKeys       []api.APIKey          `koanf:"api_keys" validate:"dive"`
	CaseSystems   []forward.CaseSystem  `koanf:"case_systems" validate:"dive"`
	Forwarding    forward.Options       `koanf:"forwarding"`
	Media         Media                 `koanf:"media"`
	Channels      []channels.Config     `koanf:"channels" validate:"dive"`
	Open311       Open311               `koanf:"open311"`
	Telemetry     Telemetry             `koanf:"telemetry"`
	Retention     retention.Options     `koanf:"retention"`
	HotTopics     hottopics.Options     `koanf:"hot_topics"`
	Console       Console               `koanf:"console"`
}

// Telemetry sends OpenTelemetry traces to a collector (OTLP over HTTP); off when the endpoint is
// empty.
type Telemetry struct {
	// OTLPEndpoint is the collector's base URL, e.g. http://otel-collector:4318.
	OTLPEndpoint string `koanf:"otlp_endpoint" validate:"omitempty,url"`
	// SampleRatio is the share of new traces recorded (traces continued from a caller keep its
	// decision).
	SampleRatio float64 `koanf:"sample_ratio" validate:"gt=0,lte=1"`
}

// Open311 is the GeoReport v2 endpoint for third-party reporting apps (/open311/v2/). Clients
// file requests with an api_key of api_keys holding the submit scope.
type Open311 struct {
	Enabled bool `koanf:"enabled"`
	// CatalogFile adds groups, descriptions and attributes to the taxonomy's categories (empty:
	// the built-in configs/open311.yaml).
	CatalogFile string `koanf:"catalog_file"`
	// Jurisdiction, when set, is the only jurisdiction_id accepted.
	Jurisdiction string `koanf:"jurisdiction" validate:"max=256"`
	// Contact and KeyService are what discovery tells client developers.
	Contact    string `koanf:"contact" validate:"max=500"`
	KeyService string `koanf:"key_service" validate:"max=500"`
	// DuplicateWindow: the same api_key, description and location within it return the request
	// already filed.
	DuplicateWindow time.Duration `koanf:"duplicate_window" validate:"gt=0"`
	// PublicReads lets anyone read every request filed through Open311 (the spec's open model);
	// off (default), reads need an api_key and show only the requests that key filed.
	PublicReads bool `koanf:"public_reads"`
}

// Console is the operator console under /console.
type Console struct {
	// Enabled serves the console; its accounts are made with `intake-gateway user add`.
	Enabled bool `koanf:"enabled"`
	// IdleTimeout signs an operator out after this long without a request.
	IdleTimeout time.Duration `koanf:"idle_timeout" validate:"gt=0"`
	// SessionMaxAge signs an operator out this long after signing in, however active.
	SessionMaxAge time.Duration `koanf:"session_max_age" validate:"gt=0"`
	// BootstrapAdmin, when set and no account of that name exists, creates it as an admin with
	// a random password that serve prints once on stderr: a first account for a development
	// setup. Production creates accounts with `intake-gateway user add`.
	BootstrapAdmin string `koanf:"bootstrap_admin" validate:"omitempty,max=64"`
	// LiveInterval is how often each replica reads today's count of new cases from the store
	// while a dashboard is open, for the dashboard's live figure.
	LiveInterval time.Duration `koanf:"live_interval" validate:"gte=500ms,lte=1m"`
	// LiveStreams and LiveStreamsPerSession bound the dashboard's open live streams per replica
	// and per signed-in session.
	LiveStreams           int `koanf:"live_streams" validate:"gt=0,lte=10000"`
	LiveStreamsPerSession int `koanf:"live_streams_per_session" validate:"gt=0,lte=100"`
}

// Server is the HTTP side.
type Server struct {
	Listen          string        `koanf:"listen" validate:"required,hostname_port"`
	PublicBaseURL   string        `koanf:"public_base_url" validate:"omitempty,url"`
	TrustedProxies  []string      `koanf:"trusted_proxies" validate:"dive,cidr"`
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout" validate:"gte=0"`
	// RequestTimeout bounds a request's work, so a slow store answers 5xx instead of hanging.
	RequestTimeout time.Duration `koanf:"request_timeout" validate:"gt=0"`
	// AdminListen, when set, serves /metrics and Go's pprof profiles on this private address;
	// they are never served on the public listener.
	AdminListen string `koanf:"admin_listen" validate:"omitempty,hostname_port"`
	// DebugListen is the former name of AdminListen, still read when AdminListen is empty.
	DebugListen string `koanf:"debug_listen" validate:"omitempty,hostname_port"`
	// MaxConnections caps the connections open at once on the public listener; further clients
	// wait in the kernel's accept queue.
	MaxConnections int `koanf:"max_connections" validate:"gt=0"`
	// WebhookReadTimeout, BodyReadTimeout and BatchReadTimeout bound how long reading one
	// request may take after its headers: platform webhooks (small bodies; the platforms give
	// up after 5 s), REST requests, and NDJSON batches.
	WebhookReadTimeout time.Duration `koanf:"webhook_read_timeout" validate:"gt=0"`
	BodyReadTimeout    time.Duration `koanf:"body_read_timeout" validate:"gt=0"`
	BatchReadTimeout   time.Duration `koanf:"batch_read_timeout" validate:"gt=0"`
	// DrainDelay: on SIGTERM, /readyz fails at once, and requests are still served for this
	// long (so a balancer polling /readyz moves traffic away) before the listener closes.
	DrainDelay time.Duration `koanf:"drain_delay" validate:"gte=0"`
}

// AdminAddress is where /metrics and pprof are served, "" for nowhere.
func (s Server) AdminAddress() string {
	if s.AdminListen != "" {
		return s.AdminListen
	}
	return s.DebugListen
}

// Database selects the store: PostgreSQL when URL is set, else embedded SQLite at SQLitePath.
type Database struct {
	URL        string `koanf:"url" validate:"omitempty,startswith=postgres://|startswith=postgresql://"`
	SQLitePath string `koanf:"sqlite_path" validate:"required_without=URL"`
	// AttachmentsDir holds the media fetched from the platforms (photos, voice, recordings).
	AttachmentsDir string `koanf:"attachments_dir" validate:"required"`
	MaxConns       int32  `koanf:"max_conns" validate:"gte=0"`
	// Writers and MaxBatch tune group commit (see store/groupcommit).
	Writers  int `koanf:"writers" validate:"gte=0,lte=64"`
	MaxBatch int `koanf:"max_batch" validate:"gte=0,lte=1000"`
}

// Attachments chooses where fetched media is kept. With URL empty it is the directory
// database.attachments_dir, as before; several replicas need a store they all reach.
type Attachments struct {
	// URL names a gocloud.dev/blob bucket: file:///path (one machine, or a mount every replica
	// shares), s3://bucket?region=… or s3://bucket?endpoint=…&use_path_style=true (S3 and
	// S3-compatible stores; credentials from the environment as the AWS SDK reads them).
	URL string `koanf:"url" validate:"omitempty,startswith=file://|startswith=s3://|startswith=mem://"`
}

// CaseNo shapes case numbers.
type CaseNo struct {
	Prefix   string `koanf:"prefix" validate:"max=10,alphanum"`
	Timezone string `koanf:"timezone" validate:"required,timezone"`
}

// Location is the configured zone.
func (c CaseNo) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Limits bound what one request may carry.
type Limits struct {
	MaxBodyBytes   int64         `koanf:"max_body_bytes" validate:"gt=0"`
	MaxTextChars   int           `koanf:"max_text_chars" validate:"gt=0"`
	MaxBatchLines  int           `koanf:"max_batch_lines" validate:"gt=0,lte=100000"`
	MaxFutureSkew  time.Duration `koanf:"max_future_skew" validate:"gte=0"`
	MaxBatchBytes  int64         `koanf:"max_batch_bytes" validate:"gt=0"`
	IdempotencyKey int           `koanf:"max_idempotency_key" validate:"gt=0,lte=255"`
	// LowConfidence flags transcript segments whose ASR confidence is below it.
	LowConfidence float64 `koanf:"low_confidence" validate:"gte=0,lte=1"`
	// MaxCaseChars bounds a case's text with every supplement joined to it; a supplement that
	// would take it further is refused (the citizen is asked to start a new matter).
	MaxCaseChars int `koanf:"max_case_chars" validate:"gtefield=MaxTextChars"`
	// MaxSupplements bounds how many follow-up messages join one case.
	MaxSupplements int `koanf:"max_supplements" validate:"gt=0,lte=1000"`
}

// Rules names the operator-editable rule files; an empty path uses the built-in copy of the
// file in configs/. They are re-read on SIGHUP.
type Rules struct {
	TaxonomyFile   string `koanf:"taxonomy_file"`
	EmergencyFile  string `koanf:"emergency_file"`
	OutOfScopeFile string `koanf:"out_of_scope_file"`
	GazetteerFile  string `koanf:"gazetteer_file"`
	HolidaysFile   string `koanf:"holidays_file"`
	DeadlinesFile  string `koanf:"deadlines_file"`
	ReferralsFile  string `koanf:"referrals_file"`
}

// Classifier is the learned half of classification. Its model is loaded with the rule files and
// re-read with them on SIGHUP; a model file that does not load keeps the running one.
type Classifier struct {
	// ModelFile replaces the built-in model (trained from the project's corpus) with one trained
	// by `intake-gateway classify train` on the hotline's own labelled cases. "none" classifies
	// by the rules alone.
	ModelFile string `koanf:"model_file"`
	// ReviewBelow marks a case classification.needs_review when the confidence of its category or
	// of its request type is below it (0: never).
	ReviewBelow float64 `koanf:"review_below" validate:"gte=0,lte=1"`
}

// Conversation is the conversation section: how citizens' messages are understood
// (app.ConversationSettings), and where their texts come from.
type Conversation struct {
	app.ConversationSettings `koanf:",squash"`
	// MessagesFile holds the citizen-facing texts; empty: the built-in configs/messages.yaml.
	MessagesFile string `koanf:"messages_file"`
}

// Log configures logging.
type Log struct {
	Level  string `koanf:"level" validate:"oneof=debug info warn error"`
	Format string `koanf:"format" validate:"oneof=json text"`
	// PseudonymKey keys the pseudonyms that stand for citizens' platform ids in log lines
	// (HMAC-SHA256), so that they cannot be reversed by hashing candidate ids. Empty: a random
	// key per process (lines correlate only within one run). At least 16 characters.
	PseudonymKey string `koanf:"pseudonym_key" validate:"omitempty,min=16"`
}

// RateLimits bound how fast one client may call. Each replica keeps its own buckets in memory
// (a shared bucket would cost a database write on every request); Replicas tells each its share,
// so that behind a balancer that spreads requests evenly the replicas together allow about the
// configured rate. Look-up lockouts, which guard query codes, are kept in the database and are
// exact across replicas.
type RateLimits struct {
	// APIKey applies to each REST API key.
	APIKey RateLimit `koanf:"api_key"`
	// AuthFailures counts requests from one client address that fail authentication (a wrong
	// API key, a bad webhook signature); once the bucket is empty the address is answered 429
	// until it refills.
	AuthFailures RateLimit `koanf:"auth_failures"`
	// Sender applies to each citizen (platform user id or phone number) on WeChat, SMS, Weibo
	// and webhook channels.
	Sender RateLimit `koanf:"sender"`
	// MaxKeys bounds the buckets each limit remembers.
	MaxKeys int `koanf:"max_keys" validate:"gte=0"`
	// Replicas is how many gateway processes share the traffic: each enforces 1/Replicas of
	// every rate and burst above and of conversation.query_limit (rounded down, at least 1).
	Replicas int `koanf:"replicas" validate:"gte=1,lte=1000"`
}

// Share is one replica's part of l: rate and burst divided by Replicas, the burst rounded down
// but at least 1, so that together the replicas never allow more than l.
func (r RateLimits) Share(l RateLimit) RateLimit {
	n := max(r.Replicas, 1)
	if l.Rate <= 0 {
		return l
	}
	return RateLimit{Rate: l.Rate / float64(n), Burst: max(l.Burst/n, 1)}
}

// ShareCount is one replica's part of a count limit (conversation.query_limit).
func (r RateLimits) ShareCount(limit int) int {
	return max(limit/max(r.Replicas, 1), 1)
}

// RateLimit is a token bucket: Rate per second on average, Burst at once. Rate 0: unlimited.
type RateLimit struct {
	Rate  float64 `koanf:"rate" validate:"gte=0"`
	Burst int     `koanf:"burst" validate:"gte=0"`
}

// Media configures how the gateway copies media into its attachment store (media/,
// internal/safefetch). Platform channels fetch only from their platform's hosts
// (channels[].media_hosts); attachment and recording URLs sent through the REST API only from
// RestHosts.
type Media struct {
	// RestHosts may serve the attachments of POST /v1/submissions and the recordings of POST
	// /v1/transcripts (host, host:port, IP or *.domain). Empty: none is fetched; the case keeps
	// the URL as the client sent it.
	RestHosts []string `koanf:"rest_hosts" validate:"dive,hostpattern"`
	// AllowHTTP allows plain http URLs (never a redirect from https to http).
	AllowHTTP bool `koanf:"allow_http"`
	// AllowPrivateNetworks lets fetches connect to loopback, private, link-local and other
	// non-public addresses: for tests and labs whose fake platforms run on 127.0.0.1 only.
	AllowPrivateNetworks bool `koanf:"allow_private_networks"`
	// FetchTimeout bounds one fetch, redirects and body included.
	FetchTimeout time.Duration `koanf:"fetch_timeout" validate:"gt=0"`
	// MaxRedirects one fetch may follow (0: none).
	MaxRedirects int `koanf:"max_redirects" validate:"gte=0,lte=10"`
}

// Defaults are the built-in values every file starts from.
func Defaults() map[string]any {
	return map[string]any{
		"server.listen":                        "127.0.0.1:8080",
		"server.shutdown_timeout":              "15s",
		"server.request_timeout":               "4s",
		"server.max_connections":               4096,
		"server.webhook_read_timeout":          "5s",
		"server.body_read_timeout":             "15s",
		"server.batch_read_timeout":            "120s",
		"server.drain_delay":                   "0s",
		"rate_limits.api_key.rate":             500,
		"rate_limits.api_key.burst":            1000,
		"rate_limits.auth_failures.rate":       1,
		"rate_limits.auth_failures.burst":      30,
		"rate_limits.sender.rate":              0.5,
		"rate_limits.sender.burst":             20,
		"rate_limits.max_keys":                 100000,
		"rate_limits.replicas":                 1,
		"database.url":                         "",
		"database.sqlite_path":                 "data/intake.db",
		"database.attachments_dir":             "data/attachments",
		"case_no.prefix":                       "WH",
		"case_no.timezone":                     "Asia/Shanghai",
		"limits.max_body_bytes":                1 << 20,
		"limits.max_text_chars":                10000,
		"limits.max_batch_lines":               1000,
		"limits.max_batch_bytes":               32 << 20,
		"limits.max_future_skew":               "5m",
		"limits.max_idempotency_key":           255,
		"limits.low_confidence":                0.6,
		"limits.max_case_chars":                20000,
		"limits.max_supplements":               30,
		"conversation.window":                  "10m",
		"conversation.new_matter_prefixes":     []string{"新问题", "新诉求", "另一个问题", "另外反映"},
		"conversation.query_keywords":          []string{"查询", "查进度", "进度查询"},
		"conversation.query_limit":             5,
		"conversation.query_period":            "10m",
		"conversation.query_fail_limit":        5,
		"conversation.query_fail_window":       "15m",
		"conversation.query_lockout":           "15m",
		"conversation.opt_out_words":           []string{"TD", "退订", "STOP", "UNSUBSCRIBE", "取消订阅"},
		"conversation.opt_in_words":            []string{"START", "订阅", "UNSTOP"},
		"conversation.location_ttl":            "30m",
		"conversation.messages_file":           "",
		"forwarding.workers":                   100,
		"forwarding.timeout":                   "10s",
		"forwarding.max_attempts":              25,
		"forwarding.max_age":                   "72h",
		"forwarding.retry_min":                 "1s",
		"forwarding.retry_max":                 "10m",
		"forwarding.breaker_threshold":         5,
		"forwarding.breaker_min":               "2s",
		"forwarding.breaker_max":               "2m",
		"duplicates.enabled":                   true,
		"duplicates.window":                    "168h",
		"duplicates.threshold":                 0.8,
		"duplicates.forward_as":                "case.duplicate",
		"notifications.events":                 []string{"accepted", "assigned", "progress", "resolved", "closed", "rejected", "reopened"},
		"notifications.sms_channel":            "",
		"notifications.survey":                 true,
		"retention.raw_payload":                0,
		"retention.personal_data":              0,
		"retention.pseudonym_key":              "",
		"retention.interval":                   "1h",
		"retention.batch":                      0,
		"hot_topics.enabled":                   false,
		"hot_topics.window":                    "2h",
		"hot_topics.min_cases":                 15,
		"hot_topics.similarity":                0.15,
		"hot_topics.interval":                  "1m",
		"hot_topics.max_cases":                 5000,
		"hot_topics.webhook.url":               "",
		"hot_topics.webhook.secret":            "",
		"hot_topics.webhook.signature":         "standard-webhooks",
		"hot_topics.webhook.timeout":           "10s",
		"notifications.survey_window":          "168h",
		"notifications.reopen_on_dissatisfied": true,
		"media.rest_hosts":                     []string{},
		"media.allow_http":                     false,
		"media.allow_private_networks":         false,
		"media.fetch_timeout":                  "60s",
		"media.max_redirects":                  3,
		"classifier.model_file":                "",
		"classifier.review_below":              0.5,
		"open311.enabled":                      true,
		"open311.catalog_file":                 "",
		"open311.jurisdiction":                 "",
		"open311.contact":                      "",
		"open311.key_service":                  "",
		"open311.duplicate_window":             "10m",
		"open311.public_reads":                 false,
		"telemetry.otlp_endpoint":              "",
		"telemetry.sample_ratio":               1.0,
		"console.enabled":                      true,
		"console.idle_timeout":                 "30m",
		"console.session_max_age":              "12h",
		"console.bootstrap_admin":              "",
		"console.live_interval":                "2s",
		"console.live_streams":                 200,
		"console.live_streams_per_session":     4,
		"log.level":                            "info",
		"log.format":                           "json",
	}
}

// Load reads path (when not empty) over the defaults, applies INTAKE_ overrides from environ
// (nil: the process environment), expands ${NAME} from the same environment, and validates.
func Load(path string, environ []string) (*Config, error) {
	if environ == nil {
		environ = os.Environ()
	}
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(Defaults(), "."), nil); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("read config %s: %w", path, err)
		}
	}
	overrides := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(key, value string) (string, any) {
			key = strings.ToLower(strings.TrimPrefix(key, EnvPrefix))
			return strings.ReplaceAll(key, "__", "."), value
		},
	})
	if err := k.Load(overrides, nil); err != nil {
		return nil, fmt.Errorf("read %s environment overrides: %w", EnvPrefix, err)
	}
	envOnly := koanf.New(".")
	if err := envOnly.Load(overrides, nil); err != nil {
		return nil, fmt.Errorf("read %s environment overrides: %w", EnvPrefix, err)
	}
	fromEnv := map[string]bool{}
	for _, key := range envOnly.Keys() {
		fromEnv[key] = true
	}
	tree := k.Raw()
	if errs := unknownKeys(tree, fromEnv); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := expandSecrets(tree, lookupIn(environ)); err != nil {
		return nil, err
	}
	expanded := koanf.New(".")
	if err := expanded.Load(confmap.Provider(tree, ""), nil); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var cfg Config
	if err := expanded.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{Tag: "koanf"}); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := Validate(&cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// ResolvePath picks the config file: the flag when given, else DefaultPath when it exists, else
// none (built-in defaults).
func ResolvePath(flag string) string {
	if flag != "" {
		return flag
	}
	if _, err := os.Stat(DefaultPath); err == nil {
		return DefaultPath
	}
	return ""
}

func lookupIn(environ []string) func(string) (string, bool) {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// secretRef matches a whole value of the form ${NAME} or ${NAME:-fallback}.
var secretRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)(:-(.*))?\}$`)

// expandSecrets replaces every ${NAME} string anywhere in the tree with the environment variable.
// An unset variable without a fallback is an error naming the key, so a missing secret stops the
// gateway at start rather than at the first signature check.
func expandSecrets(tree map[string]any, lookup func(string) (string, bool)) error {
	var errs []error
	var walk func(path string, v any) any
	walk = func(path string, v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, child := range t {
				p := k
				if path != "" {
					p = path + "." + k
				}
				t[k] = walk(p, child)
			}
			return t
		case []any:
			for i, child := range t {
				t[i] = walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
			return t
		case string:
			m := secretRef.FindStringSubmatch(t)
			if m == nil {
				return t
			}
			if val, ok := lookup(m[1]); ok && val != "" {
				return val
			}
			if m[2] != "" {
				return m[3]
			}
			errs = append(errs, fmt.Errorf("%s: environment variable %s is not set", path, m[1]))
			return ""
		}
		return v
	}
	walk("", tree)
	return errors.Join(errs...)
}
