package hottopics

import (
	"errors"
	"fmt"
	"time"

	"github.com/hotline12345/intake-gateway/forward"
)

// Options are the hot-topic settings (the hot_topics section of the configuration).
type Options struct {
	// Enabled runs the clustering job; off, nothing is clustered, stored or announced.
	Enabled bool `koanf:"enabled"`
	// Window is the sliding window: cases received within it are clustered, an incident needs
	// MinCases of them, and an incident with no new member for a whole window is closed.
	Window time.Duration `koanf:"window" validate:"gt=0"`
	// MinCases alike cases within Window open an incident (MinCases per Window is the rate).
	MinCases int `koanf:"min_cases" validate:"gte=2"`
	// Similarity is the character-bigram similarity (0..1, normalize.Similarity, as repeat
	// detection uses) from which two texts of one category and district are about the same
	// thing. Lower than duplicates.threshold: different citizens word one problem differently.
	Similarity float64 `koanf:"similarity" validate:"gt=0,lte=1"`
	// Interval is how often the clustering runs.
	Interval time.Duration `koanf:"interval" validate:"gt=0"`
	// MaxCases bounds the cases one run reads (the newest within Window).
	MaxCases int `koanf:"max_cases" validate:"gt=0"`
	// Webhook receives one incident.opened announcement per incident; no URL, no announcements.
	Webhook Webhook `koanf:"webhook"`
}

// Webhook is where new incidents are announced, signed as deliveries to case systems are.
type Webhook struct {
	URL string `koanf:"url" validate:"omitempty,url"`
	// Secret signs the announcements: whsec_ and base64 for standard-webhooks, any string for
	// intake (X-Intake-Signature).
	Secret string `koanf:"secret"`
	// Signature is standard-webhooks (the default) or intake.
	Signature string `koanf:"signature" validate:"omitempty,oneof=intake standard-webhooks"`
	// Timeout bounds one announcement request.
	Timeout time.Duration `koanf:"timeout" validate:"gt=0"`
}

// Announces reports whether new incidents are announced.
func (o Options) Announces() bool { return o.Webhook.URL != "" }

// Check reports settings that cannot work together (the validator's tags check each alone).
func (o Options) Check() error {
	if !o.Enabled {
		return nil
	}
	var errs []error
	if o.Window <= 0 {
		errs = append(errs, errors.New("hot_topics.window: must be > 0"))
	}
	if o.MinCases < 2 {
		errs = append(errs, errors.New("hot_topics.min_cases: must be at least 2"))
	}
	if o.Similarity <= 0 || o.Similarity > 1 {
		errs = append(errs, errors.New("hot_topics.similarity: must be > 0 and ≤ 1"))
	}
	if o.Interval <= 0 {
		errs = append(errs, errors.New("hot_topics.interval: must be > 0"))
	}
	if o.MaxCases <= 0 {
		errs = append(errs, errors.New("hot_topics.max_cases: must be > 0"))
	}
	if o.Webhook.URL != "" {
		switch {
		case o.Webhook.Secret == "":
			errs = append(errs, errors.New("hot_topics.webhook.secret: is required with hot_topics.webhook.url"))
		case o.Webhook.Signature != "intake":
			if _, err := forward.StandardWebhooksKey(o.Webhook.Secret); err != nil {
				errs = append(errs, fmt.Errorf("hot_topics.webhook.secret: %w", err))
			}
		}
		if o.Webhook.Timeout <= 0 {
			errs = append(errs, errors.New("hot_topics.webhook.timeout: must be > 0"))
		}
	}
	return errors.Join(errs...)
}
