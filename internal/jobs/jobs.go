// Package jobs declares the arguments of the gateway's background jobs. Stores enqueue them in
// the same transaction as the rows they refer to; workers (forwarding, notifications) run them.
// Keeping the types here lets both sides agree without importing each other.
package jobs

// Queue names.
const (
	QueueNotify = "notify"
	QueueMedia  = "media"
)

// ForwardQueue is the queue of deliveries to one case system. One queue per case system lets
// the gateway pause deliveries to a system that is down, in every replica at once, while the
// others keep flowing.
func ForwardQueue(target string) string { return "forward_" + target }

// Job priorities (River: 1 is worked first).
const (
	PriorityUrgent = 1
	PriorityNormal = 2
)

// ForwardCase delivers one event of one case to a case system. The delivery row named by
// DeliveryID is the gateway's own durable record of it.
type ForwardCase struct {
	DeliveryID string `json:"delivery_id"`
	CaseID     string `json:"case_id"`
	Event      string `json:"event"`
	Target     string `json:"target"`
}

// Kind is the River job kind.
func (ForwardCase) Kind() string { return "forward_case" }

// NotifyCitizen sends one notification to a citizen.
type NotifyCitizen struct {
	NotificationID string `json:"notification_id"`
	CaseID         string `json:"case_id"`
}

// Kind is the River job kind.
func (NotifyCitizen) Kind() string { return "notify_citizen" }

// FetchMedia copies one attachment's media from its platform into the attachment store (WeChat
// keeps media three days; recordings and MMS need the account's credentials).
type FetchMedia struct {
	CaseID    string `json:"case_id"`
	Index     int    `json:"index"`
	ChannelID string `json:"channel_id"`
}

// Kind is the River job kind.
func (FetchMedia) Kind() string { return "fetch_media" }

// QueueMaintenance runs the gateway's own periodic housekeeping (retention), one job at a time.
const QueueMaintenance = "maintenance"

// RetentionSweep clears raw payloads and pseudonymizes personal data past their retention
// periods. It is a periodic job: River's leader inserts it, so one replica runs it at a time.
type RetentionSweep struct{}

// Kind is the River job kind.
func (RetentionSweep) Kind() string { return "retention_sweep" }

// QueueHotTopics runs hot-topic clustering and the announcements of the incidents it opens.
const QueueHotTopics = "hot_topics"

// HotTopicsScan clusters the recent cases into incidents (package hottopics). It is a periodic
// job: River's leader inserts it, and runs that overlap anyway (a rescued job, a slow run) are
// made harmless by the store, which serialises what they write.
type HotTopicsScan struct{}

// Kind is the River job kind.
func (HotTopicsScan) Kind() string { return "hot_topics_scan" }

// AnnounceIncident posts one incident.opened webhook. It is inserted in the transaction that
// opens the incident, so every incident gets exactly one.
type AnnounceIncident struct {
	IncidentID string `json:"incident_id"`
}

// Kind is the River job kind.
func (AnnounceIncident) Kind() string { return "announce_incident" }

// AnnounceAttempts is how often an incident's announcement is tried (with River's growing
// backoff: about three days in all) before it is given up as dead.
const AnnounceAttempts = 25
