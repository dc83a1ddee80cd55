package config

import (
	"errors"

	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/hotline12345/intake-gateway/forward"

	"github.com/go-playground/validator/v10"

	"github.com/hotline12345/intake-gateway/internal/safefetch"
)

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	_ = v.RegisterValidation("queuename", func(fl validator.FieldLevel) bool { return queueName.MatchString(fl.Field().String()) })
	_ = v.RegisterValidation("hostpattern", func(fl validator.FieldLevel) bool {
		return safefetch.CheckHostPattern(fl.Field().String()) == nil
	})
	_ = v.RegisterValidation("exacthost", func(fl validator.FieldLevel) bool { return safefetch.IsExactHost(fl.Field().String()) })
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if name == "" || name == "-" {
			return f.Name
		}
		return name
	})
	return v
}

var indexInPath = regexp.MustCompile(`\.(\w+)\[(\d+)\]`)

// queueName is what the job queue accepts in a queue name.
var queueName = regexp.MustCompile(`^[a-z0-9]+(?:[_-][a-z0-9]+)*$`)

// Validate checks cfg and returns every problem, each naming its key as it is written in the file
// (channels[0].app_id) and what is wrong with it.
func Validate(cfg *Config) error {
	var errs []error
	if err := newValidator().Struct(cfg); err != nil {
		var ves validator.ValidationErrors
		if !errors.As(err, &ves) {
			return fmt.Errorf("validate config: %w", err)
		}
		for _, fe := range ves {
			key := strings.TrimPrefix(fe.Namespace(), "Config.")
			key = indexInPath.ReplaceAllString("."+key, ".$1[$2]")[1:]
			key = withoutEmbedded(key)
			errs = append(errs, fmt.Errorf("%s: %s", key, describe(fe)))
		}
	}
	errs = append(errs, checkUnique(cfg)...)
	return errors.Join(errs...)
}

// withoutEmbedded drops the names of embedded (squashed) structs from a key path: every key of the
// file is lower-case, so a segment in Go's capitalised style can only be such a struct's name.
func withoutEmbedded(key string) string {
	parts := strings.Split(key, ".")
	out := parts[:0]
	for _, p := range parts {
		if p != "" && p[0] >= 'A' && p[0] <= 'Z' {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ".")
}

func describe(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required", "required_if", "required_without":
		return "is required"
	case "oneof":
		return fmt.Sprintf("must be one of [%s], got %q", fe.Param(), fmt.Sprint(fe.Value()))
	case "hostname_port":
		return fmt.Sprintf("must be host:port, got %q", fe.Value())
	case "url":
		return fmt.Sprintf("must be an absolute URL, got %q", fe.Value())
	case "cidr":
		return fmt.Sprintf("must be a CIDR range such as 10.0.0.0/8, got %q", fe.Value())
	case "timezone":
		return fmt.Sprintf("must be an IANA time zone such as Asia/Shanghai, got %q", fe.Value())
	case "len":
		return fmt.Sprintf("must be %s characters long", fe.Param())
	case "hexadecimal":
		return "must be hexadecimal (the sha256 printed by `intake-gateway apikey new`)"
	case "startswith", "startswith=postgres://|startswith=postgresql://":
		return "must be a postgres:// URL (leave empty for the embedded SQLite store)"
	case "gt", "gte", "lte", "max", "min":
		return fmt.Sprintf("must be %s %s, got %v", map[string]string{"gt": ">", "gte": "≥", "lte": "≤", "max": "at most", "min": "at least"}[fe.Tag()], fe.Param(), fe.Value())
	case "gtefield":
		return fmt.Sprintf("must be at least %s, got %v", map[string]string{"MaxTextChars": "limits.max_text_chars"}[fe.Param()], fe.Value())
	case "alphanum":
		return "must contain only letters and digits"
	case "queuename":
		return "must be lower-case letters and digits, joined by - or _"
	case "excludesall":
		return "must not contain '/', ':' or spaces"
	case "hostpattern":
		return fmt.Sprintf("must be a host name, an IP address or *.domain, optionally with :port (no scheme or path), got %q", fe.Value())
	case "exacthost":
		return fmt.Sprintf("must be one host name or IP address, optionally with :port (no wildcard), got %q", fe.Value())
	}
	return fmt.Sprintf("fails %q", fe.Tag())
}

func checkUnique(cfg *Config) []error {
	var errs []error
	seen := map[string]int{}
	for i, ch := range cfg.Channels {
		if j, ok := seen[ch.ID]; ok {
			errs = append(errs, fmt.Errorf("channels[%d].id: %q is already used by channels[%d]", i, ch.ID, j))
		}
		seen[ch.ID] = i
		if ch.Type == "wechat" && ch.Mode != "" && ch.Mode != "plain" && ch.EncodingAESKey == "" {
			errs = append(errs, fmt.Errorf("channels[%d].encoding_aes_key: is required in %s mode", i, ch.Mode))
		}
		if len(ch.CredentialHosts) > 0 && ch.Type != "twilio" {
			// WeChat and Weibo tokens go to their configured API base only; nothing to list.
			errs = append(errs, fmt.Errorf("channels[%d].credential_hosts: only twilio channels send credentials with media requests", i))
		}
	}
	if err := cfg.Retention.Check(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.HotTopics.Check(); err != nil {
		errs = append(errs, err)
	}
	names := map[string]int{}
	for i, k := range cfg.APIKeys {
		if j, ok := names[k.Name]; ok {
			errs = append(errs, fmt.Errorf("api_keys[%d].name: %q is already used by api_keys[%d]", i, k.Name, j))
		}
		names[k.Name] = i
	}
	targets := map[string]int{}
	for i, cs := range cfg.CaseSystems {
		if cs.Signature == "standard-webhooks" {
			if _, err := forward.StandardWebhooksKey(cs.Secret); err != nil {
				errs = append(errs, fmt.Errorf("case_systems[%d].secret: %v", i, err))
			}
		}
		if j, ok := targets[cs.Name]; ok {
			errs = append(errs, fmt.Errorf("case_systems[%d].name: %q is already used by case_systems[%d]", i, cs.Name, j))
		}
		targets[cs.Name] = i
	}
	for i, r := range cfg.Forwarding.Routes {
		if _, ok := targets[r.Target]; !ok && r.Target != "" {
			errs = append(errs, fmt.Errorf("forwarding.routes[%d].target: %q is not a case_systems name", i, r.Target))
		}
	}
	return errs
}
