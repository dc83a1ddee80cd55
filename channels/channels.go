// Package channels is the plumbing every conversational channel shares. A channel package
// (channels/wechat, channels/twilio, channels/weibo, …) verifies and parses the platform's
// request, turns it into an app.Message or an app.Event, hands it to a Receiver, and writes the app.Reply in
// the platform's own format. Everything a citizen-facing conversation needs beyond that — status
// queries, joining follow-up messages to the open case, new cases, opt-outs, the texts of the
// replies — is decided once, here, so every channel behaves the same.
package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/suggest"
)

// ErrSendingNotConfigured marks a channel that can receive but lacks the credentials to call its
// platform's API (WeChat app_secret, Twilio from number, Weibo access token). The gateway still
// serves such a channel — replies in the webhook answer need no credentials — and only skips the
// notifications and media downloads that would need them.
var ErrSendingNotConfigured = errors.New("sending is not configured")

// Receiver is the shared conversation mechanism channels hand messages and events to. Receive is
// idempotent by (ChannelID, ExternalID): a platform's retry — the same sender, the same
// PayloadHash — gets the same app.Reply as the first delivery, also when copies race; the same id
// from another sender or with another payload is intake.ErrIdempotencyConflict (a 409 that says
// nothing of the first message's case). An error means nothing was acknowledged: the channel
// answers 5xx so the platform retries, 4xx for invalid input and conflicts.
type Receiver interface {
	Receive(ctx context.Context, msg app.Message) (app.Reply, error)
	Event(ctx context.Context, ev app.Event) (app.Reply, error)
}

// Config is one configured channel instance: an entry of the channels list of the gateway's
// configuration. Fields beyond id and type belong to one type each.
type Config struct {
	ID   string `koanf:"id" validate:"required,max=64,excludesall=/: "`
	Type string `koanf:"type" validate:"required,oneof=wechat twilio weibo webhook"`

	// wechat
	AppID          string `koanf:"app_id" validate:"required_if=Type wechat"`
	AppSecret      string `koanf:"app_secret" validate:"required_if=Type wechat,required_if=Type weibo"`
	Token          string `koanf:"token" validate:"required_if=Type wechat"`
	EncodingAESKey string `koanf:"encoding_aes_key" validate:"omitempty,len=43"`
	Mode           string `koanf:"mode" validate:"omitempty,oneof=plain compatible safe"`

	// twilio
	AccountSID          string `koanf:"account_sid" validate:"required_if=Type twilio"`
	AuthToken           string `koanf:"auth_token" validate:"required_if=Type twilio"`
	From                string `koanf:"from"`
	MessagingServiceSID string `koanf:"messaging_service_sid"`

	// weibo
	AppKey     string `koanf:"app_key" validate:"required_if=Type weibo"`
	AccountUID string `koanf:"account_uid" validate:"required_if=Type weibo"`

	// MediaHosts are the hosts the channel's media may be fetched from, redirects included
	// (host, host:port, IP or *.domain). Empty: the platform's own media hosts, which each
	// channel package defines (none for webhook channels).
	MediaHosts []string `koanf:"media_hosts" validate:"dive,hostpattern"`
	// CredentialHosts are the hosts that get the channel's credentials with a media request
	// (twilio: the account SID and auth token), named one by one, each also allowed by
	// MediaHosts. Empty: the platform's API host.
	CredentialHosts []string `koanf:"credential_hosts" validate:"dive,exacthost"`

	// Settings holds every other key of the channel's entry; each channel package decodes and
	// validates its own (menus, reply switches, signature schemes, …).
	Settings map[string]any `koanf:",remain"`
}

// SharedSettingKeys are the keys of a channel entry read outside the channel's own package:
// menu (the menu key → reply of the conversation).
func SharedSettingKeys() []string { return []string{"menu"} }

// CheckSettingKeys reports every key of cfg.Settings that neither the channel type (typeKeys)
// nor the gateway (SharedSettingKeys) reads, each naming the key as channels[<id>].<key> and
// suggesting the key most likely meant: a misspelt setting would otherwise be ignored and the
// channel run on its default.
func CheckSettingKeys(cfg Config, typeKeys []string) error {
	known := append(append(commonKeys(), typeKeys...), SharedSettingKeys()...)
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(cfg.Settings)) {
		if slices.Contains(known, key) {
			continue
		}
		msg := fmt.Sprintf("channels[%s].%s: unknown key for a %s channel", cfg.ID, key, cfg.Type)
		if s := suggest.Nearest(key, known); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// commonKeys are the keys every channel entry has (the fields of Config).
func commonKeys() []string {
	t := reflect.TypeFor[Config]()
	var keys []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("koanf"), ","); name != "" {
			keys = append(keys, name)
		}
	}
	return keys
}

// Deps are what the gateway gives every channel adapter.
type Deps struct {
	Receiver Receiver
	// Nonces remembers the signatures of requests whose body the platform does not sign (see
	// Common.CheckReplay): the store, shared by every replica. Nil: each adapter keeps its own
	// in memory (MemoryNonces), which is only good for a single process.
	Nonces  intake.Nonces
	Logger  *slog.Logger
	Clock   intake.Clock
	Metrics prometheus.Registerer
	// PublicBaseURL is the URL the platforms call (server.public_base_url), used to rebuild
	// the URL a platform signed; empty: taken from the request.
	PublicBaseURL string
	// TrustedProxies are the CIDR ranges whose X-Forwarded-* headers are believed.
	TrustedProxies []string
}

// Adapter is a configured channel instance that serves its webhook routes.
type Adapter interface {
	// Register adds the channel's routes (e.g. /hooks/wechat/<id>) to e.
	Register(e *echo.Echo)
}

// routeSafeID keeps a channel id usable as a literal path segment of /hooks/<type>/<id>: echo
// gives ':' and '*' a meaning there, and '/', '?', '#', '%' would change the URL itself.
var routeSafeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]*$`)

// RouteIDProblem says what is wrong with id as a webhook path segment, "" when nothing is.
func RouteIDProblem(id string) string {
	if routeSafeID.MatchString(id) {
		return ""
	}
	return "must contain only letters, digits, '.', '_', '~' and '-' (it is a URL path segment)"
}

// CheckRoute is the one check every adapter makes of its channel id: that it can stand in the
// webhook path. Common makes it; an adapter that does not take Common calls it itself.
func (Deps) CheckRoute(channelID string) error {
	if problem := RouteIDProblem(channelID); problem != "" {
		return fmt.Errorf("channels[%s].id: %s", channelID, problem)
	}
	return nil
}

// Rejection is a request a channel refuses before anything reaches the core: the HTTP status, a
// short plain-text reason for the response body (fixed text that never quotes the request), and
// the label its metric and log line carry.
type Rejection struct {
	Status int
	Reason string
	Label  string
}

// Reject builds a Rejection.
func Reject(status int, label, reason string) *Rejection {
	return &Rejection{Status: status, Label: label, Reason: reason}
}

func (r *Rejection) Error() string { return fmt.Sprintf("%d %s", r.Status, r.Reason) }

// Refuse answers rej in plain text — what every platform's webhook accepts as an error body,
// never a problem document — counts it by label and logs it without anything of the request.
func (c Common) Refuse(ctx echo.Context, rej *Rejection) error {
	c.Metrics.Rejected.WithLabelValues(rej.Label).Inc()
	c.Metrics.Refused.WithLabelValues(rej.Label).Inc()
	c.Logger.Info(c.platform+" request refused", "status", rej.Status, "reason", rej.Label)
	return ctx.String(rej.Status, rej.Reason)
}

// Common is what an adapter takes from Deps, with the defaults filled in.
type Common struct {
	Receiver Receiver
	Nonces   intake.Nonces
	// Logger carries the channel id on every line.
	Logger  *slog.Logger
	Clock   intake.Clock
	Metrics *Metrics
	// platform names the channel kind in log messages ("wechat").
	platform string
}

// Common checks that d has a Receiver and fills in the rest for one channel: a discarding
// logger when none is given, the system clock, nonces in memory, and the platform's request
// counters (platform and name as for NewMetrics).
func (d Deps) Common(platform, name, channelID string) (Common, error) {
	if err := d.CheckRoute(channelID); err != nil {
		return Common{}, err
	}
	if d.Receiver == nil {
		return Common{}, fmt.Errorf("%s: channel %s: deps.Receiver is required", platform, channelID)
	}
	c := Common{Receiver: d.Receiver, Nonces: d.Nonces, Logger: d.Logger, Clock: d.Clock, platform: platform}
	if c.Nonces == nil {
		c.Nonces = &MemoryNonces{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Logger = c.Logger.With("channel", channelID)
	if c.Clock == nil {
		c.Clock = intake.SystemClock
	}
	var err error
	if c.Metrics, err = NewMetrics(d.Metrics, platform, name, channelID); err != nil {
		return Common{}, err
	}
	return c, nil
}
