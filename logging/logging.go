// Package logging builds the gateway's slog logger and owns the one place where personal data is
// made safe to log. Phone numbers are masked (138****0000), platform user ids are reduced to a
// short stable hash, and message text is never passed to a logger at info level.
package logging

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// New returns a logger writing to w in format ("json" or "text") at level.
func New(w io.Writer, level, format string) *slog.Logger {
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
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
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

// PseudoID replaces a platform user id (openid, Weibo uid) with a short hash, so that log lines
// of one citizen can be correlated without the id itself appearing.
func PseudoID(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("intake-gateway:" + id))
	return "u_" + hex.EncodeToString(sum[:6])
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
