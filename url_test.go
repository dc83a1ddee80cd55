package intake

import "testing"

func TestForeignScheme(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		foreign bool
	}{
		{"https://api.twilio.com/x", false},
		{"http://127.0.0.1:8080/x", false},
		{"HTTPS://example.com", false},
		{"file:///etc/passwd", true},
		{"FILE:///etc/passwd", true},
		{"gopher://127.0.0.1:6379/_INFO", true},
		{"ftp://example.com/a", true},
		{"data:text/html,<script>alert(1)</script>", true},
		{"javascript:alert(1)", true},
		{"  javascript:alert(1)", true},
		{"\x00\x1fjavascript:alert(1)", true},
		{"java\tscript:alert(1)", true},
		{"jav\r\nascript:alert(1)", true},
		{"mailto:a@b.example", true},
		{"dict://127.0.0.1:11211/stat", true},
		{"ldap://internal/", true},
		{"c:\\windows\\win.ini", true},
		{"http+unix://%2Fvar%2Frun%2Fdocker.sock/x", true},
		{"not a url", false},
		{"/v1/attachments/x", false},
		{"//example.com/x", false},
		{"", false},
		{":foo", false},
		{"1http://x", false}, // a scheme starts with a letter
		{"ht tp://x", false},
	} {
		if got := ForeignScheme(tc.raw); got != tc.foreign {
			t.Errorf("ForeignScheme(%q) = %v, want %v", tc.raw, got, tc.foreign)
		}
	}
}

func TestValidationErrorHasReason(t *testing.T) {
	e := &ValidationError{Fields: []FieldError{{Field: "text", Reason: "is required"}, {Field: "attachments[1].url", Reason: ReasonURLScheme}}}
	if !e.HasReason(ReasonURLScheme) || e.HasReason("other") {
		t.Fatal("HasReason")
	}
}
