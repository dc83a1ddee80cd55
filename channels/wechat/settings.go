package wechat

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxcrypto"
	"github.com/hotline12345/intake-gateway/internal/chsettings"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
)

// Setting keys this package reads from channels.Config.Settings.
const (
	keyAccountID       = "account_id"
	keyTimestampWindow = "timestamp_window"
	keyReplyTimeout    = "reply_timeout"
	keyPlaceholders    = "placeholders"
	keyAPIBaseURL      = "api_base_url"
	keyNotifyTemplate  = "notify_template"
)

// SettingKeys are the keys of a wechat channel entry beyond the common ones that this package
// reads: with the shared ones (channels.SharedSettingKeys), every key an entry may have.
func SettingKeys() []string {
	return []string{keyAccountID, keyTimestampWindow, keyReplyTimeout, keyPlaceholders, keyAPIBaseURL, keyNotifyTemplate}
}

// rawSettings are the keys the adapter decodes (notify_template is the sender's).
type rawSettings struct {
	AccountID       string            `mapstructure:"account_id"`
	TimestampWindow time.Duration     `mapstructure:"timestamp_window"`
	ReplyTimeout    time.Duration     `mapstructure:"reply_timeout"`
	Placeholders    map[string]string `mapstructure:"placeholders"`
	APIBaseURL      *string           `mapstructure:"api_base_url"`
}

// Defaults.
const (
	DefaultTimestampWindow = 5 * time.Minute
	DefaultReplyTimeout    = 3 * time.Second
	// maxReplyTimeout keeps the answer inside WeChat's 5 s budget with room for the network.
	maxReplyTimeout = 4500 * time.Millisecond
	// MaxBodyBytes bounds a push. Real pushes are a few KiB; 64 KiB leaves room for long texts.
	MaxBodyBytes = 64 << 10
)

// DefaultPlaceholders is the case text for messages that carry no text of their own, by MsgType.
// A case needs text, and a citizen who sends only a photo still has a matter to report.
var DefaultPlaceholders = map[string]string{
	"voice":      "[语音]",
	"image":      "[图片]",
	"video":      "[视频]",
	"shortvideo": "[小视频]",
	"location":   "[位置]",
	"link":       "[链接]",
	"file":       "[文件]",
}

// Mode is how the account's messages are protected (WeChat console: 消息加解密方式).
type Mode string

// Modes.
const (
	ModePlain      Mode = "plain"      // 明文模式
	ModeCompatible Mode = "compatible" // 兼容模式: plaintext and ciphertext side by side
	ModeSafe       Mode = "safe"       // 安全模式: ciphertext only
)

var ghID = regexp.MustCompile(`^gh_[0-9A-Za-z]{1,64}$`)

// settings is a channel entry, checked.
type settings struct {
	id              string
	appID           string
	token           string
	mode            Mode
	cipher          *wxcrypto.Cipher // nil without an encoding_aes_key
	accountID       string           // "" when not configured: ToUserName is not checked
	timestampWindow time.Duration
	replyTimeout    time.Duration
	placeholders    map[string]string
	apiBaseURL      string
}

func parseSettings(cfg channels.Config) (*settings, error) {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("channels[%s].%s: %s", cfg.ID, key, fmt.Sprintf(format, args...)))
	}
	s := &settings{
		id: cfg.ID, appID: cfg.AppID, token: cfg.Token,
		timestampWindow: DefaultTimestampWindow, replyTimeout: DefaultReplyTimeout,
		placeholders: map[string]string{}, apiBaseURL: wxapi.DefaultBaseURL,
	}
	for k, v := range DefaultPlaceholders {
		s.placeholders[k] = v
	}
	if cfg.ID == "" {
		return nil, errors.New("channels[].id: is required")
	}
	if cfg.Type != "wechat" {
		bad("type", "must be wechat, got %q", cfg.Type)
	}
	if cfg.AppID == "" {
		bad("app_id", "is required (the AppID inside every encrypted message is checked against it)")
	}
	if cfg.Token == "" {
		bad("token", "is required (every request's signature is checked with it)")
	}
	if cfg.EncodingAESKey != "" {
		c, err := wxcrypto.NewCipher(cfg.EncodingAESKey, cfg.AppID)
		if err != nil {
			bad("encoding_aes_key", "%v", err)
		}
		s.cipher = c
	}
	switch Mode(cfg.Mode) {
	case ModePlain, ModeCompatible, ModeSafe:
		s.mode = Mode(cfg.Mode)
	case "":
		// An account with a key set up is at least in compatible mode; accepting both forms
		// keeps the channel working while the console is switched.
		s.mode = ModePlain
		if cfg.EncodingAESKey != "" {
			s.mode = ModeCompatible
		}
	default:
		bad("mode", "must be one of [plain compatible safe], got %q", cfg.Mode)
	}
	if (s.mode == ModeCompatible || s.mode == ModeSafe) && cfg.EncodingAESKey == "" {
		bad("encoding_aes_key", "is required in %s mode", s.mode)
	}

	var raw rawSettings
	own := []string{keyAccountID, keyTimestampWindow, keyReplyTimeout, keyPlaceholders, keyAPIBaseURL}
	for _, p := range chsettings.Decode(cfg.Settings, own, &raw) {
		bad(p.Key, "%s", p.Message)
	}
	if raw.AccountID != "" && !ghID.MatchString(raw.AccountID) {
		bad(keyAccountID, "must be the account's original id gh_… (公众号原始ID), not the AppID; got %q", raw.AccountID)
	} else {
		s.accountID = raw.AccountID
	}
	if d := raw.TimestampWindow; d != 0 {
		if d < 10*time.Second || d > 24*time.Hour {
			bad(keyTimestampWindow, "must be between 10s and 24h, got %s", d)
		}
		s.timestampWindow = d
	}
	if d := raw.ReplyTimeout; d != 0 {
		if d < 0 || d > maxReplyTimeout {
			bad(keyReplyTimeout, "must be positive and at most %s (WeChat gives up after 5 s), got %s", maxReplyTimeout, d)
		}
		s.replyTimeout = d
	}
	for k, text := range raw.Placeholders {
		if _, known := DefaultPlaceholders[k]; !known {
			bad(keyPlaceholders+"."+k, "unknown message type; known: %s", placeholderKinds())
		} else if text == "" {
			bad(keyPlaceholders+"."+k, "must be a non-empty string")
		} else {
			s.placeholders[k] = text
		}
	}
	if raw.APIBaseURL != nil {
		u, err := url.Parse(*raw.APIBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(keyAPIBaseURL, "must be an absolute http(s) URL, got %q", *raw.APIBaseURL)
		} else {
			s.apiBaseURL = *raw.APIBaseURL
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

func placeholderKinds() string {
	return "voice, image, video, shortvideo, location, link, file"
}

// NewClient returns the WeChat API client of a configured channel, for the notification and media
// jobs: app id and secret from the entry, base URL from the api_base_url setting. tokens is the
// shared TokenStore (nil: one in memory, for a single replica); hc may be nil.
func NewClient(cfg channels.Config, tokens wxapi.TokenStore, hc *http.Client) (*wxapi.Client, error) {
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.AppSecret == "" {
		return nil, fmt.Errorf("channels[%s].app_secret: is required to call the WeChat API: %w", cfg.ID, channels.ErrSendingNotConfigured)
	}
	return wxapi.New(wxapi.Config{AppID: cfg.AppID, AppSecret: cfg.AppSecret, BaseURL: s.apiBaseURL, Tokens: tokens, HTTPClient: hc})
}

// NewMediaClient is the API client the media job downloads with: like NewClient, but every
// request (the token call, media/get and the video_url WeChat answers for video) goes through
// base's rules to the channel's media_hosts only. Without media_hosts that is the API host
// (api_base_url, by default api.weixin.qq.com), where the access_token goes and media/get
// lives. A video's video_url names another host — WeChat's video CDN, and over plain http —
// so video is copied only when that host is added to media_hosts and media.allow_http is on;
// otherwise the attachment keeps its media_id.
func NewMediaClient(cfg channels.Config, tokens wxapi.TokenStore, base safefetch.Policy) (*wxapi.Client, error) {
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	apiHost, err := safefetch.HostOf(s.apiBaseURL)
	if err != nil {
		return nil, fmt.Errorf("channels[%s].%s: %w", cfg.ID, keyAPIBaseURL, err)
	}
	hosts := apiHost
	if len(cfg.MediaHosts) > 0 {
		if hosts, err = safefetch.ParseHosts(cfg.MediaHosts); err != nil {
			return nil, fmt.Errorf("channels[%s].media_hosts: %w", cfg.ID, err)
		}
		if !hosts.Contains(apiHost) {
			return nil, fmt.Errorf("channels[%s].media_hosts: must allow the API host %s (media is downloaded from it)", cfg.ID, apiHost)
		}
	}
	return NewClient(cfg, tokens, base.WithHosts(hosts).Client())
}
