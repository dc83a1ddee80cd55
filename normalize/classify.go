package normalize

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	ahocorasick "github.com/BobuSumisu/aho-corasick"

	intake "github.com/hotline12345/intake-gateway"
)

// Classifier classifies citizen texts with one Aho-Corasick automaton built from all rule files
// (taxonomy phrases, request-type cues, emergency triggers and guards, out-of-scope phrases,
// places). It is immutable after NewClassifier/Compile and safe for concurrent use, so a
// service keeps it in an atomic.Pointer and swaps in a new one when the files are reloaded.
//
// Classify is explainable: every phrase that matched, and why it did or did not count, is in
// Result.Evidence; the phrases that decided are in Result.MatchedTerms.
type Classifier struct {
	rules Rules
	trie  *ahocorasick.Trie
	refs  [][]ref  // per pattern id: what the pattern means
	terms []string // display text of each configured phrase (as written in the file)

	catIndex   map[string]int
	fallback   int // index of the fallback category
	kindRank   map[intake.EmergencyKind]int
	kindByRank []EmergencyKindRule
	patterns   int
}

type family uint8

const (
	famCategory family = iota
	famCategoryExclude
	famRequest
	famRequestExclude
	famNoRequest
	famPresent
	famGuard
	famTrigger
	famWith
	famOOS
	famOOSExclude
	famOOSUnless
	famCity
	famPlace
	famPlaceExclude
)

// ref is one meaning of a pattern: a phrase of a category, a cue of a request type, and so on.
type ref struct {
	fam    family
	target int32 // index of the category, request type, guard, trigger, rule or district
	term   int32 // index into Classifier.terms
	weight float64
	rule   string // Evidence.Rule, computed once at compile time
}

// NewClassifier parses the rule files and compiles them.
func NewClassifier(src Sources) (*Classifier, error) {
	r, err := ParseRules(src)
	if err != nil {
		return nil, err
	}
	return Compile(r)
}

// Compile builds a classifier from rules (validated again here, so rules built in code are
// checked too).
func Compile(r Rules) (*Classifier, error) {
	r.applyDefaults()
	if err := r.Validate(); err != nil {
		return nil, err
	}
	c := &Classifier{
		rules:    r,
		catIndex: make(map[string]int, len(r.Taxonomy.Categories)),
		kindRank: make(map[intake.EmergencyKind]int, len(r.Emergency.Kinds)),
	}
	for i, cat := range r.Taxonomy.Categories {
		c.catIndex[cat.Code] = i
	}
	c.fallback = c.catIndex[r.Taxonomy.FallbackCategory]
	for i, k := range r.Emergency.Kinds {
		c.kindRank[k.Kind] = i
		c.kindByRank = append(c.kindByRank, k)
	}

	ids := map[string]int32{}
	tb := ahocorasick.NewTrieBuilder()
	add := func(phrase string, rf ref) {
		f := MatchText(phrase)
		id, ok := ids[f]
		if !ok {
			id = int32(len(c.refs))
			ids[f] = id
			c.refs = append(c.refs, nil)
			tb.AddString(f)
		}
		for k, o := range c.refs[id] {
			if o.fam == rf.fam && o.target == rf.target {
				// The same phrase twice for one target (perhaps spelt differently): keep one,
				// with the larger weight, so that it cannot count twice.
				c.refs[id][k].weight = max(o.weight, rf.weight)
				return
			}
		}
		rf.term = int32(len(c.terms))
		rf.rule = c.ruleName(rf)
		c.terms = append(c.terms, phrase)
		c.refs[id] = append(c.refs[id], rf)
	}
	addAll := func(list []string, fam family, target int, weight float64) {
		for _, p := range list {
			add(p, ref{fam: fam, target: int32(target), weight: weight})
		}
	}

	t := &r.Taxonomy
	for i, cat := range t.Categories {
		for _, g := range cat.Terms {
			addAll(g.Phrases, famCategory, i, g.Weight)
		}
		addAll(cat.Exclude, famCategoryExclude, i, 0)
	}
	for i, rt := range t.RequestTypes {
		for _, g := range rt.Terms {
			addAll(g.Phrases, famRequest, i, g.Weight)
		}
		addAll(rt.Exclude, famRequestExclude, i, 0)
	}
	addAll(t.NoRequest, famNoRequest, 0, 0)

	e := &r.Emergency
	addAll(e.PresentCues, famPresent, 0, 0)
	for i, g := range e.Guards {
		addAll(g.Phrases, famGuard, i, 0)
	}
	for i, tr := range e.Triggers {
		addAll(tr.Phrases, famTrigger, i, 0)
		addAll(tr.With, famWith, i, 0)
	}

	for i, o := range r.OutOfScope.Rules {
		addAll(o.Phrases, famOOS, i, 0)
		addAll(o.Exclude, famOOSExclude, i, 0)
		addAll(o.Unless, famOOSUnless, i, 0)
	}

	g := &r.Gazetteer
	addAll(g.CityAliases, famCity, 0, 0)
	if g.City != "" {
		add(g.City, ref{fam: famCity})
	}
	addAll(g.Exclude, famPlaceExclude, 0, 0)
	for i, d := range g.Districts {
		add(d.Name, ref{fam: famPlace, target: int32(i)})
		if d.FullName != "" {
			add(d.FullName, ref{fam: famPlace, target: int32(i)})
		}
		addAll(d.Aliases, famPlace, i, 0)
		addAll(d.Places, famPlace, i, 0)
	}

	c.patterns = len(c.refs)
	c.trie = tb.Build()
	return c, nil
}

// Rules returns the rules the classifier was built from.
func (c *Classifier) Rules() Rules { return c.rules }

// Patterns is the number of distinct folded phrases in the automaton.
func (c *Classifier) Patterns() int { return c.patterns }

// Result is the outcome of Classify.
type Result struct {
	Category     string
	CategoryName string
	// Confidence of the category in [0,1] (see ConfidenceRule); 0 for the fallback category
	// when nothing matched.
	Confidence            float64
	RequestType           intake.RequestType
	RequestTypeConfidence float64
	// MatchedTerms are the configured phrases that decided: the category's, the request type's,
	// the emergency triggers' and the out-of-scope rule's, in order of appearance.
	MatchedTerms []string
	// Emergency is set when the text describes immediate danger.
	Emergency *intake.Emergency
	// OutOfScope marks matters the hotline does not accept (court, arbitration, military, …):
	// still forwarded, but answered with the channel that fits.
	OutOfScope       bool
	OutOfScopeCode   string
	OutOfScopeReason string
	// District is the gazetteer name of the first district or place mentioned, or "".
	District string
	// Evidence lists every rule phrase found in the text and whether it counted.
	Evidence []Evidence
	// Scores are the category scores (after emergency bonuses), by category code; only
	// categories that scored are present.
	Scores map[string]float64
}

// Evidence is one phrase found in the text.
type Evidence struct {
	// Rule says what the phrase belongs to: "category:consumer", "request:complaint",
	// "emergency:fire", "guard:past", "present", "no_request", "out_of_scope:litigation",
	// "place:环翠区", "city", or "…:exclude" for exclusions.
	Rule string
	Term string // the phrase as configured
	// Weight for category and request-type phrases.
	Weight float64
	// Pos is the byte offset of the match in MatchText(text).
	Pos int
	// Ignored says why the phrase did not count; empty when it did.
	Ignored string
}

// Priority is urgent for emergencies and normal otherwise.
func (r Result) Priority() intake.Priority {
	if r.Emergency != nil {
		return intake.PriorityUrgent
	}
	return intake.PriorityNormal
}

// Classification returns the automatic part of the case record's classification (Source "auto").
func (r Result) Classification() intake.Classification {
	return intake.Classification{
		RequestType:      r.RequestType,
		Category:         r.Category,
		CategoryName:     r.CategoryName,
		Confidence:       r.Confidence,
		MatchedTerms:     slices.Clone(r.MatchedTerms),
		OutOfScope:       r.OutOfScope,
		OutOfScopeCode:   r.OutOfScopeCode,
		OutOfScopeReason: r.OutOfScopeReason,
		Source:           "auto",
	}
}

// String is a one-line summary for logs and the CLI (no citizen text).
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "category=%s(%s) confidence=%.2f request_type=%s(%.2f)", r.Category, r.CategoryName, r.Confidence, r.RequestType, r.RequestTypeConfidence)
	if r.Emergency != nil {
		fmt.Fprintf(&b, " emergency=%s/%s", r.Emergency.Kind, r.Emergency.Number)
	}
	if r.OutOfScope {
		fmt.Fprintf(&b, " out_of_scope=%s", r.OutOfScopeCode)
	}
	if r.District != "" {
		fmt.Fprintf(&b, " district=%s", r.District)
	}
	if len(r.MatchedTerms) > 0 {
		fmt.Fprintf(&b, " terms=%s", strings.Join(r.MatchedTerms, ","))
	}
	return b.String()
}

// Explain writes the result for a person (the CLI's `classify TEXT`): the decision, the advice
// and reason that go to the citizen, the scores, and every phrase found with why it did or did
// not count.
func (r Result) Explain(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "category      %s %s (confidence %.2f)\n", r.Category, r.CategoryName, r.Confidence)
	fmt.Fprintf(&b, "request type  %s (confidence %.2f)\n", r.RequestType, r.RequestTypeConfidence)
	if r.Emergency != nil {
		fmt.Fprintf(&b, "EMERGENCY     %s, call %s\n  advice: %s\n", r.Emergency.Kind, r.Emergency.Number, r.Emergency.Advice)
	} else {
		b.WriteString("emergency     none\n")
	}
	if r.OutOfScope {
		fmt.Fprintf(&b, "out of scope  %s\n  reason: %s\n", r.OutOfScopeCode, r.OutOfScopeReason)
	}
	if r.District != "" {
		fmt.Fprintf(&b, "district      %s\n", r.District)
	}
	fmt.Fprintf(&b, "matched terms %s\n", strings.Join(r.MatchedTerms, ", "))
	codes := slices.Sorted(maps.Keys(r.Scores))
	slices.SortStableFunc(codes, func(a, b string) int { return cmp.Compare(r.Scores[b], r.Scores[a]) })
	b.WriteString("scores       ")
	for _, code := range codes {
		fmt.Fprintf(&b, " %s=%g", code, r.Scores[code])
	}
	b.WriteString("\nevidence\n")
	for _, e := range r.Evidence {
		fmt.Fprintf(&b, "  @%-4d %-32s %s", e.Pos, e.Rule, e.Term)
		if e.Weight != 0 {
			fmt.Fprintf(&b, " (%g)", e.Weight)
		}
		if e.Ignored != "" {
			fmt.Fprintf(&b, "  — not counted: %s", e.Ignored)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hit is one occurrence of one meaning of a pattern.
type hit struct {
	start, end int
	ref
	ignored string
}

// Classify classifies one text. For a call transcript pass ClassifiableText(text) (the caller's
// turns). Classify is deterministic and does no I/O.
func (c *Classifier) Classify(text string) Result {
	m := MatchText(text)
	hits := make([]hit, 0, 32)
	c.trie.Walk([]byte(m), func(end, n, pattern int64) bool {
		for _, rf := range c.refs[pattern] {
			hits = append(hits, hit{start: int(end - n + 1), end: int(end + 1), ref: rf})
		}
		return true
	})
	// Walk reports matches by end position; evidence reads better by start.
	slices.SortStableFunc(hits, func(a, b hit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end))
	})

	res := Result{}
	var (
		noRequest bool
		decided   []int // indexes into hits that count for the result, for MatchedTerms
	)
	for i := range hits {
		if hits[i].fam == famNoRequest {
			noRequest = true
			decided = append(decided, i)
		}
	}

	// Places first: out-of-scope rules may depend on whether the text is local.
	local := c.district(hits, &res)

	// Emergencies: only when a trigger matched at all (the common case is none).
	var kind = -1
	for i := range hits {
		if hits[i].fam == famTrigger {
			kind = c.emergency(m, hits)
			break
		}
	}
	if kind >= 0 {
		k := c.kindByRank[kind]
		res.Emergency = &intake.Emergency{Kind: k.Kind, Number: k.Number, Advice: strings.TrimSpace(k.Advice)}
		for i := range hits {
			if hits[i].fam == famTrigger && hits[i].ignored == "" && c.rules.Emergency.Triggers[hits[i].target].Kind == k.Kind {
				decided = append(decided, i)
			}
		}
	}

	// Category.
	t := &c.rules.Taxonomy
	c.suppressContained(hits, famCategory)
	c.excludeOverlaps(hits, famCategory, famCategoryExclude, true)
	catScores := make([]float64, len(t.Categories))
	score(hits, famCategory, catScores)
	if kind >= 0 {
		for code, w := range c.kindByRank[kind].CategoryBonus {
			catScores[c.catIndex[code]] += w
		}
	}
	best, conf := pick(catScores, t.Confidence)
	res.Scores = map[string]float64{}
	for i, s := range catScores {
		if s > 0 {
			res.Scores[t.Categories[i].Code] = s
		}
	}
	scored := best >= 0 && conf >= t.Confidence.Threshold && !noRequest
	if !scored {
		best, conf = c.fallback, 0
		if noRequest {
			conf = 1
		}
	}
	res.Category, res.CategoryName, res.Confidence = t.Categories[best].Code, t.Categories[best].Name, round2(conf)
	if scored {
		for i := range hits {
			if hits[i].fam == famCategory && hits[i].ignored == "" && int(hits[i].target) == best {
				decided = append(decided, i)
			}
		}
	}

	// Request type.
	c.suppressContained(hits, famRequest)
	c.excludeOverlaps(hits, famRequest, famRequestExclude, true)
	rtScores := make([]float64, len(t.RequestTypes))
	score(hits, famRequest, rtScores)
	rbest, rconf := pick(rtScores, t.RequestConfidence)
	switch {
	case noRequest:
		res.RequestType, res.RequestTypeConfidence = intake.RequestOther, 1
	case res.Emergency != nil && t.EmergencyRequestType != "":
		res.RequestType, res.RequestTypeConfidence = t.EmergencyRequestType, 1
	case rbest >= 0 && rconf >= t.RequestConfidence.Threshold:
		res.RequestType, res.RequestTypeConfidence = t.RequestTypes[rbest].Code, round2(rconf)
		for i := range hits {
			if hits[i].fam == famRequest && hits[i].ignored == "" && int(hits[i].target) == rbest {
				decided = append(decided, i)
			}
		}
	case scored && best != c.fallback:
		res.RequestType = t.DefaultRequestType.WithCategory
	default:
		res.RequestType = t.DefaultRequestType.WithoutCategory
	}

	// Out of scope.
	if oi := c.outOfScope(hits, local); oi >= 0 {
		o := c.rules.OutOfScope.Rules[hits[oi].target]
		res.OutOfScope, res.OutOfScopeCode, res.OutOfScopeReason = true, o.Code, strings.TrimSpace(o.Reason)
		decided = append(decided, oi)
	}

	slices.Sort(decided)
	decided = slices.Compact(decided)
	res.MatchedTerms = make([]string, 0, len(decided))
	for _, i := range decided {
		term := c.terms[hits[i].term]
		if !slices.Contains(res.MatchedTerms, term) {
			res.MatchedTerms = append(res.MatchedTerms, term)
		}
	}
	res.Evidence = make([]Evidence, len(hits))
	for i, h := range hits {
		res.Evidence[i] = Evidence{Rule: h.rule, Term: c.terms[h.term], Weight: h.weight, Pos: h.start, Ignored: h.ignored}
	}
	return res
}

// score adds the weights of the counting hits of fam to scores; a phrase found several times
// counts once (a term belongs to one target, so the term index identifies both).
func score(hits []hit, fam family, scores []float64) {
	for i := range hits {
		h := &hits[i]
		if h.fam != fam || h.ignored != "" {
			continue
		}
		repeated := false
		for j := range i {
			if hits[j].fam == fam && hits[j].term == h.term && hits[j].ignored == "" {
				repeated = true
				break
			}
		}
		if repeated {
			h.ignored = "repeated"
			continue
		}
		scores[h.target] += h.weight
	}
}

// pick returns the index of the best score (the first on ties, so file order breaks ties) and
// its confidence; -1 when nothing scored.
func pick(scores []float64, cr ConfidenceRule) (int, float64) {
	best, second := -1, 0.0
	for i, s := range scores {
		if s <= 0 {
			continue
		}
		if best < 0 || s > scores[best] {
			if best >= 0 {
				second = scores[best]
			}
			best = i
		} else if s > second {
			second = s
		}
	}
	if best < 0 {
		return -1, 0
	}
	top := scores[best]
	return best, top / (top + second) * (1 - math.Exp(-top/cr.Saturation))
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// suppressContained marks phrases of fam that lie strictly inside a longer phrase of the same
// family: the longer, more specific phrase wins (烧垃圾 over 垃圾, 哪里投诉 over 投诉).
func (c *Classifier) suppressContained(hits []hit, fam family) {
	maxEnd, maxStart, maxTerm := -1, -1, int32(-1)
	for i := range hits { // sorted by start, then longest first
		h := &hits[i]
		if h.fam != fam {
			continue
		}
		if maxEnd > h.end || maxEnd == h.end && maxStart < h.start {
			h.ignored = "inside " + c.terms[maxTerm]
		}
		if h.end > maxEnd {
			maxEnd, maxStart, maxTerm = h.end, h.start, h.term
		}
	}
}

// excludeOverlaps marks phrases of fam overlapped by an exclusion phrase (of the same target when
// sameTarget is set, of any target otherwise).
func (c *Classifier) excludeOverlaps(hits []hit, fam, exclude family, sameTarget bool) {
	for i := range hits {
		x := &hits[i]
		if x.fam != exclude {
			continue
		}
		for j := range hits {
			o := &hits[j]
			if o.fam == fam && (!sameTarget || o.target == x.target) && o.ignored == "" && o.start < x.end && x.start < o.end {
				o.ignored = "excluded by " + c.terms[x.term]
			}
		}
	}
}

// district finds the first district or place named, fills res.District and reports whether the
// text names anything of this city.
func (c *Classifier) district(hits []hit, res *Result) bool {
	c.suppressContained(hits, famPlace)
	c.excludeOverlaps(hits, famPlace, famPlaceExclude, false)
	local := false
	for i := range hits {
		h := &hits[i]
		switch {
		case h.fam == famCity:
			local = true
		case h.fam == famPlace && h.ignored == "":
			local = true
			if res.District == "" {
				res.District = c.rules.Gazetteer.Districts[h.target].Name
			}
		}
	}
	return local
}

// outOfScope returns the index of the hit of the first out-of-scope rule (file order) that
// applies, or -1.
func (c *Classifier) outOfScope(hits []hit, local bool) int {
	rules := c.rules.OutOfScope.Rules
	if len(rules) == 0 {
		return -1
	}
	vetoed := make([]bool, len(rules))
	for i := range hits {
		h := &hits[i]
		switch h.fam {
		case famOOSUnless:
			vetoed[h.target] = true
		}
	}
	c.excludeOverlaps(hits, famOOS, famOOSExclude, true)
	found := -1
	for i := range hits {
		h := &hits[i]
		if h.fam != famOOS || h.ignored != "" {
			continue
		}
		switch o := rules[h.target]; {
		case vetoed[h.target]:
			h.ignored = "unless"
		case o.UnlessLocal && local:
			h.ignored = "local place named"
		case found < 0 || h.target < hits[found].target:
			found = i
		}
	}
	return found
}

// emergency evaluates the triggers against the guards and returns the rank of the winning kind,
// or -1. It marks ignored triggers with the guard that stopped them.
func (c *Classifier) emergency(m string, hits []hit) int {
	e := &c.rules.Emergency
	sentences, clauses := boundaries(m)
	segment := func(bounds []int, pos int) int { return sort.SearchInts(bounds, pos+1) }

	// Idiom masks apply to present cues too: "救命钱" is not a cry for help.
	masked := func(h *hit) bool {
		for j := range hits {
			g := &hits[j]
			if g.fam == famGuard && e.Guards[g.target].Scope == ScopeMask && g.start < h.end && h.start < g.end {
				return true
			}
		}
		return false
	}
	present := false
	withOK := make([]bool, len(e.Triggers))
	for i := range hits {
		switch h := &hits[i]; h.fam {
		case famPresent:
			if masked(h) {
				h.ignored = "masked"
			} else {
				present = true
			}
		case famWith:
			withOK[h.target] = true
		}
	}
	kinds := func(list []intake.EmergencyKind, k intake.EmergencyKind) bool {
		return len(list) == 0 || slices.Contains(list, k)
	}

	best := -1
	for i := range hits {
		tr := &hits[i]
		if tr.fam != famTrigger {
			continue
		}
		rule := e.Triggers[tr.target]
		trSentence, trClause := segment(sentences, tr.start), segment(clauses, tr.start)
		presentInClause := false
		for j := range hits {
			if p := &hits[j]; p.fam == famPresent && p.ignored == "" && segment(clauses, p.start) == trClause {
				presentInClause = true
				break
			}
		}
		for j := range hits {
			g := &hits[j]
			if g.fam != famGuard {
				continue
			}
			gr := e.Guards[g.target]
			if !kinds(gr.Kinds, rule.Kind) {
				continue
			}
			applies := false
			switch gr.Scope {
			case ScopeMask:
				applies = g.start < tr.end && tr.start < g.end
			case ScopeBefore:
				applies = g.end <= tr.start && utf8.RuneCountInString(m[g.end:tr.start]) <= gr.Window
			case ScopeSentence:
				applies = segment(sentences, g.start) == trSentence && !(gr.Overridable && presentInClause)
			case ScopeText:
				applies = true
			}
			if applies {
				tr.ignored = "guard " + gr.Name + ": " + c.terms[g.term]
				break
			}
		}
		switch {
		case tr.ignored != "":
		case rule.NeedsPresent && !present:
			tr.ignored = "no present cue"
		case len(rule.With) > 0 && !withOK[tr.target]:
			tr.ignored = "no companion phrase"
		default:
			if r := c.kindRank[rule.Kind]; best < 0 || r < best {
				best = r
			}
		}
	}
	return best
}

// boundaries returns the byte offsets of sentence ends (。！？；, line breaks, a full stop not
// between digits) and of clause ends (those plus commas, 、 and …).
func boundaries(m string) (sentences, clauses []int) {
	for i, r := range m {
		switch r {
		case '。', '!', '?', ';', '\n':
			sentences = append(sentences, i)
			clauses = append(clauses, i)
		case '.':
			if !(i > 0 && isDigit(m[i-1]) && i+1 < len(m) && isDigit(m[i+1])) {
				sentences = append(sentences, i)
				clauses = append(clauses, i)
			}
		case ',', '、', '…', ':':
			clauses = append(clauses, i)
		}
	}
	return sentences, clauses
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func (c *Classifier) ruleName(r ref) string {
	t := &c.rules.Taxonomy
	switch r.fam {
	case famCategory:
		return "category:" + t.Categories[r.target].Code
	case famCategoryExclude:
		return "category:" + t.Categories[r.target].Code + ":exclude"
	case famRequest:
		return "request:" + string(t.RequestTypes[r.target].Code)
	case famRequestExclude:
		return "request:" + string(t.RequestTypes[r.target].Code) + ":exclude"
	case famNoRequest:
		return "no_request"
	case famPresent:
		return "present"
	case famGuard:
		return "guard:" + c.rules.Emergency.Guards[r.target].Name
	case famTrigger:
		return "emergency:" + string(c.rules.Emergency.Triggers[r.target].Kind)
	case famWith:
		return "emergency:" + string(c.rules.Emergency.Triggers[r.target].Kind) + ":with"
	case famOOS:
		return "out_of_scope:" + c.rules.OutOfScope.Rules[r.target].Code
	case famOOSExclude:
		return "out_of_scope:" + c.rules.OutOfScope.Rules[r.target].Code + ":exclude"
	case famOOSUnless:
		return "out_of_scope:" + c.rules.OutOfScope.Rules[r.target].Code + ":unless"
	case famCity:
		return "city"
	case famPlace:
		return "place:" + c.rules.Gazetteer.Districts[r.target].Name
	case famPlaceExclude:
		return "place:exclude"
	}
	return "?"
}

// CategoryName returns the display name of a category code, or "" when the taxonomy lacks it.
func (c *Classifier) CategoryName(code string) string {
	for _, cat := range c.Rules().Taxonomy.Categories {
		if cat.Code == code {
			return cat.Name
		}
	}
	return ""
}
