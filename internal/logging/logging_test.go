package logging

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+8613800138000": "+86138****8000",
		"13800138000":    "138****8000",
		"+15005550006":   "+150****0006",
		"12345":          "*****",
		"":               "",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// pseudonymIn logs id as "citizen" with l and returns what the line says.
func pseudonymIn(t *testing.T, format string, opts ...Option) func(id string) string {
	t.Helper()
	var buf bytes.Buffer
	l := New(&buf, "info", format, opts...)
	return func(id string) string {
		buf.Reset()
		l.Info("x", "citizen", PseudoID(id))
		out := buf.String()
		if format == "json" {
			var line map[string]any
			if err := json.Unmarshal([]byte(out), &line); err != nil {
				t.Fatalf("log line %q: %v", out, err)
			}
			s, _ := line["citizen"].(string)
			return s
		}
		_, v, _ := strings.Cut(strings.TrimSpace(out), "citizen=")
		return strings.Trim(v, `"`)
	}
}

func TestPseudoIDHidesAndCorrelates(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		log := pseudonymIn(t, format, WithPseudonymKey("deployment-secret-0123456789"))
		const openid = "oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z"
		a, b := log(openid), log(openid)
		if a != b || strings.Contains(a, "oFx9") || len(a) != 14 || !strings.HasPrefix(a, "u_") {
			t.Fatalf("%s: pseudonyms %q %q", format, a, b)
		}
		if log("other") == a {
			t.Fatalf("%s: different ids share a pseudonym", format)
		}
		if log("") != "" {
			t.Fatalf("%s: an empty id got a pseudonym", format)
		}
	}
}

// The old pseudonym was sha256 with a salt written in the source: anyone could hash every phone
// number and read the log backwards. Keyed, the same id has a different pseudonym per deployment,
// and neither equals the unkeyed hash.
func TestPseudonymsDependOnTheDeploymentKey(t *testing.T) {
	const phone = "+8613800138000"
	a := pseudonymIn(t, "json", WithPseudonymKey("deployment-one-secret-key"))(phone)
	b := pseudonymIn(t, "json", WithPseudonymKey("deployment-two-secret-key"))(phone)
	if a == b {
		t.Fatal("two deployments' keys give the same pseudonym")
	}
	sum := sha256.Sum256([]byte("intake-gateway:" + phone))
	if a == "u_"+hex.EncodeToString(sum[:6]) {
		t.Fatal("pseudonym is the public-salt hash")
	}
	// Without a configured key every logger draws its own.
	first, second := pseudonymIn(t, "json"), pseudonymIn(t, "json")
	if first(phone) == second(phone) {
		t.Fatal("random keys collide")
	}
}

// A handler that is not New's must never print the id itself.
func TestPseudoIDOutsideTheGatewaysHandler(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "citizen", PseudoID("oSecretOpenID"))
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "citizen", PseudoID("oSecretOpenID"))
	if strings.Contains(buf.String(), "oSecretOpenID") || strings.Count(buf.String(), "u_unkeyed") != 2 {
		t.Fatalf("foreign handler output %q", buf.String())
	}
}

func TestLevelAndFormat(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "warn", "json")
	l.Info("hidden")
	l.Warn("shown", "k", 1)
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Fatalf("log output %q", out)
	}
}
