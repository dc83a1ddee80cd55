package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/channels/webhook"
)

// rfcDoc is the example document of RFC 6901 §5.
const rfcDoc = `{
  "foo": ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  "k\"l": 6,
  " ": 7,
  "m~n": 8
}`

func decodeDoc(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPointerRFC6901Examples(t *testing.T) {
	doc := decodeDoc(t, rfcDoc)
	for ptr, want := range map[string]string{
		"/foo":   `["bar","baz"]`,
		"/foo/0": `"bar"`,
		"/":      `0`,
		"/a~1b":  `1`,
		"/c%d":   `2`,
		"/e^f":   `3`,
		"/g|h":   `4`,
		"/i\\j":  `5`,
		"/k\"l":  `6`,
		"/ ":     `7`,
		"/m~0n":  `8`,
	} {
		p, err := webhook.ParsePointer(ptr)
		if err != nil {
			t.Fatalf("%q: %v", ptr, err)
		}
		v, ok := p.Get(doc)
		got, _ := json.Marshal(v)
		if !ok || string(got) != want {
			t.Errorf("%q: %s %v, want %s", ptr, got, ok, want)
		}
	}
	if v, ok := webhook.MustPointer("").Get(doc); !ok || !reflect.DeepEqual(v, doc) {
		t.Error("the empty pointer is not the whole document")
	}
}

func TestPointerMisses(t *testing.T) {
	doc := decodeDoc(t, `{"a":{"b":[10,20,{"c":null}]},"n":5}`)
	for _, ptr := range []string{"/x", "/a/x", "/a/b/3", "/a/b/-", "/a/b/01", "/a/b/+1", "/a/b/-1", "/a/b/ 1", "/a/b/1e0", "/n/0", "/a/b/0/x", "/a/b/99999999999999999999"} {
		if v, ok := webhook.MustPointer(ptr).Get(doc); ok {
			t.Errorf("%q resolved to %v", ptr, v)
		}
	}
	// A null that exists is found, as nil.
	if v, ok := webhook.MustPointer("/a/b/2/c").Get(doc); !ok || v != nil {
		t.Errorf("null: %v %v", v, ok)
	}
	for _, bad := range []string{"a", "#/a", "/a~", "/a~2", "/~x"} {
		if _, err := webhook.ParsePointer(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// FuzzPointer: parsing and evaluating never panic; a parsed pointer prints as written; and a
// pointer built by escaping a key finds that key's value.
func FuzzPointer(f *testing.F) {
	for _, s := range []string{"", "/", "/foo/0", "/a~1b", "/m~0n", "/a~", "/~2", "/a/b/01", "/a/-", "//", "/0/0/0"} {
		f.Add(s, rfcDoc, "k")
	}
	f.Add("/x", `{"x":[1,{"y":"z"}]}`, "a/b~c")
	f.Add("/0", `[1,2]`, "~01")
	f.Fuzz(func(t *testing.T, ptr, doc, key string) {
		p, err := webhook.ParsePointer(ptr)
		if err == nil {
			if p.String() != ptr {
				t.Fatalf("String() %q, want %q", p.String(), ptr)
			}
			dec := json.NewDecoder(strings.NewReader(doc))
			dec.UseNumber()
			var v any
			if dec.Decode(&v) == nil {
				p.Get(v)
			}
		}
		val := json.Number("42")
		q, err := webhook.ParsePointer("/" + webhook.EscapeToken(key) + "/1")
		if err != nil {
			t.Fatalf("escaped key %q: %v", key, err)
		}
		got, ok := q.Get(map[string]any{key: []any{"x", val}})
		if !ok || got != val {
			t.Fatalf("escaped key %q: %v %v", key, got, ok)
		}
	})
}

// FuzzDecodeSignature: a signature value is accepted exactly when it decodes to the MAC; the
// decoder never panics.
func FuzzDecodeSignature(f *testing.F) {
	mac := hmac.New(sha256.New, []byte("fuzz-secret-000"))
	mac.Write([]byte("body"))
	sum := mac.Sum(nil)
	f.Add("sha256="+hex.EncodeToString(sum), "sha256=", "hex")
	f.Add(strings.ToUpper(hex.EncodeToString(sum)), "", "hex")
	f.Add(base64.StdEncoding.EncodeToString(sum), "", "base64")
	f.Add(base64.RawURLEncoding.EncodeToString(sum), "", "base64")
	f.Add("sha256=", "sha256=", "hex")
	f.Add("=", "", "base64")
	f.Add(" "+hex.EncodeToString(sum)+" ", "", "hex")
	f.Fuzz(func(t *testing.T, value, prefix, encoding string) {
		got, ok := webhook.DecodeSignature(value, prefix, encoding)
		if !ok {
			return
		}
		rest, found := strings.CutPrefix(strings.TrimSpace(value), prefix)
		if !found {
			t.Fatalf("accepted %q without prefix %q", value, prefix)
		}
		switch encoding {
		case "hex":
			want, err := hex.DecodeString(rest)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("hex %q decoded to %x", rest, got)
			}
		case "base64":
			if strings.ContainsAny(rest, " \n\r\t") {
				t.Fatalf("base64 with spaces accepted: %q", rest)
			}
		default:
			t.Fatalf("unknown encoding %q accepted", encoding)
		}
	})
}

// FuzzWebhookPush sends fuzzed bodies, correctly signed, to the city-app example: no panic, no
// 5xx, the Receiver called at most once and only for a 200 with a complete submission.
func FuzzWebhookPush(f *testing.F) {
	f.Add(cityReport)
	f.Add(`{"sent_at":"2026-11-27T16:00:05+08:00","report":{"id":"R","content":"x","photos":[{"url":"https://a.example/1","type":"clip"}]}}`)
	f.Add(`{"sent_at":"2026-11-27T16:00:05+08:00","report":{"id":1e400,"content":"x"}}`)
	f.Add(`{"sent_at":"2026-11-27T16:00:05+08:00","report":{"id":"R","content":"x","location":{"lat":"NaN","lng":"1"}}}`)
	f.Add(`{"sent_at":1764230405,"report":{}}`)
	f.Add(`[]`)
	h := serve(f, loadExample(f, "cityapp.yaml"), cityNow, nil)
	f.Fuzz(func(t *testing.T, body string) {
		h.recv.reset()
		rec := h.do(signedCity(body))
		calls := h.recv.calls()
		switch rec.Code {
		case http.StatusOK:
			if len(calls) != 1 {
				t.Fatalf("200 with %d Receiver calls", len(calls))
			}
			sub := calls[0].Submission
			if sub.ExternalID == "" || strings.TrimSpace(sub.Text) == "" {
				t.Fatalf("incomplete submission %+v", sub)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("answer not JSON: %s", rec.Body.String())
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			if len(calls) != 0 {
				t.Fatalf("refused with %d but the Receiver was called", rec.Code)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}
