package config

import (
	"strings"
	"testing"
	"time"
)

// TestHotTopicsSection: absent, the feature is off with usable defaults; switched on, values
// that cannot work are errors naming the key, and the webhook's secret comes from the
// environment like every other secret.
func TestHotTopicsSection(t *testing.T) {
	cfg, err := Load("", []string{})
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.HotTopics
	if h.Enabled || h.Announces() || h.Window != 2*time.Hour || h.MinCases != 15 || h.Similarity != 0.15 || h.Webhook.Signature != "standard-webhooks" {
		t.Fatalf("hot_topics defaults = %+v", h)
	}
	for body, want := range map[string]string{
		"hot_topics: {enabled: true, min_cases: 1}":                                          "hot_topics.min_cases",
		"hot_topics: {enabled: true, similarity: 1.5}":                                       "hot_topics.similarity",
		"hot_topics: {enabled: true, window: 0s}":                                            "hot_topics.window",
		"hot_topics: {enabled: true, webhook: {url: 'https://duty.example/h'}}":              "hot_topics.webhook.secret: is required",
		"hot_topics: {enabled: true, webhook: {url: 'https://duty.example/h', secret: abc}}": "hot_topics.webhook.secret",
		"hot_topics: {enabled: true, webhook: {url: 'not a url'}}":                           "hot_topics.webhook.url",
		"hot_topics: {enabled: true, webhook: {signature: hmac}}":                            "hot_topics.webhook.signature",
		"hot_topics: {enabeld: true}":                                                        "hot_topics.enabeld: unknown key",
	} {
		_, err := Load(writeFile(t, body), []string{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to name %s", body, err, want)
		}
	}
	secret := "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	cfg, err = Load(writeFile(t, "hot_topics: {enabled: true, webhook: {url: 'https://duty.example/h', secret: '${DUTY_SECRET}'}}"),
		[]string{"DUTY_SECRET=" + secret, "INTAKE_HOT_TOPICS__MIN_CASES=8"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.HotTopics.Enabled || !cfg.HotTopics.Announces() || cfg.HotTopics.Webhook.Secret != secret || cfg.HotTopics.MinCases != 8 {
		t.Fatalf("hot_topics = %+v", cfg.HotTopics)
	}
}
