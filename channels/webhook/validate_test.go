package webhook_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/webhook"
)

// deepCopy copies the settings tree so each case mutates its own.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[k] = deepCopy(c)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, c := range t {
			a[i] = deepCopy(c)
		}
		return a
	}
	return v
}

// set changes one dotted key of the settings; del removes it.
type edit struct {
	key string
	val any
	del bool
}

func apply(t *testing.T, base channels.Config, edits ...edit) channels.Config {
	t.Helper()
	cfg := base
	cfg.Settings = deepCopy(base.Settings).(map[string]any)
	for _, e := range edits {
		parts := strings.Split(e.key, ".")
		m := cfg.Settings
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		if e.del {
			delete(m, parts[len(parts)-1])
		} else {
			m[parts[len(parts)-1]] = e.val
		}
	}
	return cfg
}

func TestExamplesValidate(t *testing.T) {
	for _, name := range []string{"cityapp.yaml", "sorted-sha1.yaml"} {
		if err := webhook.Validate(loadExample(t, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	city := loadExample(t, "cityapp.yaml")
	county := loadExample(t, "sorted-sha1.yaml")
	cases := []struct {
		name  string
		base  channels.Config
		edits []edit
		want  []string // each must appear in the error
	}{
		// Pointers that do not resolve against the sample.
		{"text pointer misspelt", city, []edit{{key: "fields.text", val: "/report/contnet"}},
			[]string{`channels[cityapp].fields.text: pointer "/report/contnet" does not resolve against the sample`}},
		{"external id pointer into an array", city, []edit{{key: "fields.external_id", val: "/report/photos/5/url"}},
			[]string{"channels[cityapp].fields.external_id: pointer"}},
		{"location pointer", city, []edit{{key: "fields.location.lng", val: "/report/location/lon"}},
			[]string{"channels[cityapp].fields.location.lng: pointer \"/report/location/lon\" does not resolve"}},
		{"metadata pointer", city, []edit{{key: "fields.metadata.app_os", val: "/client/platform"}},
			[]string{"channels[cityapp].fields.metadata.app_os: pointer"}},
		{"timestamp pointer", city, []edit{{key: "timestamp.pointer", val: "/sentAt"}},
			[]string{"channels[cityapp].timestamp.pointer: pointer \"/sentAt\" does not resolve"}},
		{"attachment item pointer", city, []edit{{key: "fields.attachments.url", val: "/href"}},
			[]string{"channels[cityapp].fields.attachments.url: pointer \"/href\" (relative to each item) resolves in no item"}},
		{"attachments not an array", city, []edit{{key: "fields.attachments.items", val: "/report/location"}},
			[]string{"channels[cityapp].fields.attachments.items: pointer \"/report/location\" must refer to an array"}},
		{"two bad pointers reported together", city, []edit{{key: "fields.text", val: "/a"}, {key: "fields.name", val: "/b"}},
			[]string{"fields.text: pointer \"/a\"", "fields.name: pointer \"/b\""}},
		{"sample value null", city, []edit{{key: "sample", val: `{"sent_at":"2026-11-27T16:00:05+08:00","user":{"mobile":null,"name":"x"},"client":{"version":"1"},"report":{"id":"R","category":"c","content":"x","created_at":"2026-11-27T16:00:05+08:00","location":{"lat":1,"lng":2,"address":"a"},"photos":[{"url":"https://x.example/1","type":"photo","mime":"image/png"}]}}`}},
			[]string{"channels[cityapp].fields.sender: pointer \"/user/mobile\" is null in the sample"}},
		{"sample time in another format", city, []edit{{key: "fields.time_format", val: "unix"}},
			[]string{"channels[cityapp].fields.time: the sample does not give a valid value"}},
		{"sample timestamp in another format", county, []edit{{key: "timestamp", val: map[string]any{"pointer": "/create_time", "format": "rfc3339"}}, {key: "signature.signed", val: []any{"secret", "query:nonce", "body"}}},
			[]string{"channels[county-social].timestamp.format: the sample's /create_time does not parse as rfc3339"}},
		{"sample with a member name twice", city, []edit{{key: "sample", val: strings.Replace(city.Settings["sample"].(string), `"category": "市政设施",`, `"category": "市政设施", "category": "其他",`, 1)}},
			[]string{"channels[cityapp].sample: malformed JSON: a member name appears twice in one object"}},
		{"sample photo URL not http", city, []edit{{key: "sample", val: strings.Replace(city.Settings["sample"].(string), "https://files.cityapp.example.cn/r/000123/1.jpg", "ftp://x/1.jpg", 1)}},
			[]string{"channels[cityapp].fields.attachments (item 0 of /report/photos): the sample does not give a valid value"}},

		// Pointer syntax.
		{"pointer without a leading slash", city, []edit{{key: "fields.text", val: "report/content"}},
			[]string{`channels[cityapp].fields.text: invalid JSON pointer "report/content"`}},
		{"bad escape", city, []edit{{key: "fields.name", val: "/user/na~2me"}},
			[]string{`channels[cityapp].fields.name: invalid JSON pointer "/user/na~2me"`}},
		{"empty text pointer", city, []edit{{key: "fields.text", val: ""}}, []string{"channels[cityapp].fields.text: is required"}},
		// "/" is the member "" of the root object, not the root: valid, and resolved like any other.
		{"pointer to the empty key", city, []edit{{key: "fields.external_id", val: "/"}},
			[]string{`channels[cityapp].fields.external_id: pointer "/" does not resolve`}},

		// The sample.
		{"no sample", city, []edit{{key: "sample", del: true}}, []string{"channels[cityapp].sample: is required"}},
		{"sample not JSON", city, []edit{{key: "sample", val: "report: {id: 1}"}}, []string{"channels[cityapp].sample: malformed JSON"}},
		{"sample an array", city, []edit{{key: "sample", val: "[1]"}}, []string{"channels[cityapp].sample: malformed JSON: the payload must be an object"}},

		// Signature.
		{"no signature", city, []edit{{key: "signature", del: true}}, []string{"channels[cityapp].signature: is required"}},
		{"unknown scheme", city, []edit{{key: "signature.scheme", val: "md5"}}, []string{"channels[cityapp].signature.scheme: must be one of [hmac-sha256 sha1-sorted]"}},
		{"no secret", city, []edit{{key: "signature.secret", del: true}}, []string{"channels[cityapp].signature.secret: is required"}},
		{"short secret", city, []edit{{key: "signature.secret", val: "abc"}}, []string{"channels[cityapp].signature.secret: is too short"}},
		{"header and query", city, []edit{{key: "signature.query", val: "sig"}}, []string{"channels[cityapp].signature: set exactly one of header or query"}},
		{"base64 with sha1-sorted", county, []edit{{key: "signature.encoding", val: "base64"}}, []string{"channels[county-social].signature.encoding: sha1-sorted signatures are hex"}},
		{"sha1-sorted without secret", county, []edit{{key: "signature.signed", val: []any{"query:timestamp", "query:nonce"}}},
			[]string{"channels[county-social].signature.signed: must include secret"}},
		{"hmac with the secret signed", city, []edit{{key: "signature.signed", val: []any{"secret", "body"}}},
			[]string{"channels[cityapp].signature.signed: must not include secret"}},
		{"bad signed part", city, []edit{{key: "signature.signed", val: []any{"body", "cookie:x"}}},
			[]string{`channels[cityapp].signature.signed: item 1 "cookie:x"`}},
		{"typo in signature", city, []edit{{key: "signature.hedaer", val: "X-Sig"}}, []string{"channels[cityapp].signature: unknown key(s): hedaer"}},

		// Timestamp.
		{"no timestamp", city, []edit{{key: "timestamp", del: true}}, []string{"channels[cityapp].timestamp: is required"}},
		{"timestamp not signed", city, []edit{{key: "timestamp", val: map[string]any{"header": "X-Timestamp", "format": "unix"}}},
			[]string{"channels[cityapp].timestamp: header:X-Timestamp is not covered by the signature"}},
		{"timestamp pointer with unsigned body", county, []edit{{key: "timestamp", val: map[string]any{"pointer": "/create_time", "format": "unix_ms"}}},
			[]string{"channels[county-social].timestamp: pointer:/create_time is not covered by the signature"}},
		{"bad format", city, []edit{{key: "timestamp.format", val: "iso"}}, []string{"channels[cityapp].timestamp.format: must be one of [unix unix_ms rfc3339]"}},
		{"window as a bare number", city, []edit{{key: "timestamp.window", val: 300}}, []string{"channels[cityapp].timestamp.window: must be a duration with a unit"}},
		{"window too wide", city, []edit{{key: "timestamp.window", val: "48h"}}, []string{"channels[cityapp].timestamp.window: must be between 10s and 24h"}},

		// Fields, reply, kind.
		{"no fields", city, []edit{{key: "fields", del: true}}, []string{"channels[cityapp].fields: is required"}},
		{"sender_as unknown", city, []edit{{key: "fields.sender_as", val: "email"}}, []string{"channels[cityapp].fields.sender_as: must be one of"}},
		{"time without format", city, []edit{{key: "fields.time_format", del: true}}, []string{"channels[cityapp].fields.time_format: must be one of"}},
		{"lat without lng", city, []edit{{key: "fields.location.lng", del: true}}, []string{"channels[cityapp].fields.location: set both lat and lng"}},
		{"bad kind map", city, []edit{{key: "fields.attachments.kind_map.photo", val: "picture"}}, []string{"channels[cityapp].fields.attachments.kind_map.photo: must be one of"}},
		{"channel kind", city, []edit{{key: "channel_kind", val: "email"}}, []string{"channels[cityapp].channel_kind: must be one of"}},
		{"unknown placeholder", city, []edit{{key: "reply.body", val: `{"msg":"{{reply_text}}"}`}}, []string{"channels[cityapp].reply.body: unknown placeholder {{reply_text}}"}},
		{"template not JSON", city, []edit{{key: "reply.body", val: `{"msg":{{text}}}`}}, []string{"channels[cityapp].reply.body: is not valid JSON"}},
		{"placeholder in a key", city, []edit{{key: "reply.body", val: `{"{{text}}":1}`}}, []string{"channels[cityapp].reply.body: placeholders are allowed in string values only"}},
		{"placeholder with shape none", city, []edit{{key: "reply.shape", val: "none"}}, []string{"channels[cityapp].reply.body: has placeholders, but reply.shape is none"}},
		{"reply status 204", city, []edit{{key: "reply.status", val: 204}}, []string{"channels[cityapp].reply.status"}},
		{"reply timeout too long", city, []edit{{key: "reply_timeout", val: "1m"}}, []string{"channels[cityapp].reply_timeout: must be above 0 and at most 30s"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := apply(t, tc.base, tc.edits...)
			err := webhook.Validate(cfg)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			// New refuses the same configuration with the same error.
			if _, nerr := webhook.New(cfg, channels.Deps{Receiver: &fakeReceiver{}}); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("New: %v", nerr)
			}
		})
	}
}

func TestValidateFromYAML(t *testing.T) {
	// A YAML mapping as the sample works as well as JSON text.
	cfg := apply(t, loadExample(t, "sorted-sha1.yaml"))
	var sample map[string]any
	if err := json.Unmarshal([]byte(cfg.Settings["sample"].(string)), &sample); err != nil {
		t.Fatal(err)
	}
	cfg.Settings["sample"] = sample
	if err := webhook.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	// app_secret stands in for signature.secret; both set and different is refused.
	cfg = apply(t, loadExample(t, "sorted-sha1.yaml"), edit{key: "signature.secret", del: true})
	cfg.AppSecret = "from-app-secret-123"
	if err := webhook.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	cfg = apply(t, loadExample(t, "sorted-sha1.yaml"))
	cfg.AppSecret = "from-app-secret-123"
	if err := webhook.Validate(cfg); err == nil || !strings.Contains(err.Error(), "signature.secret: and app_secret are both set and differ") {
		t.Fatalf("%v", err)
	}
	// Keys of other layers at the top level are left alone.
	cfg = apply(t, loadExample(t, "sorted-sha1.yaml"), edit{key: "menu", val: map[string]any{"a": "b"}})
	if err := webhook.Validate(cfg); err != nil {
		t.Fatal(err)
	}
}
