package twilio

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
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

func decodeSettings(m map[string]any) (settings, error) {
	s := settings{Reply: true, MaxBodyBytes: DefaultMaxBodyBytes, ReceiveTimeout: DefaultReceiveTimeout}
	var err error
	if v, ok := m[SettingPublicBaseURL]; ok {
		if s.PublicBaseURL, err = asString(SettingPublicBaseURL, v); err != nil {
			return s, err
		}
	}
	if v, ok := m[SettingReply]; ok {
		if s.Reply, err = asBool(SettingReply, v); err != nil {
			return s, err
		}
	}
	if v, ok := m[SettingMaxBodyBytes]; ok {
		if s.MaxBodyBytes, err = asInt(SettingMaxBodyBytes, v); err != nil {
			return s, err
		}
		if s.MaxBodyBytes < 1024 || s.MaxBodyBytes > 16<<20 {
			return s, fmt.Errorf("%s: %d is outside 1024..16777216", SettingMaxBodyBytes, s.MaxBodyBytes)
		}
	}
	if v, ok := m[SettingReceiveTimeout]; ok {
		if s.ReceiveTimeout, err = asDuration(SettingReceiveTimeout, v); err != nil {
			return s, err
		}
		if s.ReceiveTimeout <= 0 || s.ReceiveTimeout >= 15*time.Second {
			return s, fmt.Errorf("%s: %s must be above 0 and below Twilio's 15s", SettingReceiveTimeout, s.ReceiveTimeout)
		}
	}
	if v, ok := m[SettingStatusCallbackURL]; ok {
		if s.StatusCallbackURL, err = asString(SettingStatusCallbackURL, v); err != nil {
			return s, err
		}
	}
	return s, nil
}

func asString(key string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s: want a string, got %T", key, v)
	}
	return strings.TrimSpace(s), nil
}

// asBool accepts YAML booleans and the strings an environment override produces.
func asBool(key string, v any) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(t))
		if err != nil {
			return false, fmt.Errorf("%s: %q is not true or false", key, t)
		}
		return b, nil
	}
	return false, fmt.Errorf("%s: want true or false, got %T", key, v)
}

func asInt(key string, v any) (int64, error) {
	switch t := v.(type) {
	case int:
		return int64(t), nil
	case int64:
		return t, nil
	case uint64:
		if t > math.MaxInt64 {
			return 0, fmt.Errorf("%s: %d is too large", key, t)
		}
		return int64(t), nil
	case float64:
		if t != math.Trunc(t) || math.Abs(t) > 1<<53 {
			return 0, fmt.Errorf("%s: %v is not a whole number", key, t)
		}
		return int64(t), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a whole number", key, t)
		}
		return n, nil
	}
	return 0, fmt.Errorf("%s: want a whole number, got %T", key, v)
}

func asDuration(key string, v any) (time.Duration, error) {
	switch t := v.(type) {
	case time.Duration:
		return t, nil
	case string:
		d, err := time.ParseDuration(strings.TrimSpace(t))
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a duration like \"10s\"", key, t)
		}
		return d, nil
	}
	return 0, fmt.Errorf("%s: want a duration like \"10s\", got %T", key, v)
}
