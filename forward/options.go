package forward

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CaseSystem is a target the gateway forwards cases to.
type CaseSystem struct {
	// Name: lower-case letters and digits, joined by - or _ (it names the system's job queue).
	Name   string `koanf:"name" validate:"required,max=50,queuename"`
	URL    string `koanf:"url" validate:"required,url"`
	Secret string `koanf:"secret" validate:"required"`
	// Signature is how deliveries are signed: "intake" (X-Intake-Signature, the default) or
	// "standard-webhooks" (webhook-id, webhook-timestamp and webhook-signature headers of the
	// Standard Webhooks specification, which ready-made verifiers check; the secret is then
	// whsec_ followed by base64).
	Signature string `koanf:"signature" validate:"omitempty,oneof=intake standard-webhooks"`
	// MaxRate caps deliveries per second to this system (0: no cap), so a backlog is caught up
	// without flooding a case system that just came back.
	MaxRate float64 `koanf:"max_rate" validate:"gte=0"`
}

// Options tune delivery to the case systems (the forwarding section of the configuration).
type Options struct {
	// Workers is how many deliveries may be in flight at once.
	Workers int `koanf:"workers" validate:"gt=0,lte=5000"`
	// Timeout bounds one delivery request.
	Timeout time.Duration `koanf:"timeout" validate:"gt=0"`
	// A delivery is dead after MaxAttempts tries or MaxAge since it was queued.
	MaxAttempts int           `koanf:"max_attempts" validate:"gt=0"`
	MaxAge      time.Duration `koanf:"max_age" validate:"gt=0"`
	// RetryMin and RetryMax bound the exponential backoff (with jitter) between tries.
	RetryMin time.Duration `koanf:"retry_min" validate:"gt=0"`
	RetryMax time.Duration `koanf:"retry_max" validate:"gtefield=RetryMin"`
	// After BreakerThreshold consecutive failures a case system counts as down: deliveries to
	// it wait, and one probe at a time tests whether it is back, at most every BreakerMax.
	BreakerThreshold int           `koanf:"breaker_threshold" validate:"gt=0"`
	BreakerMin       time.Duration `koanf:"breaker_min" validate:"gt=0"`
	BreakerMax       time.Duration `koanf:"breaker_max" validate:"gtefield=BreakerMin"`
	// Routes send matching cases to another case system; the first match wins, and cases no
	// route claims go to the case system named "default" (or the first one).
	Routes []Route `koanf:"routes" validate:"dive"`
}

// Route matches cases by category, district and channel (each list empty: any).
type Route struct {
	Target     string   `koanf:"target" validate:"required"`
	Categories []string `koanf:"categories"`
	Districts  []string `koanf:"districts"`
	Channels   []string `koanf:"channels" validate:"dive,oneof=phone wechat sms weibo rest open311"`
}

// StandardWebhooksKey decodes a Standard Webhooks secret ("whsec_" + base64 of the key bytes),
// as the specification's verifiers do.
func StandardWebhooksKey(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return nil, errors.New(`a standard-webhooks secret starts with "whsec_" followed by base64`)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, errors.New("the part after whsec_ is not base64")
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("the key is %d bytes; Standard Webhooks asks for 24 to 64", len(key))
	}
	return key, nil
}
