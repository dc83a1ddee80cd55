package weibo

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/chsettings"
)

// Setting keys this package reads from channels.Config.Settings. Other top-level keys are left
// alone: the shared conversation wiring keeps its own (menu) in the same channel entry.
const (
	SettingTimestampWindow = "timestamp_window" // duration, default 5m (10s–24h)
	SettingReplyTimeout    = "reply_timeout"    // duration, default 3s (at most 4.5s)
	SettingPlaceholders    = "placeholders"     // map: image, voice, position → case text
	SettingAccessToken     = "access_token"     // string: the account's API token (Client only)
	SettingAPIBaseURL      = "api_base_url"     // default https://m.api.weibo.com
	SettingUploadBaseURL   = "upload_base_url"  // default https://upload.api.weibo.com
	SettingSaveSenderBox   = "save_sender_box"  // bool, default true (active replies)
	SettingMaxMediaBytes   = "max_media_bytes"  // int, default 20 MiB (Client.Download)
)

// Defaults.
const (
	DefaultTimestampWindow = 5 * time.Minute
	DefaultReplyTimeout    = 3 * time.Second
	// maxReplyTimeout keeps the answer inside Weibo's 5 s budget with room for the network.
	maxReplyTimeout = 4500 * time.Millisecond
	// MaxBodyBytes bounds a push. Real pushes are well under 2 KiB; a mention carries a post of
	// at most a few thousand characters.
	MaxBodyBytes = 64 << 10
	// DefaultAPIBaseURL is the host of the active reply (客服消息) API.
	DefaultAPIBaseURL = "https://m.api.weibo.com"
	// DefaultUploadBaseURL is the host of the private-message media download API.
	DefaultUploadBaseURL = "https://upload.api.weibo.com"
	// DefaultMaxMediaBytes bounds one downloaded image or voice message.
	DefaultMaxMediaBytes = 20 << 20
)

// DefaultPlaceholders is the case text for pushes that carry no text of their own, by type. A
// case needs text, and a citizen who sends only a photo still has a matter to report.
var DefaultPlaceholders = map[string]string{
	"image":    "[图片]",
	"voice":    "[语音]",
	"position": "[位置]",
}

// rawSettings is the part of a channel entry this package owns, as written in YAML.
type rawSettings struct {
	TimestampWindow *time.Duration    `mapstructure:"timestamp_window"`
	ReplyTimeout    *time.Duration    `mapstructure:"reply_timeout"`
	Placeholders    map[string]string `mapstructure:"placeholders"`
	AccessToken     string            `mapstructure:"access_token"`
	APIBaseURL      string            `mapstructure:"api_base_url"`
	UploadBaseURL   string            `mapstructure:"upload_base_url"`
	SaveSenderBox   *bool             `mapstructure:"save_sender_box"`
	MaxMediaBytes   *int64            `mapstructure:"max_media_bytes"`
}

// settings is a channel entry, checked.
type settings struct {
	id              string
	appSecret       string
	accountUID      int64
	accountUIDStr   string
	timestampWindow time.Duration
	replyTimeout    time.Duration
	placeholders    map[string]string
	accessToken     string
	apiBaseURL      string
	uploadBaseURL   string
	saveSenderBox   bool
	maxMediaBytes   int64
}

func parseSettings(cfg channels.Config) (*settings, error) {
	if cfg.ID == "" {
		return nil, errors.New("channels[].id: is required")
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("channels[%s].%s: %s", cfg.ID, key, fmt.Sprintf(format, args...)))
	}
	s := &settings{
		id: cfg.ID, appSecret: cfg.AppSecret,
		timestampWindow: DefaultTimestampWindow, replyTimeout: DefaultReplyTimeout,
		placeholders: map[string]string{}, apiBaseURL: DefaultAPIBaseURL, uploadBaseURL: DefaultUploadBaseURL,
		saveSenderBox: true, maxMediaBytes: DefaultMaxMediaBytes,
	}
	for k, v := range DefaultPlaceholders {
		s.placeholders[k] = v
	}
	if problem := channels.RouteIDProblem(cfg.ID); problem != "" {
		bad("id", "%s", problem)
	}
	if cfg.Type != "weibo" {
		bad("type", "must be weibo, got %q", cfg.Type)
	}
	if cfg.AppSecret == "" {
		bad("app_secret", "is required (every request's signature is checked with it)")
	}
	// app_key is required by the config schema but not used here: Weibo signs with the secret.
	uid, err := strconv.ParseInt(cfg.AccountUID, 10, 64)
	if err != nil || uid <= 0 || strconv.FormatInt(uid, 10) != cfg.AccountUID {
		bad("account_uid", "must be the account's numeric Weibo UID (every push's receiver_id is checked against it), got %q", cfg.AccountUID)
	}
	s.accountUID, s.accountUIDStr = uid, cfg.AccountUID

	var raw rawSettings
	for _, p := range chsettings.Decode(cfg.Settings, ownKeys, &raw) {
		bad(p.Key, "%s", p.Message)
	}
	if raw.TimestampWindow != nil {
		if d := *raw.TimestampWindow; d < 10*time.Second || d > 24*time.Hour {
			bad(SettingTimestampWindow, "must be between 10s and 24h, got %s", d)
		} else {
			s.timestampWindow = d
		}
	}
	if raw.ReplyTimeout != nil {
		if d := *raw.ReplyTimeout; d <= 0 || d > maxReplyTimeout {
			bad(SettingReplyTimeout, "must be above 0 and at most %s (Weibo gives up after 5 s), got %s", maxReplyTimeout, d)
		} else {
			s.replyTimeout = d
		}
	}
	for k, v := range raw.Placeholders {
		switch _, known := DefaultPlaceholders[k]; {
		case !known:
			bad(SettingPlaceholders+"."+k, "unknown push type; known: image, voice, position")
		case strings.TrimSpace(v) == "":
			bad(SettingPlaceholders+"."+k, "must be a non-empty string")
		default:
			s.placeholders[k] = v
		}
	}
	s.accessToken = raw.AccessToken
	for _, u := range []struct {
		key string
		val string
		dst *string
	}{{SettingAPIBaseURL, raw.APIBaseURL, &s.apiBaseURL}, {SettingUploadBaseURL, raw.UploadBaseURL, &s.uploadBaseURL}} {
		if u.val == "" {
			continue
		}
		p, err := url.Parse(u.val)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.RawQuery != "" {
			bad(u.key, "must be an absolute http(s) URL without a query, got %q", u.val)
			continue
		}
		*u.dst = strings.TrimRight(u.val, "/")
	}
	if raw.SaveSenderBox != nil {
		s.saveSenderBox = *raw.SaveSenderBox
	}
	if raw.MaxMediaBytes != nil {
		if n := *raw.MaxMediaBytes; n < 1024 || n > 200<<20 {
			bad(SettingMaxMediaBytes, "must be between 1024 and %d, got %d", 200<<20, n)
		} else {
			s.maxMediaBytes = n
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// ownKeys are the top-level setting keys this package decodes; unused nested keys
// under them are typos and refused, other top-level keys belong to someone else.
// SettingKeys are the keys of a weibo channel entry beyond the common ones that this package
// reads: with the shared ones (channels.SharedSettingKeys), every key an entry may have.
func SettingKeys() []string { return append([]string(nil), ownKeys...) }

var ownKeys = []string{SettingTimestampWindow, SettingReplyTimeout, SettingPlaceholders, SettingAccessToken,
	SettingAPIBaseURL, SettingUploadBaseURL, SettingSaveSenderBox, SettingMaxMediaBytes}
