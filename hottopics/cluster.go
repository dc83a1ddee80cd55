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

// maxCompare bounds the earlier cases of its category and district a case is compared with (the
// newest of them): a burst links up through its neighbours in time, and comparing every pair of a
// very large one would grow with its square for no better answer.
const maxCompare = 500

type member struct {
	tc  intake.TopicCase
	key normalize.Key
}

// Plan clusters cases (oldest first, as Incidents.TopicCases returns them) received within the
// window before now. open holds the ids of the open incidents.
//
// Within one category and district, two cases are alike when their texts are at least
// opts.Similarity similar, and a cluster is a connected group of alike cases (single linkage:
// citizens word one problem differently, and each report resembles some other; the order cases
// arrive in does not matter). A cluster holding members of an open incident grows that incident
// by its other cases (the incident with the most members there, should it hold two); any other
// cluster of opts.MinCases or more opens an incident. Members of closed incidents, repeated
// requests of one citizen and cases without a category, a district or comparable text take no
// part.
func Plan(cases []intake.TopicCase, open map[string]bool, now time.Time, opts Options) intake.TopicChanges {
	ch := intake.TopicChanges{Now: now, CloseQuietBefore: now.Add(-opts.Window), Announce: opts.Announces()}
	type groupKey struct{ category, district string }
	groups := map[groupKey][]member{}
	var order []groupKey
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
			order = append(order, gk)
		}
		groups[gk] = append(groups[gk], member{tc: tc, key: k})
	}
	for _, gk := range order {
		for _, c := range components(groups[gk], opts.Similarity) {
			planCluster(&ch, gk.category, gk.district, c, opts)
		}
	}
	return ch
}

// components splits ms into groups connected by similarity at or above threshold, each in the
// order of ms, the groups in the order of their first member.
func components(ms []member, threshold float64) [][]member {
	parent := make([]int, len(ms))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range ms {
		for j := max(0, i-maxCompare); j < i; j++ {
			ri, rj := find(i), find(j)
			if ri == rj {
				continue
			}
			if ms[i].key.Similarity(ms[j].key) >= threshold {
				parent[max(ri, rj)] = min(ri, rj)
			}
		}
	}
	index := map[int]int{}
	var out [][]member
	for i, m := range ms {
		r := find(i)
		k, ok := index[r]
		if !ok {
			k = len(out)
			index[r] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], m)
	}
	return out
}

// planCluster adds what one cluster asks for to ch: growth of its incident, or a new incident.
func planCluster(ch *intake.TopicChanges, category, district string, c []member, opts Options) {
	counts := map[string]int{}
	incident := ""
	for _, m := range c {
		if id := m.tc.IncidentID; id != "" {
			counts[id]++
			if incident == "" || counts[id] > counts[incident] || (counts[id] == counts[incident] && id < incident) {
				incident = id
			}
		}
	}
	if incident != "" {
		g := intake.IncidentGrowth{IncidentID: incident}
		for _, m := range c {
			if m.tc.IncidentID == "" {
				g.CaseIDs = append(g.CaseIDs, m.tc.ID)
				g.LastSeen = maxTime(g.LastSeen, m.tc.ReceivedAt)
			}
		}
		if len(g.CaseIDs) > 0 {
			ch.Grow = append(ch.Grow, g)
		}
		return
	}
	if len(c) < opts.MinCases {
		return
	}
	ni := intake.NewIncident{Incident: intake.Incident{Category: category, District: district, State: intake.IncidentOpen,
		Size: len(c), FirstSeen: c[0].tc.ReceivedAt}}
	texts := make([]string, len(c))
	for i, m := range c {
		ni.CaseIDs = append(ni.CaseIDs, m.tc.ID)
		texts[i] = m.tc.Text
		ni.Incident.LastSeen = maxTime(ni.Incident.LastSeen, m.tc.ReceivedAt)
	}
	ni.Incident.Summary = Summary(texts)
	ch.Open = append(ch.Open, ni)
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
