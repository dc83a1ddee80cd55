package twilio_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/twilio"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
)

// recorder is an httptest server that remembers the Authorization header of every request.
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) host() string { return strings.TrimPrefix(r.URL, "http://") }

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

// labPolicy is the test config's media policy: the fakes run on 127.0.0.1 over http.
var labPolicy = safefetch.Policy{AllowHTTP: true, AllowPrivateNetworks: true}

// A MediaUrl that points somewhere other than Twilio must not get the account's credentials —
// neither directly nor by a redirect from Twilio's host. The attacker here is even allowed to
// serve media (as if it were a CDN host the operator listed): it still gets no credentials.
func TestMediaCredentialsGoOnlyToTwilio(t *testing.T) {
	attacker := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "x") })
	cdn := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = io.WriteString(w, "\xff\xd8JPEG")
	})
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "AC0123" || pass != testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1":
			http.Redirect(w, r, cdn.URL+"/AC0123/ME1", http.StatusTemporaryRedirect)
		case "/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME2":
			http.Redirect(w, r, attacker.URL+"/collect", http.StatusFound)
		}
	})
	ch := channels.Config{ID: "sms", Type: "twilio", AccountSID: "AC0123", AuthToken: testToken,
		MediaHosts: []string{api.host(), cdn.host(), attacker.host()}, CredentialHosts: []string{api.host()}}
	f, err := twilio.MediaFetcher(ch, labPolicy)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	b, err := f.Fetch(ctx, intake.Attachment{URL: api.URL + "/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME1"})
	if err != nil || string(b.Body) != "\xff\xd8JPEG" || b.ContentType != "image/jpeg" {
		t.Fatalf("MMS media through the CDN redirect: %+v %v", b, err)
	}
	if _, err := f.Fetch(ctx, intake.Attachment{URL: api.URL + "/2010-04-01/Accounts/AC0123/Messages/MM1/Media/ME2"}); err != nil {
		t.Fatalf("redirect to the attacker: %v", err)
	}
	if _, err := f.Fetch(ctx, intake.Attachment{URL: attacker.URL + "/2010-04-01/Accounts/AC0123/Recordings/RE1"}); err != nil {
		t.Fatalf("direct attacker URL: %v", err)
	}

	if got := cdn.seen(); len(got) != 1 || got[0] != "" {
		t.Fatalf("the CDN got %q, want one request without credentials", got)
	}
	if got := attacker.seen(); len(got) != 2 || got[0] != "" || got[1] != "" {
		t.Fatalf("the attacker got %q, want two requests without credentials", got)
	}
	for _, a := range api.seen() {
		if !strings.HasPrefix(a, "Basic ") {
			t.Fatalf("Twilio's host got a request without credentials: %q", api.seen())
		}
	}
}

// Off the media hosts nothing is requested at all; by default loopback is refused even for a
// listed host.
func TestMediaURLsOffTheListAreNotFetched(t *testing.T) {
	attacker := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "secret") })
	api := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, attacker.URL+"/internal", http.StatusFound)
	})
	ctx := context.Background()

	// Defaults: api.twilio.com and *.twiliocdn.com only.
	def, err := twilio.MediaFetcher(channels.Config{ID: "sms", AccountSID: "AC0123", AuthToken: testToken}, labPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := def.Fetch(ctx, intake.Attachment{URL: attacker.URL + "/internal"}); !errors.Is(err, safefetch.ErrRefused) {
		t.Fatalf("a MediaUrl off Twilio's hosts: %v", err)
	}

	// Twilio's (fake) host is listed, the attacker is not: its redirect is refused.
	listed, err := twilio.MediaFetcher(channels.Config{ID: "sms", AccountSID: "AC0123", AuthToken: testToken,
		MediaHosts: []string{api.host()}, CredentialHosts: []string{api.host()}}, labPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listed.Fetch(ctx, intake.Attachment{URL: api.URL + "/2010-04-01/Accounts/AC0123/Recordings/RE1"}); !errors.Is(err, safefetch.ErrRefused) {
		t.Fatalf("a redirect off the media hosts: %v", err)
	}
	if got := attacker.seen(); len(got) != 0 {
		t.Fatalf("the attacker was requested %d times", len(got))
	}

	// Without media.allow_private_networks the listed loopback host is refused when connecting.
	strict := labPolicy
	strict.AllowPrivateNetworks = false
	prod, err := twilio.MediaFetcher(channels.Config{ID: "sms", AccountSID: "AC0123", AuthToken: testToken,
		MediaHosts: []string{api.host()}, CredentialHosts: []string{api.host()}}, strict)
	if err != nil {
		t.Fatal(err)
	}
	before := len(api.seen())
	if _, err := prod.Fetch(ctx, intake.Attachment{URL: api.URL + "/2010-04-01/Accounts/AC0123/Recordings/RE1"}); !errors.Is(err, safefetch.ErrRefused) {
		t.Fatalf("loopback with the default policy: %v", err)
	}
	if len(api.seen()) != before {
		t.Fatal("the loopback host was reached")
	}
}

func TestMediaFetcherConfig(t *testing.T) {
	_, err := twilio.MediaFetcher(channels.Config{ID: "sms", AccountSID: "AC1", AuthToken: "t",
		MediaHosts: []string{"*.twiliocdn.com"}}, safefetch.Policy{})
	if err == nil || !strings.Contains(err.Error(), "credential_hosts") {
		t.Fatalf("credentials for a host media_hosts does not allow: %v", err)
	}
	if _, err := twilio.MediaFetcher(channels.Config{ID: "sms", AccountSID: "AC1", AuthToken: "t"}, safefetch.Policy{}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
