// Package intake holds the gateway's domain: the channel-neutral Submission that every channel
// adapter produces, the canonical Case record (schema version 1) that is stored and forwarded, and
// the interfaces that adapters, stores and the intake service meet at.
//
// It deliberately imports nothing of the project and no third-party module, so that every other
// package may depend on it without pulling anything along. Validation rules live here as struct
// tags; the validator itself is run by the packages that own the I/O.
package intake

import (
	"context"
	"errors"
	"time"
)

// SchemaVersion is the version of the canonical case record this build writes.
const SchemaVersion = 1

// ChannelKind names how a submission reached the gateway.
type ChannelKind string

// The channel kinds a case can arrive by.
const (
	ChannelPhone   ChannelKind = "phone"
	ChannelWeChat  ChannelKind = "wechat"
	ChannelSMS     ChannelKind = "sms"
	ChannelWeibo   ChannelKind = "weibo"
	ChannelREST    ChannelKind = "rest"
	ChannelOpen311 ChannelKind = "open311"
)

// ChannelKinds lists every known kind, in documentation order.
func ChannelKinds() []ChannelKind {
	return []ChannelKind{ChannelPhone, ChannelWeChat, ChannelSMS, ChannelWeibo, ChannelREST, ChannelOpen311}
}

// Valid reports whether k is one of the known channel kinds.
func (k ChannelKind) Valid() bool {
	for _, known := range ChannelKinds() {
		if k == known {
			return true
		}
	}
	return false
}

// Clock is the only source of "now" for code that must stay deterministic under test.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the wall clock.
var SystemClock Clock = ClockFunc(time.Now)

// Submission is what a channel adapter hands to the intake service: everything the channel said,
// parsed but not yet cleaned, classified or numbered.
type Submission struct {
	Channel    ChannelKind
	ChannelID  string
	ExternalID string
	// OccurredAt is the channel's own timestamp; zero when the channel gave none.
	OccurredAt  time.Time
	Citizen     CitizenInput
	Text        string
	Transcript  []Segment
	Attachments []Attachment
	Location    *Location
	// OperatorCategory and OperatorRequestType are an operator's choice over REST; they win over
	// the automatic classification, which is kept beside them.
	OperatorCategory    string
	OperatorRequestType RequestType
	Metadata            map[string]string
	// Raw is the submission exactly as the channel sent it, kept for audit.
	Raw RawPayload
	// PayloadHash identifies the submission's content so that a retry with the same external id
	// but a different body can be told apart from a genuine retry.
	PayloadHash string
	// Recent, when not nil, holds the citizen's recent cases (newest first) that the caller has
	// already looked up, covering at least the repeat-detection window; the intake service then
	// uses them instead of asking the store again.
	Recent []*Case
}

// CitizenInput is who the channel says sent the submission, before normalization.
type CitizenInput struct {
	Name         string
	Phone        string
	WeChatOpenID string
	WeiboUID     string
	Anonymous    bool
	Confidential bool
}

// RawPayload is a submission's original bytes.
type RawPayload struct {
	ContentType string
	Body        []byte
}

// Receipt is the intake service's answer to a submission.
type Receipt struct {
	Case *Case
	// Created is false when the submission was a retry of one already stored.
	Created bool
	// Deliveries are the deliveries queued for a new case.
	Deliveries []Delivery
}

// Submitter is what channel adapters call: it turns a submission into a durably stored case
// (with its forwarding job) and returns only after the commit.
type Submitter interface {
	Submit(ctx context.Context, sub Submission) (Receipt, error)
}

// Errors shared across packages. Callers test them with errors.Is.
var (
	// ErrNotFound: the case (or other record) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrIdempotencyConflict: the external id was already used for a different payload.
	ErrIdempotencyConflict = errors.New("external id already used for a different submission")
	// ErrInvalid: the record failed validation.
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: the store could not be reached or did not answer in time.
	ErrUnavailable = errors.New("store unavailable")
	// ErrCaseFull: a case has reached its limit of supplements or of text; nothing was added.
	ErrCaseFull = errors.New("the case takes no more supplements")
	// ErrCannotDeliver: a channel cannot reach the citizen now (reply window closed, quota used,
	// unsubscribed); another channel may.
	ErrCannotDeliver = errors.New("the channel cannot reach the citizen now")
)

// Outgoing is a message to a citizen, as channel senders get it.
type Outgoing struct {
	Address string
	Text    string
	// CaseNo, StatusName and Event let a channel fill a structured message (a WeChat template).
	CaseNo     string
	StatusName string
	Event      string
}

// FieldError is one problem with one input field. Field is the JSON path as the client wrote it.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ValidationError lists everything wrong with a submission. It wraps ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b []byte
	b = append(b, "invalid submission:"...)
	for i, f := range e.Fields {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, ' ')
		b = append(b, f.Field...)
		b = append(b, ": "...)
		b = append(b, f.Reason...)
	}
	return string(b)
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// HasReason reports whether some field failed for reason.
func (e *ValidationError) HasReason(reason string) bool {
	for _, f := range e.Fields {
		if f.Reason == reason {
			return true
		}
	}
	return false
}

// ReasonURLScheme is the reason of a FieldError for an attachment or recording URL whose
// scheme is not http or https. The gateway neither fetches nor keeps such a link (a case system
// showing it could open a local file or run a script); the REST API answers 422 for it.
const ReasonURLScheme = "must be an http or https URL; other schemes (file:, ftp:, gopher:, data:, javascript: …) are not accepted"

// ReasonTimestampRange is the reason of a FieldError for a channel timestamp (occurred_at,
// CreateTime) that cannot be when the citizen wrote: before 2000, or later than now plus the
// allowed clock skew. The REST API answers 422 for it.
const ReasonTimestampRange = "must lie between 2000-01-01 and now (plus a few minutes of clock skew)"

// EarliestTimestamp returns the earliest channel timestamp accepted: no platform the gateway serves
// existed before it, so an earlier one is a client's bug (a zero or a seconds-for-milliseconds
// mix-up), not a citizen's message.
func EarliestTimestamp() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// ForeignScheme reports whether raw starts with a URL scheme other than http and https. It
// reads the scheme the way browsers do — leading spaces and control characters dropped, tabs
// and line breaks ignored, case folded — so " JaVa\tscript:" counts as javascript:. A string
// without a scheme is not foreign; whether it is a usable URL is ordinary validation's call.
func ForeignScheme(raw string) bool {
	var scheme []byte
	started := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\t' || c == '\n' || c == '\r':
			continue
		case !started && c <= ' ':
			continue
		case c == ':':
			if len(scheme) == 0 {
				return false
			}
			s := string(scheme)
			return s != "http" && s != "https"
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z':
		case len(scheme) > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
		started = true
		scheme = append(scheme, c)
	}
	return false
}

// Invalid is a ValidationError for one field.
func Invalid(field, reason string) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Field: field, Reason: reason}}}
}

// ConflictError is returned when an external id was already used for a different payload; it
// carries the case the id belongs to.
type ConflictError struct {
	Existing *Case
}

func (e *ConflictError) Error() string {
	return "external id " + e.Existing.ExternalID + " already used for a different submission (case " + e.Existing.CaseNo + ")"
}

// Unwrap makes errors.Is(err, ErrIdempotencyConflict) hold.
func (e *ConflictError) Unwrap() error { return ErrIdempotencyConflict }
