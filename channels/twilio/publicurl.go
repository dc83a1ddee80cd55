package twilio

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// urlResolver rebuilds the URL Twilio called, which is what Twilio signed. In order of
// precedence:
//
//  1. the configured public base URL (per channel, else server.public_base_url) followed by the
//     request target as received (path and query), so a proxy in front changes nothing;
//  2. X-Forwarded-Proto / X-Forwarded-Host (and X-Forwarded-Port) — only when the TCP peer is
//     one of server.trusted_proxies, never from anyone else, since anyone can send headers;
//  3. the request itself: https when it arrived over TLS, else http, and its Host header.
type urlResolver struct {
	// base is scheme://host[:port][/prefix] without a trailing slash; empty when not configured.
	baseScheme, baseHost, basePrefix string
	trusted                          []netip.Prefix
}

func newURLResolver(publicBaseURL string, trustedProxies []string) (urlResolver, error) {
	var r urlResolver
	if publicBaseURL != "" {
		u, err := url.Parse(publicBaseURL)
		if err != nil {
			return r, fmt.Errorf("public_base_url: %w", err)
		}
		if u.Scheme != "https" && u.Scheme != "http" {
			return r, fmt.Errorf("public_base_url %q: scheme must be https or http", publicBaseURL)
		}
		if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return r, fmt.Errorf("public_base_url %q: want scheme://host[:port][/path] without user, query or fragment", publicBaseURL)
		}
		r.baseScheme, r.baseHost = u.Scheme, u.Host
		r.basePrefix = strings.TrimRight(u.EscapedPath(), "/")
	}
	for _, cidr := range trustedProxies {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			a, aerr := netip.ParseAddr(cidr)
			if aerr != nil {
				return r, fmt.Errorf("trusted_proxies: %q is neither a CIDR nor an address", cidr)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// resolve returns the URL Twilio called for req.
func (r urlResolver) resolve(req *http.Request) target {
	uri := req.RequestURI
	if uri == "" || !strings.HasPrefix(uri, "/") {
		// Handlers called directly (tests) or absolute-form targets: fall back to the parsed URL.
		uri = req.URL.RequestURI()
	}
	if r.baseHost != "" {
		return target{scheme: r.baseScheme, host: r.baseHost, uri: r.basePrefix + uri}
	}
	scheme, host := "http", req.Host
	if req.TLS != nil {
		scheme = "https"
	}
	if r.fromTrustedProxy(req.RemoteAddr) {
		if p := firstValue(req.Header.Get("X-Forwarded-Proto")); p != "" {
			if p = strings.ToLower(p); p == "https" || p == "http" {
				scheme = p
			}
		}
		if h := firstValue(req.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
		if port := firstValue(req.Header.Get("X-Forwarded-Port")); port != "" && validPort(port) {
			if hostname, p := splitHostPort(host); p == "" && port != defaultPort(scheme) {
				host = bracketIPv6(hostname) + ":" + port
			}
		}
	}
	return target{scheme: scheme, host: host, uri: uri}
}

func (r urlResolver) fromTrustedProxy(remoteAddr string) bool {
	if len(r.trusted) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	var addr netip.Addr
	if err == nil {
		addr = ap.Addr()
	} else if addr, err = netip.ParseAddr(remoteAddr); err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range r.trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// firstValue is the first entry of a comma-separated forwarding header: the value the proxy
// closest to Twilio saw.
func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}

// validHost accepts host, host:port, [v6] and [v6]:port made of URL-safe host characters.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if len(p) == 0 || len(p) > 5 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
