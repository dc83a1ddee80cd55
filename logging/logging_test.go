package logging

import (
	"bytes"
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

func TestPseudoIDHidesAndCorrelates(t *testing.T) {
	a, b := PseudoID("oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z"), PseudoID("oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z")
	if a != b || strings.Contains(a, "oFx9") || len(a) != 14 {
		t.Fatalf("PseudoID: %q %q", a, b)
	}
	if PseudoID("other") == a {
		t.Fatal("different ids share a pseudonym")
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
