package phone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jsonstrict"
)

// jsonCall is the JSON request body (see openapi-fragment.yaml, TranscriptRequest).
type jsonCall struct {
	CallID       string         `json:"call_id"`
	CallerNumber string         `json:"caller_number"`
	CalledLine   string         `json:"called_line"`
	StartedAt    string         `json:"started_at"`
	EndedAt      string         `json:"ended_at"`
	AgentID      string         `json:"agent_id"`
	RecordingURL string         `json:"recording_url"`
	Summary      string         `json:"summary"`
	Category     string         `json:"category"`
	RequestType  string         `json:"request_type"`
	Segments     *[]jsonSegment `json:"segments"`
	Text         *string        `json:"transcript_text"`
	WebVTT       *string        `json:"transcript_vtt"`
}

type jsonSegment struct {
	Speaker    *string  `json:"speaker"`
	StartMS    *int64   `json:"start_ms"`
	EndMS      *int64   `json:"end_ms"`
	Text       *string  `json:"text"`
	Confidence *float64 `json:"confidence"`
}

// ParseJSON parses and validates a JSON transcript request: the call's metadata and exactly
// one of segments, transcript_text (the plain-text form) or transcript_vtt (WebVTT). Unknown
// fields are refused.
func ParseJSON(body []byte, opts Options) (*Call, error) {
	opts = opts.withDefaults()
	if !utf8.Valid(body) {
		return nil, intake.Invalid("body", "is not valid UTF-8")
	}
	var in jsonCall
	if err := decodeStrict(body, &in); err != nil {
		return nil, err
	}
	e := &errs{}
	c := &Call{}
	applyMeta(c, Meta{
		CallID: in.CallID, CallerNumber: in.CallerNumber, CalledLine: in.CalledLine, StartedAt: in.StartedAt,
		EndedAt: in.EndedAt, AgentID: in.AgentID, RecordingURL: in.RecordingURL, Summary: in.Summary,
		Category: in.Category, RequestType: in.RequestType,
	}, e)
	given := 0
	for _, p := range []bool{in.Segments != nil, in.Text != nil, in.WebVTT != nil} {
		if p {
			given++
		}
	}
	if given != 1 {
		e.add("segments", "give exactly one of segments, transcript_text or transcript_vtt")
		return nil, e.err()
	}
	switch {
	case in.Segments != nil:
		c.Format = FormatSegments
		c.Segments = jsonSegments(*in.Segments, e)
		validate(c, opts, true, func(i int) (string, string) {
			if i < 0 {
				return "segments", ""
			}
			return fmt.Sprintf("segments[%d]", i), ""
		}, e)
	case in.Text != nil:
		c.Format = FormatText
		lines := parseText(*in.Text, "transcript_text", e)
		c.Segments = lines.segments
		validate(c, opts, false, lines.position("transcript_text"), e)
	default:
		c.Format = FormatWebVTT
		cues := parseWebVTT(*in.WebVTT, "transcript_vtt", e)
		c.Segments = cues.segments
		validate(c, opts, true, cues.position("transcript_vtt"), e)
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func jsonSegments(in []jsonSegment, e *errs) []intake.Segment {
	out := make([]intake.Segment, len(in))
	for i, s := range in {
		field := fmt.Sprintf("segments[%d]", i)
		if s.Speaker == nil {
			e.add(field+".speaker", "is required")
		} else if sp := intake.Speaker(*s.Speaker); sp == intake.SpeakerCaller || sp == intake.SpeakerAgent {
			out[i].Speaker = sp
		} else {
			e.add(field+".speaker", "unknown speaker label %q: must be caller or agent", truncate(*s.Speaker, 20))
		}
		if s.StartMS == nil {
			e.add(field+".start_ms", "is required")
		} else {
			out[i].StartMS = *s.StartMS
		}
		if s.EndMS == nil {
			e.add(field+".end_ms", "is required")
		} else {
			out[i].EndMS = *s.EndMS
		}
		if s.Text == nil {
			e.add(field+".text", "is required")
		} else {
			out[i].Text = *s.Text
		}
		out[i].Confidence = 1
		if s.Confidence != nil {
			out[i].Confidence = *s.Confidence
		}
	}
	return out
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// decodeStrict decodes one JSON object, refusing unknown fields, wrong types and trailing data,
// with the field named.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return intake.Invalid("body", "is empty")
	}
	var dup *jsonstrict.DuplicateKeyError
	if err := jsonstrict.CheckDuplicateKeys(body); errors.As(err, &dup) {
		return intake.Invalid(dup.Path, "appears more than once")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return intake.Invalid("body", fmt.Sprintf("malformed JSON at byte %d", syntax.Offset))
		case errors.As(err, &typ):
			field := fieldPath(typ.Field)
			if field == "" {
				field = "body"
			}
			return intake.Invalid(field, "has the wrong type ("+typ.Value+")")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return intake.Invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return intake.Invalid("body", "the JSON ends too early")
		}
		return intake.Invalid("body", "is not a valid JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return intake.Invalid("body", "unexpected data after the JSON object")
	}
	return nil
}

// fieldPath writes encoding/json's field path ("segments.0.start_ms" since Go 1.27) the way
// the gateway's other validation errors name fields ("segments[0].start_ms").
func fieldPath(p string) string {
	parts := strings.Split(p, ".")
	var b strings.Builder
	for i, part := range parts {
		if _, err := strconv.Atoi(part); err == nil && i > 0 {
			b.WriteString("[" + part + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}
