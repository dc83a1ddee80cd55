package normalize

import (
	"fmt"
	"strings"
)

// ReferralRules is configs/referrals.yaml: where each kind of matter outside the hotline's remit
// belongs, and what the citizen is told.
type ReferralRules struct {
	Version int            `yaml:"version"`
	Kinds   []ReferralKind `yaml:"kinds"`
}

// ReferralKind is one kind of out-of-scope matter.
type ReferralKind struct {
	Code string `yaml:"code"`
	// Referral is where the citizen should go instead ("人民法院/12368"): the case's referral.
	Referral string `yaml:"referral"`
	// Reply is the citizen-facing text (the case's out_of_scope_reason).
	Reply string `yaml:"reply"`
	// Cues suggest the kind without deciding it: the model weighs them as features.
	Cues []string `yaml:"cues"`
	// Labels are how a training corpus's referral field names this kind.
	Labels []string `yaml:"labels"`
}

// Kind returns the kind with that code.
func (r ReferralRules) Kind(code string) (ReferralKind, bool) {
	for _, k := range r.Kinds {
		if k.Code == code {
			return k, true
		}
	}
	return ReferralKind{}, false
}

// KindOfLabel maps a training corpus's free-text referral ("人民法院/12368（申请再审）") to a
// kind: the kind whose label appears earliest in it, the first listed on a tie, and the last
// kind when no label appears. "" when there are no kinds.
func (r ReferralRules) KindOfLabel(label string) string {
	if len(r.Kinds) == 0 {
		return ""
	}
	if _, ok := r.Kind(label); ok {
		return label
	}
	best, pos := r.Kinds[len(r.Kinds)-1].Code, len(label)+1
	for _, k := range r.Kinds {
		for _, l := range k.Labels {
			if i := strings.Index(label, l); i >= 0 && i < pos {
				best, pos = k.Code, i
			}
		}
	}
	return best
}

func (r ReferralRules) validate(bad func(file, key, msg string, args ...any)) {
	const file = "referrals.yaml"
	codes := map[string]bool{}
	for i, k := range r.Kinds {
		key := fmt.Sprintf("kinds[%d]", i)
		switch {
		case k.Code == "":
			bad(file, key+".code", "required")
		case codes[k.Code]:
			bad(file, key+".code", "duplicate kind %q", k.Code)
		}
		codes[k.Code] = true
		if strings.TrimSpace(k.Referral) == "" {
			bad(file, key+".referral", "required")
		}
		if strings.TrimSpace(k.Reply) == "" {
			bad(file, key+".reply", "required")
		}
		for j, p := range k.Cues {
			if MatchText(p) == "" {
				bad(file, fmt.Sprintf("%s.cues[%d]", key, j), "phrase %q is empty after folding", p)
			}
		}
		for j, l := range k.Labels {
			if l == "" {
				bad(file, fmt.Sprintf("%s.labels[%d]", key, j), "empty label")
			}
		}
	}
}
