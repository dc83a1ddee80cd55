package twilio

import (
	"errors"
	"fmt"
	"time"

	"github.com/hotline12345/intake-gateway/internal/chsettings"
)

// Defaults of the per-channel settings.
const (
	// DefaultMaxBodyBytes bounds a webhook body. Twilio's inbound SMS form is a few KiB even with
	// ten media URLs.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultReceiveTimeout bounds the shared Receiver's work for one webhook, well under Twilio's
	// 15 s, after which Twilio gives up (error 11205) and tries the fallback URL.
	DefaultReceiveTimeout = 10 * time.Second
)

// Setting keys this package reads from channels.Config.Settings. Keys it does not know are left
// alone: they may belong to the shared conversation layer (templates, opt-out words).
const (
	SettingPublicBaseURL     = "public_base_url"     // string: overrides server.public_base_url for this channel
	SettingReply             = "reply"               // bool: false answers every message with an empty <Response/>
	SettingMaxBodyBytes      = "max_body_bytes"      // int: webhook body limit (413 above it)
	SettingReceiveTimeout    = "receive_timeout"     // duration ("10s"): deadline for the Receiver
	SettingStatusCallbackURL = "status_callback_url" // string: StatusCallback for sent messages (default: <public base>/hooks/twilio/<id>/status)
)

// settings are the decoded per-channel settings.
type settings struct {
	PublicBaseURL     string
	Reply             bool
	MaxBodyBytes      int64
	ReceiveTimeout    time.Duration
	StatusCallbackURL string
}

// SettingKeys are the keys of a twilio channel entry beyond the common ones that this package
// reads: with the shared ones (channels.SharedSettingKeys), every key an entry may have.
func SettingKeys() []string {
	return []string{SettingPublicBaseURL, SettingReply, SettingMaxBodyBytes, SettingReceiveTimeout, SettingStatusCallbackURL}
}

// rawSettings are the settings as written; nil pointers keep the defaults.
type rawSettings struct {
	PublicBaseURL     string         `mapstructure:"public_base_url"`
	Reply             *bool          `mapstructure:"reply"`
	MaxBodyBytes      *int64         `mapstructure:"max_body_bytes"`
	ReceiveTimeout    *time.Duration `mapstructure:"receive_timeout"`
	StatusCallbackURL string         `mapstructure:"status_callback_url"`
}

func decodeSettings(m map[string]any) (settings, error) {
	s := settings{Reply: true, MaxBodyBytes: DefaultMaxBodyBytes, ReceiveTimeout: DefaultReceiveTimeout}
	var raw rawSettings
	if problems := chsettings.Decode(m, SettingKeys(), &raw); problems != nil {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = fmt.Errorf("%s: %s", p.Key, p.Message)
		}
		return s, errors.Join(errs...)
	}
	s.PublicBaseURL, s.StatusCallbackURL = raw.PublicBaseURL, raw.StatusCallbackURL
	if raw.Reply != nil {
		s.Reply = *raw.Reply
	}
	if raw.MaxBodyBytes != nil {
		s.MaxBodyBytes = *raw.MaxBodyBytes
		if s.MaxBodyBytes < 1024 || s.MaxBodyBytes > 16<<20 {
			return s, fmt.Errorf("%s: %d is outside 1024..16777216", SettingMaxBodyBytes, s.MaxBodyBytes)
		}
	}
	if raw.ReceiveTimeout != nil {
		s.ReceiveTimeout = *raw.ReceiveTimeout
		if s.ReceiveTimeout <= 0 || s.ReceiveTimeout >= 15*time.Second {
			return s, fmt.Errorf("%s: %s must be above 0 and below Twilio's 15s", SettingReceiveTimeout, s.ReceiveTimeout)
		}
	}
	return s, nil
}
