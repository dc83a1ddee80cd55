package intake

import (
	"context"
	"time"
)

// Requests answers the queries of surfaces that let third-party clients follow the cases they
// filed (the Open311 endpoint): a filtered search of cases, and the status changes recorded in
// a period.
type Requests interface {
	// SearchRequests returns the cases matching q, newest first, at most q.Limit.
	SearchRequests(ctx context.Context, q RequestSearch) ([]*Case, error)
	// StatusUpdates returns the status history entries of cases of q.Channel recorded within
	// [q.RecordedFrom, q.RecordedTo), oldest first, at most q.Limit.
	StatusUpdates(ctx context.Context, q UpdateQuery) ([]StatusUpdate, error)
}

// RequestSearch selects cases for Requests.SearchRequests. Zero values mean "any".
type RequestSearch struct {
	Channel ChannelKind
	// ChannelID, when set, restricts the search to the cases of one configured channel or
	// API client (Open311: "open311:<key name>", so a client sees only what it filed).
	ChannelID string
	// CaseNos, when set, restricts the search to these case numbers.
	CaseNos []string
	// Category is the classification's category code.
	Category string
	// Statuses: any of them.
	Statuses     []Status
	ReceivedFrom time.Time // inclusive
	ReceivedTo   time.Time // exclusive
	// Limit bounds the answer; zero or less means 1000.
	Limit int
}

// UpdateQuery selects status history entries for Requests.StatusUpdates.
type UpdateQuery struct {
	Channel ChannelKind
	// ChannelID, when set, restricts the entries to the cases of one channel or API client.
	ChannelID    string
	RecordedFrom time.Time // inclusive; zero: any
	RecordedTo   time.Time // exclusive; zero: any
	// ExcludeEvents leaves out entries of these events (the gateway's own "received", say).
	ExcludeEvents []string
	// Limit bounds the answer; zero or less means 1000.
	Limit int
}

// StatusUpdate is one entry of a case's status history with what identifies it.
type StatusUpdate struct {
	// ID is the entry's own stable identifier, unique in the store.
	ID         string
	CaseID     string
	CaseNo     string
	Change     StatusChange
	RecordedAt time.Time
}

// SearchLimit is the largest answer of SearchRequests and StatusUpdates, and their default.
const SearchLimit = 1000
