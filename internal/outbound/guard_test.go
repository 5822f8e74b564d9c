package outbound

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, reason string }{
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"169.254.169.254", "link-local"},
		{"169.254.0.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"febf:ffff::1", "link-local"},
		{"10.0.0.1", "private"},
		{"10.255.255.255", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private (unique local)"},
		{"fd12:3456::1", "private (unique local)"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "this-network"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.255", "carrier-grade NAT"},
		{"255.255.255.255", "broadcast"},
		{"240.0.0.1", "reserved"},
		{"192.0.2.10", "documentation"},
		{"2001:db8::1", "documentation"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:169.254.169.254", "link-local"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"::127.0.0.1", "IPv4-compatible (deprecated)"},
		{"64:ff9b::7f00:1", "NAT64 form of a loopback"},
		{"64:ff9b::a9fe:a9fe", "NAT64 form of a link-local"},
		{"2002:7f00:1::1", "6to4 form of a loopback"},
		{"2002:c0a8:101::1", "6to4 form of a private"},
		{"2001:0:4136:e378::1", "Teredo"},
		{"fec0::1", "site-local (deprecated)"},
		// Public addresses, including the neighbours of refused ranges.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"11.0.0.1", ""},
		{"9.255.255.255", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"169.253.255.255", ""},
		{"192.167.255.255", ""},
		{"126.255.255.255", ""},
		{"128.0.0.1", ""},
		{"223.255.255.255", ""},
		{"::ffff:8.8.8.8", ""},
		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001::1", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.reason, Classify(netip.MustParseAddr(tc.addr)))
		})
	}
	require.Equal(t, "invalid", Classify(netip.Addr{}))
}

func TestAllowPrefixes(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Allow: []netip.Prefix{
		netip.MustParsePrefix("127.0.0.1/32"),
		netip.MustParsePrefix("::ffff:10.1.0.0/112"), // an IPv4-mapped prefix allows the IPv4 range
		netip.MustParsePrefix("fd00::/8"),
	}})
	require.NoError(t, err)
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", false},
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"10.2.0.1", false},
		{"fd00::5", true},
		{"fc00::5", false},
		{"169.254.169.254", false},
		{"8.8.8.8", true},
	} {
		err := c.permitted("h", netip.MustParseAddr(tc.addr))
		if tc.ok {
			require.NoError(t, err, tc.addr)
		} else {
			require.Error(t, err, tc.addr)
			require.True(t, IsPermanent(err), tc.addr)
		}
	}
}

// FuzzClassify checks, for any 16 bytes, that Classify does not panic, that
// an IPv4 address and its IPv4-mapped IPv6 form get the same answer, and
// that every address the standard library calls loopback, private,
// link-local, multicast or unspecified is refused.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "169.254.169.254", "10.0.0.1", "::ffff:127.0.0.1", "8.8.8.8", "2606:4700::1", "64:ff9b::7f00:1"} {
		a := netip.MustParseAddr(s).As16()
		f.Add(a[:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 16 {
			b = append(b, make([]byte, 16-len(b))...)
		}
		var a16 [16]byte
		copy(a16[:], b)
		a := netip.AddrFrom16(a16)
		r := Classify(a)
		if a.Is4In6() {
			require.Equal(t, Classify(a.Unmap()), r, "mapped and plain IPv4 agree")
		}
		for _, x := range []netip.Addr{a, a.Unmap()} {
			if x.IsLoopback() || x.IsPrivate() || x.IsLinkLocalUnicast() || x.IsLinkLocalMulticast() ||
				x.IsMulticast() || x.IsUnspecified() || x.IsInterfaceLocalMulticast() {
				require.NotEmpty(t, r, "%s must be refused", a)
			}
		}
		if a.Is4In6() {
			v4 := a.Unmap().As4()
			require.Equal(t, r, Classify(netip.AddrFrom4(v4)))
		}
	})
}
