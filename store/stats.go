package store

import (
	"cmp"
	"slices"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

// StatsKeys are the fields of a case that the console's figures group and count by. Both stores
// keep them in columns of their own beside the record (migration 00013), written by every
// statement that writes the record's classification, emergency or deadline, so that the figures
// of a period are read from an index and never parse a record.
type StatsKeys struct {
	Category    string
	RequestType string
	Emergency   bool
	NeedsReview bool
	DueAt       *time.Time
}

// KeysOf reads a case's StatsKeys.
func KeysOf(c *intake.Case) StatsKeys {
	k := StatsKeys{
		Category:    c.Classification.Category,
		RequestType: string(c.Classification.RequestType),
		Emergency:   c.Emergency != nil,
		NeedsReview: c.Classification.NeedsReview,
	}
	if c.DueAt != nil {
		// Both databases keep microseconds; PostgreSQL rounds the record's text to them.
		due := c.DueAt.UTC().Round(time.Microsecond)
		k.DueAt = &due
	}
	return k
}

// OpenStatusesSQL is OpenStatuses as an SQL list of literals. The partial index of open cases by
// deadline (cases_open_due, migration 00013) names these statuses in its predicate, and the
// planner uses it only for a query that names them too, as constants.
const OpenStatusesSQL = "'received', 'forwarded', 'accepted', 'assigned'"

// DaySpan is one local day of a statistics period, clipped to the period.
type DaySpan struct {
	Day      string // YYYY-MM-DD
	From, To time.Time
}

// DaySpans cuts the period [from, to) at the local midnights of loc. A period that starts or
// ends inside a day gets that part of the day only, so the daily counts add up to the period's.
func DaySpans(from, to time.Time, loc *time.Location) []DaySpan {
	var out []DaySpan
	for d := LocalDayStart(from, loc); d.Before(to); d = d.AddDate(0, 0, 1) {
		next := d.AddDate(0, 0, 1)
		lo, hi := d, next
		if lo.Before(from) {
			lo = from
		}
		if hi.After(to) {
			hi = to
		}
		if lo.Before(hi) {
			out = append(out, DaySpan{Day: d.Format("2006-01-02"), From: lo.UTC(), To: hi.UTC()})
		}
	}
	return out
}

// PeriodCount is one group of a period's cases: those received on one local day through one
// channel with one category and request type, how many of them are resolved or closed (办结), and
// how many of those were first resolved or closed by their deadline or have none (按时办结).
type PeriodCount struct {
	Day, Channel, Category, RequestType string
	Cases, Resolved, OnTime             int
}

// FoldPeriod derives the period's figures (total, channels, categories, request types, days,
// resolved, resolved on time) from its groups, the same way in both stores.
func FoldPeriod(st *intake.Stats, groups []PeriodCount) {
	channels, categories, types := map[string]int{}, map[string]int{}, map[string]int{}
	type dayChannel struct{ day, channel string }
	days := map[dayChannel]int{}
	for _, g := range groups {
		st.Total += g.Cases
		st.Resolved += g.Resolved
		st.ResolvedOnTime += g.OnTime
		channels[g.Channel] += g.Cases
		categories[g.Category] += g.Cases
		types[g.RequestType] += g.Cases
		days[dayChannel{g.Day, g.Channel}] += g.Cases
	}
	counts := func(m map[string]int) []intake.KeyCount {
		out := make([]intake.KeyCount, 0, len(m))
		for k, n := range m {
			out = append(out, intake.KeyCount{Key: k, Count: n})
		}
		return SortCounts(out)
	}
	st.Channels, st.Categories, st.RequestTypes = counts(channels), counts(categories), counts(types)
	st.Days = make([]intake.DayCount, 0, len(days))
	for k, n := range days {
		st.Days = append(st.Days, intake.DayCount{Day: k.day, Channel: intake.ChannelKind(k.channel), Count: n})
	}
	slices.SortFunc(st.Days, func(a, b intake.DayCount) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(string(a.Channel), string(b.Channel)))
	})
}
