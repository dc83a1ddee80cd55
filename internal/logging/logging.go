// Package logging builds the gateway's slog logger and owns the one place where personal data is
// made safe to log. Phone numbers are masked (138****0000), platform user ids are replaced by a
// keyed pseudonym, and message text is never passed to a logger at info level.
package logging

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Option changes how New builds the logger.
type Option func(*options)

type options struct {
	pseudonymKey []byte
}

// WithPseudonymKey keys the pseudonyms of PseudoID values with a per-deployment secret, so that
// every replica writes the same pseudonym for a citizen. Without it each logger draws a random
// key: pseudonyms then correlate within one process only.
func WithPseudonymKey(key string) Option {
	return func(o *options) {
		if key != "" {
			o.pseudonymKey = []byte(key)
		}
	}
}

// New returns a logger writing to w in format ("json" or "text") at level.
func New(w io.Writer, level, format string, opts ...Option) *slog.Logger {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.pseudonymKey == nil {
		o.pseudonymKey = make([]byte, 32)
		_, _ = rand.Read(o.pseudonymKey) // crypto/rand.Read never fails on supported platforms
	}
	var lvl slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		lvl = slog.LevelInfo
	}
	hopts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: pseudonymizer(o.pseudonymKey)}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, hopts))
	}
	return slog.New(slog.NewJSONHandler(w, hopts))
}

// MaskPhone keeps the first three and last four digits of a number and masks the rest:
// +8613800138000 → +86138****8000, 13800138000 → 138****8000. Short inputs are masked whole.
func MaskPhone(phone string) string {
	if phone == "" {
		return ""
	}
	prefix := ""
	if rest, ok := strings.CutPrefix(phone, "+86"); ok {
		prefix, phone = "+86", rest
	} else if rest, ok := strings.CutPrefix(phone, "+"); ok {
		prefix, phone = "+", rest
	}
	n := utf8.RuneCountInString(phone)
	if n < 8 {
		return prefix + strings.Repeat("*", n)
	}
	r := []rune(phone)
	return prefix + string(r[:3]) + strings.Repeat("*", n-7) + string(r[n-4:])
}

// PseudoID stands for a citizen's identifier (openid, Weibo uid, phone number) in a log line: a
// logger built by New writes it as "u_" and a short HMAC of the id under the deployment's key, so
// that lines of one citizen correlate while the id can be recovered neither from the line nor by
// hashing candidate ids (phone numbers are few enough to enumerate). Any other handler sees only
// "u_unkeyed".
func PseudoID(id string) Pseudonym { return Pseudonym{id: id} }

// Pseudonym is a citizen identifier waiting to be replaced by its keyed pseudonym.
type Pseudonym struct{ id string }

// String never reveals the identifier; only New's handlers know the key.
func (Pseudonym) String() string { return "u_unkeyed" }

// MarshalJSON never reveals the identifier.
func (p Pseudonym) MarshalJSON() ([]byte, error) { return []byte(`"` + p.String() + `"`), nil }

// pseudonymizer replaces Pseudonym values by HMAC-SHA256(key, id), truncated to 48 bits: enough
// to tell a few million citizens' lines apart, too short to be an identifier of its own.
func pseudonymizer(key []byte) func(groups []string, a slog.Attr) slog.Attr {
	return func(_ []string, a slog.Attr) slog.Attr {
		if a.Value.Kind() != slog.KindAny {
			return a
		}
		p, ok := a.Value.Any().(Pseudonym)
		if !ok {
			return a
		}
		if p.id == "" {
			return slog.String(a.Key, "")
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(p.id))
		return slog.String(a.Key, "u_"+hex.EncodeToString(mac.Sum(nil)[:6]))
	}
}

// AtLeast returns a logger that drops records below min: for libraries that narrate routine work
// at info level (migrations, job-queue maintenance).
func AtLeast(l *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(minLevel{h: l.Handler(), min: min})
}

type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}
func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }
func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler            { return minLevel{m.h.WithAttrs(a), m.min} }
func (m minLevel) WithGroup(n string) slog.Handler                 { return minLevel{m.h.WithGroup(n), m.min} }
