package safefetch

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeResolver answers from a fixed table, standing in for DNS (including a DNS server that
// points a platform-looking name at loopback).
type fakeResolver map[string][]netip.Addr

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// server is an httptest server that counts requests and remembers their Authorization headers.
type server struct {
	*httptest.Server
	hits  atomic.Int32
	mu    sync.Mutex
	auths []string
}

func newServer(t *testing.T, tlsServer bool, h http.HandlerFunc) *server {
	s := &server{}
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.auths = append(s.auths, r.Header.Get("Authorization")+"|"+r.Header.Get("Cookie"))
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		_, _ = io.WriteString(w, "media")
	})
	if tlsServer {
		s.Server = httptest.NewTLSServer(wrapped)
	} else {
		s.Server = httptest.NewServer(wrapped)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *server) hostPort() string {
	return strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
}

func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.hostPort())
	return p
}

func get(t *testing.T, hc *http.Client, raw string, creds *Credentials) (string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if creds != nil {
		creds.Attach(req)
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}

func TestCheckURL(t *testing.T) {
	p := Policy{Hosts: MustHosts("media.platform.example", "*.cdn.example")}
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://media.platform.example/a.jpg", true},
		{"https://x.cdn.example/a.jpg", true},
		{"HTTPS://MEDIA.PLATFORM.EXAMPLE/a.jpg", true},
		{"http://media.platform.example/a.jpg", false}, // https only by default
		{"https://user:pw@media.platform.example/a.jpg", false},
		{"https://other.example/a.jpg", false},
		{"file:///etc/passwd", false},
		{"gopher://media.platform.example:70/_x", false},
		{"ftp://media.platform.example/a.jpg", false},
		{"data:text/plain,hello", false},
		{"javascript:alert(1)", false},
		{"//media.platform.example/a.jpg", false},
		{"/v1/attachments/x", false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = p.CheckURL(u)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%s) = %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("CheckURL(%s): %v is not ErrRefused", tc.url, err)
		}
		if err != nil && strings.Contains(err.Error(), "passwd") {
			t.Errorf("the error shows the URL's path: %v", err)
		}
	}
	u, _ := url.Parse("http://media.platform.example/a.jpg")
	if err := (Policy{Hosts: p.Hosts, AllowHTTP: true}).CheckURL(u); err != nil {
		t.Errorf("http with allow_http: %v", err)
	}
}

// A name on the allow-list that resolves to loopback is refused when connecting, by default:
// the allow-list says which names, the address check says where they may lead.
func TestLoopbackBehindAnAllowedNameIsRefusedAtDialTime(t *testing.T) {
	target := newServer(t, false, nil)
	lo := netip.MustParseAddr("127.0.0.1")
	resolver := fakeResolver{
		"media.platform.example": {lo},
		"rebound.example":        {netip.MustParseAddr("::ffff:127.0.0.1"), netip.MustParseAddr("::1")},
		"meta.example":           {netip.MustParseAddr("169.254.169.254")},
	}
	strict := Policy{Hosts: MustHosts("media.platform.example", "rebound.example", "meta.example", "127.0.0.1"), AllowHTTP: true, Resolver: resolver}
	for _, raw := range []string{
		"http://media.platform.example:" + target.port() + "/secret",
		"http://rebound.example:" + target.port() + "/secret",
		"http://127.0.0.1:" + target.port() + "/secret",
		"http://[::ffff:127.0.0.1]:" + target.port() + "/secret",
		"http://meta.example/latest/meta-data/",
	} {
		_, err := get(t, strict.Client(), raw, nil)
		var re *RefusedError
		if !errors.Is(err, ErrRefused) || !errors.As(err, &re) || !strings.Contains(re.Reason, "not a public address") {
			t.Errorf("%s: %v, want a refusal for the address", raw, err)
		}
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("the loopback server was reached %d times", n)
	}

	// The lab switch lets the same name reach the fake platform.
	lab := strict
	lab.AllowPrivateNetworks = true
	body, err := get(t, lab.Client(), "http://media.platform.example:"+target.port()+"/secret", nil)
	if err != nil || body != "media" || target.hits.Load() != 1 {
		t.Fatalf("with allow_private_networks: %q %v (hits %d)", body, err, target.hits.Load())
	}
}

func TestUnknownNameAndOffListHostAreNotRequested(t *testing.T) {
	target := newServer(t, false, nil)
	p := Policy{Hosts: MustHosts("media.platform.example"), AllowHTTP: true, AllowPrivateNetworks: true, Resolver: fakeResolver{}}
	if _, err := get(t, p.Client(), target.URL+"/x", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("off-list host: %v", err)
	}
	if _, err := get(t, p.Client(), "http://media.platform.example/x", nil); err == nil || errors.Is(err, ErrRefused) {
		t.Fatalf("unresolvable name: %v (a lookup failure is not a policy refusal)", err)
	}
	if target.hits.Load() != 0 {
		t.Fatal("an off-list host was requested")
	}
}

func TestRedirects(t *testing.T) {
	offList := newServer(t, false, nil)
	onList := newServer(t, false, nil)
	var hops atomic.Int32
	platform := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-off-list":
			http.Redirect(w, r, offList.URL+"/stolen", http.StatusFound)
		case "/to-on-list":
			http.Redirect(w, r, onList.URL+"/cdn", http.StatusTemporaryRedirect)
		case "/loop":
			hops.Add(1)
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/twice":
			http.Redirect(w, r, "/once", http.StatusFound)
		case "/once":
			http.Redirect(w, r, "/final", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "media")
		}
	})
	// All three listen on 127.0.0.1; ports tell them apart.
	p := Policy{Hosts: MustHosts(platform.hostPort(), onList.hostPort()), AllowHTTP: true, AllowPrivateNetworks: true, MaxRedirects: 2}
	hc := p.Client()

	if _, err := get(t, hc, platform.URL+"/to-off-list", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("redirect off the list: %v", err)
	}
	if offList.hits.Load() != 0 {
		t.Fatal("the redirect target off the list was requested")
	}
	if body, err := get(t, hc, platform.URL+"/to-on-list", nil); err != nil || body != "media" {
		t.Fatalf("redirect on the list: %q %v", body, err)
	}
	if body, err := get(t, hc, platform.URL+"/twice", nil); err != nil || body != "media" {
		t.Fatalf("two redirects with max_redirects 2: %q %v", body, err)
	}
	if _, err := get(t, hc, platform.URL+"/loop", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("redirect loop: %v", err)
	}
	if n := hops.Load(); n != 3 {
		t.Fatalf("a redirect loop made %d requests, want 3 (the first and two redirects)", n)
	}
	none := p
	none.MaxRedirects = -1
	if _, err := get(t, none.Client(), platform.URL+"/to-on-list", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("max_redirects < 0 followed a redirect: %v", err)
	}
}

func TestNoDowngradeFromHTTPSToHTTP(t *testing.T) {
	plain := newServer(t, false, nil)
	secure := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/media", http.StatusFound)
	})
	tlsConf := secure.Client().Transport.(*http.Transport).TLSClientConfig
	p := Policy{Hosts: MustHosts(secure.hostPort(), plain.hostPort()), AllowHTTP: true, AllowPrivateNetworks: true, TLS: tlsConf}
	_, err := get(t, p.Client(), secure.URL+"/x", nil)
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(re.Reason, "https to http") {
		t.Fatalf("https → http redirect: %v", err)
	}
	if secure.hits.Load() != 1 || plain.hits.Load() != 0 {
		t.Fatalf("hits: https %d, http %d", secure.hits.Load(), plain.hits.Load())
	}
}

func TestCredentialsStayWithTheirHost(t *testing.T) {
	attacker := newServer(t, false, nil)
	platform := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, attacker.URL+"/collect", http.StatusFound)
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		default:
			_, _ = io.WriteString(w, "media")
		}
	})
	// The attacker's host is allowed for fetching (a CDN, say) but not for credentials. Both
	// are 127.0.0.1: net/http itself would keep the credentials for another port of the same
	// host, which is exactly what must not happen.
	p := Policy{Hosts: MustHosts(platform.hostPort(), attacker.hostPort()), AllowHTTP: true, AllowPrivateNetworks: true}
	creds := &Credentials{Hosts: MustHosts(platform.hostPort()), Apply: func(r *http.Request) {
		r.SetBasicAuth("AC123", "auth-token")
		r.Header.Set("Cookie", "session=1")
	}}
	hc := p.Client()
	if _, err := get(t, hc, platform.URL+"/away", creds); err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, hc, attacker.URL+"/direct", creds); err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, hc, platform.URL+"/same", creds); err != nil {
		t.Fatal(err)
	}
	attacker.mu.Lock()
	defer attacker.mu.Unlock()
	if len(attacker.auths) != 2 {
		t.Fatalf("attacker saw %d requests, want 2", len(attacker.auths))
	}
	for _, a := range attacker.auths {
		if a != "|" {
			t.Fatalf("attacker received credentials: %q", a)
		}
	}
	platform.mu.Lock()
	defer platform.mu.Unlock()
	for _, a := range platform.auths {
		if !strings.HasPrefix(a, "Basic ") {
			t.Fatalf("the platform got a request without its credentials: %q", platform.auths)
		}
	}
	if len(platform.auths) != 3 { // /away, /same and /final
		t.Fatalf("platform saw %d requests", len(platform.auths))
	}
}

func TestClientTimeout(t *testing.T) {
	if got := (Policy{}).Client().Timeout; got != DefaultTimeout {
		t.Fatalf("default timeout %s", got)
	}
	if got := (Policy{Timeout: 5 * time.Second}).Client().Timeout; got != 5*time.Second {
		t.Fatalf("timeout %s", got)
	}
	// The bound covers reading the body: a server that never finishes is cut off.
	release := make(chan struct{})
	defer close(release)
	slow := newServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-release
	})
	p := Policy{Hosts: MustHosts(slow.hostPort()), AllowHTTP: true, AllowPrivateNetworks: true, Timeout: 200 * time.Millisecond}
	_, err := get(t, p.Client(), slow.URL, nil)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("slow body: %v, want a timeout", err)
	}
}
