package twilio

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// Texts put in a case when the citizen's words are not available. They are read by operators.
const (
	// MediaOnlyText is the case text of an MMS that carries media but no text.
	MediaOnlyText = "[市民发送了彩信附件，无文字说明]"
	// ManualTranscriptionText is the case text of a call whose recording Twilio could not
	// transcribe; the recording is attached for an operator to transcribe.
	ManualTranscriptionText = "[录音待人工转写]"
)

// Metadata keys this package sets on submissions.
const (
	MetaFromCity                 = "from_city"
	MetaFromState                = "from_state"
	MetaFromCountry              = "from_country"
	MetaTo                       = "to"
	MetaSMSFormat                = "sms_format" // "structured" for the 12345#姓名#地址#内容 form
	MetaMediaOnly                = "media_only"
	MetaTranscriptionSID         = "transcription_sid"
	MetaTranscriptionStatus      = "transcription_status"
	MetaRecordingSID             = "recording_sid"
	MetaNeedsManualTranscription = "needs_manual_transcription"
)

// maxMedia is the most media Twilio attaches to one MMS.
const maxMedia = 10

// one returns the single value of name; a name given twice is refused, so that two values
// never silently disagree.
func one(p url.Values, name string) (string, *requestError) {
	vals := p[name]
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vals[0]), nil
	}
	return "", badRequest("field %s is repeated", name)
}

// sid checks a Twilio identifier: required, ASCII letters and digits, at most 64 characters.
func sid(p url.Values, name string) (string, *requestError) {
	v, rerr := one(p, name)
	if rerr != nil {
		return "", rerr
	}
	if v == "" {
		return "", badRequest("%s is required", name)
	}
	if len(v) > 64 || !isAlnum(v) {
		return "", badRequest("%s is not a Twilio identifier", name)
	}
	return v, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// phone returns the required From; normalization to E.164 happens in the core.
func phone(p url.Values, name string) (string, *requestError) {
	v, rerr := one(p, name)
	if rerr != nil {
		return "", rerr
	}
	if v == "" {
		return "", badRequest("%s is required", name)
	}
	if utf8.RuneCountInString(v) > 64 {
		return "", badRequest("%s is too long", name)
	}
	return v, nil
}

// mediaURL checks an absolute http(s) URL as the case record accepts it.
func mediaURL(field, v string) *requestError {
	if len(v) > 2048 {
		return badRequest("%s is longer than 2048 characters", field)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return badRequest("%s is not an absolute http(s) URL", field)
	}
	return nil
}

// mediaIndex parses the N of MediaUrlN: decimal, no sign, no leading zeros.
func mediaIndex(s string) (int, bool) {
	if s == "" || len(s) > 2 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// attachmentKind maps a media content type to the case record's attachment kind.
func attachmentKind(contentType string) intake.AttachmentKind {
	major, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(contentType)), "/")
	switch major {
	case "image":
		return intake.AttachmentImage
	case "audio":
		return intake.AttachmentAudio
	case "video":
		return intake.AttachmentVideo
	}
	return intake.AttachmentFile
}

// parseMedia reads NumMedia and MediaUrlN/MediaContentTypeN. Every index below NumMedia must
// carry a URL, no field may name an index at or above it, and media fields without NumMedia
// are refused: a disagreement means the request is not what Twilio sends.
func parseMedia(p url.Values) ([]intake.Attachment, *requestError) {
	numStr, rerr := one(p, "NumMedia")
	if rerr != nil {
		return nil, rerr
	}
	num := 0
	if numStr != "" {
		n, err := strconv.Atoi(numStr)
		if err != nil || n < 0 || n > maxMedia || (len(numStr) > 1 && numStr[0] == '0') {
			return nil, badRequest("NumMedia %q is not a number from 0 to %d", numStr, maxMedia)
		}
		num = n
	}
	for k := range p {
		var idx string
		switch {
		case strings.HasPrefix(k, "MediaUrl"):
			idx = k[len("MediaUrl"):]
		case strings.HasPrefix(k, "MediaContentType"):
			idx = k[len("MediaContentType"):]
		default:
			continue
		}
		n, ok := mediaIndex(idx)
		if !ok || n >= num {
			return nil, badRequest("field %s disagrees with NumMedia=%d", k, num)
		}
	}
	if num == 0 {
		return nil, nil
	}
	out := make([]intake.Attachment, 0, num)
	for i := range num {
		urlField := "MediaUrl" + strconv.Itoa(i)
		u, rerr := one(p, urlField)
		if rerr != nil {
			return nil, rerr
		}
		if u == "" {
			return nil, badRequest("NumMedia=%d but %s is missing", num, urlField)
		}
		if rerr := mediaURL(urlField, u); rerr != nil {
			return nil, rerr
		}
		ct, rerr := one(p, "MediaContentType"+strconv.Itoa(i))
		if rerr != nil {
			return nil, rerr
		}
		if len(ct) > 128 {
			return nil, badRequest("MediaContentType%d is too long", i)
		}
		out = append(out, intake.Attachment{Kind: attachmentKind(ct), URL: u, ContentType: ct})
	}
	return out, nil
}

// metadata copies the optional fields present into a metadata map.
func metadata(p url.Values, fields map[string]string) (map[string]string, *requestError) {
	m := map[string]string{}
	for param, key := range fields {
		v, rerr := one(p, param)
		if rerr != nil {
			return nil, rerr
		}
		if v != "" {
			if utf8.RuneCountInString(v) > 200 {
				return nil, badRequest("%s is too long", param)
			}
			m[key] = v
		}
	}
	return m, nil
}

// smsSubmission builds the submission of an inbound SMS/MMS webhook.
func smsSubmission(channelID string, req *request) (intake.Submission, *requestError) {
	p := req.params
	messageSID, rerr := sid(p, "MessageSid")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	from, rerr := phone(p, "From")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	body, rerr := one(p, "Body")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	attachments, rerr := parseMedia(p)
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	meta, rerr := metadata(p, map[string]string{
		"FromCity": MetaFromCity, "FromState": MetaFromState, "FromCountry": MetaFromCountry, "To": MetaTo,
	})
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	sub := intake.Submission{
		Channel:     intake.ChannelSMS,
		ChannelID:   channelID,
		ExternalID:  messageSID,
		Citizen:     intake.CitizenInput{Phone: from},
		Text:        body,
		Attachments: attachments,
		Metadata:    meta,
		Raw:         req.raw(),
		PayloadHash: req.payloadHash(),
	}
	if s, ok := ParseStructured(body); ok {
		sub.Text = s.Content
		sub.Citizen.Name = s.Name
		if s.Address != "" {
			sub.Location = &intake.Location{Address: s.Address, Source: intake.LocationText}
		}
		meta[MetaSMSFormat] = "structured"
	}
	if strings.TrimFunc(sub.Text, unicode.IsSpace) == "" && len(attachments) > 0 {
		sub.Text = MediaOnlyText
		meta[MetaMediaOnly] = "true"
	}
	if len(meta) == 0 {
		sub.Metadata = nil
	}
	return sub, nil
}

// transcriptionSubmission builds the submission of a <Record transcribe> callback: a phone case
// keyed by CallSid, the recording attached, and the transcription as its text. A failed or empty
// transcription still makes the case, flagged for manual transcription.
func transcriptionSubmission(channelID string, req *request) (intake.Submission, *requestError) {
	p := req.params
	callSID, rerr := sid(p, "CallSid")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	from, rerr := phone(p, "From")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	text, rerr := one(p, "TranscriptionText")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	status, rerr := one(p, "TranscriptionStatus")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	recording, rerr := one(p, "RecordingUrl")
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	meta, rerr := metadata(p, map[string]string{
		"To": MetaTo, "TranscriptionSid": MetaTranscriptionSID, "TranscriptionStatus": MetaTranscriptionStatus,
		"RecordingSid": MetaRecordingSID,
	})
	if rerr != nil {
		return intake.Submission{}, rerr
	}
	transcribed := strings.EqualFold(status, "completed") && strings.TrimFunc(text, unicode.IsSpace) != ""
	sub := intake.Submission{
		Channel:     intake.ChannelPhone,
		ChannelID:   channelID,
		ExternalID:  callSID,
		Citizen:     intake.CitizenInput{Phone: from},
		Text:        text,
		Metadata:    meta,
		Raw:         req.raw(),
		PayloadHash: req.payloadHash(),
	}
	if !transcribed {
		sub.Text = ManualTranscriptionText
		meta[MetaNeedsManualTranscription] = "true"
	}
	if recording != "" {
		if rerr := mediaURL("RecordingUrl", recording); rerr != nil {
			return intake.Submission{}, rerr
		}
		a := intake.Attachment{Kind: intake.AttachmentAudio, URL: recording}
		if transcribed {
			a.Transcription = text
		}
		sub.Attachments = []intake.Attachment{a}
	}
	return sub, nil
}

// statusUpdate is one status callback for a message the gateway sent.
type statusUpdate struct {
	MessageSID string
	// Status is Twilio's MessageStatus: queued, sending, sent, delivered, undelivered, failed,
	// read, … (Twilio adds values; any lower-case word is passed on).
	Status string
	// ErrorCode is Twilio's numeric error code for undelivered/failed messages; empty otherwise.
	ErrorCode string
}

// deliveryStatus reads a status callback. Older callbacks name the fields SmsSid/SmsStatus.
func deliveryStatus(p url.Values) (statusUpdate, *requestError) {
	sidField := "MessageSid"
	if len(p["MessageSid"]) == 0 && len(p["SmsSid"]) > 0 {
		sidField = "SmsSid"
	}
	messageSID, rerr := sid(p, sidField)
	if rerr != nil {
		return statusUpdate{}, rerr
	}
	status, rerr := one(p, "MessageStatus")
	if rerr != nil {
		return statusUpdate{}, rerr
	}
	if status == "" {
		if status, rerr = one(p, "SmsStatus"); rerr != nil {
			return statusUpdate{}, rerr
		}
	}
	if status == "" {
		return statusUpdate{}, badRequest("MessageStatus is required")
	}
	if len(status) > 32 || strings.IndexFunc(status, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '_' || r == '-') }) >= 0 {
		return statusUpdate{}, badRequest("MessageStatus %q is not a status", status)
	}
	code, rerr := one(p, "ErrorCode")
	if rerr != nil {
		return statusUpdate{}, rerr
	}
	if code != "" && (len(code) > 10 || strings.IndexFunc(code, func(r rune) bool { return r < '0' || r > '9' }) >= 0) {
		return statusUpdate{}, badRequest("ErrorCode %q is not a number", code)
	}
	return statusUpdate{MessageSID: messageSID, Status: status, ErrorCode: code}, nil
}
