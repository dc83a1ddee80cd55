package app

import intake "github.com/hotline12345/intake-gateway"

// The conversation's vocabulary, shared with the channels: what a channel hands in (a Message or
// an Event) and what it answers with (a Reply).

// Message is one inbound citizen message, already authenticated and parsed by its channel.
// Submission carries channel kind, channel id, external id (the platform's message id, or the
// channel's documented substitute), citizen identifiers, text, attachments, location and the raw
// payload.
type Message struct {
	Submission intake.Submission
	// Public marks a message that is publicly visible (a Weibo @mention): replies must carry no
	// personal data of the case and invite the citizen to continue privately.
	Public bool
}

// EventKind is a non-message event from a platform.
type EventKind string

// Events channels report.
const (
	EventSubscribe   EventKind = "subscribe"   // followed the account (WeChat subscribe, Weibo follow)
	EventUnsubscribe EventKind = "unsubscribe" // unfollowed; recorded, never answered
	EventMenuClick   EventKind = "click"       // a menu item with Key
	EventScan        EventKind = "scan"        // scanned a QR code (Key = scene)
	EventLocation    EventKind = "location"    // reported the citizen's position (Location)
)

// Event is a platform event that is not a citizen message.
type Event struct {
	Kind       EventKind
	Channel    intake.ChannelKind
	ChannelID  string
	ExternalID string
	Citizen    intake.CitizenInput
	// Key is the menu key of a click or the scene of a scan.
	Key      string
	Location *intake.Location
}

// Outcome says what a Receiver did with a message.
type Outcome string

// Outcomes.
const (
	OutcomeCreated     Outcome = "created"      // a new case
	OutcomeDuplicate   Outcome = "duplicate"    // a retry of a message already handled; same reply as the first time
	OutcomeSupplement  Outcome = "supplement"   // joined the citizen's open case
	OutcomeCaseFull    Outcome = "case_full"    // would have joined the open case, which is full; nothing added
	OutcomeStatusQuery Outcome = "status_query" // answered a status query; no case
	OutcomeOptOut      Outcome = "opt_out"      // notifications stopped or resumed
	OutcomeFeedback    Outcome = "feedback"     // a satisfaction-survey answer
	OutcomeIgnored     Outcome = "ignored"      // nothing to do (e.g. unsubscribe, VIEW)
)

// Reply is what to answer on the channel. Text may be empty: the channel then sends its "nothing
// to say" answer (WeChat "success", an empty TwiML <Response/>, an empty Weibo body).
type Reply struct {
	Text    string
	Outcome Outcome
	Case    *intake.Case
}
