package main

import (
	"fmt"
	"os"

	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize"
)

// readRuleFile reads an operator's rule file, or the built-in copy when none is configured.
func readRuleFile(key, path string, builtin []byte) ([]byte, error) {
	if path == "" {
		return builtin, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules.%s: %w", key, err)
	}
	return b, nil
}

// noModel as classifier.model_file classifies by the rules alone.
const noModel = "none"

// readModelFile reads the configured model, the built-in one when none is configured, or nothing
// for "none".
func readModelFile(path string) ([]byte, error) {
	if path == noModel {
		return nil, nil
	}
	if path == "" {
		return configs.Model, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classifier.model_file: %w", err)
	}
	return b, nil
}

// loadRules builds the classifier, the holiday calendar and the deadline rules from the
// configured files; any error names the file's key and leaves the caller's current rules alone.
func loadRules(cfg *config.Config) (normalize.Options, error) {
	r := cfg.Rules
	var src normalize.Sources
	var err error
	files := []struct {
		key, path string
		builtin   []byte
		into      *[]byte
	}{
		{"taxonomy_file", r.TaxonomyFile, configs.Taxonomy, &src.Taxonomy},
		{"emergency_file", r.EmergencyFile, configs.Emergency, &src.Emergency},
		{"out_of_scope_file", r.OutOfScopeFile, configs.OutOfScope, &src.OutOfScope},
		{"gazetteer_file", r.GazetteerFile, configs.Gazetteer, &src.Gazetteer},
		{"referrals_file", r.ReferralsFile, configs.Referrals, &src.Referrals},
	}
	for _, f := range files {
		if *f.into, err = readRuleFile(f.key, f.path, f.builtin); err != nil {
			return normalize.Options{}, err
		}
	}
	if src.Model, err = readModelFile(cfg.Classifier.ModelFile); err != nil {
		return normalize.Options{}, err
	}
	src.Settings = normalize.Settings{ReviewBelow: cfg.Classifier.ReviewBelow}
	classifier, err := normalize.NewClassifier(src)
	if err != nil {
		return normalize.Options{}, fmt.Errorf("rules: %w", err)
	}
	holidays, err := readRuleFile("holidays_file", r.HolidaysFile, configs.Holidays)
	if err != nil {
		return normalize.Options{}, err
	}
	cal, err := normalize.LoadCalendar(holidays, cfg.CaseNo.Location())
	if err != nil {
		return normalize.Options{}, fmt.Errorf("rules.holidays_file: %w", err)
	}
	deadlines, err := readRuleFile("deadlines_file", r.DeadlinesFile, configs.Deadlines)
	if err != nil {
		return normalize.Options{}, err
	}
	rules, err := normalize.ParseDeadlineRules(deadlines)
	if err != nil {
		return normalize.Options{}, fmt.Errorf("rules.deadlines_file: %w", err)
	}
	return normalize.Options{PhoneRegion: normalize.DefaultRegion, Classifier: classifier, Calendar: cal, Deadlines: rules}, nil
}
