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
	"unicode"
	"unicode/utf8"

	ahocorasick "github.com/BobuSumisu/aho-corasick"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize/learn"
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

	// model, when set, decides where no rule is certain (see Classify).
	model     *learn.Model
	settings  Settings
	hintNames hintNames
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
	famReferralCue
	famNear
)

// ref is one meaning of a pattern: a phrase of a category, a cue of a request type, and so on.
type ref struct {
	fam    family
	target int32 // index of the category, request type, guard, trigger, rule or district
	term   int32 // index into Classifier.terms
	weight float64
	rule   string // Evidence.Rule, computed once at compile time
	hint   string // the model feature of the finding, computed once at compile time
}

// NewClassifier parses the rule files and compiles them, with the model when src has one.
func NewClassifier(src Sources) (*Classifier, error) {
	r, err := ParseRules(src)
	if err != nil {
		return nil, err
	}
	c, err := Compile(r)
	if err != nil {
		return nil, err
	}
	c = c.WithSettings(src.Settings)
	if len(src.Model) == 0 {
		return c, nil
	}
	m, err := learn.Decode(src.Model)
	if err != nil {
		return nil, err
	}
	return c.WithModel(m)
}

// WithModel returns a copy of the classifier that combines its rules with m (nil: rules only).
// The model must predict only classes the rules know.
func (c *Classifier) WithModel(m *learn.Model) (*Classifier, error) {
	if m != nil {
		if err := c.checkModel(m); err != nil {
			return nil, err
		}
	}
	cp := *c
	cp.model = m
	return &cp, nil
}

// WithSettings returns a copy of the classifier with other settings.
func (c *Classifier) WithSettings(s Settings) *Classifier {
	cp := *c
	cp.settings = s
	return &cp
}

// Model returns the learned model, or nil when the classifier has rules only.
func (c *Classifier) Model() *learn.Model { return c.model }

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
		rf.hint = c.hintOf(rf)
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
	addAll(e.LongLetter.NearCues, famNear, 0, 0)
	for i, k := range r.Referrals.Kinds {
		addAll(k.Cues, famReferralCue, i, 0)
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
	c.makeHintNames()
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
	// still forwarded, but answered with the channel that fits. OutOfScopeCode is the referral
	// kind (or the rule's code when the rule names none), OutOfScopeReason what the citizen is
	// told, Referral where they should go instead.
	OutOfScope       bool
	OutOfScopeCode   string
	OutOfScopeReason string
	Referral         string
	// Sources say what decided each part: "rule" or "model" ("" when nothing did).
	CategorySource, RequestTypeSource, EmergencySource, OutOfScopeSource string
	// EmergencyConfidence and OutOfScopeConfidence are the model's probabilities that the text
	// is an emergency or out of scope (0 without a model).
	EmergencyConfidence, OutOfScopeConfidence float64
	// NeedsReview is set when the category's or the request type's confidence is below the
	// configured review threshold: an operator should look at the case.
	NeedsReview bool
	// ModelEvidence are the features that weighed most for what the model decided.
	ModelEvidence []ModelEvidence
	// ModelRequestType is the model's own answer with its probability, also where a certain rule
	// decided instead; ModelCategory is set where the model decided the category ("" without a
	// model: where a rule is certain the model's category is not computed).
	ModelCategory                                   string
	ModelRequestType                                intake.RequestType
	ModelCategoryConfidence, ModelRequestConfidence float64
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
	cl := intake.Classification{
		RequestType:      r.RequestType,
		Category:         r.Category,
		CategoryName:     r.CategoryName,
		Confidence:       r.Confidence,
		MatchedTerms:     slices.Clone(r.MatchedTerms),
		NeedsReview:      r.NeedsReview,
		OutOfScope:       r.OutOfScope,
		OutOfScopeCode:   r.OutOfScopeCode,
		OutOfScopeReason: r.OutOfScopeReason,
		Referral:         r.Referral,
		Source:           "auto",
		// Rounded: the record keeps what an operator can read, not float noise.
		EmergencyConfidence:  math.Round(r.EmergencyConfidence*1000) / 1000,
		OutOfScopeConfidence: math.Round(r.OutOfScopeConfidence*1000) / 1000,
	}
	for _, e := range r.ModelEvidence {
		if !slices.Contains(cl.ModelTerms, e.Feature) {
			cl.ModelTerms = append(cl.ModelTerms, e.Feature)
		}
	}
	return cl
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
	if r.NeedsReview {
		b.WriteString(" needs_review")
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
	by := func(source string) string {
		if source == "" {
			return ""
		}
		return ", by " + source
	}
	fmt.Fprintf(&b, "category      %s %s (confidence %.2f%s)\n", r.Category, r.CategoryName, r.Confidence, by(r.CategorySource))
	fmt.Fprintf(&b, "request type  %s (confidence %.2f%s)\n", r.RequestType, r.RequestTypeConfidence, by(r.RequestTypeSource))
	if r.Emergency != nil {
		fmt.Fprintf(&b, "EMERGENCY     %s, call %s (model %.2f%s)\n  advice: %s\n", r.Emergency.Kind, r.Emergency.Number, r.EmergencyConfidence, by(r.EmergencySource), r.Emergency.Advice)
	} else {
		fmt.Fprintf(&b, "emergency     none (model %.2f)\n", r.EmergencyConfidence)
	}
	if r.OutOfScope {
		fmt.Fprintf(&b, "out of scope  %s → %s (model %.2f%s)\n  reply: %s\n", r.OutOfScopeCode, r.Referral, r.OutOfScopeConfidence, by(r.OutOfScopeSource), r.OutOfScopeReason)
	} else {
		fmt.Fprintf(&b, "out of scope  no (model %.2f)\n", r.OutOfScopeConfidence)
	}
	if r.NeedsReview {
		b.WriteString("needs review  yes\n")
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
	if len(r.ModelEvidence) > 0 {
		b.WriteString("model evidence (features that weighed most)\n")
		for _, e := range r.ModelEvidence {
			fmt.Fprintf(&b, "  %-14s %s (%.3f)\n", e.Head, e.Feature, e.Weight)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hit is one occurrence of one meaning of a pattern.
type hit struct {
	start, end int
	ref
	ignored string
	masked  bool // a trigger inside an idiom (a guard of scope mask)
}

// Classify classifies one text. For a call transcript pass ClassifiableText(text) (the caller's
// turns). Classify is deterministic and does no I/O.
//
// With a model, the rules' findings and the text's n-grams go to the model, and the two are
// combined:
//
//   - category and request type: a rule at least as confident as taxonomy.yaml's override
//     stands (an operator's phrase as an explicit override); otherwise the model's most probable
//     class. An emergency is a request for help unless the model reads it as a report;
//   - emergency (recall first): the rules or the model; the model's alarm is dropped when a guard
//     that applies to the whole text is found (drill, praise, resolved, accident aftermath), or
//     an overridable sentence guard without any present cue, except guards marked
//     model_decides (in the shipped rules past, habitual, news and fee: the model weighs them
//     itself); in a long letter when nothing is happening now near the writer
//     (emergency.yaml long_letter, where every overridable guard counts);
//   - out of scope: the rules or the model (not for an emergency), with the referral kind of
//     whichever flagged it; the model refers nothing of which it knows no n-gram, nor anything
//     of fewer than minReferralLetters letters.
func (c *Classifier) Classify(text string) Result {
	return c.classify(MatchText(text), c.model).res
}

// outcome is Classify's result with the rule findings given to the model.
type outcome struct {
	res   Result
	hints []string
}

func (c *Classifier) classify(m string, model *learn.Model) outcome {
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
		found   ruleFindings
		decided []int // indexes into hits that count for the result, for MatchedTerms
	)
	for i := range hits {
		if hits[i].fam == famNoRequest {
			found.noRequest = true
			decided = append(decided, i)
		}
	}
	noRequest := found.noRequest

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
		res.Emergency = c.emergencyOf(kind)
		res.EmergencySource = "rule"
		found.emergencyKind = res.Emergency.Kind
		for i := range hits {
			if hits[i].fam == famTrigger && hits[i].ignored == "" && c.rules.Emergency.Triggers[hits[i].target].Kind == res.Emergency.Kind {
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
	found.categoryScored = scored
	if !scored {
		best, conf = c.fallback, 0
		if noRequest {
			conf = 1
		}
	}
	res.Category, res.CategoryName, res.Confidence = t.Categories[best].Code, t.Categories[best].Name, round2(conf)
	if scored || noRequest {
		res.CategorySource = "rule"
	}
	categoryTerms := func() {
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
	cueDecided := rbest >= 0 && rconf >= t.RequestConfidence.Threshold
	if cueDecided {
		found.requestDecided, found.requestType = true, t.RequestTypes[rbest].Code
	}
	requestTerms := func() {
		for i := range hits {
			if hits[i].fam == famRequest && hits[i].ignored == "" && int(hits[i].target) == rbest {
				decided = append(decided, i)
			}
		}
	}
	switch {
	case noRequest:
		res.RequestType, res.RequestTypeConfidence, res.RequestTypeSource = intake.RequestOther, 1, "rule"
	case res.Emergency != nil && t.EmergencyRequestType != "":
		res.RequestType, res.RequestTypeConfidence, res.RequestTypeSource = t.EmergencyRequestType, 1, "rule"
	case cueDecided:
		res.RequestType, res.RequestTypeConfidence, res.RequestTypeSource = t.RequestTypes[rbest].Code, round2(rconf), "rule"
	case scored && best != c.fallback:
		res.RequestType = t.DefaultRequestType.WithCategory
	default:
		res.RequestType = t.DefaultRequestType.WithoutCategory
	}

	// Out of scope.
	oi := c.outOfScope(hits, local)
	if oi >= 0 {
		o := c.rules.OutOfScope.Rules[hits[oi].target]
		c.setOutOfScope(&res, o.Code, o.Referral, o.Reason)
		res.OutOfScopeSource = "rule"
		found.outOfScope = res.OutOfScopeCode
	}

	res.Evidence = make([]Evidence, len(hits), len(hits)+1)
	for i, h := range hits {
		res.Evidence[i] = Evidence{Rule: h.rule, Term: c.terms[h.term], Weight: h.weight, Pos: h.start, Ignored: h.ignored}
	}
	out := outcome{hints: c.hints(hits, &res, found)}
	ruleCategory, ruleRequest := scored, cueDecided
	if model != nil {
		ruleCategory, ruleRequest = c.combine(m, model, hits, &res, out.hints, found, conf, rconf)
	}
	if ruleCategory {
		categoryTerms()
	}
	if ruleRequest && cueDecided && res.RequestTypeSource == "rule" && res.RequestType == t.RequestTypes[rbest].Code {
		requestTerms()
	}
	if res.OutOfScopeSource == "rule" {
		decided = append(decided, oi)
	}
	if s := c.settings.ReviewBelow; s > 0 && !noRequest {
		res.NeedsReview = res.Confidence < s || (res.RequestTypeSource != "" && res.RequestTypeConfidence < s) || res.RequestTypeSource == ""
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
	out.res = res
	return out
}

// emergencyOf is the emergency of the kind of that rank.
func (c *Classifier) emergencyOf(rank int) *intake.Emergency {
	k := c.kindByRank[rank]
	return &intake.Emergency{Kind: k.Kind, Number: k.Number, Advice: strings.TrimSpace(k.Advice)}
}

// setOutOfScope flags res with a referral kind (and the rule's own reason when it has one).
func (c *Classifier) setOutOfScope(res *Result, code, referral, reason string) {
	res.OutOfScope, res.OutOfScopeCode, res.OutOfScopeReason = true, code, strings.TrimSpace(reason)
	if k, ok := c.rules.Referrals.Kind(referral); ok {
		res.OutOfScopeCode, res.Referral = k.Code, k.Referral
		if res.OutOfScopeReason == "" {
			res.OutOfScopeReason = strings.TrimSpace(k.Reply)
		}
	}
}

// evidenceTerms is how many of the model's features a result carries per decision.
const evidenceTerms = 5

// combine asks the model and merges its answer into res (see Classify). It reports whether the
// rules' category and request type stood.
func (c *Classifier) combine(m string, model *learn.Model, hits []hit, res *Result, hints []string, found ruleFindings, catConf, reqConf float64) (ruleCategory, ruleRequest bool) {
	p := model.Predict(m, hints, HeadEmergency, HeadOutOfScope, HeadRequestType)
	defer p.Release()
	t := &c.rules.Taxonomy
	rclass, rprob, _ := p.Best(HeadRequestType)
	res.ModelRequestType, res.ModelRequestConfidence = intake.RequestType(rclass), round2(rprob)

	overrides := func(cr ConfidenceRule, conf float64) bool { return cr.Override > 0 && conf >= cr.Override }
	ruleCategory = found.noRequest || found.categoryScored && overrides(t.Confidence, catConf)
	if !ruleCategory {
		if class, prob, _ := p.Best(HeadCategory); class != "" {
			res.ModelCategory, res.ModelCategoryConfidence = class, round2(prob)
			res.Category, res.CategoryName, res.Confidence = class, t.Categories[c.catIndex[class]].Name, round2(prob)
			res.CategorySource = "model"
			res.ModelEvidence = append(res.ModelEvidence, modelTerms(HeadCategory, p.Top(HeadCategory, class, evidenceTerms))...)
		}
	}

	// Emergency: the rules' alarm stands; the model may add one.
	prob, _, yes := p.Positive(HeadEmergency)
	res.EmergencyConfidence = round2(prob)
	if res.Emergency == nil && yes && len(c.kindByRank) > 0 {
		kind, _, _ := p.Best(HeadEmergencyKind)
		if kind == "" {
			kind = string(c.kindByRank[0].Kind) // a model trained for a single kind has no kind head
		}
		if why := c.modelEmergencyGuard(m, hits, intake.EmergencyKind(kind)); why != "" {
			res.Evidence = append(res.Evidence, Evidence{Rule: "model:emergency:" + kind, Term: fmt.Sprintf("%.2f", prob), Ignored: why})
		} else {
			res.Emergency = c.emergencyOf(c.kindRank[intake.EmergencyKind(kind)])
			res.EmergencySource = "model"
			res.ModelEvidence = append(res.ModelEvidence, modelTerms(HeadEmergency, p.Top(HeadEmergency, isEmergency, evidenceTerms))...)
		}
	}

	ruleRequest = found.noRequest || found.requestDecided && overrides(t.RequestConfidence, reqConf)
	switch {
	case found.noRequest:
	case ruleRequest:
		res.RequestType, res.RequestTypeConfidence, res.RequestTypeSource = found.requestType, round2(reqConf), "rule"
	case rclass != "":
		res.RequestType, res.RequestTypeConfidence, res.RequestTypeSource = intake.RequestType(rclass), round2(rprob), "model"
	}
	if res.Emergency != nil && t.EmergencyRequestType != "" && !found.noRequest {
		if res.ModelRequestType == intake.RequestReport {
			res.RequestType, res.RequestTypeConfidence, res.RequestTypeSource = intake.RequestReport, round2(rprob), "model"
		} else {
			res.RequestType, res.RequestTypeConfidence, res.RequestTypeSource = t.EmergencyRequestType, 1, "rule"
		}
	}

	// Out of scope: the rules' flag stands; the model may add one, but not to an emergency.
	prob, _, yes = p.Positive(HeadOutOfScope)
	res.OutOfScopeConfidence = round2(prob)
	if !res.OutOfScope && yes && res.Emergency == nil {
		kind, _, _ := p.Best(HeadReferral)
		switch why := tooLittleToRefer(m, p); {
		case kind == "":
		case why != "":
			res.Evidence = append(res.Evidence, Evidence{Rule: "model:out_of_scope:" + kind, Term: fmt.Sprintf("%.2f", prob), Ignored: why})
		default:
			c.setOutOfScope(res, kind, kind, "")
			res.OutOfScopeSource = "model"
			res.ModelEvidence = append(res.ModelEvidence, modelTerms(HeadOutOfScope, p.Top(HeadOutOfScope, outOfScope, evidenceTerms))...)
		}
	}
	return ruleCategory, ruleRequest
}

// minReferralLetters is the least text, in letters (Han characters included), on which the
// model may refer a matter away. Its out-of-scope head leans to "out" on a text that says almost
// nothing ("对", "好的", "？" and "123" reach the threshold from the biases and one or two known
// n-grams), and telling a citizen who wrote "好的" that the matter is not the government's business
// is worse than leaving a three-character message in scope for an operator. No item of the
// corpus or of the blind sets that is out of scope has fewer than six letters. The rules' own
// referrals are not bound by it.
const minReferralLetters = 4

// tooLittleToRefer returns why the model may not refer text m away, or "". A model that knows
// none of the text's n-grams (empty, only emoji or an unknown script, a transcript in which the
// caller said nothing) answers from its biases and the hints alone, and an empty text's biases
// reach the out-of-scope threshold: nothing was said to judge.
func tooLittleToRefer(m string, p learn.Prediction) string {
	switch {
	case p.Grams() == 0:
		return "the model knows none of the text"
	case !hasLetters(m, minReferralLetters):
		return fmt.Sprintf("fewer than %d letters: too little text to refer", minReferralLetters)
	}
	return ""
}

// hasLetters reports whether s has at least n letters.
func hasLetters(s string, n int) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			if n--; n <= 0 {
				return true
			}
		}
	}
	return n <= 0
}

// modelEmergencyGuard returns why the model's alarm of kind does not count, or "".
func (c *Classifier) modelEmergencyGuard(m string, hits []hit, kind intake.EmergencyKind) string {
	e := &c.rules.Emergency
	present := false
	for i := range hits {
		if hits[i].fam == famPresent && hits[i].ignored == "" {
			present = true
		}
	}
	for i := range hits {
		g := &hits[i]
		if g.fam != famGuard {
			continue
		}
		gr := e.Guards[g.target]
		if gr.ModelDecides || len(gr.Kinds) > 0 && !slices.Contains(gr.Kinds, kind) {
			continue
		}
		switch {
		case gr.Scope == ScopeText:
			return "guard " + gr.Name + ": " + c.terms[g.term]
		case gr.Scope == ScopeSentence && gr.Overridable && !present:
			return "guard " + gr.Name + " and no present cue: " + c.terms[g.term]
		}
	}
	if c.longLetter(m) {
		sentences, clauses := boundaries(m)
		if !c.nearNow(hits, sentences, clauses, -1) {
			return "long letter: nothing happening now near the writer"
		}
	}
	return ""
}

// longLetter reports whether m is long enough for the long-letter guard.
func (c *Classifier) longLetter(m string) bool {
	n := c.rules.Emergency.LongLetter.MinRunes
	return n > 0 && len(m) >= n && utf8.RuneCountInString(m) >= n
}

// nearNow reports whether a long letter says that something is happening now near the writer
// where it raises an emergency: the clause of byte offset pos has an unmasked present cue, its
// sentence a near cue, and no past, habitual or news guard (in a long letter these are not
// lifted by a present cue: "三年前…一辆正在充电的电动车起火" tells a story). With pos < 0 any
// clause will do.
func (c *Classifier) nearNow(hits []hit, sentences, clauses []int, pos int) bool {
	segment := func(bounds []int, p int) int { return sort.SearchInts(bounds, p+1) }
	near, told := map[int]bool{}, map[int]bool{}
	for i := range hits {
		h := &hits[i]
		switch {
		case h.fam == famNear:
			near[segment(sentences, h.start)] = true
		case h.fam == famGuard && c.rules.Emergency.Guards[h.target].Overridable:
			told[segment(sentences, h.start)] = true
		}
	}
	for i := range hits {
		h := &hits[i]
		if h.fam != famPresent || h.ignored != "" {
			continue
		}
		if pos >= 0 && segment(clauses, h.start) != segment(clauses, pos) {
			continue
		}
		if s := segment(sentences, h.start); near[s] && !told[s] {
			return true
		}
	}
	return false
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

	long := c.longLetter(m)
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
				tr.masked = gr.Scope == ScopeMask
				break
			}
		}
		switch {
		case tr.ignored != "":
		case rule.NeedsPresent && !present:
			tr.ignored = "no present cue"
		case long && !c.nearNow(hits, sentences, clauses, tr.start):
			tr.ignored = "long letter: nothing happening now near the writer"
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
	case famReferralCue:
		return "referral:" + c.rules.Referrals.Kinds[r.target].Code
	case famNear:
		return "near"
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
