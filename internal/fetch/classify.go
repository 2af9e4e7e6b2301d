package fetch

import (
	"net/netip"
)

// Class is what kind of network an IP address belongs to, as far as the
// address guard is concerned: only ClassPublic addresses may be reached by
// requests that content (a feed, a web page, a stranger's WebSub request)
// asked for.
type Class uint8

// The classes of Classify. Every class but ClassPublic names addresses that
// are not reachable on the public internet, or that reach something a
// stranger must not (the machine itself, its LAN, a cloud's metadata
// service).
const (
	ClassInvalid       Class = iota // the zero netip.Addr
	ClassPublic                     // globally routed unicast
	ClassUnspecified                // 0.0.0.0/8, ::: Linux connects 0.0.0.0 to the machine itself
	ClassLoopback                   // 127.0.0.0/8, ::1
	ClassPrivate                    // RFC 1918, fc00::/7 (ULA), fec0::/10 (site-local), 64:ff9b:1::/48 (local NAT64)
	ClassLinkLocal                  // 169.254.0.0/16, fe80::/10
	ClassMetadata                   // cloud instance metadata and host services (169.254.169.254, ...)
	ClassSharedCGNAT                // 100.64.0.0/10 (RFC 6598 carrier-grade NAT)
	ClassMulticast                  // 224.0.0.0/4, ff00::/8
	ClassBroadcast                  // 255.255.255.255
	ClassDocumentation              // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
	ClassReserved                   // anything else not for public unicast: 240/4, 198.18/15, 192.0.0/24, 2001::/23, 100::/64, outside 2000::/3 ...
)

var classNames = [...]string{
	ClassInvalid:       "invalid",
	ClassPublic:        "public",
	ClassUnspecified:   "unspecified",
	ClassLoopback:      "loopback",
	ClassPrivate:       "private",
	ClassLinkLocal:     "link-local",
	ClassMetadata:      "cloud metadata",
	ClassSharedCGNAT:   "carrier-grade NAT",
	ClassMulticast:     "multicast",
	ClassBroadcast:     "broadcast",
	ClassDocumentation: "documentation",
	ClassReserved:      "reserved",
}

// String names the class in words, for errors and logs.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// Public reports whether addresses of the class may be reached by requests
// that content asked for.
func (c Class) Public() bool { return c == ClassPublic }

// metadataAddrs are the well-known addresses of cloud instance metadata and
// host services. Most sit in link-local space and would be refused anyway;
// they get their own class so that an error says what was at stake, and
// because some (Azure's WireServer, Alibaba's, Oracle's) sit in ranges that
// are otherwise public or merely CGNAT.
var metadataAddrs = map[netip.Addr]bool{
	netip.MustParseAddr("169.254.169.254"): true, // AWS, GCP, Azure, DigitalOcean, OpenStack, ... IMDS
	netip.MustParseAddr("169.254.169.253"): true, // AWS VPC DNS
	netip.MustParseAddr("169.254.169.123"): true, // AWS time sync
	netip.MustParseAddr("169.254.170.2"):   true, // AWS ECS task metadata and credentials
	netip.MustParseAddr("169.254.170.23"):  true, // AWS EKS pod identity agent
	netip.MustParseAddr("168.63.129.16"):   true, // Azure WireServer (a public address in form)
	netip.MustParseAddr("100.100.100.200"): true, // Alibaba Cloud metadata (CGNAT space)
	netip.MustParseAddr("192.0.0.192"):     true, // Oracle Cloud metadata
	netip.MustParseAddr("fd00:ec2::254"):   true, // AWS IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::23"):    true, // AWS EKS pod identity agent over IPv6
	netip.MustParseAddr("fd20:ce::254"):    true, // GCP metadata over IPv6
}

// prefixClass is a range and its class; the tables are searched in order,
// so a narrower range must come before a wider one that contains it.
type prefixClass struct {
	prefix netip.Prefix
	class  Class
}

func pc(prefix string, class Class) prefixClass {
	return prefixClass{prefix: netip.MustParsePrefix(prefix), class: class}
}

// v4Classes lists the IPv4 ranges that are not public (IANA's IPv4
// Special-Purpose Address Registry, RFC 6890 and successors).
var v4Classes = []prefixClass{
	pc("255.255.255.255/32", ClassBroadcast),
	pc("0.0.0.0/8", ClassUnspecified),
	pc("127.0.0.0/8", ClassLoopback),
	pc("10.0.0.0/8", ClassPrivate),
	pc("172.16.0.0/12", ClassPrivate),
	pc("192.168.0.0/16", ClassPrivate),
	pc("169.254.0.0/16", ClassLinkLocal),
	pc("100.64.0.0/10", ClassSharedCGNAT),
	pc("224.0.0.0/4", ClassMulticast),
	pc("192.0.2.0/24", ClassDocumentation),
	pc("198.51.100.0/24", ClassDocumentation),
	pc("203.0.113.0/24", ClassDocumentation),
	pc("192.0.0.0/24", ClassReserved),   // IETF protocol assignments
	pc("192.88.99.0/24", ClassReserved), // deprecated 6to4 relay anycast
	pc("198.18.0.0/15", ClassReserved),  // benchmarking
	pc("240.0.0.0/4", ClassReserved),    // future use
}

// v6Classes lists the IPv6 ranges that are not public, for addresses that
// embed no IPv4 address (those are judged by it; see Classify).
var v6Classes = []prefixClass{
	pc("::/128", ClassUnspecified),
	pc("::1/128", ClassLoopback),
	pc("fc00::/7", ClassPrivate),
	pc("fec0::/10", ClassPrivate), // deprecated site-local, still routed inside sites
	pc("64:ff9b:1::/48", ClassPrivate),
	pc("fe80::/10", ClassLinkLocal),
	pc("ff00::/8", ClassMulticast),
	pc("2001:db8::/32", ClassDocumentation),
	pc("3fff::/20", ClassDocumentation),
	pc("2001::/23", ClassReserved), // IETF protocol assignments, Teredo among them
	pc("100::/64", ClassReserved),  // discard-only
}

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052 well-known prefix
	sixToFour   = netip.MustParsePrefix("2002::/16")    // RFC 3056
	globalV6    = netip.MustParsePrefix("2000::/3")     // all global unicast
)

// Classify says which class ip belongs to. It is a pure function of the
// address: no lookup, no I/O. A zone (fe80::1%eth0) is ignored. IPv6
// addresses that carry an IPv4 address the network will deliver to (IPv4-
// mapped ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:aabb:ccdd::) are
// judged by that IPv4 address, so that none of them is a way around the
// IPv4 rules. IPv6 outside 2000::/3 (global unicast) is never public.
func Classify(ip netip.Addr) Class {
	if !ip.IsValid() {
		return ClassInvalid
	}
	ip = ip.WithZone("")
	if metadataAddrs[ip] {
		return ClassMetadata
	}
	if ip.Is4In6() {
		return Classify(ip.Unmap())
	}
	if ip.Is4() {
		return lookupClass(v4Classes, ip)
	}
	if nat64Prefix.Contains(ip) {
		b := ip.As16()
		return Classify(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return Classify(netip.AddrFrom4([4]byte(b[2:6])))
	}
	if c := lookupClass(v6Classes, ip); c != ClassPublic {
		return c
	}
	if !globalV6.Contains(ip) {
		// Unassigned or reserved space, including the deprecated
		// IPv4-compatible ::a.b.c.d form.
		return ClassReserved
	}
	return ClassPublic
}

func lookupClass(table []prefixClass, ip netip.Addr) Class {
	for _, e := range table {
		if e.prefix.Contains(ip) {
			return e.class
		}
	}
	return ClassPublic
}
