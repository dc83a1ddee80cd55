// Package hottopics finds hot topics (热点诉求): bursts of alike cases — the same category, the
// same district, texts similar by the measure repeat detection uses (normalize.Similarity) —
// within a sliding window. A burst that reaches the configured size is kept as an incident with
// its member cases, shown in the console, and announced once to a configured webhook.
//
// Clustering runs as a periodic River job over the recent cases, not on the intake path: a
// citizen's case number never waits for it. A run reads, clusters in memory and writes its
// decisions in one short transaction that the store serialises with every other run (an
// advisory lock on PostgreSQL, the single writer on SQLite) and checks against what is stored:
// a case belongs to at most one incident, so runs that overlap (two replicas, a rescued job) or
// a run repeated after a crash open each incident once, and the announcement job committed with
// the incident is queued once.
package hottopics

import (
	"slices"
	"strings"
	"time"
	"unicode"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize"
)

// maxCompare bounds the members a case is compared with in one cluster (its newest): single
// linkage against every member would grow with the square of a big burst for no better answer.
const maxCompare = 64

type member struct {
	tc  intake.TopicCase
	key normalize.Key
}

type cluster struct {
	incidentID string // "" for a cluster not yet an incident
	members    []member
	added      []member // members new to an existing incident
}

// similarity is the best similarity of k to the cluster's newest members (single linkage: a
// burst drifts in wording as it grows, and each new report resembles some earlier one).
func (c *cluster) similarity(k normalize.Key) float64 {
	best := 0.0
	for i := len(c.members) - 1; i >= 0 && i >= len(c.members)-maxCompare; i-- {
		best = max(best, c.members[i].key.Similarity(k))
	}
	return best
}

// Plan clusters cases (oldest first, as Incidents.TopicCases returns them) received within the
// window before now. open holds the ids of the open incidents: their members within the window
// seed their clusters; members of closed incidents are left alone. New cases join the most
// similar cluster of their category and district at or above opts.Similarity, or start one; a
// new cluster of opts.MinCases or more opens an incident, and an open incident's cluster that
// took new cases grows. Repeated requests of one citizen and cases without a category, a
// district or comparable text take no part.
func Plan(cases []intake.TopicCase, open map[string]bool, now time.Time, opts Options) intake.TopicChanges {
	ch := intake.TopicChanges{Now: now, CloseQuietBefore: now.Add(-opts.Window), Announce: opts.Announces()}
	type groupKey struct{ category, district string }
	groups := map[groupKey][]*cluster{}
	var order []groupKey
	byIncident := map[string]*cluster{}
	since := now.Add(-opts.Window)
	for _, tc := range cases {
		if tc.Repeat || tc.Category == "" || tc.District == "" || tc.ReceivedAt.Before(since) {
			continue
		}
		if tc.IncidentID != "" && !open[tc.IncidentID] {
			continue
		}
		k := normalize.SimilarityKey(tc.Text)
		if k.Empty() {
			continue
		}
		gk := groupKey{tc.Category, tc.District}
		if _, seen := groups[gk]; !seen {
			groups[gk] = nil
			order = append(order, gk)
		}
		m := member{tc: tc, key: k}
		if tc.IncidentID != "" {
			c := byIncident[tc.IncidentID]
			if c == nil {
				c = &cluster{incidentID: tc.IncidentID}
				byIncident[tc.IncidentID] = c
				groups[gk] = append(groups[gk], c)
			}
			c.members = append(c.members, m)
			continue
		}
		var best *cluster
		bestScore := 0.0
		for _, c := range groups[gk] {
			if s := c.similarity(k); s >= opts.Similarity && s > bestScore {
				best, bestScore = c, s
			}
		}
		if best == nil {
			groups[gk] = append(groups[gk], &cluster{members: []member{m}})
			continue
		}
		best.members = append(best.members, m)
		if best.incidentID != "" {
			best.added = append(best.added, m)
		}
	}
	for _, gk := range order {
		for _, c := range groups[gk] {
			switch {
			case c.incidentID != "" && len(c.added) > 0:
				g := intake.IncidentGrowth{IncidentID: c.incidentID}
				for _, m := range c.added {
					g.CaseIDs = append(g.CaseIDs, m.tc.ID)
					g.LastSeen = maxTime(g.LastSeen, m.tc.ReceivedAt)
				}
				ch.Grow = append(ch.Grow, g)
			case c.incidentID == "" && len(c.members) >= opts.MinCases:
				ni := intake.NewIncident{Incident: intake.Incident{Category: gk.category, District: gk.district,
					State: intake.IncidentOpen, Size: len(c.members)}}
				texts := make([]string, len(c.members))
				for i, m := range c.members {
					ni.CaseIDs = append(ni.CaseIDs, m.tc.ID)
					texts[i] = m.tc.Text
					if i == 0 {
						ni.Incident.FirstSeen = m.tc.ReceivedAt
					}
					ni.Incident.LastSeen = maxTime(ni.Incident.LastSeen, m.tc.ReceivedAt)
				}
				ni.Incident.Summary = Summary(texts)
				ch.Open = append(ch.Open, ni)
			}
		}
	}
	return ch
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// summaryRunes bounds an incident's summary.
const summaryRunes = 40

// Summary is the wording that the texts share: the phrases (runs of Han characters and letters,
// two or more long) of the most typical text whose every character pair occurs in at least half
// of the texts (and in two at least). Digits never take part, and a phrase must be common to many
// citizens' texts, so the summary carries no one citizen's name, number or address — it reads
// like "停水、什么时候来水". It is "" when the texts share nothing.
func Summary(texts []string) string {
	runs := make([][][]rune, len(texts))
	df := map[[2]rune]int{}
	for i, t := range texts {
		runs[i] = wordRuns(t)
		seen := map[[2]rune]bool{}
		for _, run := range runs[i] {
			for j := 0; j+1 < len(run); j++ {
				bg := [2]rune{run[j], run[j+1]}
				if !seen[bg] {
					seen[bg] = true
					df[bg]++
				}
			}
		}
	}
	need := max(2, (len(texts)+1)/2)
	common := func(a, b rune) bool { return df[[2]rune{a, b}] >= need }
	// The most typical text is the one with the most common pairs; its phrases keep the
	// citizens' own word order.
	base, bestScore := -1, 0
	for i, rs := range runs {
		score := 0
		for _, run := range rs {
			for j := 0; j+1 < len(run); j++ {
				if common(run[j], run[j+1]) {
					score++
				}
			}
		}
		if score > bestScore {
			base, bestScore = i, score
		}
	}
	if base < 0 {
		return ""
	}
	var phrases []string
	for _, run := range runs[base] {
		start := -1
		flush := func(end int) {
			if start >= 0 && end-start >= 2 {
				p := string(run[start:end])
				if !slices.Contains(phrases, p) {
					phrases = append(phrases, p)
				}
			}
			start = -1
		}
		for j := 0; j+1 < len(run); j++ {
			if common(run[j], run[j+1]) {
				if start < 0 {
					start = j
				}
				continue
			}
			flush(j + 1)
		}
		flush(len(run))
	}
	out := []rune(strings.Join(phrases, "、"))
	if len(out) > summaryRunes {
		out = append(out[:summaryRunes-1], '…')
	}
	return string(out)
}

// wordRuns splits the folded text (normalize.MatchText: simplified, half-width, lower case) into
// runs of Han characters and letters; digits, punctuation and spaces end a run.
func wordRuns(s string) [][]rune {
	var out [][]rune
	var cur []rune
	for _, r := range normalize.MatchText(s) {
		if unicode.Is(unicode.Han, r) || unicode.IsLetter(r) {
			cur = append(cur, r)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
