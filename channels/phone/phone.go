// Package phone parses phone-call transcripts posted by the call centre (POST /v1/transcripts):
// the call's metadata and its transcript in one of three forms — JSON segments, plain text with
// speaker labels (坐席：/市民：…), or WebVTT with <v> voice tags — into a validated Call, and
// turns a Call into the channel-neutral intake.Submission.
//
// It is pure: no I/O, no clock, no HTTP (the handler is in channels/phone/phonehttp). Every
// error it returns for bad input is an *intake.ValidationError naming the field (for a text or
// WebVTT body, "body" with the line number in the reason).
package phone

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// Format names the form a transcript arrived in.
type Format string

// Transcript formats.
const (
	FormatSegments Format = "segments" // JSON segments
	FormatText     Format = "text"     // plain text, one labelled turn per line
	FormatWebVTT   Format = "webvtt"   // WebVTT with <v> voice tags
)

// Defaults of Options.
const (
	DefaultLowConfidence = 0.6
	DefaultMaxDuration   = 4 * time.Hour
	DefaultMaxSegments   = 5000
)

// Options tune parsing and validation. The zero value uses the defaults.
type Options struct {
	// LowConfidence flags segments whose ASR confidence is below it (Segment.LowConfidence).
	// 0 means DefaultLowConfidence; a negative value flags nothing.
	LowConfidence float64
	// MaxDuration is the longest plausible call; longer calls and segment times beyond it are
	// refused as absurd. 0 means DefaultMaxDuration.
	MaxDuration time.Duration
	// MaxSegments bounds the number of segments. 0 means DefaultMaxSegments.
	MaxSegments int
}

func (o Options) withDefaults() Options {
	if o.LowConfidence == 0 {
		o.LowConfidence = DefaultLowConfidence
	}
	if o.MaxDuration <= 0 {
		o.MaxDuration = DefaultMaxDuration
	}
	if o.MaxSegments <= 0 {
		o.MaxSegments = DefaultMaxSegments
	}
	return o
}

// Call is one parsed and validated call.
type Call struct {
	CallID       string             `json:"call_id"`
	CallerNumber string             `json:"caller_number"`
	CalledLine   string             `json:"called_line,omitempty"`
	AgentID      string             `json:"agent_id,omitempty"`
	StartedAt    time.Time          `json:"started_at"`
	EndedAt      time.Time          `json:"ended_at"` // zero when not given
	RecordingURL string             `json:"recording_url,omitempty"`
	Summary      string             `json:"summary,omitempty"`
	Category     string             `json:"category,omitempty"`
	RequestType  intake.RequestType `json:"request_type,omitempty"`
	Format       Format             `json:"format"`
	Segments     []intake.Segment   `json:"segments"`
}

// Meta is a call's metadata as strings, the way a text or WebVTT upload carries it (query
// parameters or headers). ParseJSON reads the same fields from the JSON body.
type Meta struct {
	CallID       string
	CallerNumber string
	CalledLine   string
	StartedAt    string
	EndedAt      string
	AgentID      string
	RecordingURL string
	Summary      string
	Category     string
	RequestType  string
}

// Metadata keys a Call's submission carries.
const (
	MetaCalledLine       = "called_line"
	MetaAgentID          = "agent_id"
	MetaCallEndedAt      = "call_ended_at"
	MetaCallDurationS    = "call_duration_s"
	MetaTranscriptFormat = "transcript_format"
	MetaLowConfidence    = "low_confidence_segments"
)

// Submission is the call as a phone-channel submission for channelID. The case text is the
// operator's summary when there is one; otherwise Text stays empty and the core describes the
// case by the caller's turns (normalize.CallerText). The recording becomes an audio attachment,
// fetched later by a job.
func (c *Call) Submission(channelID string, raw intake.RawPayload) intake.Submission {
	sub := intake.Submission{
		Channel:             intake.ChannelPhone,
		ChannelID:           channelID,
		ExternalID:          c.CallID,
		OccurredAt:          c.StartedAt,
		Citizen:             intake.CitizenInput{Phone: c.CallerNumber},
		Text:                c.Summary,
		Transcript:          c.Segments,
		OperatorCategory:    c.Category,
		OperatorRequestType: c.RequestType,
		Metadata:            map[string]string{MetaTranscriptFormat: string(c.Format)},
		Raw:                 raw,
		PayloadHash:         c.Hash(),
	}
	if c.RecordingURL != "" {
		sub.Attachments = []intake.Attachment{{Kind: intake.AttachmentAudio, URL: c.RecordingURL, Title: "通话录音"}}
	}
	if c.CalledLine != "" {
		sub.Metadata[MetaCalledLine] = c.CalledLine
	}
	if c.AgentID != "" {
		sub.Metadata[MetaAgentID] = c.AgentID
	}
	if !c.EndedAt.IsZero() {
		sub.Metadata[MetaCallEndedAt] = c.EndedAt.Format(time.RFC3339)
		sub.Metadata[MetaCallDurationS] = strconv.FormatInt(int64(c.EndedAt.Sub(c.StartedAt)/time.Second), 10)
	}
	low := 0
	for _, s := range c.Segments {
		if s.LowConfidence {
			low++
		}
	}
	if low > 0 {
		sub.Metadata[MetaLowConfidence] = strconv.Itoa(low)
	}
	return sub
}

// Hash is the hex SHA-256 of the call in canonical form: the same call sent again, in another
// JSON layout or with other header order, has the same hash; any change of content does not.
// The low-confidence flags are left out: they follow from configuration, not from the call, and
// a retry after a threshold change is still the same call.
func (c *Call) Hash() string {
	canonical := *c
	canonical.Segments = make([]intake.Segment, len(c.Segments))
	for i, s := range c.Segments {
		s.LowConfidence = false
		canonical.Segments[i] = s
	}
	b, err := json.Marshal(&canonical)
	if err != nil {
		// A Call holds only strings, times and finite numbers; Marshal cannot fail on it.
		panic(fmt.Sprintf("phone: marshal call: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// errs collects field errors; at most maxErrors are kept so that a 600-segment disaster makes
// a readable answer.
type errs struct {
	fields []intake.FieldError
	more   int
}

const maxErrors = 20

func (e *errs) add(field, format string, args ...any) {
	if len(e.fields) >= maxErrors {
		e.more++
		return
	}
	e.fields = append(e.fields, intake.FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (e *errs) err() error {
	if len(e.fields) == 0 {
		return nil
	}
	if e.more > 0 {
		e.fields = append(e.fields, intake.FieldError{Field: "errors", Reason: fmt.Sprintf("%d more problems not listed", e.more)})
	}
	return &intake.ValidationError{Fields: e.fields}
}

// applyMeta validates the metadata strings into c.
func applyMeta(c *Call, m Meta, e *errs) {
	c.CallID = strings.TrimSpace(m.CallID)
	switch {
	case c.CallID == "":
		e.add("call_id", "is required")
	case len(c.CallID) > 200:
		e.add("call_id", "is longer than 200 characters")
	case strings.IndexFunc(c.CallID, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0:
		e.add("call_id", "must be printable ASCII without spaces")
	}
	c.CallerNumber = strings.TrimSpace(m.CallerNumber)
	switch {
	case c.CallerNumber == "":
		e.add("caller_number", "is required")
	case utf8.RuneCountInString(c.CallerNumber) > 64 || hasControl(c.CallerNumber) || !utf8.ValidString(c.CallerNumber):
		e.add("caller_number", "is not a phone number")
	}
	c.CalledLine = shortField(e, "called_line", m.CalledLine, 64)
	c.AgentID = shortField(e, "agent_id", m.AgentID, 64)
	c.Category = shortField(e, "category", m.Category, 64)
	if rt := strings.TrimSpace(m.RequestType); rt != "" {
		c.RequestType = intake.RequestType(rt)
		if !c.RequestType.Valid() {
			e.add("request_type", "must be one of consult, help, complaint, report, suggestion, praise, other")
		}
	}
	c.Summary = strings.TrimFunc(m.Summary, unicode.IsSpace)
	if !utf8.ValidString(c.Summary) {
		e.add("summary", "is not valid UTF-8")
	}
	if u := strings.TrimSpace(m.RecordingURL); u != "" {
		pu, err := url.Parse(u)
		if intake.ForeignScheme(u) {
			e.add("recording_url", "%s", intake.ReasonURLScheme)
		} else if err != nil || !utf8.ValidString(u) || hasControl(u) || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || len(u) > 2048 {
			e.add("recording_url", "must be an absolute http(s) URL of at most 2048 characters")
		}
		c.RecordingURL = u
	}
	c.StartedAt = timeField(e, "started_at", m.StartedAt, true)
	c.EndedAt = timeField(e, "ended_at", m.EndedAt, false)
}

func shortField(e *errs, field, v string, max int) string {
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > max {
		e.add(field, "is longer than %d characters", max)
	} else if hasControl(v) || !utf8.ValidString(v) {
		e.add(field, "contains control characters or invalid UTF-8")
	}
	return v
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

func timeField(e *errs, field, v string, required bool) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			e.add(field, "is required")
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		e.add(field, "must be an RFC 3339 timestamp with a zone, e.g. 2026-11-27T09:30:00+08:00")
		return time.Time{}
	}
	// The same reason as every surface's timestamp check, so that the API answers it alike
	// (422 timestamp-out-of-range) whichever endpoint took the call.
	if t.Before(intake.EarliestTimestamp()) {
		e.add(field, intake.ReasonTimestampRange)
		return time.Time{}
	}
	return t
}

// position says where segment i came from, for error messages.
type position func(i int) (field, prefix string)

// validate checks the call as a whole and its segments, and flags low-confidence segments.
// timed is false for plain text, whose segments carry no times.
func validate(c *Call, opts Options, timed bool, where position, e *errs) {
	maxMS := opts.MaxDuration.Milliseconds()
	var durationMS int64 = -1
	if !c.StartedAt.IsZero() && !c.EndedAt.IsZero() {
		d := c.EndedAt.Sub(c.StartedAt)
		switch {
		case d < 0:
			e.add("ended_at", "is before started_at")
		case d > opts.MaxDuration:
			e.add("ended_at", "makes the call longer than %s", opts.MaxDuration)
		default:
			durationMS = d.Milliseconds()
		}
	}
	if len(c.Segments) > opts.MaxSegments {
		field, _ := where(0)
		e.add(field, "has %d segments; the limit is %d", len(c.Segments), opts.MaxSegments)
		return
	}
	callerTurns := 0
	var prevEnd int64
	for i := range c.Segments {
		s := &c.Segments[i]
		field, at := where(i)
		if s.Speaker == intake.SpeakerCaller && strings.TrimFunc(s.Text, unicode.IsSpace) != "" {
			callerTurns++
		}
		if s.Confidence < 0 || s.Confidence > 1 {
			e.add(field, "%sconfidence %v is outside 0..1", at, s.Confidence)
		}
		s.LowConfidence = opts.LowConfidence > 0 && s.Confidence < opts.LowConfidence
		if !timed {
			continue
		}
		switch {
		case s.StartMS < 0:
			e.add(field, "%sstart is negative", at)
		case s.EndMS < s.StartMS:
			e.add(field, "%sends before it starts", at)
		case s.EndMS > maxMS:
			e.add(field, "%sends after %s: not a plausible call", at, opts.MaxDuration)
		case durationMS >= 0 && s.EndMS > durationMS+segmentSlackMS:
			e.add(field, "%sends at %s, after the call ended (%s)", at, msString(s.EndMS), msString(durationMS))
		case i > 0 && s.StartMS < prevEnd:
			e.add(field, "%sstarts at %s, before the previous segment ends (%s): segments overlap or are out of order",
				at, msString(s.StartMS), msString(prevEnd))
		}
		if s.EndMS > prevEnd {
			prevEnd = s.EndMS
		}
	}
	if len(c.Segments) == 0 {
		field, _ := where(-1)
		e.add(field, "has no segments")
	} else if callerTurns == 0 {
		field, _ := where(-1)
		e.add(field, "has no caller turn: nothing the citizen said")
	}
}

// segmentSlackMS allows a recording to run a little past the call's recorded end (clock skew
// between the switch and the recorder).
const segmentSlackMS = 60_000

func msString(ms int64) string {
	return (time.Duration(ms) * time.Millisecond).String()
}
