package intake

import (
	"context"
	"time"
)

// Store keeps cases durably. Both drivers (PostgreSQL and embedded SQLite) satisfy it and pass
// one contract test suite, so the rest of the gateway never knows which one runs. It is the
// sum of the roles below; every consumer declares the part it uses. (The stores also keep
// WeChat's access tokens for the wechat channel, which declares that role itself.)
type Store interface {
	// CreateCase stores a new case, its raw payload, its first status entry and its forwarding
	// job in one transaction, and assigns the case number. If (channel_id, external_id) is
	// already stored, nothing is written and the existing case is returned with Created=false.
	CreateCase(ctx context.Context, nc NewCase) (CreateResult, error)
	// GetCase finds a case by gateway id or case number.
	GetCase(ctx context.Context, ref string) (*Case, error)
	// ListCases returns cases newest first, filtered, one page at a time.
	ListCases(ctx context.Context, f CaseFilter) (CasePage, error)
	// AddStatus appends to a case's status history and moves its current status, and stores
	// notes (the citizen's notifications of the change) with their sending jobs, all in one
	// transaction: an event and what the citizen is told of it are recorded together or not at
	// all. It is idempotent by change.EventID when one is given: a repeated event returns
	// applied=false and stores no notification.
	AddStatus(ctx context.Context, caseID string, change StatusChange, notes []Notification) (applied bool, err error)
	// Deliveries lists the outbound deliveries (forwarding jobs) of a case, oldest first.
	Deliveries(ctx context.Context, caseID string) ([]Delivery, error)
	// Ready reports whether the store is reachable and its schema is current.
	Ready(ctx context.Context) error
	Close() error

	Conversations
	Forwarding
	Notifications
	Requests
	Nonces
	LookupLimits
	// PruneExpired removes the request nonces and look-up counters that expired before before,
	// and reports how many rows went. The stores also run it on their own every minute, so that
	// neither table grows with the traffic.
	PruneExpired(ctx context.Context, before time.Time) (removed int64, err error)
}

// Nonces remembers authenticated webhook requests whose signature does not cover the body
// (WeChat plaintext pushes, Weibo, webhook channels that sign only a timestamp and a nonce).
// Their signature stays valid for the platform's whole timestamp window, so whoever captured one
// could otherwise send any body under it; remembering what each signature first came with, in
// the store every replica shares, leaves a captured request good for nothing but a retry.
type Nonces interface {
	// ClaimNonce records the first use of a signature on a channel, bound to the hash of the body
	// it came with, until ExpiresAt. It reports whether the request may go on: true for the first
	// use and for a repeat with the same body hash (the platform's own retry), false for a repeat
	// with another body. An entry whose ExpiresAt lies before c.At counts as gone.
	ClaimNonce(ctx context.Context, c NonceClaim) (ok bool, err error)
}

// NonceClaim is one authenticated request as Nonces remembers it.
type NonceClaim struct {
	ChannelID string
	// Signature is the request's signature in one canonical spelling; with ChannelID it is the
	// key. The nonce is not part of it: a sorted-and-concatenated signature (WeChat, Weibo) also
	// verifies for another split of the same digits into timestamp and nonce, which must not
	// count as a new request.
	Signature string
	// Nonce is kept beside the signature for the record.
	Nonce    string
	BodyHash string
	// At is when the request arrived; ExpiresAt is when its timestamp leaves the channel's window,
	// after which the timestamp check refuses the request anyway.
	At, ExpiresAt time.Time
}

// LookupLimits counts failed status look-ups ("查询 <工单编号> <查询码>" with a wrong code or an
// unknown number) per key — a case number, a sender — in the store, so that every replica
// enforces one limit and rotating replicas or sender ids does not multiply the guesses.
type LookupLimits interface {
	// LookupLocked reports whether any of keys is locked out at at.
	LookupLocked(ctx context.Context, keys []string, at time.Time) (bool, error)
	// RecordLookupFailure counts one failed look-up against each key at at. A key whose
	// failures within p.Window reach p.Limit is locked out until at+p.Lockout. It returns the keys
	// that this failure locked (each is returned by exactly one failure, however many race).
	RecordLookupFailure(ctx context.Context, keys []string, at time.Time, p LookupPolicy) (locked []string, err error)
}

// LookupPolicy is how many failed look-ups a key may have within Window before it is locked out
// for Lockout.
type LookupPolicy struct {
	Limit   int
	Window  time.Duration
	Lockout time.Duration
}

// Notifications keeps the messages sent to citizens about their cases.
type Notifications interface {
	// QueueNotification stores a notification and its sending job in one transaction.
	QueueNotification(ctx context.Context, n Notification) (Notification, error)
	GetNotification(ctx context.Context, id string) (*Notification, error)
	// UpdateNotification records a sending outcome (and, after a fallback, the new channel).
	UpdateNotification(ctx context.Context, n Notification) error
	// UpdateNotificationByRef records a delivery report from a platform (e.g. Twilio's status
	// callback), found by the platform's message id; found=false when no notification has it.
	UpdateNotificationByRef(ctx context.Context, channelID, ref string, state NotificationState, reason string, at time.Time) (found bool, err error)
	// CaseNotifications lists a case's notifications, oldest first.
	CaseNotifications(ctx context.Context, caseID string) ([]Notification, error)
}

// NotificationState is where a message to a citizen stands.
type NotificationState string

// Notification states.
const (
	NotificationQueued    NotificationState = "queued"
	NotificationSent      NotificationState = "sent"
	NotificationDelivered NotificationState = "delivered"
	NotificationFailed    NotificationState = "failed"
)

// Notification is one message to a citizen about their case.
type Notification struct {
	ID        string            `json:"id"`
	CaseID    string            `json:"case_id"`
	Event     string            `json:"event"`
	Channel   ChannelKind       `json:"channel"`
	ChannelID string            `json:"channel_id"`
	Address   string            `json:"-"`
	Text      string            `json:"-"`
	State     NotificationState `json:"state"`
	Reason    string            `json:"reason,omitempty"`
	// ProviderRef is the platform's id of the sent message (Twilio MessageSid, WeChat msgid).
	ProviderRef string    `json:"provider_ref,omitempty"`
	Attempts    int       `json:"attempts"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Forwarding is what the forwarding workers need from the store: the gateway's own durable
// record of every delivery, its attempts, and replays of dead ones.
type Forwarding interface {
	// GetDelivery reads one delivery.
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	// DeliveryWithCase reads a delivery and the current record of its case together (what a
	// forwarding worker sends).
	DeliveryWithCase(ctx context.Context, id string) (*Delivery, *Case, error)
	// EarlierPending returns the oldest delivery of the same case and target created before d
	// that is not delivered yet, or nil: a later event waits for the earlier ones.
	EarlierPending(ctx context.Context, d Delivery) (*Delivery, error)
	// RecordOutcome stores an attempt and the delivery's new state. A delivered case.created
	// moves the case from received to forwarded and records the case system's reference.
	RecordOutcome(ctx context.Context, o DeliveryOutcome) error
	// ListDeliveries pages through deliveries, newest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) (DeliveryPage, error)
	// DeliveryAttempts lists a delivery's attempts, oldest first.
	DeliveryAttempts(ctx context.Context, deliveryID string) ([]DeliveryAttempt, error)
	// RetryDelivery puts a dead delivery back in the queue with a fresh job, in one transaction.
	// ErrNotFound when it does not exist, ErrInvalid when it is not dead.
	RetryDelivery(ctx context.Context, id string) (*Delivery, error)
	// RequeueStranded gives a fresh job to every queued delivery whose job will not run: it is
	// gone (finished, discarded or cancelled while the delivery still waits) or has been running
	// for longer than stuckFor (its process died). The stuck job is cancelled, so River's rescuer
	// does not run it as well. It returns the deliveries queued again, oldest first.
	RequeueStranded(ctx context.Context, stuckFor time.Duration) ([]Delivery, error)
	// OldestQueued returns the oldest queued delivery to target (the one to probe a case system
	// with), or nil when none waits.
	OldestQueued(ctx context.Context, target string) (*Delivery, error)
	// PauseForwarding and ResumeForwarding stop and restart the delivery jobs to target in
	// every process sharing the store; ForwardingPaused reports which it is.
	PauseForwarding(ctx context.Context, target string) error
	ResumeForwarding(ctx context.Context, target string) error
	ForwardingPaused(ctx context.Context, target string) (bool, error)
}

// DeliveryOutcome is the result of working a delivery once.
type DeliveryOutcome struct {
	DeliveryID string
	CaseID     string
	Event      string
	// Attempt is the attempt number made (1-based), or 0 when no request was sent (e.g. the
	// delivery was given up because an earlier one is dead).
	Attempt    int
	At         time.Time
	StatusCode int
	Error      string
	Duration   time.Duration
	State      DeliveryState
	CaseRef    string
}

// DeliveryAttempt is one recorded attempt.
type DeliveryAttempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS float64   `json:"duration_ms"`
}

// DeliveryFilter selects deliveries.
type DeliveryFilter struct {
	State  DeliveryState
	Target string
	Limit  int
	Cursor string
}

// DeliveryPage is one page of deliveries.
type DeliveryPage struct {
	Deliveries []Delivery
	NextCursor string
}

// Conversations is what the shared channel conversation mechanism needs from the store: which
// messages were already handled, a citizen's latest case, supplements to an open case, opt-outs
// and a citizen's last reported location.
type Conversations interface {
	// LatestCase returns the citizen's most recent case received at or after since (zero: any
	// time), on channelID when it is not empty. ErrNotFound when there is none.
	LatestCase(ctx context.Context, who CitizenKey, channelID string, since time.Time) (*Case, error)
	// AddSupplement joins a follow-up message to a case: text appended, attachments and location
	// added, its raw payload kept, and a case.updated delivery queued, in one transaction.
	// Idempotent by (ChannelID, ExternalID): a repeat returns Applied=false, the case and the
	// payload hash the message was first stored with. sup.Limits are checked inside the
	// transaction, so concurrent supplements cannot together overshoot them: a text over
	// MaxTextChars is a *ValidationError, and a supplement that would take the case past
	// MaxSupplements or MaxCaseChars is ErrCaseFull; either way nothing is stored.
	AddSupplement(ctx context.Context, caseID string, sup Supplement) (SupplementResult, error)
	// SetAttachment replaces the attachment at index (after its media was fetched).
	SetAttachment(ctx context.Context, caseID string, index int, att Attachment) error
	// RecordFeedback stores a satisfaction answer for a case: in its history, as a message (so a
	// retry is recognised), reopening it when asked, and with a case.feedback delivery queued,
	// in one transaction. A repeat returns applied=false.
	RecordFeedback(ctx context.Context, caseID string, fb Feedback) (applied bool, err error)
	// SetOptOut stops (true) or resumes (false) notifications to an address on a channel.
	SetOptOut(ctx context.Context, channelID, address string, optOut bool, at time.Time) error
	// OptedOut reports whether notifications to the address on the channel are stopped.
	OptedOut(ctx context.Context, channelID, address string) (bool, error)
	// RecentCases returns the cases of any of the citizen's identifiers received at or after
	// since, newest first, at most limit: indexed lookups, whatever the number of cases stored.
	RecentCases(ctx context.Context, who []CitizenKey, since time.Time, limit int) ([]*Case, error)
	// RememberLocation keeps the citizen's last reported position (WeChat LOCATION events).
	RememberLocation(ctx context.Context, who CitizenKey, channelID string, loc Location, at time.Time) error
	// MessageContext reads at once what deciding a channel message needs: what the message
	// already became (a platform's retry: a case, a supplement or a survey answer), the citizen's
	// recent cases and their remembered position. On PostgreSQL that is one round trip.
	MessageContext(ctx context.Context, q MessageQuery) (MessageContext, error)
}

// MessageQuery asks Conversations.MessageContext about one channel message.
type MessageQuery struct {
	ChannelID, ExternalID string
	// Citizen lists the identifiers whose cases received at or after RecentSince are wanted,
	// newest first, at most RecentLimit (as RecentCases); empty asks for none.
	Citizen     []CitizenKey
	RecentSince time.Time
	RecentLimit int
	// LocationOf, when set, asks for the position remembered for that identifier on ChannelID
	// at or after LocationSince.
	LocationOf    *CitizenKey
	LocationSince time.Time
}

// MessageContext answers a MessageQuery. Handled reports that the message was stored before, as
// Kind of the case CaseID, with PayloadHash (empty for messages stored before hashes were kept);
// Recent and Location are what was asked for (nil when not asked).
type MessageContext struct {
	Handled     bool
	CaseID      string
	Kind        MessageKind
	PayloadHash string
	Recent      []*Case
	Location    *Location
}

// MessageKind says what a stored channel message became.
type MessageKind string

// Message kinds.
const (
	MessageCase       MessageKind = "case"
	MessageSupplement MessageKind = "supplement"
	MessageFeedback   MessageKind = "feedback"
)

// Feedback is a citizen's answer to the satisfaction follow-up (回访).
type Feedback struct {
	ChannelID  string
	ExternalID string
	// PayloadHash identifies the message's content (Submission.PayloadHash).
	PayloadHash string
	// Rating is satisfied, basically_satisfied or dissatisfied.
	Rating     string
	Text       string
	ReceivedAt time.Time
	Raw        RawPayload
	// Reopen moves the case back to assigned (a dissatisfied answer, when configured).
	Reopen bool
}

// CitizenKeyKind names the identifier a CitizenKey holds.
type CitizenKeyKind string

// Citizen identifier kinds.
const (
	KeyPhone    CitizenKeyKind = "phone"
	KeyOpenID   CitizenKeyKind = "openid"
	KeyWeiboUID CitizenKeyKind = "weibo_uid"
)

// CitizenKey identifies a citizen by one of their identifiers.
type CitizenKey struct {
	Kind  CitizenKeyKind
	Value string
}

// Supplement is a follow-up message that joins an open case.
type Supplement struct {
	ChannelID   string
	ExternalID  string
	Text        string
	Attachments []Attachment
	// Fetch lists the supplement's attachments (indexes into Attachments) to fetch.
	Fetch      []int
	Location   *Location
	ReceivedAt time.Time
	Raw        RawPayload
	// PayloadHash identifies the message's content (Submission.PayloadHash), so that a repeat
	// of its external id with other content is not taken for a retry.
	PayloadHash string
	Limits      SupplementLimits
}

// SupplementLimits bound what supplements may make of a case; zero means no limit.
type SupplementLimits struct {
	// MaxTextChars bounds one supplement's text, as a new case's text is bounded.
	MaxTextChars int
	// MaxCaseChars bounds the case text with every supplement appended.
	MaxCaseChars int
	// MaxSupplements bounds how many supplements one case takes.
	MaxSupplements int
}

// SupplementResult is the outcome of AddSupplement.
type SupplementResult struct {
	Case    *Case
	Applied bool
	// PayloadHash is the hash the message was stored with: sup's own when Applied, the first
	// delivery's on a repeat.
	PayloadHash string
}

// NewCase is a case ready to store: validated, with id and query code set; the store assigns
// CaseNo. PayloadHash is kept to recognise a retry that carries a different body.
type NewCase struct {
	Case        *Case
	Raw         RawPayload
	PayloadHash string
	// ForwardTo names the case system (a case_systems[].name) that gets case.created.
	ForwardTo string
	// Event is what the case system is told: case.created (default), or case.duplicate for a
	// repeated request linked to an earlier case (Case.Related.DuplicateOf), whose merged count
	// the store then increments in the same transaction.
	Event string
	// Fetch lists the attachments (indexes into Case.Attachments) whose media must be fetched
	// from the platform into the gateway's attachment store; their jobs commit with the case.
	Fetch []int
}

// CreateResult is the outcome of CreateCase.
type CreateResult struct {
	Case    *Case
	Created bool
	// PayloadHash is the hash stored with the case; on a duplicate it is the first delivery's.
	PayloadHash string
	// Deliveries are the deliveries this call queued (empty on a duplicate).
	Deliveries []Delivery
}

// CaseFilter selects cases for ListCases. Zero values mean "any".
type CaseFilter struct {
	Channel      ChannelKind
	Status       Status
	ReceivedFrom time.Time // inclusive
	ReceivedTo   time.Time // exclusive
	Limit        int
	// Cursor is the opaque NextCursor of the previous page.
	Cursor string
}

// CasePage is one page of ListCases.
type CasePage struct {
	Cases      []*Case
	NextCursor string
}

// DeliveryState is where an outbound delivery stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryQueued    DeliveryState = "queued"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
	DeliveryDead      DeliveryState = "dead"
)

// DeliveryBacklog is what waits for one case system: deliveries queued (and since when) and
// deliveries given up. It feeds the backlog gauges that dashboards and alerts watch.
type DeliveryBacklog struct {
	Target string
	Queued int
	// OldestQueued is when the oldest queued delivery was created; zero when none is queued.
	OldestQueued time.Time
	Dead         int
}

// Event names carried in X-Intake-Event.
const (
	EventCaseCreated   = "case.created"
	EventCaseUpdated   = "case.updated"
	EventCaseDuplicate = "case.duplicate"
	EventCaseFeedback  = "case.feedback"
)

// IsFirstEvent reports whether event opens a case at the case system: case.created, or
// case.duplicate for a repeated request. Later events of the case wait for it.
func IsFirstEvent(event string) bool {
	return event == EventCaseCreated || event == EventCaseDuplicate
}

// Delivery is the gateway's own record of one event to forward to the case system. It outlives
// the job queue's rows, which are pruned.
type Delivery struct {
	ID        string        `json:"id"`
	CaseID    string        `json:"case_id"`
	Event     string        `json:"event"`
	Target    string        `json:"target"`
	State     DeliveryState `json:"state"`
	Attempts  int           `json:"attempts"`
	LastError string        `json:"last_error,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	// Attempts of this delivery, when the reader asked for them.
	History []DeliveryAttempt `json:"history,omitempty"`
}

// CaseView is a case together with the gateway's delivery records for it, as the REST API shows
// a single case.
type CaseView struct {
	*Case
	Deliveries []Delivery `json:"deliveries"`
	// Notifications sent to the citizen about the case (GET /v1/cases/{id}).
	Notifications []Notification `json:"notifications,omitempty"`
}
