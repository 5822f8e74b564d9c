package outbound

import (
	"fmt"
	"net/netip"
)

// RefusedError reports a destination address the Client will not connect
// to. It is permanent: retrying cannot change the answer, only an operator
// can (CERTDESK_OUTBOUND_ALLOW).
type RefusedError struct {
	// Host is the host name or address of the URL.
	Host string
	// Addr is the refused address (the one resolved from Host, or Host
	// itself when it is an address).
	Addr netip.Addr
	// Reason says which kind of address it is, e.g. "loopback".
	Reason string
}

func (e *RefusedError) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("outbound: refused destination %s (%s resolves to it): %s address", e.Addr, e.Host, e.Reason)
	}
	return fmt.Sprintf("outbound: refused destination %s: %s address", e.Addr, e.Reason)
}

// special is one range of addresses refused by default.
type special struct {
	prefix netip.Prefix
	reason string
}

// specialV4 lists IPv4 ranges that are not public unicast destinations
// (RFC 6890 and its updates). Order matters only for the reason reported.
var specialV4 = []special{
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified"},
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
}

// specialV6 lists IPv6 ranges refused by default. Ranges that embed an
// IPv4 address (IPv4-mapped, NAT64, 6to4) are handled by Classify before
// this list is consulted.
var specialV6 = []special{
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible (deprecated)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001::/32"), "Teredo"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("fc00::/7"), "private (unique local)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Classify says why addr is refused by default: it returns a short reason
// such as "loopback" or "private", or "" for a public unicast address.
// IPv4-mapped IPv6 addresses (::ffff:127.0.0.1), NAT64 (64:ff9b::/96) and
// 6to4 (2002::/16) addresses are judged by the IPv4 address they carry.
// An invalid (zero) addr is refused as "invalid".
func Classify(addr netip.Addr) string {
	if !addr.IsValid() {
		return "invalid"
	}
	addr = addr.WithZone("")
	if addr.Is4In6() {
		return Classify(addr.Unmap())
	}
	if addr.Is4() {
		return lookup(specialV4, addr)
	}
	b := addr.As16()
	if nat64.Contains(addr) {
		return embedded(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), "NAT64")
	}
	if sixToFour.Contains(addr) {
		return embedded(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), "6to4")
	}
	return lookup(specialV6, addr)
}

func lookup(list []special, addr netip.Addr) string {
	for _, s := range list {
		if s.prefix.Contains(addr) {
			return s.reason
		}
	}
	return ""
}

// embedded judges an IPv6 address by the IPv4 address inside it.
func embedded(v4 netip.Addr, scheme string) string {
	if r := Classify(v4); r != "" {
		return scheme + " form of a " + r
	}
	return ""
}

// normalisePrefix masks p and turns an IPv4-mapped IPv6 prefix into the
// IPv4 prefix it denotes, so Allow entries match both forms.
func normalisePrefix(p netip.Prefix) netip.Prefix {
	p = p.Masked()
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// permitted returns nil when the client may connect to addr, else a
// *RefusedError naming host.
func (c *Client) permitted(host string, addr netip.Addr) error {
	plain := addr.WithZone("")
	for _, p := range c.allow {
		if p.Contains(plain) || (plain.Is4In6() && p.Contains(plain.Unmap())) {
			return nil
		}
	}
	if r := Classify(plain); r != "" {
		return &RefusedError{Host: host, Addr: plain, Reason: r}
	}
	return nil
}
