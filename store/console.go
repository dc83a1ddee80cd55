package store

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// EncodeAuditCursor makes an audit position opaque to clients.
func EncodeAuditCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a" + strconv.FormatInt(id, 10)))
}

// DecodeAuditCursor parses a cursor from EncodeAuditCursor.
func DecodeAuditCursor(s string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, ErrBadCursor
	}
	digits, ok := strings.CutPrefix(string(raw), "a")
	if !ok {
		return 0, ErrBadCursor
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrBadCursor
	}
	return id, nil
}

// LikePattern is a LIKE pattern matching text containing sub, with the pattern characters of
// sub escaped by backslash (both stores' queries say ESCAPE '\').
func LikePattern(sub string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(sub) + "%"
}

// TrigramMin is the shortest text query a trigram index can serve (PostgreSQL's pg_trgm and
// SQLite's FTS5 trigram tokenizer alike): a shorter one has no trigram to look up, and the
// stores answer it by reading the newest cases first until a page is full.
const TrigramMin = 3

// Indexable reports whether a text query is long enough for the trigram index.
func Indexable(text string) bool { return utf8.RuneCountInString(text) >= TrigramMin }

// FTSPhrase quotes text as one FTS5 phrase, so that none of its characters is read as query
// syntax (AND, NEAR, *, column filters); with the trigram tokenizer a phrase matches as a
// substring.
func FTSPhrase(text string) string { return `"` + strings.ReplaceAll(text, `"`, `""`) + `"` }

// OpenStatuses are the statuses of cases still being handled: their deadlines count.
var OpenStatuses = []string{
	string(intake.StatusReceived), string(intake.StatusForwarded), string(intake.StatusAccepted), string(intake.StatusAssigned),
}

// SortCounts orders counts most first, ties by key, so that both stores answer alike.
func SortCounts(counts []intake.KeyCount) []intake.KeyCount {
	slices.SortFunc(counts, func(a, b intake.KeyCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Key, b.Key)
	})
	return counts
}

// ApplyCorrection records an operator's correction in a case's record and fills in what the
// classifier had said. The classifier's first answer is kept across several corrections: a
// record already corrected keeps its AutoCategory and AutoRequestType.
func ApplyCorrection(c *intake.Case, corr *intake.Correction, emergencyNumbers map[intake.EmergencyKind]string) {
	cl := &c.Classification
	if cl.Source != "operator" {
		cl.AutoCategory, cl.AutoRequestType = cl.Category, cl.RequestType
	}
	corr.AutoCategory, corr.AutoRequestType = cl.AutoCategory, cl.AutoRequestType
	if c.Emergency != nil {
		corr.AutoEmergency = c.Emergency.Kind
	}
	corr.AutoOutOfScope = cl.OutOfScope
	if corr.Category != cl.Category || corr.CategoryName != "" {
		// The display name belongs to the old category; the caller's taxonomy supplies the new.
		cl.CategoryName = corr.CategoryName
	}
	cl.Category, cl.RequestType, cl.OutOfScope = corr.Category, corr.RequestType, corr.OutOfScope
	if !corr.OutOfScope {
		cl.OutOfScopeCode, cl.OutOfScopeReason, cl.Referral = "", "", ""
	}
	cl.Source, cl.NeedsReview = "operator", false
	switch {
	case corr.Emergency == "":
		c.Emergency = nil
	case c.Emergency == nil || c.Emergency.Kind != corr.Emergency:
		c.Emergency = &intake.Emergency{Kind: corr.Emergency, Number: emergencyNumbers[corr.Emergency]}
		c.Priority = intake.PriorityUrgent
	}
}

// EmergencyNumbers are the numbers of the emergency services, for a correction that marks a
// case as an emergency.
var EmergencyNumbers = map[intake.EmergencyKind]string{
	intake.EmergencyPolice: "110", intake.EmergencyFire: "119", intake.EmergencyMedical: "120", intake.EmergencyTraffic: "122",
}

// CheckCorrection refuses a correction naming an unknown request type or emergency kind.
func CheckCorrection(c intake.Correction) error {
	if strings.TrimSpace(c.Category) == "" || len(c.Category) > 64 {
		return fmt.Errorf("%w: category must be 1-64 characters", intake.ErrInvalid)
	}
	if !c.RequestType.Valid() {
		return fmt.Errorf("%w: request type %q", intake.ErrInvalid, c.RequestType)
	}
	if _, ok := EmergencyNumbers[c.Emergency]; c.Emergency != "" && !ok {
		return fmt.Errorf("%w: emergency kind %q", intake.ErrInvalid, c.Emergency)
	}
	return nil
}

// LocalDayStart is the start of t's calendar day in loc.
func LocalDayStart(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// ApplyUserChange sets the fields a change names.
func ApplyUserChange(u *intake.User, ch intake.UserChange, now time.Time) {
	if ch.Role != nil {
		u.Role = *ch.Role
	}
	if ch.Disabled != nil {
		u.Disabled = *ch.Disabled
	}
	if ch.PasswordHash != nil {
		u.PasswordHash = *ch.PasswordHash
	}
	u.UpdatedAt = now
}

// ChannelFailure is one row of a store's failed notifications by channel and reason.
type ChannelFailure struct {
	ChannelID, Reason string
	Count             int
	Last              time.Time
}

// MergeChannelActivity joins the per-channel case counts and failures into one list by channel
// id, so that both stores answer alike.
func MergeChannelActivity(acts []intake.ChannelActivity, fails []ChannelFailure) []intake.ChannelActivity {
	byID := map[string]int{}
	for i, a := range acts {
		byID[a.ChannelID] = i
	}
	for _, f := range fails {
		i, ok := byID[f.ChannelID]
		if !ok {
			acts = append(acts, intake.ChannelActivity{ChannelID: f.ChannelID})
			i = len(acts) - 1
			byID[f.ChannelID] = i
		}
		a := &acts[i]
		a.FailedNotices = append(a.FailedNotices, intake.KeyCount{Key: f.Reason, Count: f.Count})
		if f.Last.After(a.LastFailureAt) {
			a.LastFailureAt = f.Last.UTC()
		}
	}
	for i := range acts {
		acts[i].FailedNotices = SortCounts(acts[i].FailedNotices)
	}
	slices.SortFunc(acts, func(a, b intake.ChannelActivity) int { return strings.Compare(a.ChannelID, b.ChannelID) })
	return acts
}
