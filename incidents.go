package intake

import (
	"context"
	"time"
)

// Hot topics (热点诉求): many citizens reporting the same thing in one district within a short
// time — a water cut, a burst main, a blocked road — are one incident that the duty officer
// should hear of once, not fifteen separate cases. Package hottopics clusters recent cases into
// incidents; the stores keep the incidents, their member cases and the one announcement each
// incident gets.

// IncidentState is whether an incident is still growing.
type IncidentState string

// Incident states.
const (
	// IncidentOpen: alike cases kept arriving within the clustering window.
	IncidentOpen IncidentState = "open"
	// IncidentClosed: no alike case arrived for a whole window; a later burst is a new incident.
	IncidentClosed IncidentState = "closed"
)

// EventIncidentOpened is the event a new incident is announced with (the webhook's
// X-Intake-Event and the body's type).
const EventIncidentOpened = "incident.opened"

// Incident is a cluster of alike cases (same category, same district, similar text) that grew
// past the configured size within the window.
type Incident struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	District string `json:"district"`
	// Summary is the wording the member cases share (see hottopics.Summary): phrases common to
	// many citizens' texts, never one citizen's text, so it carries no personal data.
	Summary   string        `json:"summary"`
	State     IncidentState `json:"state"`
	Size      int           `json:"size"`
	FirstSeen time.Time     `json:"first_seen"`
	LastSeen  time.Time     `json:"last_seen"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	// ClosedAt is when the incident was closed (zero while open).
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Announcement is where the one incident.opened webhook stands: queued, delivered or dead;
	// empty when no webhook was configured when the incident opened.
	Announcement DeliveryState `json:"announcement,omitempty"`
	// AnnounceAttempts and AnnounceError are the attempts made and the last failure.
	AnnounceAttempts int    `json:"announce_attempts"`
	AnnounceError    string `json:"announce_error,omitempty"`
}

// TopicCase is a recent case as hot-topic clustering sees it: what it is about and where, and
// which incident it already belongs to.
type TopicCase struct {
	ID         string
	CaseNo     string
	ReceivedAt time.Time
	Category   string
	District   string
	Text       string
	// Repeat is set for a repeated request of the same citizen (Related.DuplicateOf): one
	// citizen writing five times is not five citizens.
	Repeat bool
	// IncidentID is the incident the case is a member of ("" for none).
	IncidentID string
}

// NewIncident is an incident to open with its first member cases.
type NewIncident struct {
	Incident Incident
	CaseIDs  []string
}

// IncidentGrowth adds cases to an open incident.
type IncidentGrowth struct {
	IncidentID string
	CaseIDs    []string
	// LastSeen is when the newest of them was received.
	LastSeen time.Time
}

// TopicChanges is what one clustering run decided, applied by Incidents.ApplyTopics in one
// transaction.
type TopicChanges struct {
	Now  time.Time
	Open []NewIncident
	Grow []IncidentGrowth
	// CloseQuietBefore closes every open incident whose last member arrived before it.
	CloseQuietBefore time.Time
	// Announce queues the incident.opened announcement job of every incident opened.
	Announce bool
}

// TopicResult is what ApplyTopics did.
type TopicResult struct {
	// Opened are the incidents opened (with their ids and sizes as stored).
	Opened []Incident
	// Skipped counts planned incidents not opened because a member case had joined an incident
	// meanwhile (another replica's run came first; the next run starts from what it stored).
	Skipped int
	// Grown counts the cases added to open incidents; Closed the incidents closed.
	Grown  int
	Closed int
}

// IncidentFilter selects incidents for ListIncidents, most recently active first.
type IncidentFilter struct {
	// State keeps one state ("" for any).
	State IncidentState
	// FirstSeenFrom and FirstSeenTo keep the incidents whose first case arrived in
	// [FirstSeenFrom, FirstSeenTo) (zero: unbounded), for a period's report.
	FirstSeenFrom, FirstSeenTo time.Time
	Limit                      int
}

// AnnouncementOutcome is the result of one try at announcing an incident.
type AnnouncementOutcome struct {
	IncidentID string
	// State is delivered, dead, or queued (to be tried again).
	State DeliveryState
	Error string
	At    time.Time
}

// Incidents keeps hot-topic incidents.
type Incidents interface {
	// TopicCases returns the cases received at or after since, oldest first; when more than
	// limit were received, the newest limit of them.
	TopicCases(ctx context.Context, since time.Time, limit int) ([]TopicCase, error)
	// ApplyTopics applies one clustering run in one transaction, serialised with every other
	// run on the same database: a planned incident with a member that joined an incident
	// meanwhile is skipped (a case is a member of at most one incident, which the schema
	// enforces too), so two runs racing over the same burst open one incident and queue one
	// announcement.
	ApplyTopics(ctx context.Context, ch TopicChanges) (TopicResult, error)
	// ListIncidents lists incidents, the most recently active first.
	ListIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error)
	// CountIncidents counts the incidents in state ("" for any).
	CountIncidents(ctx context.Context, state IncidentState) (int, error)
	// GetIncident reads one incident; ErrNotFound when there is none.
	GetIncident(ctx context.Context, id string) (*Incident, error)
	// IncidentCases lists an incident's member cases, newest first, at most limit.
	IncidentCases(ctx context.Context, id string, limit int) ([]*Case, error)
	// RecordAnnouncement stores a try at the incident's announcement. A delivered or dead
	// announcement stays so: a late outcome of a duplicate job changes nothing.
	RecordAnnouncement(ctx context.Context, o AnnouncementOutcome) error
}
