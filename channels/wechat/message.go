package wechat

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hotline12345/intake-gateway/channels"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/app"
)

// inbound is a decoded push: a citizen message, an event, or something answered with "success"
// without involving the Receiver (VIEW, unknown types).
type inbound struct {
	// typeLabel names the push in metrics: the MsgType, or "event:" + the event.
	typeLabel string
	msg       *app.Message
	ev        *app.Event
	unknown   bool
	// from and to are the citizen's openid and the account's gh_ id, for the reply.
	from, to string
}

// decode turns the fields of an authenticated (and, in safe mode, decrypted) message into what
// the Receiver gets. doc is the message XML the fields came from; raw and ctype are the request
// body as received.
func (s *settings) decode(f fields, doc, raw []byte, ctype string) (inbound, *channels.Rejection) {
	to, from := f["ToUserName"], f["FromUserName"]
	if to == "" {
		return inbound{}, channels.Reject(http.StatusBadRequest, "missing_field", "missing ToUserName")
	}
	// A push for another account means a misrouted or replayed request: never make a case of it.
	if s.accountID != "" && to != s.accountID {
		return inbound{}, channels.Reject(http.StatusForbidden, "wrong_account", "ToUserName is not this account")
	}
	if from == "" || len(from) > 128 || strings.IndexFunc(from, notIDRune) >= 0 {
		return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid FromUserName")
	}
	created, ok := parseUnixSeconds(f["CreateTime"])
	if !ok {
		return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid CreateTime")
	}
	// Checked here and not only when a case is created: a message that joins an open case as a
	// supplement, and an event, never reach the core's check of the case's timestamp.
	if time.Unix(created, 0).Before(intake.EarliestTimestamp()) {
		return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "CreateTime before 2000-01-01")
	}
	msgType := f["MsgType"]
	if msgType == "" {
		return inbound{}, channels.Reject(http.StatusBadRequest, "missing_field", "missing MsgType")
	}
	in := inbound{from: from, to: to}
	citizen := intake.CitizenInput{WeChatOpenID: from}

	if strings.EqualFold(msgType, "event") {
		return s.decodeEvent(in, f, citizen, created)
	}

	sub := intake.Submission{
		Channel:    intake.ChannelWeChat,
		ChannelID:  s.id,
		OccurredAt: time.Unix(created, 0).UTC(),
		Citizen:    citizen,
		Metadata:   map[string]string{"wechat_msg_type": msgType},
		Raw:        intake.RawPayload{ContentType: ctype, Body: raw},
	}
	sum := sha256.Sum256(doc)
	sub.PayloadHash = hex.EncodeToString(sum[:])

	switch msgType {
	case "text":
		sub.Text = f["Content"]
		if strings.TrimSpace(sub.Text) == "" {
			return inbound{}, channels.Reject(http.StatusBadRequest, "empty_text", "empty text")
		}
	case "voice":
		if rej := checkMediaID(f["MediaId"]); rej != nil {
			return inbound{}, rej
		}
		rec := strings.TrimSpace(f["Recognition"])
		att := intake.Attachment{Kind: intake.AttachmentAudio, MediaID: f["MediaId"], ContentType: voiceType(f["Format"]), Transcription: rec}
		sub.Attachments = []intake.Attachment{att}
		sub.Text = rec
		if rec == "" {
			sub.Text = s.placeholders["voice"]
		}
		if f["Format"] != "" {
			sub.Metadata["wechat_voice_format"] = f["Format"]
		}
	case "image":
		// WeChat sends every image with its MediaId: an image with only a PicUrl (any URL the
		// sender liked) is not a WeChat push.
		if rej := checkMediaID(f["MediaId"]); rej != nil {
			return inbound{}, rej
		}
		att := intake.Attachment{Kind: intake.AttachmentImage, MediaID: f["MediaId"]}
		if httpURL(f["PicUrl"]) {
			att.URL = f["PicUrl"]
		}
		sub.Attachments = []intake.Attachment{att}
		sub.Text = s.placeholders["image"]
	case "video", "shortvideo":
		if rej := checkMediaID(f["MediaId"]); rej != nil {
			return inbound{}, rej
		}
		sub.Attachments = []intake.Attachment{{Kind: intake.AttachmentVideo, MediaID: f["MediaId"]}}
		sub.Text = s.placeholders[msgType]
		if f["ThumbMediaId"] != "" {
			sub.Metadata["wechat_thumb_media_id"] = f["ThumbMediaId"]
		}
	case "location":
		lat, lng, ok := parseLatLng(f["Location_X"], f["Location_Y"])
		if !ok {
			return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid Location_X/Location_Y")
		}
		label := strings.TrimSpace(f["Label"])
		sub.Location = &intake.Location{Lat: &lat, Lng: &lng, Address: label, Source: intake.LocationGPS}
		sub.Text = joinNonEmpty(" ", s.placeholders["location"], label)
		if f["Scale"] != "" {
			sub.Metadata["wechat_scale"] = f["Scale"]
		}
	case "link":
		title, desc, u := strings.TrimSpace(f["Title"]), strings.TrimSpace(f["Description"]), strings.TrimSpace(f["Url"])
		if httpURL(u) {
			sub.Attachments = []intake.Attachment{{Kind: intake.AttachmentLink, URL: u, Title: title}}
		} else if u != "" {
			// Not a URL the record can hold as a link; keep what the citizen sent in the text.
			desc = joinNonEmpty("\n", desc, u)
		}
		if title == "" && desc == "" && len(sub.Attachments) == 0 {
			return inbound{}, channels.Reject(http.StatusBadRequest, "empty_text", "empty link")
		}
		sub.Text = joinNonEmpty("\n", title, desc)
		if sub.Text == "" {
			sub.Text = s.placeholders["link"]
		}
	case "file":
		title := strings.TrimSpace(f["Title"])
		if f["MediaId"] != "" {
			if rej := checkMediaID(f["MediaId"]); rej != nil {
				return inbound{}, rej
			}
			sub.Attachments = []intake.Attachment{{Kind: intake.AttachmentFile, MediaID: f["MediaId"], Title: title}}
		}
		for _, k := range []string{"FileKey", "FileMd5", "FileTotalLen"} {
			if f[k] != "" {
				sub.Metadata["wechat_"+strings.ToLower(k)] = f[k]
			}
		}
		sub.Text = joinNonEmpty(" ", s.placeholders["file"], title)
	default:
		in.typeLabel, in.unknown = msgType, true
		return in, nil
	}

	id := f["MsgId"]
	if !validMsgID(id) {
		return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid MsgId (a positive integer)")
	}
	sub.ExternalID = id
	in.typeLabel = msgType
	in.msg = &app.Message{Submission: sub}
	return in, nil
}

func (s *settings) decodeEvent(in inbound, f fields, citizen intake.CitizenInput, created int64) (inbound, *channels.Rejection) {
	event := f["Event"]
	if event == "" {
		return inbound{}, channels.Reject(http.StatusBadRequest, "missing_field", "missing Event")
	}
	ev := &app.Event{
		Channel:   intake.ChannelWeChat,
		ChannelID: s.id,
		// WeChat's advice is FromUserName+CreateTime; the event name is added because a new
		// follower's subscribe and the LOCATION report that may follow can share one second.
		ExternalID: in.from + ":" + strconv.FormatInt(created, 10) + ":" + strings.ToLower(event),
		Citizen:    citizen,
	}
	switch strings.ToLower(event) {
	case "subscribe":
		ev.Kind = app.EventSubscribe
		// Following through a parametric QR code carries qrscene_<scene>.
		ev.Key = strings.TrimPrefix(f["EventKey"], "qrscene_")
	case "unsubscribe":
		ev.Kind = app.EventUnsubscribe
	case "click":
		ev.Kind = app.EventMenuClick
		ev.Key = f["EventKey"]
	case "scan":
		ev.Kind = app.EventScan
		ev.Key = f["EventKey"]
	case "location":
		lat, lng, ok := parseLatLng(f["Latitude"], f["Longitude"])
		if !ok {
			return inbound{}, channels.Reject(http.StatusBadRequest, "bad_field", "missing or invalid Latitude/Longitude")
		}
		ev.Kind = app.EventLocation
		ev.Location = &intake.Location{Lat: &lat, Lng: &lng, Source: intake.LocationGPS}
	case "view":
		// A menu link the citizen opened: WeChat shows the page, there is nothing to answer.
		in.typeLabel = "event:VIEW"
		return in, nil
	default:
		in.typeLabel, in.unknown = "event:"+event, true
		return in, nil
	}
	in.typeLabel = "event:" + string(ev.Kind)
	in.ev = ev
	return in, nil
}

// validMsgID accepts what WeChat sends as MsgId: a positive 64-bit integer in decimal digits. A
// zero, a sign or any other text is not WeChat's and would let one message be stored under
// several spellings of its id.
func validMsgID(s string) bool {
	if s == "" || len(s) > 20 || s[0] < '1' || s[0] > '9' {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n > 0
}

// checkMediaID refuses a media message without a usable MediaId: the id is how the media job
// fetches the file, and it travels as a URL parameter of WeChat's API.
func checkMediaID(id string) *channels.Rejection {
	switch {
	case id == "":
		return channels.Reject(http.StatusBadRequest, "missing_field", "missing MediaId")
	case len(id) > 256 || strings.IndexFunc(id, notIDRune) >= 0:
		return channels.Reject(http.StatusBadRequest, "bad_field", "invalid MediaId")
	}
	return nil
}

// notIDRune is true for runes that never occur in openids and message ids.
func notIDRune(r rune) bool {
	return r > unicode.MaxASCII || unicode.IsSpace(r) || unicode.IsControl(r)
}

// parseUnixSeconds reads a positive decimal number of seconds (CreateTime, timestamp).
// ParseInt alone would take "+5" and "-1".
func parseUnixSeconds(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 12 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
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

func httpURL(s string) bool {
	if s == "" || len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func voiceType(format string) string {
	switch strings.ToLower(format) {
	case "amr":
		return "audio/amr"
	case "speex":
		return "audio/speex"
	case "mp3":
		return "audio/mpeg"
	}
	return ""
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
