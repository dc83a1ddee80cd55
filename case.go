package intake

import "time"

// Case is the canonical case record, schema version 1. It is what the gateway stores,
// returns over REST and forwards to the case system. JSON names are part of the contract.
type Case struct {
	ID            string      `json:"id" validate:"required,uuid"`
	CaseNo        string      `json:"case_no" validate:"required,max=40"`
	QueryCode     string      `json:"query_code" validate:"required,len=6,numeric"`
	SchemaVersion int         `json:"schema_version" validate:"eq=1"`
	Channel       ChannelKind `json:"channel" validate:"required,oneof=phone wechat sms weibo rest open311"`
	ChannelID     string      `json:"channel_id" validate:"required,max=100"`
	ExternalID    string      `json:"external_id" validate:"required,max=200"`
	OccurredAt    time.Time   `json:"occurred_at" validate:"required"`
	ReceivedAt    time.Time   `json:"received_at" validate:"required"`

	Citizen        Citizen        `json:"citizen"`
	Content        Content        `json:"content"`
	Attachments    []Attachment   `json:"attachments" validate:"dive"`
	Location       *Location      `json:"location,omitempty"`
	Classification Classification `json:"classification"`
	Emergency      *Emergency     `json:"emergency"`
	Priority       Priority       `json:"priority" validate:"required,oneof=normal urgent"`
	DueAt          *time.Time     `json:"due_at"`
	Related        Related        `json:"related"`

	Status        Status         `json:"status" validate:"required,oneof=received forwarded accepted assigned resolved closed rejected"`
	StatusHistory []StatusChange `json:"status_history" validate:"dive"`
	// CaseRef is the case system's own id, once it has told us.
	CaseRef  string            `json:"case_ref,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Citizen is who sent the case. Phone is E.164 when the number was understood; otherwise the
// number as given is kept in PhoneRaw and PhoneInvalid is set, so a malformed number never loses
// a case.
type Citizen struct {
	Name         string `json:"name,omitempty" validate:"max=100"`
	Phone        string `json:"phone,omitempty" validate:"omitempty,e164"`
	PhoneRaw     string `json:"phone_raw,omitempty" validate:"max=64"`
	PhoneInvalid bool   `json:"phone_invalid,omitempty"`
	WeChatOpenID string `json:"wechat_openid,omitempty" validate:"max=128"`
	WeiboUID     string `json:"weibo_uid,omitempty" validate:"max=64"`
	Anonymous    bool   `json:"anonymous"`
	Confidential bool   `json:"confidential"`
}

// Content is what the citizen said. Text is the normalized form used by everything downstream;
// OriginalText is exactly what arrived.
type Content struct {
	Text         string    `json:"text" validate:"required"`
	OriginalText string    `json:"original_text"`
	Transcript   []Segment `json:"transcript,omitempty" validate:"dive"`
}

// Speaker is who spoke a transcript segment.
type Speaker string

// Transcript speakers.
const (
	SpeakerCaller Speaker = "caller"
	SpeakerAgent  Speaker = "agent"
)

// Segment is one turn of a phone-call transcript.
type Segment struct {
	Speaker    Speaker `json:"speaker" validate:"oneof=caller agent"`
	StartMS    int64   `json:"start_ms" validate:"gte=0"`
	EndMS      int64   `json:"end_ms" validate:"gtefield=StartMS"`
	Text       string  `json:"text"`
	Confidence float64 `json:"confidence" validate:"gte=0,lte=1"`
	// LowConfidence marks a segment the ASR was unsure of, for an operator to check.
	LowConfidence bool `json:"low_confidence,omitempty"`
}

// AttachmentKind is the type of an attachment.
type AttachmentKind string

// Attachment kinds.
const (
	AttachmentImage AttachmentKind = "image"
	AttachmentAudio AttachmentKind = "audio"
	AttachmentVideo AttachmentKind = "video"
	AttachmentFile  AttachmentKind = "file"
	AttachmentLink  AttachmentKind = "link"
)

// Attachment is media or a link that came with the case. Either URL or MediaID names it.
type Attachment struct {
	Kind          AttachmentKind `json:"kind" validate:"required,oneof=image audio video file link"`
	URL           string         `json:"url,omitempty" validate:"omitempty,url,max=2048"`
	MediaID       string         `json:"media_id,omitempty" validate:"max=256"`
	ContentType   string         `json:"content_type,omitempty" validate:"max=128"`
	Title         string         `json:"title,omitempty" validate:"max=500"`
	Transcription string         `json:"transcription,omitempty"`
}

// LocationSource says where a location came from.
type LocationSource string

// Location sources.
const (
	LocationGPS   LocationSource = "gps"
	LocationLabel LocationSource = "label"
	LocationText  LocationSource = "text"
)

// Location is where the matter is. Lat/Lng are WGS84 and present only when known.
type Location struct {
	Lat      *float64       `json:"lat,omitempty" validate:"omitempty,latitude"`
	Lng      *float64       `json:"lng,omitempty" validate:"omitempty,longitude"`
	Address  string         `json:"address,omitempty" validate:"max=500"`
	District string         `json:"district,omitempty" validate:"max=100"`
	Source   LocationSource `json:"source,omitempty" validate:"omitempty,oneof=gps label text"`
}

// RequestType is the kind of request (诉求类型).
type RequestType string

// Request types.
const (
	RequestConsult    RequestType = "consult"
	RequestHelp       RequestType = "help"
	RequestComplaint  RequestType = "complaint"
	RequestReport     RequestType = "report"
	RequestSuggestion RequestType = "suggestion"
	RequestPraise     RequestType = "praise"
	RequestOther      RequestType = "other"
)

// Valid reports whether t is a known request type.
func (t RequestType) Valid() bool {
	switch t {
	case RequestConsult, RequestHelp, RequestComplaint, RequestReport, RequestSuggestion, RequestPraise, RequestOther:
		return true
	}
	return false
}

// Classification is what the case is about. When an operator chose the category or request type,
// Source is "operator" and the automatic guess is kept in AutoCategory/AutoRequestType.
type Classification struct {
	RequestType  RequestType `json:"request_type" validate:"required,oneof=consult help complaint report suggestion praise other"`
	Category     string      `json:"category" validate:"required,max=64"`
	CategoryName string      `json:"category_name"`
	Confidence   float64     `json:"confidence" validate:"gte=0,lte=1"`
	MatchedTerms []string    `json:"matched_terms"`
	// ModelTerms are the features (character n-grams, rule findings) that weighed most for what
	// the learned model decided; empty when the rules decided everything.
	ModelTerms []string `json:"model_terms,omitempty"`
	// NeedsReview asks an operator to check the classification: its confidence is low.
	NeedsReview      bool   `json:"needs_review"`
	OutOfScope       bool   `json:"out_of_scope"`
	OutOfScopeCode   string `json:"out_of_scope_code,omitempty"`
	OutOfScopeReason string `json:"out_of_scope_reason,omitempty"`
	// Referral is where an out-of-scope matter belongs instead ("人民法院/12368").
	Referral string `json:"referral,omitempty"`
	// EmergencyConfidence and OutOfScopeConfidence are the learned model's probabilities that
	// the text describes an emergency or a matter outside the hotline's remit (absent without a
	// model), whatever the rules then decided: an operator sees how close a call was.
	EmergencyConfidence  float64     `json:"emergency_confidence,omitempty" validate:"gte=0,lte=1"`
	OutOfScopeConfidence float64     `json:"out_of_scope_confidence,omitempty" validate:"gte=0,lte=1"`
	Source               string      `json:"source" validate:"oneof=auto operator"`
	AutoCategory         string      `json:"auto_category,omitempty"`
	AutoRequestType      RequestType `json:"auto_request_type,omitempty"`
}

// EmergencyKind names the emergency service a case belongs to.
type EmergencyKind string

// Emergency kinds and their numbers.
const (
	EmergencyPolice  EmergencyKind = "police"  // 110
	EmergencyFire    EmergencyKind = "fire"    // 119
	EmergencyMedical EmergencyKind = "medical" // 120
	EmergencyTraffic EmergencyKind = "traffic" // 122
)

// Emergency is set when the case describes immediate danger.
type Emergency struct {
	Kind   EmergencyKind `json:"kind" validate:"oneof=police fire medical traffic"`
	Number string        `json:"number"`
	Advice string        `json:"advice"`
}

// Priority of a case.
type Priority string

// Priorities.
const (
	PriorityNormal Priority = "normal"
	PriorityUrgent Priority = "urgent"
)

// Related links a case to others: a repeated request (DuplicateOf), a conversation it continues
// (ThreadOf), and how many later submissions were merged into it.
type Related struct {
	DuplicateOf string `json:"duplicate_of,omitempty" validate:"omitempty,uuid"`
	ThreadOf    string `json:"thread_of,omitempty" validate:"omitempty,uuid"`
	MergedCount int    `json:"merged_count"`
}

// Status is where a case is in its life.
type Status string

// Statuses.
const (
	StatusReceived  Status = "received"
	StatusForwarded Status = "forwarded"
	StatusAccepted  Status = "accepted"
	StatusAssigned  Status = "assigned"
	StatusResolved  Status = "resolved"
	StatusClosed    Status = "closed"
	StatusRejected  Status = "rejected"
)

// Statuses lists every status in life-cycle order.
func Statuses() []Status {
	return []Status{StatusReceived, StatusForwarded, StatusAccepted, StatusAssigned, StatusResolved, StatusClosed, StatusRejected}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, known := range Statuses() {
		if s == known {
			return true
		}
	}
	return false
}

// StatusChange is one entry of a case's status history. Event says what happened; Status is the
// status it led to (for a progress note, the status the case had).
type StatusChange struct {
	Status     Status    `json:"status" validate:"required"`
	Event      string    `json:"event,omitempty"`
	At         time.Time `json:"at"`
	Source     string    `json:"source"`
	EventID    string    `json:"event_id,omitempty"`
	Department string    `json:"department,omitempty"`
	Message    string    `json:"message,omitempty"`
}

// Case events reported by the case system, and the status each leads to. A progress note leads
// to none: it is history, not a change.
var eventStatus = map[string]Status{
	"accepted": StatusAccepted,
	"assigned": StatusAssigned,
	"progress": "",
	"resolved": StatusResolved,
	"closed":   StatusClosed,
	"rejected": StatusRejected,
	"reopened": StatusAssigned,
}

// Events that record without changing the status: a progress note from the case system, and
// the citizen's satisfaction answer.
const (
	EventProgress = "progress"
	EventFeedback = "feedback"
)

// ChangesStatus reports whether a history event moves the case's status.
func ChangesStatus(event string) bool { return event != EventProgress && event != EventFeedback }

// StatusForEvent returns the status a case-system event leads to; ok=false for an unknown
// event, and an empty status for a progress note.
func StatusForEvent(event string) (Status, bool) {
	s, ok := eventStatus[event]
	return s, ok
}
