package safefetch

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Hosts is an allow-list of hosts. Each entry is one of:
//
//	api.twilio.com          that host, on any port
//	api.twilio.com:443      that host, on that port only
//	*.twiliocdn.com         any host below twiliocdn.com (mms.twiliocdn.com, a.b.twiliocdn.com),
//	                        not twiliocdn.com itself; on any port (or the port given)
//	203.0.113.7, [2001:db8::1]:8443
//	                        an IP address (IPv6 in brackets when a port follows)
//
// Names compare case-insensitively and without a trailing dot. The zero Hosts allows nothing.
type Hosts struct {
	entries []hostEntry
}

type hostEntry struct {
	host     string // lower case; for a wildcard the suffix with its leading dot (".twiliocdn.com")
	wildcard bool
	port     string // "" for any port
}

// ParseHosts reads an allow-list; every entry must pass CheckHostPattern.
func ParseHosts(patterns []string) (Hosts, error) {
	var h Hosts
	for _, p := range patterns {
		e, err := parseEntry(p)
		if err != nil {
			return Hosts{}, err
		}
		h.entries = append(h.entries, e)
	}
	return h, nil
}

// MustHosts is ParseHosts for lists fixed in the code (a platform's defaults); it panics on a
// bad entry, which is a programming error.
func MustHosts(patterns ...string) Hosts {
	h, err := ParseHosts(patterns)
	if err != nil {
		panic(err)
	}
	return h
}

// CheckHostPattern reports whether p is a valid allow-list entry (see Hosts).
func CheckHostPattern(p string) error {
	_, err := parseEntry(p)
	return err
}

// IsExactHost reports whether p is a valid entry that names one host (no wildcard): the form
// credential lists must have, so that a secret goes to hosts named one by one.
func IsExactHost(p string) bool {
	e, err := parseEntry(p)
	return err == nil && !e.wildcard
}

// Empty reports whether the list allows nothing.
func (h Hosts) Empty() bool { return len(h.entries) == 0 }

// Union is a list allowing what h or other allows.
func (h Hosts) Union(other Hosts) Hosts {
	out := Hosts{entries: make([]hostEntry, 0, len(h.entries)+len(other.entries))}
	out.entries = append(append(out.entries, h.entries...), other.entries...)
	return out
}

// Allows reports whether u's host (and port) is on the list. The scheme's default port counts
// as the port of a URL that names none.
func (h Hosts) Allows(u *url.URL) bool {
	if u == nil {
		return false
	}
	host := normalizeName(u.Hostname())
	if host == "" {
		return false
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	for _, e := range h.entries {
		if e.port != "" && e.port != port {
			continue
		}
		if e.wildcard {
			if strings.HasSuffix(host, e.host) && len(host) > len(e.host) {
				return true
			}
			continue
		}
		if host == e.host {
			return true
		}
	}
	return false
}

// Contains reports whether every host other names exactly (no wildcard) is allowed by h; a
// wildcard entry of other is contained only if h has the same wildcard.
func (h Hosts) Contains(other Hosts) bool {
	for _, o := range other.entries {
		found := false
		for _, e := range h.entries {
			if (e.port == "" || e.port == o.port) && e.wildcard == o.wildcard && e.host == o.host {
				found = true
				break
			}
			if !o.wildcard && e.wildcard && (e.port == "" || e.port == o.port) &&
				strings.HasSuffix(o.host, e.host) && len(o.host) > len(e.host) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// String lists the entries as they were written (normalized).
func (h Hosts) String() string {
	parts := make([]string, len(h.entries))
	for i, e := range h.entries {
		s := e.host
		if e.wildcard {
			s = "*" + s
		}
		if strings.Contains(s, ":") {
			s = "[" + s + "]"
		}
		if e.port != "" {
			s += ":" + e.port
		}
		parts[i] = s
	}
	return strings.Join(parts, ", ")
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

func normalizeName(h string) string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	return h
}

func parseEntry(p string) (hostEntry, error) {
	raw := p
	p = strings.TrimSpace(p)
	if p == "" {
		return hostEntry{}, fmt.Errorf("host pattern %q: empty", raw)
	}
	if strings.Contains(p, "/") || strings.Contains(p, "@") {
		return hostEntry{}, fmt.Errorf("host pattern %q: a host name, not a URL", raw)
	}
	host, port := p, ""
	if h, pt, err := net.SplitHostPort(p); err == nil {
		host, port = h, pt
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return hostEntry{}, fmt.Errorf("host pattern %q: port must be 1..65535", raw)
		}
	} else if strings.HasPrefix(p, "[") && strings.HasSuffix(p, "]") {
		host = p[1 : len(p)-1]
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return hostEntry{}, fmt.Errorf("host pattern %q: an address with a zone", raw)
		}
		return hostEntry{host: a.Unmap().String(), port: port}, nil
	}
	e := hostEntry{port: port}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		e.wildcard = true
		name = rest
		// "*.com" would hand a whole top-level domain to strangers.
		if !strings.Contains(name, ".") {
			return hostEntry{}, fmt.Errorf("host pattern %q: a wildcard needs at least two labels after \"*.\"", raw)
		}
	}
	if !validName(name) {
		return hostEntry{}, fmt.Errorf("host pattern %q: not a host name (letters, digits, '-' and '.'; a wildcard only as a leading \"*.\")", raw)
	}
	if e.wildcard {
		e.host = "." + name
	} else {
		e.host = name
	}
	return e, nil
}

// validName accepts DNS names written in ASCII (IDNs in their xn-- form).
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// HostOf is the allow-list entry for rawURL's host: the host with the port the URL names, or
// any port when it names none.
func HostOf(rawURL string) (Hosts, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return Hosts{}, fmt.Errorf("%q is not an absolute URL", rawURL)
	}
	return ParseHosts([]string{u.Host})
}
