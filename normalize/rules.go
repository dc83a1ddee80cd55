package normalize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"go.yaml.in/yaml/v3"

	intake "github.com/hotline12345/intake-gateway"
)

// Sources are the classification rule files as bytes: the caller reads them (normalize does no
// I/O), parses them with ParseRules or NewClassifier, and swaps the resulting *Classifier in
// atomically on reload.
type Sources struct {
	Taxonomy   []byte // configs/taxonomy.yaml: required
	Emergency  []byte // configs/emergency.yaml: optional, nil disables emergency detection
	OutOfScope []byte // configs/out_of_scope.yaml: optional
	Gazetteer  []byte // configs/gazetteer.yaml: optional, nil leaves District empty
	Referrals  []byte // configs/referrals.yaml: optional, required when out-of-scope rules name a referral
	// Model is a model file written by `intake-gateway classify train` (learn.Model.Encode):
	// optional, nil classifies by the rules alone.
	Model []byte
	// Settings are not a file: they come from the gateway configuration's classifier section.
	Settings Settings
}

// Rules are the parsed rule files. They can also be built in code (tests, generated benchmarks)
// and compiled with Compile.
type Rules struct {
	Taxonomy   Taxonomy
	Emergency  EmergencyRules
	OutOfScope OutOfScopeRules
	Gazetteer  Gazetteer
	Referrals  ReferralRules
}

// Taxonomy is configs/taxonomy.yaml: categories and request types, each with weighted phrases.
type Taxonomy struct {
	Version int `yaml:"version"`
	// Confidence of the category: below Threshold the category falls back to FallbackCategory.
	Confidence ConfidenceRule `yaml:"confidence"`
	// RequestConfidence does the same for the request type (fallback: DefaultRequestType).
	RequestConfidence ConfidenceRule `yaml:"request_confidence"`
	// FallbackCategory is the category of texts that match nothing (default "other").
	FallbackCategory string `yaml:"fallback_category"`
	// DefaultRequestType applies when no request-type cue decides.
	DefaultRequestType DefaultRequestType `yaml:"default_request_type"`
	// EmergencyRequestType is the request type of an emergency (default "help"); empty keeps the
	// cue-based type.
	EmergencyRequestType intake.RequestType `yaml:"emergency_request_type"`
	// NoRequest phrases ("打错了") mean there is nothing to handle: fallback category and "other".
	NoRequest    []string          `yaml:"no_request"`
	Categories   []CategoryRule    `yaml:"categories"`
	RequestTypes []RequestTypeRule `yaml:"request_types"`
}

// ConfidenceRule turns scores into a confidence in [0,1]:
//
//	confidence = top/(top+second) × (1 − e^(−top/Saturation))
//
// where top and second are the two best scores. The first factor is the margin over the
// runner-up, the second how much evidence there is at all (a single weight-1 phrase is weak).
type ConfidenceRule struct {
	Threshold  float64 `yaml:"threshold"`
	Saturation float64 `yaml:"saturation"`
	// Override is the confidence from which the rules' answer stands against the learned model
	// (an operator's phrase as an explicit override); 0: the model always decides, the rules'
	// findings being among what it weighs.
	Override float64 `yaml:"override"`
}

// DefaultRequestType is the request type used when no cue scores above the threshold.
type DefaultRequestType struct {
	WithCategory    intake.RequestType `yaml:"with_category"`    // the text names a matter (default complaint)
	WithoutCategory intake.RequestType `yaml:"without_category"` // it does not (default other)
}

// CategoryRule is one category of the taxonomy.
type CategoryRule struct {
	Code  string      `yaml:"code"`
	Name  string      `yaml:"name"`
	Terms []TermGroup `yaml:"terms"`
	// Exclude phrases cancel this category's phrases that they overlap ("出租房" cancels the
	// taxi phrase "出租").
	Exclude []string `yaml:"exclude"`
}

// RequestTypeRule is one request type with its cues.
type RequestTypeRule struct {
	Code    intake.RequestType `yaml:"code"`
	Name    string             `yaml:"name"`
	Terms   []TermGroup        `yaml:"terms"`
	Exclude []string           `yaml:"exclude"`
}

// TermGroup is a list of phrases sharing one weight.
type TermGroup struct {
	Weight  float64  `yaml:"weight"`
	Phrases []string `yaml:"phrases"`
}

// EmergencyRules is configs/emergency.yaml.
type EmergencyRules struct {
	Version int `yaml:"version"`
	// Kinds in priority order: when triggers of several kinds survive, the first listed wins.
	Kinds []EmergencyKindRule `yaml:"kinds"`
	// PresentCues say the danger is happening now ("现在", "正在", "快来人"). They are required by
	// triggers with needs_present, and override overridable guards in the same clause.
	PresentCues []string      `yaml:"present_cues"`
	Guards      []GuardRule   `yaml:"guards"`
	Triggers    []TriggerRule `yaml:"triggers"`
	// LongLetter guards long texts: see LongLetterRule.
	LongLetter LongLetterRule `yaml:"long_letter"`
}

// LongLetterRule keeps long letters (background first, several matters, formal style) from
// raising emergencies about things that are not happening now to the writer: in a text of at
// least MinRunes characters an emergency needs a present cue and a near cue (我, 楼下, 门口 …)
// in the same sentence as what triggered it (a rule's trigger phrase, or for the model any
// sentence).
type LongLetterRule struct {
	MinRunes int      `yaml:"min_runes"`
	NearCues []string `yaml:"near_cues"`
}

// EmergencyKindRule describes one emergency service.
type EmergencyKindRule struct {
	Kind   intake.EmergencyKind `yaml:"kind"`
	Number string               `yaml:"number"`
	Advice string               `yaml:"advice"`
	// CategoryBonus is added to categories' scores when this kind is detected.
	CategoryBonus map[string]float64 `yaml:"category_bonus"`
}

// Guard scopes.
const (
	ScopeMask     = "mask"     // the guard phrase overlaps the trigger (idioms: 火冒三丈, 打不着火)
	ScopeBefore   = "before"   // the guard phrase ends at most Window runes before the trigger (没有着火)
	ScopeSentence = "sentence" // anywhere in the trigger's sentence (。！？；or line break)
	ScopeText     = "text"     // anywhere in the text
)

// GuardRule suppresses emergency triggers: past events, hypotheticals, drills, fees, idioms.
type GuardRule struct {
	Name  string `yaml:"name"`
	Scope string `yaml:"scope"`
	// Window is the distance in runes for scope "before" (default 2).
	Window int `yaml:"window"`
	// Overridable guards do not apply when a present cue is in the trigger's clause (between
	// commas): "上个月着火了" is guarded, "上个月修好的楼道，现在又着火了" is not.
	Overridable bool `yaml:"overridable"`
	// ModelDecides leaves the model's alarm to the model: it has the guard's phrases as a
	// feature (rule.guard:NAME) and learnt from the corpus how much they weigh, so the guard
	// stops only the rules' triggers. Only text guards and overridable sentence guards stop a
	// model's alarm at all, so only they take it. In a long letter an overridable guard still
	// marks its sentence as told rather than happening (emergency.yaml long_letter). A guard
	// added after the model was trained is no feature of it: retrain before marking it.
	ModelDecides bool `yaml:"model_decides"`
	// Kinds limits the guard to some emergency kinds; empty means all.
	Kinds   []intake.EmergencyKind `yaml:"kinds"`
	Phrases []string               `yaml:"phrases"`
}

// TriggerRule is a set of phrases that signal an emergency of one kind.
type TriggerRule struct {
	Kind    intake.EmergencyKind `yaml:"kind"`
	Phrases []string             `yaml:"phrases"`
	// With, when set, requires one of these phrases somewhere in the text as well.
	With []string `yaml:"with"`
	// NeedsPresent requires a present cue somewhere in the text.
	NeedsPresent bool `yaml:"needs_present"`
}

// OutOfScopeRules is configs/out_of_scope.yaml: matters the hotline does not accept.
type OutOfScopeRules struct {
	Version int              `yaml:"version"`
	Rules   []OutOfScopeRule `yaml:"rules"`
}

// OutOfScopeRule flags a matter with a reason code and a reason for the citizen.
type OutOfScopeRule struct {
	Code string `yaml:"code"`
	// Referral names the kind in referrals.yaml: where the citizen is sent and what they are
	// told.
	Referral string `yaml:"referral"`
	// Reason, when set, is told to the citizen instead of the referral kind's reply.
	Reason  string   `yaml:"reason"`
	Phrases []string `yaml:"phrases"`
	// Exclude phrases cancel the rule's phrases that they overlap ("退役军人" for "军人").
	Exclude []string `yaml:"exclude"`
	// Unless phrases anywhere in the text cancel the rule.
	Unless []string `yaml:"unless"`
	// UnlessLocal cancels the rule when the text names a place of this city (gazetteer).
	UnlessLocal bool `yaml:"unless_local"`
}

// Gazetteer is configs/gazetteer.yaml: the city's districts and the places within them.
type Gazetteer struct {
	Version     int            `yaml:"version"`
	City        string         `yaml:"city"`
	CityAliases []string       `yaml:"city_aliases"`
	Districts   []DistrictRule `yaml:"districts"`
	// Exclude phrases cancel place names they overlap ("已经区" is not 经区).
	Exclude []string `yaml:"exclude"`
}

// DistrictRule is one district: its name (what Result.District carries), other names, and
// places (streets, towns, compounds) that lie only in it.
type DistrictRule struct {
	Name     string   `yaml:"name"`
	FullName string   `yaml:"full_name"`
	Aliases  []string `yaml:"aliases"`
	Places   []string `yaml:"places"`
}

// ParseRules parses and validates the rule files. Errors name the file and the YAML key, e.g.
// `taxonomy.yaml: categories[consumer].terms[0].weight: must be > 0`.
func ParseRules(src Sources) (Rules, error) {
	var r Rules
	if len(bytes.TrimSpace(src.Taxonomy)) == 0 {
		return r, errors.New("taxonomy.yaml: missing")
	}
	if err := decodeStrict("taxonomy.yaml", src.Taxonomy, &r.Taxonomy); err != nil {
		return r, err
	}
	if err := decodeStrict("emergency.yaml", src.Emergency, &r.Emergency); err != nil {
		return r, err
	}
	if err := decodeStrict("out_of_scope.yaml", src.OutOfScope, &r.OutOfScope); err != nil {
		return r, err
	}
	if err := decodeStrict("gazetteer.yaml", src.Gazetteer, &r.Gazetteer); err != nil {
		return r, err
	}
	if err := decodeStrict("referrals.yaml", src.Referrals, &r.Referrals); err != nil {
		return r, err
	}
	r.applyDefaults()
	if err := r.Validate(); err != nil {
		return r, err
	}
	return r, nil
}

// decodeStrict decodes one YAML document, rejecting unknown keys (an operator's typo must not be
// silently ignored). Empty input leaves v as it is.
func decodeStrict(file string, data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

func (r *Rules) applyDefaults() {
	t := &r.Taxonomy
	if t.FallbackCategory == "" {
		t.FallbackCategory = "other"
	}
	if t.DefaultRequestType.WithCategory == "" {
		t.DefaultRequestType.WithCategory = intake.RequestComplaint
	}
	if t.DefaultRequestType.WithoutCategory == "" {
		t.DefaultRequestType.WithoutCategory = intake.RequestOther
	}
	if t.Confidence.Saturation == 0 {
		t.Confidence.Saturation = 3
	}
	if t.RequestConfidence.Saturation == 0 {
		t.RequestConfidence.Saturation = 3
	}
	for i := range r.Emergency.Guards {
		if g := &r.Emergency.Guards[i]; g.Scope == ScopeBefore && g.Window == 0 {
			g.Window = 2
		}
	}
}

// Validate checks the rules for what would make classification wrong or ambiguous.
func (r *Rules) Validate() error {
	var errs []error
	bad := func(file, key, msg string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", file, key, fmt.Sprintf(msg, args...)))
	}
	phrases := func(file, key string, list []string, required bool) {
		if required && len(list) == 0 {
			bad(file, key, "at least one phrase is required")
		}
		for i, p := range list {
			if MatchText(p) == "" {
				bad(file, fmt.Sprintf("%s[%d]", key, i), "phrase %q is empty after folding", p)
			}
		}
	}
	terms := func(file, key string, groups []TermGroup) {
		for i, g := range groups {
			k := fmt.Sprintf("%s[%d]", key, i)
			if !(g.Weight > 0) || math.IsInf(g.Weight, 0) {
				bad(file, k+".weight", "must be > 0")
			}
			phrases(file, k+".phrases", g.Phrases, true)
		}
	}
	conf := func(file, key string, c ConfidenceRule) {
		if c.Threshold < 0 || c.Threshold >= 1 {
			bad(file, key+".threshold", "must be in [0,1)")
		}
		if !(c.Saturation > 0) {
			bad(file, key+".saturation", "must be > 0")
		}
		if c.Override < 0 || c.Override > 1 {
			bad(file, key+".override", "must be in [0,1]")
		}
	}

	const tf = "taxonomy.yaml"
	t := &r.Taxonomy
	conf(tf, "confidence", t.Confidence)
	conf(tf, "request_confidence", t.RequestConfidence)
	if len(t.Categories) == 0 {
		bad(tf, "categories", "at least one category is required")
	}
	cats := map[string]bool{}
	for i, c := range t.Categories {
		key := fmt.Sprintf("categories[%d]", i)
		if c.Code != "" {
			key = fmt.Sprintf("categories[%s]", c.Code)
		}
		switch {
		case c.Code == "":
			bad(tf, key+".code", "required")
		case cats[c.Code]:
			bad(tf, key+".code", "duplicate category %q", c.Code)
		}
		cats[c.Code] = true
		if strings.TrimSpace(c.Name) == "" {
			bad(tf, key+".name", "required")
		}
		terms(tf, key+".terms", c.Terms)
		phrases(tf, key+".exclude", c.Exclude, false)
	}
	if !cats[t.FallbackCategory] {
		bad(tf, "fallback_category", "%q is not a category code", t.FallbackCategory)
	}
	rts := map[intake.RequestType]bool{}
	for i, rt := range t.RequestTypes {
		key := fmt.Sprintf("request_types[%s]", rt.Code)
		switch {
		case !rt.Code.Valid():
			bad(tf, fmt.Sprintf("request_types[%d].code", i), "%q is not a request type (consult, help, complaint, report, suggestion, praise, other)", rt.Code)
		case rts[rt.Code]:
			bad(tf, key+".code", "duplicate request type")
		}
		rts[rt.Code] = true
		terms(tf, key+".terms", rt.Terms)
		phrases(tf, key+".exclude", rt.Exclude, false)
	}
	for key, v := range map[string]intake.RequestType{
		"default_request_type.with_category":    t.DefaultRequestType.WithCategory,
		"default_request_type.without_category": t.DefaultRequestType.WithoutCategory,
	} {
		if !v.Valid() {
			bad(tf, key, "%q is not a request type", v)
		}
	}
	if t.EmergencyRequestType != "" && !t.EmergencyRequestType.Valid() {
		bad(tf, "emergency_request_type", "%q is not a request type", t.EmergencyRequestType)
	}
	phrases(tf, "no_request", t.NoRequest, false)

	const ef = "emergency.yaml"
	e := &r.Emergency
	kinds := map[intake.EmergencyKind]bool{}
	for i, k := range e.Kinds {
		key := fmt.Sprintf("kinds[%d]", i)
		switch k.Kind {
		case intake.EmergencyPolice, intake.EmergencyFire, intake.EmergencyMedical, intake.EmergencyTraffic:
		default:
			bad(ef, key+".kind", "%q is not police, fire, medical or traffic", k.Kind)
		}
		if kinds[k.Kind] {
			bad(ef, key+".kind", "duplicate kind %q", k.Kind)
		}
		kinds[k.Kind] = true
		if strings.TrimSpace(k.Number) == "" {
			bad(ef, key+".number", "required")
		}
		if strings.TrimSpace(k.Advice) == "" {
			bad(ef, key+".advice", "required")
		}
		for code, w := range k.CategoryBonus {
			if !cats[code] {
				bad(ef, key+".category_bonus."+code, "not a category code of taxonomy.yaml")
			}
			if w < 0 {
				bad(ef, key+".category_bonus."+code, "must be >= 0")
			}
		}
	}
	checkKinds := func(key string, list []intake.EmergencyKind) {
		for i, k := range list {
			if !kinds[k] {
				bad(ef, fmt.Sprintf("%s[%d]", key, i), "kind %q is not listed under kinds", k)
			}
		}
	}
	phrases(ef, "present_cues", e.PresentCues, false)
	for i, g := range e.Guards {
		key := fmt.Sprintf("guards[%d]", i)
		if g.Name != "" {
			key = fmt.Sprintf("guards[%s]", g.Name)
		}
		switch g.Scope {
		case ScopeMask, ScopeBefore, ScopeSentence, ScopeText:
		default:
			bad(ef, key+".scope", "%q is not mask, before, sentence or text", g.Scope)
		}
		if g.Window < 0 {
			bad(ef, key+".window", "must be >= 0")
		}
		if g.Overridable && g.Scope != ScopeSentence {
			bad(ef, key+".overridable", "only sentence guards can be overridden")
		}
		if g.ModelDecides && g.Scope != ScopeText && !(g.Scope == ScopeSentence && g.Overridable) {
			bad(ef, key+".model_decides", "only text guards and overridable sentence guards stop the model's alarm")
		}
		checkKinds(key+".kinds", g.Kinds)
		phrases(ef, key+".phrases", g.Phrases, true)
	}
	for i, tr := range e.Triggers {
		key := fmt.Sprintf("triggers[%d]", i)
		if !kinds[tr.Kind] {
			bad(ef, key+".kind", "kind %q is not listed under kinds", tr.Kind)
		}
		phrases(ef, key+".phrases", tr.Phrases, true)
		phrases(ef, key+".with", tr.With, false)
	}
	if e.LongLetter.MinRunes < 0 {
		bad(ef, "long_letter.min_runes", "must be >= 0")
	}
	if e.LongLetter.MinRunes > 0 && len(e.LongLetter.NearCues) == 0 {
		bad(ef, "long_letter.near_cues", "at least one phrase is required with min_runes")
	}
	phrases(ef, "long_letter.near_cues", e.LongLetter.NearCues, false)

	r.Referrals.validate(bad)

	const of = "out_of_scope.yaml"
	codes := map[string]bool{}
	for i, o := range r.OutOfScope.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		if o.Code == "" {
			bad(of, key+".code", "required")
		} else if codes[o.Code] {
			bad(of, key+".code", "duplicate code %q", o.Code)
		}
		codes[o.Code] = true
		if o.Referral != "" {
			if _, ok := r.Referrals.Kind(o.Referral); !ok {
				bad(of, key+".referral", "%q is not a kind of referrals.yaml", o.Referral)
			}
		} else if strings.TrimSpace(o.Reason) == "" {
			bad(of, key+".reason", "required when no referral is named")
		}
		phrases(of, key+".phrases", o.Phrases, true)
		phrases(of, key+".exclude", o.Exclude, false)
		phrases(of, key+".unless", o.Unless, false)
	}

	const gf = "gazetteer.yaml"
	g := &r.Gazetteer
	phrases(gf, "city_aliases", g.CityAliases, false)
	phrases(gf, "exclude", g.Exclude, false)
	names := map[string]bool{}
	owner := map[string]string{}
	for i, d := range g.Districts {
		key := fmt.Sprintf("districts[%d]", i)
		if strings.TrimSpace(d.Name) == "" {
			bad(gf, key+".name", "required")
		} else if names[d.Name] {
			bad(gf, key+".name", "duplicate district %q", d.Name)
		}
		names[d.Name] = true
		phrases(gf, key+".aliases", d.Aliases, false)
		phrases(gf, key+".places", d.Places, false)
		for j, p := range append(append([]string{d.Name}, d.Aliases...), d.Places...) {
			f := MatchText(p)
			if o, ok := owner[f]; ok && o != d.Name {
				bad(gf, fmt.Sprintf("%s (name %d)", key, j), "%q is also listed under %q: a place must belong to one district", p, o)
			}
			owner[f] = d.Name
		}
	}
	return errors.Join(errs...)
}
