// Package safefetch is the network policy for every download whose URL someone outside the
// gateway chose: media links in platform messages, attachment and recording URLs in REST
// submissions, and the URLs those servers redirect to. Without it such a URL could make the
// gateway read its own network (loopback, the cloud metadata service, a database's HTTP port)
// and hand the answer back through /v1/attachments, or carry a platform's credentials to a
// stranger.
//
// The rules, all enforced on every request including each redirect:
//
//   - the host must be on an allow-list (Hosts: exact names, IPs, or *.suffix wildcards);
//   - https only, unless AllowHTTP; never a redirect from https to http; no user:password@ in
//     the URL; at most MaxRedirects redirects;
//   - the connection goes only to public addresses: the check runs on the address actually
//     dialled (net.Dialer.ControlContext) after resolution, so a name that resolves to
//     127.0.0.1 — or starts doing so between two lookups (DNS rebinding) — is refused. Only
//     AllowPrivateNetworks, meant for tests and labs whose fake platforms listen on loopback,
//     lifts this;
//   - Authorization and Cookie headers are dropped on a redirect to any other host (or port):
//     credentials belong to the host they were meant for;
//   - the whole fetch, redirects and body included, ends after Timeout.
//
// Environment proxies (HTTP_PROXY…) are not used: the check must see the media server's
// address, not the proxy's.
package safefetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrRefused marks a request the policy does not allow. Retrying cannot help: the URL, the
// redirect or the address it resolves to stays what it is until the configuration changes.
var ErrRefused = errors.New("refused by the media fetch policy")

// RefusedError says which rule refused a request. Its text names the URL's scheme and host but
// never its path or query, which may carry tokens or personal data.
type RefusedError struct {
	Target string // scheme://host[:port]
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrRefused.Error(), e.Target, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

func refused(u *url.URL, format string, args ...any) error {
	target := "?"
	if u != nil {
		target = u.Scheme + "://" + u.Host
	}
	return &RefusedError{Target: target, Reason: fmt.Sprintf(format, args...)}
}

// Resolver looks up a host's addresses; *net.Resolver satisfies it. Tests pass their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Defaults for a Policy's zero fields.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultMaxRedirects = 3
	dialTimeout         = 10 * time.Second
	responseTimeout     = 30 * time.Second
)

// Policy is where fetches may go and how. Hosts is required; the zero values of the rest are
// the strict defaults (https only, public addresses only, DefaultMaxRedirects, DefaultTimeout).
type Policy struct {
	// Hosts may be requested, first or after a redirect.
	Hosts Hosts
	// AllowHTTP also allows plain http (a redirect from https to http stays refused).
	AllowHTTP bool
	// AllowPrivateNetworks lifts the public-address check: for tests and labs only.
	AllowPrivateNetworks bool
	// MaxRedirects bounds the redirects one fetch follows; negative: none.
	MaxRedirects int
	// Timeout bounds the whole fetch, redirects and reading the body included.
	Timeout time.Duration
	// Resolver looks up host names (default net.DefaultResolver).
	Resolver Resolver
	// TLS configures the TLS client (nil: the system's roots), e.g. a lab's own CA.
	TLS *tls.Config
	// Wrap, when set, wraps the checking transport (tracing). It sees each request after the
	// policy has allowed it, and cannot bypass the address check made when connecting.
	Wrap func(http.RoundTripper) http.RoundTripper
}

// WithHosts is a copy of p that allows hosts.
func (p Policy) WithHosts(hosts Hosts) Policy {
	p.Hosts = hosts
	return p
}

// CheckURL reports whether u may be requested, without any network traffic: an absolute
// http(s) URL (https unless AllowHTTP), without user information, whose host is on the list.
// The address check happens later, when connecting.
func (p Policy) CheckURL(u *url.URL) error {
	if u == nil {
		return refused(nil, "no URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return refused(u, "plain http is not allowed (media.allow_http)")
		}
	default:
		return refused(u, "scheme %q is not http(s)", u.Scheme)
	}
	if u.Host == "" || u.Opaque != "" {
		return refused(u, "not an absolute URL")
	}
	if u.User != nil {
		return refused(u, "user information in the URL")
	}
	if !p.Hosts.Allows(u) {
		return refused(u, "host is not on the allow-list")
	}
	return nil
}

// CheckAddr reports whether a connection to ip may be made.
func (p Policy) CheckAddr(ip netip.Addr) error {
	if p.AllowPrivateNetworks || IsPublic(ip) {
		return nil
	}
	return &RefusedError{Target: ip.String(), Reason: "not a public address (media.allow_private_networks)"}
}

// Client is an HTTP client that enforces p on every request and redirect. The caller adds
// credentials to the first request only where a Credentials list allows it.
func (p Policy) Client() *http.Client {
	maxRedirects := p.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = DefaultMaxRedirects
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var rt http.RoundTripper = &transport{policy: p, next: p.transport()}
	if p.Wrap != nil {
		rt = p.Wrap(rt)
	}
	return &http.Client{
		Transport: rt,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects || maxRedirects < 0 {
				return refused(req.URL, "more than %d redirects", max(maxRedirects, 0))
			}
			prev := via[len(via)-1]
			if strings.EqualFold(prev.URL.Scheme, "https") && !strings.EqualFold(req.URL.Scheme, "https") {
				return refused(req.URL, "redirect from https to %s", req.URL.Scheme)
			}
			if err := p.CheckURL(req.URL); err != nil {
				return err
			}
			if !sameOrigin(via[0].URL, req.URL) {
				// net/http keeps these for a subdomain of the first host or another port of
				// it; a secret for api.twilio.com is no business of anything else.
				for _, h := range []string{"Authorization", "Cookie", "Cookie2", "Proxy-Authorization"} {
					req.Header.Del(h)
				}
			}
			return nil
		},
	}
}

// sameOrigin compares scheme, host and port (the scheme's default port when none is written).
func sameOrigin(a, b *url.URL) bool {
	pa, pb := a.Port(), b.Port()
	if pa == "" {
		pa = defaultPort(a.Scheme)
	}
	if pb == "" {
		pb = defaultPort(b.Scheme)
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && normalizeName(a.Hostname()) == normalizeName(b.Hostname()) && pa == pb
}

// transport checks every request's URL before it leaves, so the policy holds whatever client
// (and CheckRedirect) a caller wraps around it.
type transport struct {
	policy Policy
	next   http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.policy.CheckURL(req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return t.next.RoundTrip(req)
}

func (p Policy) transport() *http.Transport {
	d := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		// The last word: whatever resolved the name, the socket is checked before it connects.
		ControlContext: func(_ context.Context, _, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &RefusedError{Target: address, Reason: "not an IP address and port"}
			}
			return p.CheckAddr(ap.Addr())
		},
	}
	resolver := p.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("dial %s: %w", addr, err)
			}
			var ips []netip.Addr
			if ip, err := netip.ParseAddr(host); err == nil {
				ips = []netip.Addr{ip}
			} else if ips, err = resolver.LookupNetIP(ctx, "ip", host); err != nil {
				return nil, fmt.Errorf("resolve %s: %w", host, err)
			}
			var firstErr error
			for _, ip := range ips {
				if err := p.CheckAddr(ip); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				conn, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
				if err == nil {
					return conn, nil
				}
				if firstErr == nil || errors.Is(firstErr, ErrRefused) {
					firstErr = err
				}
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("resolve %s: no addresses", host)
			}
			return nil, firstErr
		},
		TLSClientConfig:       p.TLS,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: responseTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          20,
		IdleConnTimeout:       90 * time.Second,
	}
}

// Credentials are attached to a request only when its URL's host is on Hosts, which names
// hosts one by one (IsExactHost). The policy's client drops them on a redirect to another host.
type Credentials struct {
	Hosts Hosts
	Apply func(*http.Request)
}

// Attach applies the credentials to req when its host may have them and reports whether it did.
func (c Credentials) Attach(req *http.Request) bool {
	if c.Apply == nil || !c.Hosts.Allows(req.URL) {
		return false
	}
	c.Apply(req)
	return true
}
