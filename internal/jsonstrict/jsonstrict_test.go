package jsonstrict

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckDuplicateKeys(t *testing.T) {
	for _, tc := range []struct {
		doc, dup string
	}{
		{`{"text":"a","channel":"sms"}`, ""},
		{`{"text":"a","text":"b"}`, "text"},
		{`{"citizen":{"phone":"1","name":"x","phone":"2"}}`, "citizen.phone"},
		{`{"a":{"x":1},"b":{"x":1}}`, ""},
		{`{"attachments":[{"url":"a"},{"url":"b","url":"c"}]}`, "attachments[1].url"},
		{`[{"id":1},{"id":1}]`, ""},
		{`{"a":[1,{"b":2,"b":3}]}`, "a[1].b"},
		{`{"":1,"":2}`, ""},
		{`{"a":"{\"b\":1,\"b\":2}"}`, ""}, // a string holding JSON is not JSON here
		{`{"a":1}{"a":2}`, ""},            // two documents in a stream (NDJSON lines)
		{`{"a":1}{"b":2,"b":3}`, "b"},
		{`{"\u0061":1,"a":2}`, "a"}, // the same name written with an escape
	} {
		err := CheckDuplicateKeys([]byte(tc.doc))
		var de *DuplicateKeyError
		switch {
		case tc.dup == "" && tc.doc == `{"":1,"":2}`:
			if !errors.As(err, &de) || de.Path != "" {
				t.Errorf("%s: %v, want the empty name reported", tc.doc, err)
			}
		case tc.dup == "":
			if err != nil {
				t.Errorf("%s: %v, want none", tc.doc, err)
			}
		default:
			if !errors.As(err, &de) || de.Path != tc.dup || !errors.Is(err, ErrDuplicateKey) {
				t.Errorf("%s: %v, want duplicate %q", tc.doc, err, tc.dup)
			}
		}
	}
}

func TestSyntaxErrorsAndDepth(t *testing.T) {
	for _, doc := range []string{`{"a":}`, `{"a":1`, `[1,2`, `{1:2}`} {
		if err := CheckDuplicateKeys([]byte(doc)); err == nil || errors.Is(err, ErrDuplicateKey) {
			t.Errorf("%s: %v, want a syntax error", doc, err)
		}
	}
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	if err := CheckDuplicateKeys([]byte(deep)); err == nil {
		t.Error("10,001 levels accepted")
	}
}

// The scan agrees with a decode into maps: a document without duplicates round-trips to the same
// number of members at every level as there are names in it.
func FuzzCheckDuplicateKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[{"c":1,"c":2}]}}`, `[]`, `"x"`, `{"a":1}{"a":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		err := CheckDuplicateKeys([]byte(doc))
		if !json.Valid([]byte(doc)) {
			return
		}
		dup := hasDuplicate(t, json.RawMessage(doc))
		if dup != (err != nil) {
			t.Fatalf("%q: scan says %v, reference says duplicate=%v", doc, err, dup)
		}
	})
}

// hasDuplicate is an independent reference: decode objects member by member with RawMessage.
func hasDuplicate(t *testing.T, raw json.RawMessage) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		names := 0
		for dec.More() {
			if _, err := dec.Token(); err != nil {
				t.Fatal(err)
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			names++
		}
		if names != len(obj) {
			return true
		}
		for _, v := range obj {
			if hasDuplicate(t, v) {
				return true
			}
		}
		return false
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		for _, v := range arr {
			if hasDuplicate(t, v) {
				return true
			}
		}
	}
	return false
}
