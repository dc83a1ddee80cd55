package intake

import (
	"context"
	"time"
)

// Store keeps cases durably. Both drivers (PostgreSQL and embedded SQLite) satisfy it and pass
// one contract test suite, so the rest of the gateway never knows which one runs.
type Store interface {
	// CreateCase stores a new case, its raw payload, its first status entry and its forwarding
	// job in one transaction, and assigns the case number. If (channel_id, external_id) is
	// already stored, nothing is written and the existing case is returned with Created=false.
	CreateCase(ctx context.Context, nc NewCase) (CreateResult, error)
	// GetCase finds a case by gateway id or case number.
	GetCase(ctx context.Context, ref string) (*Case, error)
	// ListCases returns cases newest first, filtered, one page at a time.
	ListCases(ctx context.Context, f CaseFilter) (CasePage, error)
	// AddStatus appends to a case's status history and moves its current status. It is
	// idempotent by change.EventID when one is given: a repeated event returns applied=false.
	AddStatus(ctx context.Context, caseID string, change StatusChange) (applied bool, err error)
	// Deliveries lists the outbound deliveries (forwarding jobs) of a case, oldest first.
	Deliveries(ctx context.Context, caseID string) ([]Delivery, error)
	// Ready reports whether the store is reachable and its schema is current.
	Ready(ctx context.Context) error
	Close() error
}

// NewCase is a case ready to store: validated, with id and query code set; the store assigns
// CaseNo. PayloadHash is kept to recognise a retry that carries a different body.
type NewCase struct {
	Case        *Case
	Raw         RawPayload
	PayloadHash string
	// ForwardTo names the case system (a case_systems[].name) that gets case.created.
	ForwardTo string
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

// Event names carried in X-Intake-Event.
const (
	EventCaseCreated = "case.created"
	EventCaseUpdated = "case.updated"
)

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
}

// CaseView is a case together with the gateway's delivery records for it, as the REST API shows
// a single case.
type CaseView struct {
	*Case
	Deliveries []Delivery `json:"deliveries"`
}
