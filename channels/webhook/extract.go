package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// fieldError is a payload that does not give a configured field a usable value. It names the
// config key and the pointer, never the value: the value may be a citizen's words.
type fieldError struct {
	key     string
	problem string
}

func (e *fieldError) Error() string { return e.key + ": " + e.problem }

func missing(key string, p Pointer) *fieldError {
	return &fieldError{key: key, problem: fmt.Sprintf("nothing at %s", p)}
}

// Limits of extracted values, matching the case record's.
const (
	maxExternalID = 200
	maxUserID     = 128
	maxName       = 100
	maxURL        = 2048
	maxMetadata   = 1000
)

// extract builds the submission's content from a decoded payload. Pointers marked required
// (external_id, text unless there are attachments) must resolve; optional ones that do not
// resolve, or are null, are left out.
func (f fieldSpec) extract(doc any, channelID string, kind intake.ChannelKind) (*intake.Submission, *fieldError) {
	sub := &intake.Submission{Channel: kind, ChannelID: channelID, Metadata: map[string]string{}}

	id, ferr := f.scalar(doc, "fields.external_id", &f.externalID, true)
	if ferr != nil {
		return nil, ferr
	}
	if id == "" || len(id) > maxExternalID || strings.ContainsFunc(id, isControl) {
		return nil, &fieldError{"fields.external_id", fmt.Sprintf("the value at %s must be 1–%d characters without control characters", f.externalID, maxExternalID)}
	}
	sub.ExternalID = id

	if f.sender != nil {
		v, ferr := f.scalar(doc, "fields.sender", f.sender, false)
		if ferr != nil {
			return nil, ferr
		}
		if len(v) > maxUserID || strings.ContainsFunc(v, isControl) {
			return nil, &fieldError{"fields.sender", fmt.Sprintf("the value at %s must be at most %d characters without control characters", f.sender, maxUserID)}
		}
		switch f.senderAs {
		case SenderPhone:
			sub.Citizen.Phone = v
		case SenderWeiboUID:
			sub.Citizen.WeiboUID = v
		case SenderOpenID:
			sub.Citizen.WeChatOpenID = v
		default:
			if v != "" {
				sub.Metadata[MetadataSenderID] = v
			}
		}
	}
	if f.phone != nil {
		v, ferr := f.scalar(doc, "fields.phone", f.phone, false)
		if ferr != nil {
			return nil, ferr
		}
		sub.Citizen.Phone = limit(v, 64)
	}
	if f.name != nil {
		v, ferr := f.str(doc, "fields.name", f.name)
		if ferr != nil {
			return nil, ferr
		}
		sub.Citizen.Name = limit(strings.TrimSpace(v), maxName)
	}
	if f.time != nil {
		if v, ok := f.time.Get(doc); ok && v != nil {
			t, err := parseTime(v, f.timeFormat)
			if err != nil {
				return nil, &fieldError{"fields.time", fmt.Sprintf("the value at %s: %v", f.time, err)}
			}
			// Checked here and not only when a case is created: a message that joins an open
			// case as a supplement never reaches the core's check of the case's timestamp.
			if t.Before(intake.EarliestTimestamp()) {
				return nil, &fieldError{"fields.time", fmt.Sprintf("the value at %s is before 2000-01-01", f.time)}
			}
			sub.OccurredAt = t
		}
	}
	if f.locationConfigured {
		loc, ferr := f.location(doc)
		if ferr != nil {
			return nil, ferr
		}
		sub.Location = loc
	}
	if f.att != nil {
		atts, ferr := f.att.extract(doc)
		if ferr != nil {
			return nil, ferr
		}
		sub.Attachments = atts
	}
	for _, k := range f.metadataKeys {
		p := f.metadata[k]
		v, ferr := f.scalar(doc, "fields.metadata."+k, &p, false)
		if ferr != nil {
			return nil, ferr
		}
		if v != "" {
			sub.Metadata[k] = limit(v, maxMetadata)
		}
	}

	text, ferr := f.str(doc, "fields.text", &f.text)
	if ferr != nil {
		return nil, ferr
	}
	switch {
	case strings.TrimSpace(text) != "":
		sub.Text = text
	case len(sub.Attachments) > 0:
		sub.Text = attachmentOnlyText
	default:
		if _, ok := f.text.Get(doc); !ok {
			return nil, missing("fields.text", f.text)
		}
		return nil, &fieldError{"fields.text", fmt.Sprintf("the text at %s is empty and there are no attachments", f.text)}
	}
	if len(sub.Metadata) == 0 {
		sub.Metadata = nil
	}
	return sub, nil
}

// scalar reads a string, number or boolean as text. required: absence or null is an error.
func (f fieldSpec) scalar(doc any, key string, p *Pointer, required bool) (string, *fieldError) {
	v, ok := p.Get(doc)
	if !ok || v == nil {
		if required {
			return "", missing(key, *p)
		}
		return "", nil
	}
	s, ok := scalarString(v)
	if !ok {
		return "", &fieldError{key, fmt.Sprintf("the value at %s must be a string or a number", p)}
	}
	return s, nil
}

// str reads a string; absence and null are "".
func (f fieldSpec) str(doc any, key string, p *Pointer) (string, *fieldError) {
	v, ok := p.Get(doc)
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", &fieldError{key, fmt.Sprintf("the value at %s must be a string", p)}
	}
	return s, nil
}

func scalarString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	}
	return "", false
}

func (f fieldSpec) location(doc any) (*intake.Location, *fieldError) {
	loc := &intake.Location{}
	if f.lat != nil {
		latV, okLat := f.lat.Get(doc)
		lngV, okLng := f.lng.Get(doc)
		if okLat && okLng && latV != nil && lngV != nil {
			lat, ok1 := number(latV)
			lng, ok2 := number(lngV)
			if !ok1 || lat < -90 || lat > 90 {
				return nil, &fieldError{"fields.location.lat", fmt.Sprintf("the value at %s must be a latitude (-90…90)", f.lat)}
			}
			if !ok2 || lng < -180 || lng > 180 {
				return nil, &fieldError{"fields.location.lng", fmt.Sprintf("the value at %s must be a longitude (-180…180)", f.lng)}
			}
			loc.Lat, loc.Lng, loc.Source = &lat, &lng, intake.LocationGPS
		}
	}
	if f.address != nil {
		a, ferr := f.str(doc, "fields.location.address", f.address)
		if ferr != nil {
			return nil, ferr
		}
		loc.Address = limit(strings.TrimSpace(a), 500)
		if loc.Source == "" && loc.Address != "" {
			loc.Source = intake.LocationLabel
		}
	}
	if loc.Source == "" {
		return nil, nil
	}
	return loc, nil
}

// number reads a JSON number or a numeric string (platforms send coordinates both ways).
func number(v any) (float64, bool) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = strings.TrimSpace(t)
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func (a *attSpec) extract(doc any) ([]intake.Attachment, *fieldError) {
	v, ok := a.items.Get(doc)
	if !ok || v == nil {
		return nil, nil
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, &fieldError{"fields.attachments.items", fmt.Sprintf("the value at %s must be an array", a.items)}
	}
	if len(arr) > maxAttachments {
		return nil, &fieldError{"fields.attachments.items", fmt.Sprintf("the array at %s has more than %d items", a.items, maxAttachments)}
	}
	var out []intake.Attachment
	for i, it := range arr {
		key := fmt.Sprintf("fields.attachments (item %d of %s)", i, a.items)
		get := func(p *Pointer) (string, *fieldError) {
			if p == nil {
				return "", nil
			}
			v, ok := p.Get(it)
			if !ok || v == nil {
				return "", nil
			}
			s, ok := scalarString(v)
			if !ok {
				return "", &fieldError{key, fmt.Sprintf("the value at %s must be a string or a number", p)}
			}
			return strings.TrimSpace(s), nil
		}
		var att intake.Attachment
		var vals [5]string
		for j, p := range []*Pointer{a.url, a.mediaID, a.kind, a.ctype, a.title} {
			s, ferr := get(p)
			if ferr != nil {
				return nil, ferr
			}
			vals[j] = s
		}
		u, mediaID, kind := vals[0], vals[1], vals[2]
		if u != "" && !httpURL(u) {
			return nil, &fieldError{key, fmt.Sprintf("the value at %s must be an absolute http(s) URL", a.url)}
		}
		if u == "" && mediaID == "" {
			return nil, &fieldError{key, "has neither url nor media_id"}
		}
		if len(mediaID) > 256 || strings.ContainsFunc(mediaID, isControl) {
			return nil, &fieldError{key, fmt.Sprintf("the value at %s is not a usable media id", a.mediaID)}
		}
		att.URL, att.MediaID = u, mediaID
		att.ContentType = limit(vals[3], 128)
		att.Title = limit(vals[4], 500)
		att.Kind = a.defaultKind
		if k, ok := a.kindMap[kind]; ok {
			att.Kind = k
		} else if validKind(intake.AttachmentKind(kind)) {
			att.Kind = intake.AttachmentKind(kind)
		}
		out = append(out, att)
	}
	return out, nil
}

func httpURL(s string) bool {
	if len(s) > maxURL {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// parseTime reads a time in one of the formats: rfc3339 text, or unix / unix_ms as a JSON
// integer or a string of digits.
func parseTime(v any, format string) (time.Time, error) {
	var s string
	switch t := v.(type) {
	case string:
		s = strings.TrimSpace(t)
	case json.Number:
		s = t.String()
	default:
		return time.Time{}, errors.New("must be a string or a number")
	}
	switch format {
	case FormatRFC3339:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, errors.New("not an RFC 3339 time such as 2026-11-27T16:00:00+08:00")
		}
		return t, nil
	case FormatUnix, FormatUnixMS:
		if s == "" || len(s) > 16 || strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
			return time.Time{}, fmt.Errorf("not a positive integer count of %s", map[string]string{FormatUnix: "seconds", FormatUnixMS: "milliseconds"}[format])
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return time.Time{}, errors.New("out of range")
		}
		if format == FormatUnix {
			if n > 1e11 {
				return time.Time{}, errors.New("too large for seconds (milliseconds? use unix_ms)")
			}
			return time.Unix(n, 0).UTC(), nil
		}
		return time.UnixMilli(n).UTC(), nil
	}
	return time.Time{}, errors.New("unknown format")
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// limit cuts s to at most n bytes on a rune boundary.
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
