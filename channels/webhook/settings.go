package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/chsettings"
	"github.com/hotline12345/intake-gateway/internal/jsonstrict"
)

// Defaults and bounds of the settings.
const (
	DefaultMaxBodyBytes    = 64 << 10
	DefaultReplyTimeout    = 3 * time.Second
	DefaultTimestampWindow = 5 * time.Minute
	maxReplyTimeout        = 30 * time.Second
	// maxAttachments bounds the attachments taken from one payload.
	maxAttachments = 20
	// attachmentOnlyText is the case text of a payload that has attachments but no text: a case
	// needs text, and a photo alone is still a matter to report.
	attachmentOnlyText = "[附件]"
)

// Setting keys (top level of the channel entry) this package reads. Other top-level keys are
// left alone; unknown keys inside these are refused as typos.
// SettingKeys are the keys of a webhook channel entry beyond the common ones that this package
// reads: with the shared ones (channels.SharedSettingKeys), every key an entry may have.
func SettingKeys() []string { return append([]string(nil), ownKeys...) }

var ownKeys = []string{"channel_kind", "max_body_bytes", "reply_timeout", "signature", "timestamp", "fields", "reply", "sample"}

type rawConfig struct {
	ChannelKind  string         `mapstructure:"channel_kind"`
	MaxBodyBytes *int64         `mapstructure:"max_body_bytes"`
	ReplyTimeout *time.Duration `mapstructure:"reply_timeout"`
	Signature    *rawSignature  `mapstructure:"signature"`
	Timestamp    *rawTimestamp  `mapstructure:"timestamp"`
	Fields       *rawFields     `mapstructure:"fields"`
	Reply        *rawReply      `mapstructure:"reply"`
	Sample       any            `mapstructure:"sample"`
}

type rawSignature struct {
	Scheme    string   `mapstructure:"scheme"`
	Secret    string   `mapstructure:"secret"`
	Header    string   `mapstructure:"header"`
	Query     string   `mapstructure:"query"`
	Encoding  string   `mapstructure:"encoding"`
	Prefix    string   `mapstructure:"prefix"`
	Signed    []string `mapstructure:"signed"`
	Separator string   `mapstructure:"separator"`
}

type rawTimestamp struct {
	Header  string         `mapstructure:"header"`
	Query   string         `mapstructure:"query"`
	Pointer string         `mapstructure:"pointer"`
	Format  string         `mapstructure:"format"`
	Window  *time.Duration `mapstructure:"window"`
}

type rawFields struct {
	ExternalID  string            `mapstructure:"external_id"`
	Sender      string            `mapstructure:"sender"`
	SenderAs    string            `mapstructure:"sender_as"`
	Phone       string            `mapstructure:"phone"`
	Name        string            `mapstructure:"name"`
	Text        string            `mapstructure:"text"`
	Time        string            `mapstructure:"time"`
	TimeFormat  string            `mapstructure:"time_format"`
	Location    *rawLocation      `mapstructure:"location"`
	Attachments *rawAttachments   `mapstructure:"attachments"`
	Metadata    map[string]string `mapstructure:"metadata"`
}

type rawLocation struct {
	Lat     string `mapstructure:"lat"`
	Lng     string `mapstructure:"lng"`
	Address string `mapstructure:"address"`
}

type rawAttachments struct {
	Items       string            `mapstructure:"items"`
	URL         string            `mapstructure:"url"`
	MediaID     string            `mapstructure:"media_id"`
	Kind        string            `mapstructure:"kind"`
	KindMap     map[string]string `mapstructure:"kind_map"`
	DefaultKind string            `mapstructure:"default_kind"`
	ContentType string            `mapstructure:"content_type"`
	Title       string            `mapstructure:"title"`
}

type rawReply struct {
	Shape       string `mapstructure:"shape"`
	Body        string `mapstructure:"body"`
	ContentType string `mapstructure:"content_type"`
	Status      int    `mapstructure:"status"`
	MaxText     int    `mapstructure:"max_text_runes"`
}

// SenderAs names the CitizenInput field the sender pointer fills.
type SenderAs string

// Sender kinds.
const (
	SenderPhone    SenderAs = "phone"
	SenderWeiboUID SenderAs = "weibo_uid"
	SenderOpenID   SenderAs = "wechat_openid"
	// SenderUserID is the platform's own user id. intake.CitizenInput has no field for it, so it
	// goes to Submission.Metadata["sender_id"]; the conversation layer cannot thread on it.
	SenderUserID SenderAs = "user_id"
)

// MetadataSenderID is the metadata key of a sender_as user_id sender.
const MetadataSenderID = "sender_id"

// Time formats of timestamp.format and fields.time_format.
const (
	FormatRFC3339 = "rfc3339"
	FormatUnix    = "unix"
	FormatUnixMS  = "unix_ms"
)

// spec is a channel entry, checked and compiled.
type spec struct {
	id           string
	kind         intake.ChannelKind
	maxBody      int64
	replyTimeout time.Duration
	sig          sigSpec
	ts           tsSpec
	fields       fieldSpec
	reply        replySpec
	sample       []byte
}

type tsSpec struct {
	src    ref // refHeader, refQuery or refPointer
	ptr    Pointer
	format string
	window time.Duration
}

type fieldSpec struct {
	externalID, text                     Pointer
	sender, phone, name, time            *Pointer
	senderAs                             SenderAs
	timeFormat                           string
	lat, lng, address                    *Pointer
	att                                  *attSpec
	metadata                             map[string]Pointer
	metadataKeys                         []string
	locationConfigured, attachConfigured bool
}

type attSpec struct {
	items                            Pointer
	url, mediaID, kind, ctype, title *Pointer
	kindMap                          map[string]intake.AttachmentKind
	defaultKind                      intake.AttachmentKind
}

// errs collects config problems, each named channels[<id>].<key>.
type errs struct {
	id   string
	list []error
}

func (e *errs) add(key, format string, args ...any) {
	e.list = append(e.list, fmt.Errorf("channels[%s].%s: %s", e.id, key, fmt.Sprintf(format, args...)))
}

func (e *errs) err() error { return errors.Join(e.list...) }

// compile checks a channel entry and builds its spec; every problem is reported, each naming
// its key.
func compile(cfg channels.Config) (*spec, error) {
	if cfg.ID == "" {
		return nil, errors.New("channels[].id: is required")
	}
	e := &errs{id: cfg.ID}
	if problem := channels.RouteIDProblem(cfg.ID); problem != "" {
		e.add("id", "%s", problem)
	}
	if cfg.Type != "webhook" {
		e.add("type", "must be webhook, got %q", cfg.Type)
	}
	var raw rawConfig
	if problems := chsettings.Decode(cfg.Settings, ownKeys, &raw); problems != nil {
		for _, p := range problems {
			e.add(p.Key, "%s", p.Message)
		}
		return nil, e.err()
	}
	s := &spec{id: cfg.ID, kind: intake.ChannelREST, maxBody: DefaultMaxBodyBytes, replyTimeout: DefaultReplyTimeout}
	if raw.ChannelKind != "" {
		s.kind = intake.ChannelKind(raw.ChannelKind)
		if !s.kind.Valid() {
			e.add("channel_kind", "must be one of %v, got %q", intake.ChannelKinds(), raw.ChannelKind)
		}
	}
	if raw.MaxBodyBytes != nil {
		if n := *raw.MaxBodyBytes; n < 1024 || n > 16<<20 {
			e.add("max_body_bytes", "must be between 1024 and %d, got %d", 16<<20, n)
		} else {
			s.maxBody = n
		}
	}
	if raw.ReplyTimeout != nil {
		if d := *raw.ReplyTimeout; d <= 0 || d > maxReplyTimeout {
			e.add("reply_timeout", "must be above 0 and at most %s, got %s", maxReplyTimeout, d)
		} else {
			s.replyTimeout = d
		}
	}
	s.sig = compileSignature(e, raw.Signature, cfg.AppSecret)
	s.ts = compileTimestamp(e, raw.Timestamp, s.sig)
	s.fields = compileFields(e, raw.Fields)
	s.reply = compileReply(e, raw.Reply)
	if len(e.list) > 0 {
		return nil, e.err()
	}
	checkSample(e, s, raw.Sample)
	if err := e.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func compileTimestamp(e *errs, r *rawTimestamp, sig sigSpec) tsSpec {
	ts := tsSpec{window: DefaultTimestampWindow}
	if r == nil {
		// Without a signed timestamp a captured request could be replayed for ever.
		e.add("timestamp", "is required: the header, query parameter or JSON pointer of the request time, and its format")
		return ts
	}
	n := 0
	for _, c := range []struct {
		key, val string
		kind     refKind
	}{{"header", r.Header, refHeader}, {"query", r.Query, refQuery}, {"pointer", r.Pointer, refPointer}} {
		if c.val == "" {
			continue
		}
		n++
		ts.src = ref{kind: c.kind, name: c.val}
		if c.kind == refHeader {
			ts.src.name = canonicalHeader(c.val)
		}
		if c.kind == refPointer {
			p, err := ParsePointer(c.val)
			if err != nil || p.IsRoot() {
				e.add("timestamp.pointer", "invalid JSON pointer %q: %v", c.val, errOrRoot(err))
			}
			ts.ptr = p
		}
	}
	if n != 1 {
		e.add("timestamp", "set exactly one of header, query or pointer")
		return ts
	}
	switch r.Format {
	case FormatUnix, FormatUnixMS, FormatRFC3339:
		ts.format = r.Format
	default:
		e.add("timestamp.format", "must be one of [unix unix_ms rfc3339], got %q", r.Format)
	}
	if r.Window != nil {
		if d := *r.Window; d < 10*time.Second || d > 24*time.Hour {
			e.add("timestamp.window", "must be between 10s and 24h, got %s", d)
		} else {
			ts.window = d
		}
	}
	// A timestamp the signature does not cover can be refreshed by whoever replays a request.
	if sig.scheme != "" && !sig.covers(ts.src) {
		e.add("timestamp", "%s is not covered by the signature: add %q to signature.signed (or sign the body, for a pointer)", ts.src, ts.src.String())
	}
	return ts
}

func errOrRoot(err error) error {
	if err != nil {
		return err
	}
	return errors.New("the empty pointer is the whole document, not a field")
}

func compileFields(e *errs, r *rawFields) fieldSpec {
	var f fieldSpec
	if r == nil {
		e.add("fields", "is required (at least external_id and text)")
		return f
	}
	must := func(key, val string) Pointer {
		if val == "" {
			e.add("fields."+key, "is required")
			return Pointer{}
		}
		p, err := ParsePointer(val)
		if err != nil || p.IsRoot() {
			e.add("fields."+key, "invalid JSON pointer %q: %v", val, errOrRoot(err))
		}
		return p
	}
	opt := func(key, val string) *Pointer {
		if val == "" {
			return nil
		}
		p, err := ParsePointer(val)
		if err != nil || p.IsRoot() {
			e.add(key, "invalid JSON pointer %q: %v", val, errOrRoot(err))
			return nil
		}
		return &p
	}
	f.externalID = must("external_id", r.ExternalID)
	f.text = must("text", r.Text)
	f.sender = opt("fields.sender", r.Sender)
	f.phone = opt("fields.phone", r.Phone)
	f.name = opt("fields.name", r.Name)
	f.time = opt("fields.time", r.Time)
	switch SenderAs(r.SenderAs) {
	case "":
		f.senderAs = SenderUserID
	case SenderPhone, SenderWeiboUID, SenderOpenID, SenderUserID:
		f.senderAs = SenderAs(r.SenderAs)
	default:
		e.add("fields.sender_as", "must be one of [phone weibo_uid wechat_openid user_id], got %q", r.SenderAs)
	}
	if r.SenderAs != "" && r.Sender == "" {
		e.add("fields.sender", "is required when fields.sender_as is set")
	}
	if f.senderAs == SenderPhone && f.phone != nil {
		e.add("fields.phone", "is redundant when fields.sender_as is phone")
	}
	switch {
	case r.Time == "" && r.TimeFormat != "":
		e.add("fields.time", "is required when fields.time_format is set")
	case r.Time != "":
		switch r.TimeFormat {
		case FormatUnix, FormatUnixMS, FormatRFC3339:
			f.timeFormat = r.TimeFormat
		default:
			e.add("fields.time_format", "must be one of [unix unix_ms rfc3339], got %q", r.TimeFormat)
		}
	}
	if l := r.Location; l != nil {
		f.locationConfigured = true
		f.lat = opt("fields.location.lat", l.Lat)
		f.lng = opt("fields.location.lng", l.Lng)
		f.address = opt("fields.location.address", l.Address)
		if (l.Lat == "") != (l.Lng == "") {
			e.add("fields.location", "set both lat and lng, or neither")
		}
		if l.Lat == "" && l.Address == "" {
			e.add("fields.location", "set lat and lng, or address")
		}
	}
	if a := r.Attachments; a != nil {
		f.attachConfigured = true
		as := &attSpec{kindMap: map[string]intake.AttachmentKind{}, defaultKind: intake.AttachmentFile}
		as.items = must("attachments.items", a.Items)
		as.url = opt("fields.attachments.url", a.URL)
		as.mediaID = opt("fields.attachments.media_id", a.MediaID)
		as.kind = opt("fields.attachments.kind", a.Kind)
		as.ctype = opt("fields.attachments.content_type", a.ContentType)
		as.title = opt("fields.attachments.title", a.Title)
		if a.URL == "" && a.MediaID == "" {
			e.add("fields.attachments", "set url or media_id (pointers relative to each item)")
		}
		if a.DefaultKind != "" {
			if k := intake.AttachmentKind(a.DefaultKind); validKind(k) {
				as.defaultKind = k
			} else {
				e.add("fields.attachments.default_kind", "must be one of [image audio video file link], got %q", a.DefaultKind)
			}
		}
		for from, to := range a.KindMap {
			if k := intake.AttachmentKind(to); validKind(k) {
				as.kindMap[from] = k
			} else {
				e.add("fields.attachments.kind_map."+from, "must be one of [image audio video file link], got %q", to)
			}
		}
		f.att = as
	}
	f.metadata = map[string]Pointer{}
	for k, v := range r.Metadata {
		if k == MetadataSenderID || k == "" || len(k) > 64 {
			e.add("fields.metadata."+k, "is reserved or not a usable metadata key")
			continue
		}
		if p := opt("fields.metadata."+k, v); p != nil {
			f.metadata[k] = *p
			f.metadataKeys = append(f.metadataKeys, k)
		}
	}
	slices.Sort(f.metadataKeys)
	return f
}

func validKind(k intake.AttachmentKind) bool {
	switch k {
	case intake.AttachmentImage, intake.AttachmentAudio, intake.AttachmentVideo, intake.AttachmentFile, intake.AttachmentLink:
		return true
	}
	return false
}

// sampleDoc turns the sample setting — JSON text, or a YAML mapping — into JSON bytes.
func sampleDoc(v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return nil, errors.New("is required: a payload as the platform sends it, so that every pointer can be checked against it")
	case string:
		return []byte(strings.TrimSpace(t)), nil
	case map[string]any, []any:
		return json.Marshal(t)
	}
	return nil, fmt.Errorf("must be the JSON text of a payload (a YAML block string) or a mapping, got %T", v)
}

// checkSample resolves every configured pointer against the sample and extracts a submission
// from it with the same code requests use, so that config check fails on a pointer that would
// fail at run time.
func checkSample(e *errs, s *spec, v any) {
	b, err := sampleDoc(v)
	if err != nil {
		e.add("sample", "%v", err)
		return
	}
	doc, err := parseJSON(b)
	if err != nil {
		e.add("sample", "%v", err)
		return
	}
	s.sample = b
	resolve := func(key string, p *Pointer) {
		if p == nil {
			return
		}
		if v, ok := p.Get(doc); !ok {
			e.add(key, "pointer %q does not resolve against the sample", p.String())
		} else if v == nil {
			e.add(key, "pointer %q is null in the sample", p.String())
		}
	}
	f := s.fields
	resolve("fields.external_id", &f.externalID)
	resolve("fields.text", &f.text)
	resolve("fields.sender", f.sender)
	resolve("fields.phone", f.phone)
	resolve("fields.name", f.name)
	resolve("fields.time", f.time)
	resolve("fields.location.lat", f.lat)
	resolve("fields.location.lng", f.lng)
	resolve("fields.location.address", f.address)
	for _, k := range f.metadataKeys {
		p := f.metadata[k]
		resolve("fields.metadata."+k, &p)
	}
	if s.ts.src.kind == refPointer {
		resolve("timestamp.pointer", &s.ts.ptr)
		if v, ok := s.ts.ptr.Get(doc); ok && v != nil {
			if _, err := parseTime(v, s.ts.format); err != nil {
				e.add("timestamp.format", "the sample's %s does not parse as %s: %v", s.ts.ptr, s.ts.format, err)
			}
		}
	}
	if a := f.att; a != nil {
		items, ok := a.items.Get(doc)
		arr, isArr := items.([]any)
		switch {
		case !ok:
			e.add("fields.attachments.items", "pointer %q does not resolve against the sample", a.items.String())
		case !isArr:
			e.add("fields.attachments.items", "pointer %q must refer to an array in the sample", a.items.String())
		case len(arr) == 0:
			e.add("fields.attachments.items", "the sample's array at %q is empty: give one item so the item pointers can be checked", a.items.String())
		default:
			for _, c := range []struct {
				key string
				p   *Pointer
			}{{"url", a.url}, {"media_id", a.mediaID}, {"kind", a.kind}, {"content_type", a.ctype}, {"title", a.title}} {
				if c.p == nil {
					continue
				}
				found := false
				for _, it := range arr {
					if v, ok := c.p.Get(it); ok && v != nil {
						found = true
						break
					}
				}
				if !found {
					e.add("fields.attachments."+c.key, "pointer %q (relative to each item) resolves in no item of the sample's %s", c.p.String(), a.items.String())
				}
			}
		}
	}
	if len(e.list) > 0 {
		return
	}
	if _, ferr := s.fields.extract(doc, s.id, s.kind); ferr != nil {
		e.add(ferr.key, "the sample does not give a valid value: %s", ferr.problem)
	}
}

// parseJSON decodes one JSON object, numbers kept as written. Invalid UTF-8 and a member name
// given twice in one object are refused, not repaired: encoding/json would replace the bytes
// and keep the last of the two members, while the signature covers the body as sent and another
// reader of it may take the first. Neither refusal quotes the body.
func parseJSON(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, errors.New("malformed JSON: not valid UTF-8")
	}
	if err := jsonstrict.CheckDuplicateKeys(b); errors.Is(err, jsonstrict.ErrDuplicateKey) {
		return nil, errors.New("malformed JSON: a member name appears twice in one object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("malformed JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("malformed JSON: data after the document")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("malformed JSON: the payload must be an object")
	}
	return v, nil
}
