package intake

import (
	"context"
	"errors"
	"time"
)

// ErrExists is returned when something that must be unique (an operator's name) is taken.
var ErrExists = errors.New("already exists")

// Role is what an operator of the console may do. Each role includes the ones before it.
type Role string

// Roles, least privileged first.
const (
	// RoleViewer sees figures and cases with personal data masked.
	RoleViewer Role = "viewer"
	// RoleOperator may also reveal a case's personal data (audited) and correct classifications.
	RoleOperator Role = "operator"
	// RoleAdmin may also read the audit log and manage operators.
	RoleAdmin Role = "admin"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r holds every right of min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.rank() >= min.rank() }

// User is an operator account of the console.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// PasswordHash is the encoded argon2id hash (with its parameters and salt); never shown.
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// UserChange is a change to an operator; nil fields stay as they are.
type UserChange struct {
	Role         *Role
	Disabled     *bool
	PasswordHash *string
}

// Session is a signed-in operator's session. Only the hash of the cookie's secret is stored, so
// that a copy of the table does not let anyone sign in.
type Session struct {
	IDHash     string
	UserID     string
	CSRFToken  string
	RemoteAddr string
	CreatedAt  time.Time
	LastSeen   time.Time
	// ExpiresAt is the absolute end of the session, however active it is.
	ExpiresAt time.Time
}

// Actor kinds of audit entries.
const (
	ActorUser   = "user"
	ActorAPIKey = "api_key"
	ActorCLI    = "cli"
)

// Audited actions.
const (
	AuditLogin         = "login"
	AuditLoginFailed   = "login.failed"
	AuditLogout        = "logout"
	AuditReveal        = "case.reveal"
	AuditCorrection    = "case.correct"
	AuditUserAdd       = "user.add"
	AuditUserChange    = "user.change"
	AuditDeliveryRetry = "delivery.retry"
)

// AuditEntry is one line of the append-only audit log: who did what to which thing, when and
// from where.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	ActorKind  string    `json:"actor_kind"`
	Action     string    `json:"action"`
	Target     string    `json:"target,omitempty"`
	RemoteAddr string    `json:"remote_addr,omitempty"`
	// Detail says more in a few words (never personal data of citizens).
	Detail string `json:"detail,omitempty"`
}

// AuditFilter selects audit entries, newest first. Zero values mean "any".
type AuditFilter struct {
	Action string
	Actor  string
	Target string
	Limit  int
	// Cursor is the opaque NextCursor of the previous page.
	Cursor string
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Entries    []AuditEntry
	NextCursor string
}

// Operators keeps the console's accounts, their sessions and the audit log.
type Operators interface {
	// CreateUser stores a new operator and its audit entry in one transaction; ErrExists when
	// the name is taken.
	CreateUser(ctx context.Context, u User, audit AuditEntry) (User, error)
	// UserByName finds an operator; ErrNotFound when there is none.
	UserByName(ctx context.Context, name string) (*User, error)
	// ListUsers lists every operator by name.
	ListUsers(ctx context.Context) ([]User, error)
	// UpdateUser applies a change to an operator, ends its sessions (a disabled account, a new
	// role or password takes effect at once) and stores the audit entry, in one transaction.
	// ErrNotFound when there is no such operator.
	UpdateUser(ctx context.Context, name string, ch UserChange, audit AuditEntry) (User, error)
	// CreateSession stores a session, and removes the user's sessions that have expired.
	CreateSession(ctx context.Context, s Session) error
	// SessionUser reads a session and its operator by the hash of the cookie's secret;
	// ErrNotFound when there is none.
	SessionUser(ctx context.Context, idHash string) (*Session, *User, error)
	// TouchSession records activity on a session at at.
	TouchSession(ctx context.Context, idHash string, at time.Time) error
	// DeleteSession ends a session (logout, idle timeout); deleting a missing one is no error.
	DeleteSession(ctx context.Context, idHash string) error
	// AppendAudit adds an entry to the audit log, which is never updated or deleted.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit pages through the audit log, newest first.
	ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error)
}

// CaseSearch selects cases for the console: CaseFilter's fields and the classification's.
type CaseSearch struct {
	CaseFilter
	Category    string
	RequestType RequestType
	Priority    Priority
	District    string
	// NeedsReview keeps only cases the classifier asked an operator to check.
	NeedsReview bool
	// Text keeps cases whose text contains it.
	Text string
}

// StatsQuery asks for the console's figures. Days are counted in the store's local zone.
type StatsQuery struct {
	// From and To bound the period (To exclusive); Today is the start of the current local day.
	From, To, Today time.Time
	// Now is the moment deadlines are measured against.
	Now time.Time
}

// KeyCount is a count of cases by one key.
type KeyCount struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// DayCount is the number of cases of one channel received on one local day.
type DayCount struct {
	Day     string      `json:"day"` // YYYY-MM-DD
	Channel ChannelKind `json:"channel"`
	Count   int         `json:"count"`
}

// Stats are the figures of the console's dashboard over a StatsQuery's period.
type Stats struct {
	Total        int        `json:"total"`
	Days         []DayCount `json:"days"`
	Categories   []KeyCount `json:"categories"`    // most first
	RequestTypes []KeyCount `json:"request_types"` // most first
	Emergencies  int        `json:"emergencies_today"`
	Today        int        `json:"today"`
	DueSoon      int        `json:"due_within_a_day"` // open, due between Now and Now+24h
	Overdue      int        `json:"overdue"`          // open, due before Now
	Satisfaction []KeyCount `json:"satisfaction"`     // feedback answers in the period by rating
	Notices      []KeyCount `json:"notifications"`    // notifications created in the period by state
	Channels     []KeyCount `json:"channels"`         // cases in the period by channel
	NeedsReview  int        `json:"needs_review"`
	// Resolved counts the period's cases that are resolved or closed (办结); ResolvedOnTime
	// those of them first resolved or closed no later than their deadline, or without one
	// (按时办结).
	Resolved       int `json:"resolved"`
	ResolvedOnTime int `json:"resolved_on_time"`
}

// Correction is an operator's judgement of a case's classification, kept beside what the
// classifier said.
type Correction struct {
	ID       int64     `json:"id"`
	CaseID   string    `json:"case_id"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Category string    `json:"category"`
	// CategoryName is the category's display name from the taxonomy, for the record.
	CategoryName string        `json:"category_name,omitempty"`
	RequestType  RequestType   `json:"request_type"`
	Emergency    EmergencyKind `json:"emergency,omitempty"`
	OutOfScope   bool          `json:"out_of_scope"`
	Note         string        `json:"note,omitempty"`
	// What the classifier had said, filled in by the store.
	AutoCategory    string        `json:"auto_category"`
	AutoRequestType RequestType   `json:"auto_request_type"`
	AutoEmergency   EmergencyKind `json:"auto_emergency,omitempty"`
	AutoOutOfScope  bool          `json:"auto_out_of_scope"`
	// Text and Channel are the case's, for training (ListCorrections only).
	Text    string      `json:"text,omitempty"`
	Channel ChannelKind `json:"channel,omitempty"`
}

// Review is what the console needs to show figures, find cases and correct classifications.
type Review interface {
	// SearchCases returns cases newest first, filtered, one page at a time.
	SearchCases(ctx context.Context, q CaseSearch) (CasePage, error)
	// CaseStats computes the dashboard's figures.
	CaseStats(ctx context.Context, q StatsQuery) (Stats, error)
	// CountReceived counts the cases received in [from, to): one index range, cheap enough for
	// the dashboard's live figure to ask every few seconds.
	CountReceived(ctx context.Context, from, to time.Time) (int, error)
	// CorrectClassification applies an operator's correction to a case's record (the
	// classifier's own answer kept in AutoCategory/AutoRequestType), stores the correction and
	// its audit entry, and queues a case.updated delivery to the case's case system, in one
	// transaction. ErrNotFound for an unknown case.
	CorrectClassification(ctx context.Context, caseID string, c Correction, audit AuditEntry) (*Case, error)
	// Corrections lists a case's corrections, oldest first.
	Corrections(ctx context.Context, caseID string) ([]Correction, error)
	// ListCorrections pages through every correction in the order made, after the id afterID,
	// at most limit, each with its case's text: the classifier's training data.
	ListCorrections(ctx context.Context, afterID int64, limit int) ([]Correction, error)
}

// ChannelActivity is one channel instance's recent work as the store saw it from every replica:
// the cases it brought and the notifications to citizens it failed to deliver.
type ChannelActivity struct {
	ChannelID string      `json:"channel_id"`
	Channel   ChannelKind `json:"channel"`
	// Cases counts the cases received in the period; LastCaseAt is the newest one's time.
	Cases      int       `json:"cases"`
	LastCaseAt time.Time `json:"last_case_at"`
	// FailedNotices counts the period's failed notifications by reason, most first;
	// LastFailureAt is the latest failure's time.
	FailedNotices []KeyCount `json:"failed_notifications"`
	LastFailureAt time.Time  `json:"last_failure_at"`
}

// TokenState is a stored platform credential's name and expiry (never its value).
type TokenState struct {
	Key       string    `json:"key"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ChannelReport is what the console's channels page reads.
type ChannelReport interface {
	// ChannelActivity reports every channel instance that received a case or failed a
	// notification at or after since, by channel id.
	ChannelActivity(ctx context.Context, since time.Time) ([]ChannelActivity, error)
	// TokenStates lists the stored platform tokens (WeChat access tokens) by key.
	TokenStates(ctx context.Context) ([]TokenState, error)
}
