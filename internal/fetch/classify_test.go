package fetch

import (
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want Class
	}{
		// Public IPv4, including neighbours of every special range.
		{"8.8.8.8", ClassPublic},
		{"1.1.1.1", ClassPublic},
		{"93.184.216.34", ClassPublic},
		{"1.0.0.0", ClassPublic},
		{"9.255.255.255", ClassPublic},
		{"11.0.0.0", ClassPublic},
		{"126.255.255.255", ClassPublic},
		{"128.0.0.0", ClassPublic},
		{"100.63.255.255", ClassPublic},
		{"100.128.0.0", ClassPublic},
		{"169.253.255.255", ClassPublic},
		{"169.255.0.0", ClassPublic},
		{"172.15.255.255", ClassPublic},
		{"172.32.0.0", ClassPublic},
		{"192.0.1.255", ClassPublic},
		{"192.0.3.0", ClassPublic},
		{"192.167.255.255", ClassPublic},
		{"192.169.0.0", ClassPublic},
		{"198.17.255.255", ClassPublic},
		{"198.20.0.0", ClassPublic},
		{"223.255.255.255", ClassPublic},
		{"168.63.129.15", ClassPublic},

		// Unspecified and "this network": Linux connects 0.x to itself.
		{"0.0.0.0", ClassUnspecified},
		{"0.1.2.3", ClassUnspecified},
		{"0.255.255.255", ClassUnspecified},
		{"::", ClassUnspecified},

		// Loopback.
		{"127.0.0.1", ClassLoopback},
		{"127.0.0.2", ClassLoopback},
		{"127.255.255.255", ClassLoopback},
		{"::1", ClassLoopback},

		// Private.
		{"10.0.0.0", ClassPrivate},
		{"10.255.255.255", ClassPrivate},
		{"172.16.0.1", ClassPrivate},
		{"172.31.255.255", ClassPrivate},
		{"192.168.0.1", ClassPrivate},
		{"192.168.255.255", ClassPrivate},
		{"fc00::1", ClassPrivate},
		{"fd12:3456:789a::1", ClassPrivate},
		{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ClassPrivate},
		{"fec0::1", ClassPrivate},
		{"64:ff9b:1::a00:1", ClassPrivate},

		// Link-local.
		{"169.254.0.1", ClassLinkLocal},
		{"169.254.255.255", ClassLinkLocal},
		{"fe80::1", ClassLinkLocal},
		{"fe80::1%eth0", ClassLinkLocal},
		{"febf:ffff::1", ClassLinkLocal},

		// Cloud metadata and host services.
		{"169.254.169.254", ClassMetadata},
		{"169.254.170.2", ClassMetadata},
		{"169.254.169.253", ClassMetadata},
		{"168.63.129.16", ClassMetadata},
		{"100.100.100.200", ClassMetadata},
		{"192.0.0.192", ClassMetadata},
		{"fd00:ec2::254", ClassMetadata},
		{"fd20:ce::254", ClassMetadata},
		{"::ffff:169.254.169.254", ClassMetadata},
		{"64:ff9b::a9fe:a9fe", ClassMetadata}, // NAT64 of 169.254.169.254

		// Carrier-grade NAT.
		{"100.64.0.0", ClassSharedCGNAT},
		{"100.127.255.255", ClassSharedCGNAT},
		{"100.100.100.201", ClassSharedCGNAT},

		// Multicast and broadcast.
		{"224.0.0.1", ClassMulticast},
		{"239.255.255.250", ClassMulticast},
		{"ff02::1", ClassMulticast},
		{"ff05::1:3", ClassMulticast},
		{"255.255.255.255", ClassBroadcast},

		// Documentation.
		{"192.0.2.1", ClassDocumentation},
		{"198.51.100.7", ClassDocumentation},
		{"203.0.113.255", ClassDocumentation},
		{"2001:db8::1", ClassDocumentation},
		{"3fff::1", ClassDocumentation},

		// Reserved.
		{"240.0.0.1", ClassReserved},
		{"255.255.255.254", ClassReserved},
		{"198.18.0.1", ClassReserved},
		{"198.19.255.255", ClassReserved},
		{"192.0.0.1", ClassReserved},
		{"192.88.99.1", ClassReserved},
		{"2001::1", ClassReserved},    // Teredo
		{"2001:10::1", ClassReserved}, // ORCHID
		{"100::1", ClassReserved},     // discard-only
		{"::7f00:1", ClassReserved},   // IPv4-compatible, deprecated
		{"4000::1", ClassReserved},    // outside 2000::/3
		{"1::1", ClassReserved},

		// IPv4-mapped IPv6 is judged as IPv4.
		{"::ffff:127.0.0.1", ClassLoopback},
		{"::ffff:7f00:2", ClassLoopback},
		{"::ffff:10.1.2.3", ClassPrivate},
		{"::ffff:0.0.0.0", ClassUnspecified},
		{"::ffff:8.8.8.8", ClassPublic},

		// NAT64 (well-known prefix) is judged by its IPv4 address.
		{"64:ff9b::7f00:1", ClassLoopback},
		{"64:ff9b::10.0.0.1", ClassPrivate},
		{"64:ff9b::8.8.8.8", ClassPublic},

		// 6to4 is judged by its IPv4 address.
		{"2002:7f00:1::1", ClassLoopback},
		{"2002:c0a8:101::1", ClassPrivate},
		{"2002:a9fe:a9fe::", ClassMetadata},
		{"2002:808:808::1", ClassPublic},

		// Public IPv6.
		{"2606:4700:4700::1111", ClassPublic},
		{"2a00:1450:4001:82b::200e", ClassPublic},
		{"2001:4860:4860::8888", ClassPublic},
		{"2001:200::1", ClassPublic}, // just past 2001::/23
		{"3ffe::1", ClassPublic},
		{"3fff:1000::1", ClassPublic}, // just past 3fff::/20
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			got := Classify(ip)
			if got != tt.want {
				t.Errorf("Classify(%s) = %s, want %s", tt.addr, got, tt.want)
			}
			if got.Public() != (tt.want == ClassPublic) {
				t.Errorf("Classify(%s).Public() = %v", tt.addr, got.Public())
			}
		})
	}
}

func TestClassifyInvalid(t *testing.T) {
	if got := Classify(netip.Addr{}); got != ClassInvalid || got.Public() {
		t.Errorf("Classify(zero Addr) = %s (public %v), want invalid", got, got.Public())
	}
}

func TestClassString(t *testing.T) {
	tests := []struct {
		class Class
		want  string
	}{
		{ClassPublic, "public"},
		{ClassLoopback, "loopback"},
		{ClassMetadata, "cloud metadata"},
		{ClassSharedCGNAT, "carrier-grade NAT"},
		{ClassReserved, "reserved"},
		{Class(200), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.class.String(); got != tt.want {
			t.Errorf("Class(%d).String() = %q, want %q", tt.class, got, tt.want)
		}
	}
	// Every defined class has a name.
	for c := ClassInvalid; c <= ClassReserved; c++ {
		if c.String() == "" || c.String() == "unknown" {
			t.Errorf("Class(%d) has no name", c)
		}
	}
}
