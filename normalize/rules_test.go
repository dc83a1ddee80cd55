package normalize_test

import (
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize"
)

const minimalTaxonomy = `
categories:
  - code: other
    name: 其他
    terms: [{weight: 1, phrases: [杂事]}]
  - code: utilities
    name: 水电气暖
    terms: [{weight: 5, phrases: [停水, 停電]}]
request_types:
  - code: help
    name: 求助
    terms: [{weight: 5, phrases: [帮忙]}]
`

func TestShippedRulesLoad(t *testing.T) {
	c := classifier(t)
	r := c.Rules()
	var codes []string
	for _, cat := range r.Taxonomy.Categories {
		codes = append(codes, cat.Code)
	}
	want := "consumer property cityscape housing_fund real_estate transport labor social_security health education environment utilities urban_construction public_security government_services other"
	if got := strings.Join(codes, " "); got != want {
		t.Errorf("category codes\n got %s\nwant %s (TAXONOMY.md)", got, want)
	}
	if len(r.Emergency.Kinds) != 4 || len(r.OutOfScope.Rules) == 0 || len(r.Gazetteer.Districts) == 0 {
		t.Error("emergency, out-of-scope or gazetteer rules missing")
	}
	// Citizen-facing text is sent as is: no stray spaces from YAML line folding.
	for _, k := range r.Emergency.Kinds {
		if strings.Contains(k.Advice, " ") || !strings.Contains(k.Advice, k.Number) {
			t.Errorf("advice for %s: %q", k.Kind, k.Advice)
		}
	}
	for _, o := range r.OutOfScope.Rules {
		if strings.Contains(o.Reason, " ") {
			t.Errorf("reason for %s has a space: %q", o.Code, o.Reason)
		}
	}
}

func TestMinimalRules(t *testing.T) {
	c, err := normalize.NewClassifier(normalize.Sources{Taxonomy: []byte(minimalTaxonomy)})
	if err != nil {
		t.Fatal(err)
	}
	// Traditional phrases in the file match simplified text and the other way round.
	r := c.Classify("停电了，请帮忙")
	if r.Category != "utilities" || r.RequestType != "help" || r.Emergency != nil || r.District != "" {
		t.Errorf("got %s", r)
	}
	if r := c.Classify("什么都没有"); r.Category != "other" || r.RequestType != "other" {
		t.Errorf("fallback: got %s", r)
	}
}

func TestRulesValidation(t *testing.T) {
	tests := []struct {
		name string
		src  normalize.Sources
		key  string
	}{
		{"no taxonomy", normalize.Sources{}, "taxonomy.yaml: missing"},
		{"unknown key", normalize.Sources{Taxonomy: []byte(minimalTaxonomy + "categoriez: []\n")}, "field categoriez not found"},
		{"bad weight", normalize.Sources{Taxonomy: []byte(strings.Replace(minimalTaxonomy, "weight: 5, phrases: [停水", "weight: 0, phrases: [停水", 1))},
			"categories[utilities].terms[0].weight"},
		{"phrase empty after folding", normalize.Sources{Taxonomy: []byte(strings.Replace(minimalTaxonomy, "[杂事]", "[杂事, \"😀\"]", 1))},
			"categories[other].terms[0].phrases[1]"},
		{"duplicate category", normalize.Sources{Taxonomy: []byte(strings.Replace(minimalTaxonomy, "code: utilities", "code: other", 1))},
			"duplicate category"},
		{"unknown request type", normalize.Sources{Taxonomy: []byte(strings.Replace(minimalTaxonomy, "code: help", "code: urgent", 1))},
			"request_types[0].code"},
		{"fallback not a category", normalize.Sources{Taxonomy: []byte(minimalTaxonomy + "fallback_category: misc\n")}, "fallback_category"},
		{"threshold out of range", normalize.Sources{Taxonomy: []byte(minimalTaxonomy + "confidence: {threshold: 1.5}\n")}, "confidence.threshold"},
		{"emergency kind", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("kinds: [{kind: flood, number: '12345', advice: x}]")},
			"emergency.yaml: kinds[0].kind"},
		{"emergency advice", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("kinds: [{kind: fire, number: '119'}]")},
			"kinds[0].advice"},
		{"trigger of unlisted kind", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("kinds: [{kind: fire, number: '119', advice: x}]\ntriggers: [{kind: police, phrases: [打架]}]")},
			"triggers[0].kind"},
		{"guard scope", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("guards: [{name: past, scope: paragraph, phrases: [昨天]}]")},
			"guards[past].scope"},
		{"overridable mask", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("guards: [{name: idiom, scope: mask, overridable: true, phrases: [要命]}]")},
			"guards[idiom].overridable"},
		{"model_decides on a before guard", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("guards: [{name: negation, scope: before, model_decides: true, phrases: [没]}]")},
			"guards[negation].model_decides"},
		{"model_decides on a sentence guard that is not overridable", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("guards: [{name: hypothetical, scope: sentence, model_decides: true, phrases: [万一]}]")},
			"guards[hypothetical].model_decides"},
		{"category bonus of unknown category", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Emergency: []byte("kinds: [{kind: fire, number: '119', advice: x, category_bonus: {firefighting: 2}}]")},
			"kinds[0].category_bonus.firefighting"},
		{"out-of-scope reason", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), OutOfScope: []byte("rules: [{code: court, phrases: [法院]}]")},
			"out_of_scope.yaml: rules[0].reason"},
		{"place in two districts", normalize.Sources{Taxonomy: []byte(minimalTaxonomy), Gazetteer: []byte("districts: [{name: 甲区, places: [松涛路]}, {name: 乙区, places: [松濤路]}]")},
			"also listed under"},
	}
	for _, tt := range tests {
		_, err := normalize.NewClassifier(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: error %v, want one naming %q", tt.name, err, tt.key)
		}
	}
}

// TestShippedConfigsValid keeps every shipped rule file loadable, including the deadline files.
func TestShippedConfigsValid(t *testing.T) {
	if _, err := normalize.ParseRules(normalize.Sources{Taxonomy: configs.Taxonomy, Emergency: configs.Emergency,
		OutOfScope: configs.OutOfScope, Gazetteer: configs.Gazetteer, Referrals: configs.Referrals}); err != nil {
		t.Error(err)
	}
	if _, err := normalize.LoadCalendar(configs.Holidays, nil); err != nil {
		t.Error(err)
	}
	if _, err := normalize.ParseDeadlineRules(configs.Deadlines); err != nil {
		t.Error(err)
	}
}
