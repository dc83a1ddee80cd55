package normalize

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

// Settings tune the classifier beyond the rule files. They are not a file: the gateway
// configuration's classifier section sets them.
type Settings struct {
	// ReviewBelow marks a result NeedsReview when the confidence of its category or of its request
	// type is below it (0: never).
	ReviewBelow float64
}

// The heads of the model normalize trains and reads.
const (
	HeadCategory      = "category"
	HeadRequestType   = "request_type"
	HeadEmergency     = "emergency"      // none or emergency: one head for all kinds pools their examples
	HeadEmergencyKind = "emergency_kind" // which kind, trained on emergencies only
	HeadOutOfScope    = "out_of_scope"   // in_scope or out_of_scope
	HeadReferral      = "referral"       // which referral kind, trained on out-of-scope matters only

	noEmergency = "none"
	isEmergency = "emergency"
	inScope     = "in_scope"
	outOfScope  = "out_of_scope"
)

// requestTypes are the request types of the case record, the classes of the request-type head.
var requestTypes = []intake.RequestType{intake.RequestConsult, intake.RequestHelp, intake.RequestComplaint,
	intake.RequestReport, intake.RequestSuggestion, intake.RequestPraise, intake.RequestOther}

// checkModel refuses a model that predicts classes the rules do not know: a category, emergency
// kind or referral kind missing from the files would reach a case with no name, number or reply.
func (c *Classifier) checkModel(m *learn.Model) error {
	known := map[string]func(string) bool{
		HeadCategory: func(s string) bool { _, ok := c.catIndex[s]; return ok },
		HeadRequestType: func(s string) bool {
			return slices.Contains(requestTypes, intake.RequestType(s))
		},
		HeadEmergency: func(s string) bool { return s == noEmergency || s == isEmergency },
		HeadEmergencyKind: func(s string) bool {
			_, ok := c.kindRank[intake.EmergencyKind(s)]
			return ok
		},
		HeadOutOfScope: func(s string) bool { return s == inScope || s == outOfScope },
		HeadReferral: func(s string) bool {
			_, ok := c.rules.Referrals.Kind(s)
			return ok
		},
	}
	for _, h := range m.Heads() {
		ok, want := known[h.Name]
		if !want {
			return fmt.Errorf("model: unknown head %q", h.Name)
		}
		for _, class := range h.Classes {
			if !ok(class) {
				return fmt.Errorf("model: %s %q is not in the rule files (retrain the model with these rules)", h.Name, class)
			}
		}
	}
	for _, name := range []string{HeadEmergency, HeadOutOfScope} {
		if h, ok := m.Head(name); ok && h.Threshold <= 0 {
			return fmt.Errorf("model: head %s has no threshold", name)
		}
	}
	if _, ok := m.Head(HeadOutOfScope); ok {
		if _, ok := m.Head(HeadReferral); !ok {
			return fmt.Errorf("model: head %s without head %s", HeadOutOfScope, HeadReferral)
		}
	}
	if _, ok := m.Head(HeadEmergency); ok && len(c.kindByRank) == 0 {
		return errors.New("model: it raises emergencies, but emergency.yaml has no kinds")
	}
	return nil
}

// hints are the rule findings the model weighs as features: what the rules decided, and what
// they found even where it did not decide (a guarded trigger, a guard, a referral cue). Their
// names are made once at compile time (hintNames), not per text.
func (c *Classifier) hints(hits []hit, res *Result, f ruleFindings) []string {
	out := make([]string, 0, 16)
	n := &c.hintNames
	if f.categoryScored {
		out = append(out, n.category[c.catIndex[res.Category]])
	}
	if f.requestDecided {
		out = append(out, n.request[f.requestType])
	}
	if f.noRequest {
		out = append(out, hintNoRequest)
	}
	if f.emergencyKind != "" {
		out = append(out, n.emergency[f.emergencyKind])
	}
	if f.outOfScope != "" {
		out = append(out, n.outOfScope[f.outOfScope])
	}
	if res.District != "" {
		out = append(out, hintLocal)
	}
	for i := range hits {
		h := &hits[i]
		switch {
		case h.hint == "":
		case h.fam == famTrigger && h.masked:
			// A trigger inside an idiom (火冒三丈, 点不着火) is not one; guarded by anything else
			// (the past, a question) it still tells the model what the text is about.
		case h.fam == famPresent && h.ignored != "":
		default:
			out = append(out, h.hint)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

const (
	hintNoRequest = "rule.no_request"
	hintLocal     = "rule.local"
)

// hintNames are the names of the rules' decisions as model features.
type hintNames struct {
	category   []string
	request    map[intake.RequestType]string
	emergency  map[intake.EmergencyKind]string
	outOfScope map[string]string // by referral kind or rule code
}

// hintOf is the feature name of a rule phrase's finding ("" for phrases the model does not
// take as features).
func (c *Classifier) hintOf(r ref) string {
	switch r.fam {
	case famTrigger:
		return "rule.trigger:" + string(c.rules.Emergency.Triggers[r.target].Kind)
	case famGuard:
		return "rule.guard:" + c.rules.Emergency.Guards[r.target].Name
	case famPresent:
		return "rule.present"
	case famOOS:
		return "rule.out_of_scope_phrase:" + c.rules.OutOfScope.Rules[r.target].Code
	case famReferralCue:
		return "referral.cue:" + c.rules.Referrals.Kinds[r.target].Code
	}
	return ""
}

func (c *Classifier) makeHintNames() {
	n := hintNames{request: map[intake.RequestType]string{}, emergency: map[intake.EmergencyKind]string{}, outOfScope: map[string]string{}}
	for _, cat := range c.rules.Taxonomy.Categories {
		n.category = append(n.category, "rule.category:"+cat.Code)
	}
	for _, rt := range c.rules.Taxonomy.RequestTypes {
		n.request[rt.Code] = "rule.request:" + string(rt.Code)
	}
	for _, k := range c.rules.Emergency.Kinds {
		n.emergency[k.Kind] = "rule.emergency:" + string(k.Kind)
	}
	for _, o := range c.rules.OutOfScope.Rules {
		n.outOfScope[o.Code] = "rule.out_of_scope:" + o.Code
	}
	for _, k := range c.rules.Referrals.Kinds {
		n.outOfScope[k.Code] = "rule.out_of_scope:" + k.Code
	}
	c.hintNames = n
}

// ruleFindings are the rules' decisions before the model is asked.
type ruleFindings struct {
	categoryScored bool // a category scored above the threshold
	requestDecided bool // a request-type cue scored above the threshold
	requestType    intake.RequestType
	noRequest      bool
	emergencyKind  intake.EmergencyKind
	outOfScope     string // the kind (or rule code) the rules flagged
}

// TrainingExample is one labelled text for Train.
type TrainingExample struct {
	// Text is what the citizen wrote; a phone transcript is reduced to the caller's turns as
	// Classify is given it (ClassifiableText).
	Text     string
	Category string
	// CategoryAlt are further acceptable categories (a matter that belongs to two departments).
	CategoryAlt []string
	RequestType intake.RequestType
	Emergency   intake.EmergencyKind // "" for none
	OutOfScope  bool
	// Referral says where an out-of-scope matter belongs: a kind code of referrals.yaml or free
	// text that its labels map to a kind.
	Referral string
	// TrainOnly examples teach the model but take no part in choosing its thresholds
	// (learn.Example.TrainOnly): project-written data, as opposed to the reference corpus.
	TrainOnly bool
}

// Train fits a model to the examples with these rules: the rules' findings are features of the
// model, so a model belongs to the rules it was trained with (retrain after changing them much).
// Texts are folded and reduced to what Classify sees. The result is deterministic.
func (c *Classifier) Train(examples []TrainingExample, opts learn.TrainOptions) (*learn.Model, error) {
	if len(examples) == 0 {
		return nil, errors.New("train: no examples")
	}
	// The heads every text needs come first, adjacent, so that they are computed in one pass;
	// the category (not needed where a rule is certain) and the kinds (only for emergencies and
	// out-of-scope matters) after them.
	const req, cat, emergencyKind, referral = 2, 3, 4, 5
	heads := []learn.Head{
		{Name: HeadEmergency, Classes: []string{noEmergency, isEmergency}},
		{Name: HeadOutOfScope, Classes: []string{inScope, outOfScope}},
		{Name: HeadRequestType}, {Name: HeadCategory},
		{Name: HeadEmergencyKind, Conditional: true}, {Name: HeadReferral, Conditional: true},
	}
	for _, cr := range c.rules.Taxonomy.Categories {
		heads[cat].Classes = append(heads[cat].Classes, cr.Code)
	}
	for _, rt := range requestTypes {
		heads[req].Classes = append(heads[req].Classes, string(rt))
	}
	for _, k := range c.rules.Emergency.Kinds {
		heads[emergencyKind].Classes = append(heads[emergencyKind].Classes, string(k.Kind))
	}
	out := make([]learn.Example, len(examples))
	used := map[string]bool{}
	for i, e := range examples {
		if _, ok := c.catIndex[e.Category]; !ok {
			return nil, fmt.Errorf("train: example %d: category %q is not in the taxonomy", i+1, e.Category)
		}
		if !slices.Contains(requestTypes, e.RequestType) {
			return nil, fmt.Errorf("train: example %d: request type %q is not one of %v", i+1, e.RequestType, requestTypes)
		}
		text := ClassifiableText(e.Text)
		m := MatchText(text)
		labels := map[string]string{
			HeadCategory: e.Category, HeadRequestType: string(e.RequestType),
			HeadEmergency: noEmergency, HeadOutOfScope: inScope,
		}
		if e.Emergency != "" {
			if _, ok := c.kindRank[e.Emergency]; !ok {
				return nil, fmt.Errorf("train: example %d: emergency kind %q is not in emergency.yaml", i+1, e.Emergency)
			}
			labels[HeadEmergency], labels[HeadEmergencyKind] = isEmergency, string(e.Emergency)
		}
		if e.OutOfScope {
			kind := c.rules.Referrals.KindOfLabel(e.Referral)
			if kind == "" {
				return nil, fmt.Errorf("train: example %d: out of scope, but referrals.yaml has no kinds", i+1)
			}
			labels[HeadOutOfScope], labels[HeadReferral] = outOfScope, kind
			used[kind] = true
		}
		var alts map[string][]string
		for _, alt := range e.CategoryAlt {
			if _, ok := c.catIndex[alt]; ok && alt != e.Category {
				alts = map[string][]string{HeadCategory: e.CategoryAlt}
			}
		}
		if alts != nil {
			alts[HeadCategory] = slices.DeleteFunc(slices.Clone(e.CategoryAlt), func(a string) bool {
				_, ok := c.catIndex[a]
				return !ok || a == e.Category
			})
		}
		out[i] = learn.Example{Text: m, Hints: c.classify(m, nil).hints, Labels: labels, Alternatives: alts, TrainOnly: e.TrainOnly}
	}
	for _, k := range c.rules.Referrals.Kinds {
		if used[k.Code] {
			heads[referral].Classes = append(heads[referral].Classes, k.Code)
		}
	}
	if len(heads[referral].Classes) == 1 {
		// One kind is all the corpus has; a head needs two, so the first unused kind is added,
		// never to be predicted.
		for _, k := range c.rules.Referrals.Kinds {
			if !used[k.Code] {
				heads[referral].Classes = append(heads[referral].Classes, k.Code)
				break
			}
		}
	}
	// Heads the corpus or the rules cannot train are left out: out of scope without out-of-scope
	// examples, emergencies without emergencies, the emergency kind with a single kind (which
	// then is the kind of every alarm).
	drop := map[string]bool{}
	if len(used) == 0 {
		drop[HeadOutOfScope], drop[HeadReferral] = true, true
	}
	if !slices.ContainsFunc(examples, func(e TrainingExample) bool { return e.Emergency != "" }) {
		drop[HeadEmergency], drop[HeadEmergencyKind] = true, true
	}
	if len(heads[emergencyKind].Classes) < 2 {
		drop[HeadEmergencyKind] = true
	}
	heads = slices.DeleteFunc(heads, func(h learn.Head) bool { return drop[h.Name] })
	for i := range out {
		for name := range drop {
			delete(out[i].Labels, name)
		}
	}
	if opts.HintValues == nil {
		opts.HintValues = DefaultHintValues()
	}
	if opts.FalseAlarmRate == nil {
		opts.FalseAlarmRate = map[string]float64{}
		for _, h := range heads {
			switch h.Name {
			case HeadEmergency:
				opts.FalseAlarmRate[h.Name] = DefaultEmergencyFalseAlarmRate
			case HeadOutOfScope:
				opts.FalseAlarmRate[h.Name] = DefaultOutOfScopeFalseAlarmRate
			}
		}
	}
	m, err := learn.Train(heads, out, opts)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return m, nil
}

// The shares of negatives the model alone may flag in the cross-validation on its training
// corpus that sets its thresholds (TrainOptions.FalseAlarmRate, when not given). The bounds are
// 2 % false alarms for emergencies and 3 % wrong out-of-scope flags for rules and model together.
// Both rates are re-chosen by 5-fold cross-validation whenever the corpus grows: more in-scope
// examples make the same share admit more of the hard negatives.
//   - Emergencies, recall first: the largest rate whose cross-validated false alarms stay within
//     2 %. Since thresholds are calibrated on the reference corpus only (extra.jsonl is
//     train-only), 0.011 found 99.5 % with 1.9 % false alarms, 0.013 gave 2.004 %. (Before,
//     with extra.jsonl calibrated on too, 0.016 found 99.5 % with 1.9 %.) With 3,078 items in
//     extra.jsonl 0.011 finds 99.5 % with 1.7 %; 0.013 and 0.015 found no more (98.9 %, with
//     1.8 % and 1.9 %, on 2,678 items).
//   - Out of scope: the largest rate that flags at most 2.5 % of in-scope matters on both fold
//     seeds (12345 and 7), half a point under the bound for the flags the rules add on unseen
//     text, where the blind sets flag more than cross-validation does. With extra.jsonl's 3,078
//     items 0.019 found 84.1 % with 1.9 % flagged (seed 7: 84.1 %, 2.1 %); 0.022 85.3 % with
//     2.1 % but 2.7 % on seed 7; 0.025 87.1 % with 2.4 % (seed 7: 2.8 %). (With 2,278 items 0.019
//     had found 87.1 % with 2.2 %.)
//
// The earlier sweeps, one per growth of the corpus, are in `git log -p normalize/model.go`.
const (
	DefaultEmergencyFalseAlarmRate  = 0.011
	DefaultOutOfScopeFalseAlarmRate = 0.019
)

// DefaultHintValues returns the values of the rules' findings as model features
// (TrainOptions.HintValues, when not given), by name prefix. Cross-validated on the project's
// corpus: at 1 the model leaned on the rules' category, request and emergency findings more
// than on the text, and scored lower on both category and request type; the out-of-scope
// findings and referral cues, fewer and more specific, were worth their full value (at less the
// model found fewer out-of-scope matters).
func DefaultHintValues() map[string]float64 {
	return map[string]float64{"rule.": 0.3, "rule.out_of_scope": 1, "referral.cue:": 1}
}

// modelTerms turns contributions into the strings a case record carries.
func modelTerms(head string, cs []learn.Contribution) []ModelEvidence {
	out := make([]ModelEvidence, len(cs))
	for i, c := range cs {
		out[i] = ModelEvidence{Head: head, Feature: c.Feature, Weight: c.Weight}
	}
	return out
}

// ModelEvidence is one feature that weighed for the model's decision.
type ModelEvidence struct {
	Head    string // category, request_type, emergency or out_of_scope
	Feature string // an n-gram ("请求:" in front when found in the request), or a rule hint
	Weight  float64
}

func (e ModelEvidence) String() string {
	return fmt.Sprintf("%s %s (%.2f)", e.Head, strings.TrimSpace(e.Feature), e.Weight)
}
