package weibo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/channels"

	"github.com/hotline12345/intake-gateway/internal/app"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jsonstrict"
)

// Push is a Weibo message push as it arrives (open.weibo.com/wiki/Receive_General_Message and
// Receive_Event_Push), decoded but not interpreted. IDs are int64 numbers in JSON; an ID written
// as a string, a fraction or with an exponent is refused rather than guessed at.
type Push struct {
	Type       string
	ReceiverID int64
	SenderID   int64
	// CreatedAt is the created_at field as sent ("Mon Jul 16 18:09:20 +0800 2012"); it is
	// parsed only for known types, so that a new push type with another shape is still
	// acknowledged.
	CreatedAt string
	Text      string
	// Data is the data object exactly as sent (nil when absent or null).
	Data json.RawMessage
	// shapeErr is a problem with created_at or text; it matters only for known types.
	shapeErr error
}

// wirePush is the JSON shape. The IDs are kept raw so that their syntax can be checked exactly.
type wirePush struct {
	Type       string          `json:"type"`
	ReceiverID json.RawMessage `json:"receiver_id"`
	SenderID   json.RawMessage `json:"sender_id"`
	CreatedAt  json.RawMessage `json:"created_at"`
	Text       json.RawMessage `json:"text"`
	Data       json.RawMessage `json:"data"`
}

// ParsePush decodes a push body. The error says which field is wrong and never quotes it: a
// rejected body may hold a citizen's message.
func ParsePush(body []byte) (*Push, error) {
	// Refused rather than repaired: a replaced byte would change the citizen's words, and the
	// stored raw body would no longer be what the text was read from.
	if !utf8.Valid(body) {
		return nil, errors.New("malformed JSON: not valid UTF-8")
	}
	var w wirePush
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("malformed JSON: %s must be a %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return nil, errors.New("malformed JSON")
	}
	// One document, nothing after it: a concatenation would be authenticated by the same
	// signature (which does not cover the body) and parsed differently by other readers.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed JSON: data after the document")
	}
	// encoding/json keeps the last of two members of one name; another reader of the same body
	// may take the first. The name is not quoted: it is the sender's text.
	if err := jsonstrict.CheckDuplicateKeys(body); errors.Is(err, jsonstrict.ErrDuplicateKey) {
		return nil, errors.New("malformed JSON: a member name appears twice in one object")
	}
	p := &Push{Type: w.Type}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *string
	}{{"created_at", w.CreatedAt, &p.CreatedAt}, {"text", w.Text, &p.Text}} {
		if len(f.raw) == 0 || bytes.Equal(f.raw, []byte("null")) {
			continue
		}
		if err := json.Unmarshal(f.raw, f.dst); err != nil && p.shapeErr == nil {
			p.shapeErr = fmt.Errorf("%s must be a string", f.name)
		}
	}
	var err error
	if p.ReceiverID, err = parseID("receiver_id", w.ReceiverID); err != nil {
		return nil, err
	}
	if p.SenderID, err = parseID("sender_id", w.SenderID); err != nil {
		return nil, err
	}
	if p.Type == "" {
		return nil, errors.New("missing type")
	}
	if len(w.Data) > 0 && !bytes.Equal(w.Data, []byte("null")) {
		p.Data = w.Data
	}
	return p, nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "map", "struct":
		return "object"
	case "slice":
		return "array"
	}
	return goKind
}

// parseID reads a positive int64 written as a JSON integer (digits only).
func parseID(field string, raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return 0, fmt.Errorf("missing %s", field)
	}
	if len(s) > 19 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, fmt.Errorf("%s must be a positive integer number", field)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer number", field)
	}
	return n, nil
}

// pushData is the union of the data fields of every known type. Values Weibo documents as
// numbers in one place and strings in another (file ids, keys, coordinates) are read as either.
type pushData struct {
	Subtype             string
	Key, Ticket         flexString
	Longitude, Latitude flexString
	Vfid, Tovfid        flexString
}

// flexString is a JSON string or number, kept as its text. Numbers keep their literal digits:
// Weibo ids exceed float64's 53 bits.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("must be a string or a number")
	}
	*f = flexString(n.String())
	return nil
}

func (p *Push) data() (pushData, error) {
	var d pushData
	if p.Data == nil {
		return d, nil
	}
	var m map[string]json.RawMessage
	if p.Data[0] != '{' || json.Unmarshal(p.Data, &m) != nil {
		return d, errors.New("data must be an object")
	}
	// Field by field, so that the error names the field.
	for name, dst := range map[string]*flexString{
		"key": &d.Key, "ticket": &d.Ticket, "longitude": &d.Longitude, "latitude": &d.Latitude,
		"vfid": &d.Vfid, "tovfid": &d.Tovfid,
	} {
		if raw, ok := m[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return d, fmt.Errorf("data.%s must be a string or a number", name)
			}
		}
	}
	if raw, ok := m["subtype"]; ok && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &d.Subtype); err != nil {
			return d, errors.New("data.subtype must be a string")
		}
	}
	return d, nil
}

// ExternalID is the push's identity for deduplication. Weibo sends no message id and advises
// sender_id + created_at, but created_at has whole seconds, so two messages of one citizen in one
// second would be one; a hash of type, text and data tells them apart while a retry (the same
// push again) keeps the same id. The data object is hashed in a canonical form (keys sorted,
// numbers as written), so a retry serialized differently is still the same push.
func (p *Push) ExternalID(created time.Time) string {
	h := sha256.New()
	h.Write([]byte(p.Type))
	h.Write([]byte{0})
	h.Write([]byte(p.Text))
	h.Write([]byte{0})
	h.Write(canonicalJSON(p.Data))
	sum := h.Sum(nil)
	return strconv.FormatInt(p.SenderID, 10) + ":" + strconv.FormatInt(created.Unix(), 10) + ":" + hex.EncodeToString(sum[:8])
}

// ContentHash identifies the push's content whatever its serialization: the hex SHA-256 of every
// field (created_at as the instant it names), the data object in canonical JSON. A retry
// serialized differently is the same push, as for ExternalID, and must not be taken for another
// message under the same id.
func (p *Push) ContentHash(created time.Time) string {
	h := sha256.New()
	for _, part := range []string{p.Type, strconv.FormatInt(p.ReceiverID, 10), strconv.FormatInt(p.SenderID, 10),
		strconv.FormatInt(created.Unix(), 10), p.Text} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(canonicalJSON(p.Data))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON re-encodes a JSON value with sorted keys and no insignificant space; the input
// as it is when it does not parse (it always does after ParsePush).
func canonicalJSON(raw json.RawMessage) []byte {
	if raw == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}

// inbound is a decoded push: a citizen message, an event, or something acknowledged with an
// empty body without involving the Receiver (view, unknown types).
type inbound struct {
	// typeLabel names the push in metrics: the type, or "event:" + the subtype.
	typeLabel string
	msg       *app.Message
	ev        *app.Event
	unknown   bool
	sender    int64
}

// decode turns an authenticated push into what the Receiver gets. raw and ctype are the request
// body as received.
func (s *settings) decode(p *Push, raw []byte, ctype string) (inbound, *channels.Rejection) {
	// A push for another account is misrouted or replayed from elsewhere: never make a case of
	// it. Checked before the type, so an unknown type is not acknowledged for a stranger either.
	if p.ReceiverID != s.accountUID {
		return inbound{}, channels.Reject(http.StatusForbidden, "wrong_account", "receiver_id is not this account")
	}
	in := inbound{sender: p.SenderID}
	switch p.Type {
	case "text", "position", "image", "voice", "event", "mention":
	default:
		in.typeLabel, in.unknown = p.Type, true
		return in, nil
	}
	if p.shapeErr != nil {
		return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", p.shapeErr.Error())
	}
	created, err := time.Parse(time.RubyDate, strings.TrimSpace(p.CreatedAt))
	if err != nil {
		return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid created_at (want e.g. Mon Jul 16 18:09:20 +0800 2012)")
	}
	// Checked here and not only when a case is created: a push that joins an open case as a
	// supplement, and an event, never reach the core's check of the case's timestamp.
	if created.Before(intake.EarliestTimestamp()) {
		return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "created_at before 2000-01-01")
	}
	// A text push's data is only hashed: its shape is not documented, and refusing a text over
	// it would lose the citizen's message.
	var d pushData
	if p.Type != "text" {
		if d, err = p.data(); err != nil {
			return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", err.Error())
		}
	}
	uid := strconv.FormatInt(p.SenderID, 10)
	citizen := intake.CitizenInput{WeiboUID: uid}
	externalID := p.ExternalID(created)

	if p.Type == "event" {
		return s.decodeEvent(in, d, citizen, externalID)
	}

	sub := intake.Submission{
		Channel:    intake.ChannelWeibo,
		ChannelID:  s.id,
		ExternalID: externalID,
		OccurredAt: created,
		Citizen:    citizen,
		Metadata:   map[string]string{"weibo_type": p.Type},
		Raw:        intake.RawPayload{ContentType: ctype, Body: raw},
	}
	sub.PayloadHash = p.ContentHash(created)
	text := strings.TrimSpace(p.Text)
	public := false

	switch p.Type {
	case "text":
		if text == "" {
			return inbound{}, channels.Reject(http.StatusBadRequest, "empty_text", "empty text")
		}
		sub.Text = p.Text
	case "position":
		lat, lng, ok := parseLatLng(string(d.Latitude), string(d.Longitude))
		if !ok {
			return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid data.latitude/data.longitude")
		}
		sub.Location = &intake.Location{Lat: &lat, Lng: &lng, Source: intake.LocationGPS}
		sub.Text = joinNonEmpty(" ", s.placeholders["position"], text)
	case "image", "voice":
		fid := string(d.Tovfid)
		if !validFileID(fid) {
			return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid data.tovfid")
		}
		kind := intake.AttachmentImage
		if p.Type == "voice" {
			kind = intake.AttachmentAudio
		}
		sub.Attachments = []intake.Attachment{{Kind: kind, MediaID: fid}}
		// The text of a media push is not the citizen's words as a rule, but when there is any
		// it is kept: losing what a citizen wrote is worse than a redundant caption.
		sub.Text = joinNonEmpty(" ", s.placeholders[p.Type], text)
		if validFileID(string(d.Vfid)) {
			sub.Metadata["weibo_vfid"] = string(d.Vfid)
		}
	case "mention":
		if text == "" {
			return inbound{}, channels.Reject(http.StatusBadRequest, "empty_text", "empty text")
		}
		sub.Text = p.Text
		public = true
		if d.Subtype != "" {
			sub.Metadata["weibo_mention_subtype"] = limit(d.Subtype, 32)
		}
		if id := string(d.Key); validFileID(id) {
			// The id of the post or comment, so that whoever answers it publicly can find it.
			sub.Metadata["weibo_mention_id"] = id
		}
	}
	in.typeLabel = p.Type
	in.msg = &app.Message{Submission: sub, Public: public}
	return in, nil
}

func (s *settings) decodeEvent(in inbound, d pushData, citizen intake.CitizenInput, externalID string) (inbound, *channels.Rejection) {
	subtype := strings.ToLower(strings.TrimSpace(d.Subtype))
	if subtype == "" {
		return inbound{}, channels.Reject(http.StatusBadRequest, "missing_field", "missing data.subtype")
	}
	ev := &app.Event{
		Channel:    intake.ChannelWeibo,
		ChannelID:  s.id,
		ExternalID: externalID,
		Citizen:    citizen,
		Key:        limit(string(d.Key), 128),
	}
	switch subtype {
	case "follow", "subscribe":
		ev.Kind = app.EventSubscribe
	case "unfollow", "unsubscribe":
		ev.Kind = app.EventUnsubscribe
		ev.Key = ""
	case "scan", "scan_follow":
		ev.Kind = app.EventScan
	case "click":
		ev.Kind = app.EventMenuClick
		if ev.Key == "" {
			return inbound{}, channels.Reject(http.StatusBadRequest, "missing_field", "missing data.key")
		}
	case "view":
		// A menu link the citizen opened: Weibo shows the page, there is nothing to record.
		in.typeLabel = "event:view"
		return in, nil
	default:
		in.typeLabel, in.unknown = "event:"+subtype, true
		return in, nil
	}
	in.typeLabel = "event:" + subtype
	in.ev = ev
	return in, nil
}

// validFileID accepts the ids Weibo uses for files and posts: short, printable ASCII without
// spaces. They become media ids and URL parameters of the download job.
func validFileID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || r <= ' ' || r == 0x7f || strings.ContainsRune(`"'<>\&?#/%`, r) {
			return false
		}
	}
	return true
}

func parseLatLng(latS, lngS string) (float64, float64, bool) {
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	lng, err2 := strconv.ParseFloat(strings.TrimSpace(lngS), 64)
	if err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lng) ||
		lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return 0, 0, false
	}
	return lat, lng, true
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// limit cuts s to at most n bytes on a rune boundary.
func limit(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
