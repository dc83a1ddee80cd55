package safefetch

import (
	"net/netip"
	"testing"
)

func TestIsPublic(t *testing.T) {
	for _, tc := range []struct {
		ip     string
		public bool
	}{
		// Public hosts.
		{"1.1.1.1", true},
		{"8.8.8.8", true},
		{"101.226.0.1", true},
		{"2606:4700:4700::1111", true},
		{"2400:da00::6666", true},
		{"::ffff:8.8.8.8", true},

		// Unspecified.
		{"0.0.0.0", false},
		{"::", false},
		{"0.1.2.3", false},
		// Loopback, also written as IPv4-mapped IPv6 or IPv4-compatible IPv6.
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"::1", false},
		{"::ffff:127.0.0.1", false},
		{"::127.0.0.1", false},
		// RFC 1918 and ULA.
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"::ffff:10.1.2.3", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		// Link-local, the cloud metadata service among them.
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"febf::1", false},
		// Carrier-grade NAT (100.64/10), and its neighbours outside it.
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"100.63.255.255", true},
		{"100.128.0.1", true},
		// Multicast and broadcast.
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"255.255.255.255", false},
		{"ff02::1", false},
		{"ff0e::1", false},
		// Documentation, benchmarking, reserved, protocol assignments.
		{"192.0.2.1", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"198.18.0.1", false},
		{"192.0.0.8", false},
		{"240.0.0.1", false},
		{"2001:db8::1", false},
		{"3fff::1", false},
		// IPv6 forms that carry an IPv4 address of any kind.
		{"64:ff9b::7f00:1", false},     // NAT64 of 127.0.0.1
		{"2002:7f00:1::1", false},      // 6to4 of 127.0.0.1
		{"2001:0:4136:e378::1", false}, // Teredo
		// Deprecated site-local.
		{"fec0::1", false},
		// Discard-only.
		{"100::1", false},
	} {
		ip := netip.MustParseAddr(tc.ip)
		if got := IsPublic(ip); got != tc.public {
			t.Errorf("IsPublic(%s) = %v, want %v", tc.ip, got, tc.public)
		}
	}
	if IsPublic(netip.Addr{}) {
		t.Error("the zero address is public")
	}
	if IsPublic(netip.MustParseAddr("fe80::1%eth0")) {
		t.Error("a zoned address is public")
	}
}

func TestCheckAddrHonoursAllowPrivateNetworks(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	if err := (Policy{}).CheckAddr(lo); err == nil {
		t.Fatal("loopback allowed by default")
	}
	if err := (Policy{AllowPrivateNetworks: true}).CheckAddr(lo); err != nil {
		t.Fatalf("loopback refused with allow_private_networks: %v", err)
	}
}
