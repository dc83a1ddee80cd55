package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/twilio"
	"github.com/hotline12345/intake-gateway/channels/webhook"
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/weibo"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
	"github.com/hotline12345/intake-gateway/internal/telemetry"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/notify"
)

// loadReplies reads the citizen-facing texts: the configured file, else the built-in defaults.
func loadReplies(cfg *config.Config) (*replies.Replies, error) {
	data := configs.Messages
	if path := cfg.Conversation.MessagesFile; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("conversation.messages_file: %w", err)
		}
		data = b
	}
	r, err := replies.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("conversation.messages_file: %w", err)
	}
	return r, nil
}

// menus collects each channel's menu key → reply name mapping (channels[].menu).
func menus(cfg *config.Config, texts *replies.Replies) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for i, ch := range cfg.Channels {
		raw, ok := ch.Settings["menu"]
		if !ok {
			continue
		}
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("channels[%d].menu: must map menu keys to reply names", i)
		}
		out[ch.ID] = map[string]string{}
		for key, v := range m {
			name, ok := v.(string)
			if !ok || !texts.Has(name) {
				return nil, fmt.Errorf("channels[%d].menu.%s: %v is not a reply defined in the messages file", i, key, v)
			}
			out[ch.ID][key] = name
		}
	}
	return out, nil
}

// newAdapter builds the adapter for one configured channel. notes receives Twilio's delivery
// reports (nil when only checking the config).
func newAdapter(ch channels.Config, deps channels.Deps, notes intake.Notifications) (channels.Adapter, error) {
	if err := channels.CheckSettingKeys(ch, settingKeys(ch.Type)); err != nil {
		return nil, err
	}
	switch ch.Type {
	case "twilio":
		var opts []twilio.Option
		if notes != nil {
			opts = append(opts, twilio.WithStatusRecorder(twilio.NotificationRecorder{Store: notes, Clock: deps.Clock}))
		}
		return twilio.New(ch, deps, opts...)
	case "wechat":
		return wechat.New(ch, deps)
	case "weibo":
		return weibo.New(ch, deps)
	case "webhook":
		return webhook.New(ch, deps)
	}
	return nil, fmt.Errorf("channels[%s].type: %q is not supported by this build", ch.ID, ch.Type)
}

// settingKeys are the keys a channel type's package reads from its entry.
func settingKeys(kind string) []string {
	switch kind {
	case "twilio":
		return twilio.SettingKeys()
	case "wechat":
		return wechat.SettingKeys()
	case "weibo":
		return weibo.SettingKeys()
	case "webhook":
		return webhook.SettingKeys()
	}
	return nil
}

// registerChannels builds every configured channel and adds its routes to e.
func registerChannels(e *echo.Echo, cfg *config.Config, deps channels.Deps, notes intake.Notifications) error {
	for _, ch := range cfg.Channels {
		a, err := newAdapter(ch, deps, notes)
		if err != nil {
			return err
		}
		a.Register(e)
	}
	return nil
}

// newReceiver builds the shared conversation mechanism.
func newReceiver(cfg *config.Config, st app.ConversationStore, sub intake.Submitter, texts *replies.Current, logger *slog.Logger) (*app.Conversation, error) {
	m, err := menus(cfg, texts.Load())
	if err != nil {
		return nil, err
	}
	settings := cfg.Conversation.ConversationSettings
	// Each replica counts only the status queries it answers (rate_limits.replicas).
	settings.QueryLimit = cfg.RateLimits.ShareCount(settings.QueryLimit)
	opts := app.ConversationOptions{
		Conversation: settings, Menus: m, Location: cfg.CaseNo.Location(), Logger: logger, Clock: intake.SystemClock,
		ReopenOnDissatisfied: cfg.Notifications.ReopenOnDissatisfied,
		Supplements: intake.SupplementLimits{MaxTextChars: cfg.Limits.MaxTextChars, MaxCaseChars: cfg.Limits.MaxCaseChars,
			MaxSupplements: cfg.Limits.MaxSupplements},
		MaxFutureSkew: cfg.Limits.MaxFutureSkew,
	}
	if l, ok := st.(app.CitizenLocker); ok {
		opts.Locker = l
	}
	if cfg.Duplicates.Enabled {
		opts.RepeatWindow = cfg.Duplicates.Window
	}
	if cfg.Notifications.Survey {
		opts.SurveyWindow = cfg.Notifications.SurveyWindow
	}
	return app.NewConversation(st, sub, texts, opts)
}

// mediaPolicy is the network policy every media fetch starts from (media.*); each channel adds
// the hosts its platform serves media from.
func mediaPolicy(m config.Media) safefetch.Policy {
	redirects := m.MaxRedirects
	if redirects == 0 {
		redirects = -1 // safefetch reads 0 as its default; the config's 0 means none
	}
	return safefetch.Policy{AllowHTTP: m.AllowHTTP, AllowPrivateNetworks: m.AllowPrivateNetworks, MaxRedirects: redirects, Timeout: m.FetchTimeout}
}

// restFetcher fetches the attachment and recording URLs REST clients send, from
// media.rest_hosts only (none by default: such attachments stay links).
func restFetcher(cfg *config.Config) (media.Fetcher, error) {
	hosts, err := safefetch.ParseHosts(cfg.Media.RestHosts)
	if err != nil {
		return nil, fmt.Errorf("media.rest_hosts: %w", err)
	}
	return media.URLFetcher(mediaPolicy(cfg.Media).WithHosts(hosts), nil), nil
}

// platformClients builds, for each channel, the clients of its platform's API: the notifier's
// sender and the media fetcher. It also picks the SMS channel (notifications.sms_channel, else
// the first twilio channel that can send). A channel without sending credentials still serves
// its webhook; it only gets no sender and no fetcher, and the log says so once at start. Media
// fetchers reach only the channel's media_hosts, under the media.* rules.
//
// trace wraps every platform client's transport (nil: tracing off).
func platformClients(cfg *config.Config, st wechat.Tokens, trace func(http.RoundTripper) http.RoundTripper, logger *slog.Logger) (map[string]notify.Route, string, map[string]media.Fetcher, error) {
	routes := map[string]notify.Route{}
	fetchers := map[string]media.Fetcher{}
	receiveOnly := map[string]bool{}
	base := mediaPolicy(cfg.Media)
	base.Wrap = trace
	// apiClient is a platform API client with the platform's own timeout, traced when tracing
	// is on; nil lets the channel package use its default.
	apiClient := func(timeout time.Duration) *http.Client {
		if trace == nil {
			return nil
		}
		return &http.Client{Timeout: timeout, Transport: trace(http.DefaultTransport)}
	}
	skip := func(id string, err error) error {
		if !errors.Is(err, channels.ErrSendingNotConfigured) {
			return err
		}
		receiveOnly[id] = true
		logger.Warn("channel can receive but not send: no notifications or media downloads on it", "channel", id, "reason", err.Error())
		return nil
	}
	for _, ch := range cfg.Channels {
		switch ch.Type {
		case "wechat":
			client, err := wechat.NewClient(ch, wechat.StoreTokens{Tokens: st}, apiClient(wxapi.DefaultTimeout))
			if err != nil {
				if err := skip(ch.ID, err); err != nil {
					return nil, "", nil, err
				}
				continue
			}
			sender, err := wechat.NewSender(ch, client)
			if err != nil {
				return nil, "", nil, err
			}
			routes[ch.ID] = notify.Route{Kind: intake.ChannelWeChat, Sender: sender}
			mediaClient, err := wechat.NewMediaClient(ch, wechat.StoreTokens{Tokens: st}, base)
			if err != nil {
				return nil, "", nil, err
			}
			fetchers[ch.ID] = wechat.MediaFetcher(mediaClient)
		case "twilio":
			// Twilio's media URLs need only the account credentials, so the fetcher does not
			// depend on a from number.
			f, err := twilio.MediaFetcher(ch, base)
			if err != nil {
				return nil, "", nil, err
			}
			fetchers[ch.ID] = f
			sender, err := twilio.NewSender(ch, cfg.Server.PublicBaseURL, twilio.WithHTTPClient(apiClient(twilio.DefaultSendTimeout)))
			if err != nil {
				if err := skip(ch.ID, err); err != nil {
					return nil, "", nil, err
				}
				continue
			}
			routes[ch.ID] = notify.Route{Kind: intake.ChannelSMS, Sender: twilio.NotifySender{Sender: sender}}
		case "weibo":
			client, err := weibo.NewClient(ch, apiClient(weibo.DefaultClientTimeout))
			if err != nil {
				if err := skip(ch.ID, err); err != nil {
					return nil, "", nil, err
				}
				continue
			}
			routes[ch.ID] = notify.Route{Kind: intake.ChannelWeibo, Sender: weibo.Sender{Client: client}}
			mediaClient, err := weibo.NewMediaClient(ch, base)
			if err != nil {
				return nil, "", nil, err
			}
			fetchers[ch.ID] = weibo.MediaFetcher(mediaClient)
		case "webhook":
			// A generic platform's media come as plain URLs; with no media_hosts none is fetched.
			if len(ch.MediaHosts) > 0 {
				hosts, err := safefetch.ParseHosts(ch.MediaHosts)
				if err != nil {
					return nil, "", nil, fmt.Errorf("channels[%s].media_hosts: %w", ch.ID, err)
				}
				fetchers[ch.ID] = media.URLFetcher(base.WithHosts(hosts), nil)
			}
		}
	}
	sms := cfg.Notifications.SMSChannel
	if sms == "" {
		for _, ch := range cfg.Channels {
			if r, ok := routes[ch.ID]; ok && r.Kind == intake.ChannelSMS {
				sms = ch.ID
				break
			}
		}
		return routes, sms, fetchers, nil
	}
	if receiveOnly[sms] {
		return nil, "", nil, fmt.Errorf("notifications.sms_channel: channel %q has no sending credentials (from or messaging_service_sid)", sms)
	}
	if r, ok := routes[sms]; !ok || r.Kind != intake.ChannelSMS {
		return nil, "", nil, fmt.Errorf("notifications.sms_channel: %q is not a twilio channel", sms)
	}
	return routes, sms, fetchers, nil
}

// traceFunc is how platform clients are traced: nil when tracing is off, so that they keep
// their own default transports.
func traceFunc(tel *telemetry.Telemetry) func(http.RoundTripper) http.RoundTripper {
	if !tel.Enabled() {
		return nil
	}
	return tel.PlatformTransport
}
