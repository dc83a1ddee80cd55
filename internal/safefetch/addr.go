package safefetch

import "net/netip"

// nonPublic lists the special-purpose ranges (IANA IPv4 and IPv6 special-purpose address
// registries) that netip's predicates do not already cover and that no platform's media
// server lives in. Anything here could reach the gateway's own network, a carrier's, or a
// range whose meaning depends on local routing.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo among them)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds an IPv4 address of any kind
	netip.MustParsePrefix("3fff::/20"),       // documentation
}

// globalUnicastV6 is where the IPv6 global unicast space is allocated; everything outside it
// (IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, discard-only 100::/64, ULA, link-local,
// site-local, multicast) is not a public host.
var globalUnicastV6 = netip.MustParsePrefix("2000::/3")

// IsPublic reports whether a fetch may connect to ip: a global unicast address outside every
// private, shared, loopback, link-local, multicast, documentation and otherwise reserved range.
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries.
func IsPublic(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsGlobalUnicast() {
		return false
	}
	if ip.Is6() && !globalUnicastV6.Contains(ip) {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
