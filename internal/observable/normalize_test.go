package observable_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/observable"
	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	type ok struct{ in, want string }
	type ko struct{ in, rule string }
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		typ     observable.Type
		valid   []ok
		invalid []ko
	}{
		{typ: observable.IPv4,
			valid: []ok{{"192.0.2.1", "192.0.2.1"}, {"  198.51.100.7\n", "198.51.100.7"}, {"203.0.113[.]9", "203.0.113.9"},
				{"0.0.0.0", "0.0.0.0"}, {"255.255.255.255", "255.255.255.255"}},
			invalid: []ko{{"", "required"}, {"   ", "required"}, {"192.0.2.01", "format"}, {"256.1.1.1", "format"},
				{"1.2.3", "format"}, {"2001:db8::1", "format"}, {"::ffff:192.0.2.1", "format"}, {"192.0.2.1/24", "format"},
				{"example.org", "format"}, {"1.2.3.4.5", "format"}, {"\xff", "utf8"}}},
		{typ: observable.IPv6,
			valid: []ok{{"2001:DB8::1", "2001:db8::1"}, {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
				{"[2001:db8::2]", "2001:db8::2"}, {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"}, {"::1", "::1"},
				{"2001[:]db8[:][:]3", "2001:db8::3"}},
			invalid: []ko{{"192.0.2.1", "format"}, {"::ffff:192.0.2.1", "ipv4_mapped"}, {"fe80::1%eth0", "zone"},
				{"2001:db8::g", "format"}, {"2001:db8:::1", "format"}, {"[2001:db8::1", "format"}}},
		{typ: observable.Domain,
			valid: []ok{{"Example.ORG", "example.org"}, {"example.org.", "example.org"}, {"evil[.]example[.]com", "evil.example.com"},
				{"bücher.example", "xn--bcher-kva.example"}, {"xn--bcher-kva.example", "xn--bcher-kva.example"},
				{"BÜCHER.example", "xn--bcher-kva.example"}, {"faß.de", "xn--fa-hia.de"}, {"_dmarc.example.org", "_dmarc.example.org"},
				{"r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"}, {"a.b.c.d.example", "a.b.c.d.example"},
				{long(63) + ".example", long(63) + ".example"}, {"例え.テスト", "xn--r8jz45g.xn--zckzah"}},
			invalid: []ko{{"localhost", "fqdn"}, {"exa mple.org", "format"}, {"example..org", "format"}, {".example.org", "format"},
				{"-evil.example", "hyphen"}, {"evil-.example", "hyphen"}, {long(64) + ".example", "label_length"},
				{strings.Repeat("abcdefghi.", 26) + "example", "max_length"}, {"1.2.3.4", "numeric_tld"},
				{"evil!.example", "characters"}, {"*.example.org", "characters"}, {"http://example.org", "characters"},
				{"xn--a.example", "idna"}, {"example.org..", "format"}, {"exa\tmple.org", "format"}}},
		{typ: observable.URL,
			valid: []ok{{"HTTP://Evil.Example/Path?Q=1#F", "http://evil.example/Path?Q=1#F"},
				{"hxxps://evil[.]example/login", "https://evil.example/login"}, {"https://evil.example", "https://evil.example/"},
				{"https://evil.example?x=1", "https://evil.example/?x=1"}, {"http://192.0.2.1:8080/a", "http://192.0.2.1:8080/a"},
				{"http://[2001:DB8::1]:443/", "http://[2001:db8::1]:443/"}, {"ftp://files.example/x.zip", "ftp://files.example/x.zip"},
				{"https://bücher.example/ä", "https://xn--bcher-kva.example/ä"}, {"http://user:pw@evil.example:0080/", "http://user:pw@evil.example:80/"},
				{"https://evil.example/a%20b", "https://evil.example/a%20b"}, {"hxxp[:]//evil[.]example/", "http://evil.example/"}},
			invalid: []ko{{"evil.example/path", "absolute"}, {"javascript://alert(1)", "scheme"}, {"mailto:a@b.example", "absolute"},
				{"http:///path", "host"}, {"http://exa mple.org/", "host"}, {"http://evil.example/a b", "characters"},
				{"http://evil.example:99999/", "port"}, {"http://evil.example:0/", "port"}, {"http://evil.example:x/", "port"},
				{"http://[2001:db8::1/", "host"}, {"http://localhost/", "host"}, {"https://" + long(2100) + ".example/", "max_length"},
				{"http://[::ffff:192.0.2.1]/", "host"}}},
		{typ: observable.Email,
			valid: []ok{{"Alice@Example.ORG", "Alice@example.org"}, {"bob[@]evil[.]example", "bob@evil.example"},
				{"carol[at]bücher.example", "carol@xn--bcher-kva.example"}, {"first.last+tag@example.org", "first.last+tag@example.org"}},
			invalid: []ko{{"Alice <alice@example.org>", "format"}, {"alice", "format"}, {"alice@", "format"}, {"@example.org", "format"},
				{"alice@localhost", "domain"}, {"alice@[192.0.2.1]", "domain"}, {"a b@example.org", "format"},
				{"alice@example.org, bob@example.org", "format"}, {long(250) + "@example.org", "max_length"}}},
		{typ: observable.MD5,
			valid: []ok{{"D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"}},
			invalid: []ko{{"d41d8cd98f00b204e9800998ecf8427", "length"}, {"d41d8cd98f00b204e9800998ecf8427g", "hex"},
				{"da39a3ee5e6b4b0d3255bfef95601890afd80709", "length"}, {"d41d8cd98f00b204e9800998ecf842é", "hex"}}},
		{typ: observable.SHA1,
			valid:   []ok{{" da39a3ee5e6b4b0d3255bfef95601890afd80709 ", "da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
			invalid: []ko{{"d41d8cd98f00b204e9800998ecf8427e", "length"}, {"za39a3ee5e6b4b0d3255bfef95601890afd80709", "hex"}}},
		{typ: observable.SHA256,
			valid: []ok{{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
			invalid: []ko{{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", "length"},
				{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85x", "hex"}}},
		{typ: observable.Filename,
			valid: []ok{{" invoice.pdf.exe ", "invoice.pdf.exe"}, {"Rechnung März.docm", "Rechnung März.docm"},
				{"cod\u202Eexe.txt", "cod\u202Eexe.txt"}, {long(255), long(255)}},
			invalid: []ko{{"C:\\Windows\\evil.exe", "path_separator"}, {"/tmp/evil", "path_separator"}, {"a\x00b", "control_chars"},
				{"a\nb", "control_chars"}, {long(256), "max_length"}, {"..", "format"}}},
		{typ: observable.CVE,
			valid: []ok{{"cve-2024-3094", "CVE-2024-3094"}, {"CVE-2014-0160", "CVE-2014-0160"}, {"CVE-2021-44228", "CVE-2021-44228"},
				{"CVE-2023-1234567", "CVE-2023-1234567"}},
			invalid: []ko{{"CVE-2024-309", "format"}, {"CVE-24-3094", "format"}, {"2024-3094", "format"}, {"CVE-1998-0001", "year"},
				{"CVE-2021-044228", "format"}, {"CVE-2024-3094a", "format"}, {"CVE–2024–3094", "format"}}},
		{typ: observable.ASN,
			valid: []ok{{"AS64500", "AS64500"}, {"64500", "AS64500"}, {"as64500", "AS64500"}, {"ASN 64500", "AS64500"},
				{"AS1.10", "AS65546"}, {"AS4294967295", "AS4294967295"}, {"AS007", "AS7"}},
			invalid: []ko{{"AS0", "range"}, {"AS4294967296", "range"}, {"AS-1", "format"}, {"ASX", "format"}, {"AS", "format"},
				{"AS1.65536", "format"}, {"AS 1 2", "format"}, {"AS６４", "format"}}},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			t.Parallel()
			for _, c := range tc.valid {
				got, err := observable.Normalize(tc.typ, c.in)
				require.NoError(t, err, "%s %q", tc.typ, c.in)
				require.Equal(t, c.want, got, "%s %q", tc.typ, c.in)
				again, err := observable.Normalize(tc.typ, got)
				require.NoError(t, err, "the normalised %q normalises again", got)
				require.Equal(t, got, again, "normalisation is idempotent")
			}
			for _, c := range tc.invalid {
				_, err := observable.Normalize(tc.typ, c.in)
				var ve *observable.ValueError
				require.True(t, errors.As(err, &ve), "%s %q is refused with a ValueError, got %v", tc.typ, c.in, err)
				require.Equal(t, c.rule, ve.Rule, "%s %q: %s", tc.typ, c.in, ve.Message)
				require.NotEmpty(t, ve.Message)
			}
		})
	}
}

func TestNormalizeUnknownType(t *testing.T) {
	t.Parallel()
	_, err := observable.Normalize("mac", "00:11:22:33:44:55")
	var ve *observable.ValueError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "enum", ve.Rule)
}

func TestCandidates(t *testing.T) {
	t.Parallel()
	kinds := func(raw string) map[observable.Type]string {
		out := map[observable.Type]string{}
		for _, c := range observable.Candidates(raw) {
			out[c.Type] = c.Value
		}
		return out
	}
	require.Equal(t, map[observable.Type]string{observable.IPv4: "192.0.2.1", observable.Filename: "192.0.2.1"}, kinds("192.0.2.1"))
	require.Equal(t, map[observable.Type]string{observable.Domain: "evil.example", observable.Filename: "Evil.Example"}, kinds("Evil.Example"))
	require.Equal(t, map[observable.Type]string{observable.ASN: "AS64500", observable.Filename: "AS64500"}, kinds("AS64500"))
	require.Equal(t, "CVE-2024-3094", kinds("cve-2024-3094")[observable.CVE])
	require.Equal(t, "d41d8cd98f00b204e9800998ecf8427e", kinds("D41D8CD98F00B204E9800998ECF8427E")[observable.MD5])
	require.Empty(t, kinds("a/b c"), "nothing accepts a path with a space")
}

// FuzzNormalize checks that no input panics Normalize and that a
// normalised value is a fixed point: it is accepted again, unchanged.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:DB8::1", "::ffff:1.2.3.4", "Bücher.Example.", "hxxp://evil[.]example",
		"http://[2001:db8::1]:8080/a?b#c", "Alice@Example.ORG", "carol[at]example[.]org", "d41d8cd98f00b204e9800998ecf8427e",
		"CVE-2024-3094", "AS1.10", "asn 64500", "invoice.pdf.exe", "[[.]]", "xn--bcher-kva.example", "a。b．c", "ＡＳ1",
		"http://a.b/%zz", `"a b"@example.org`, "(comment)a@example.org", "ß.example", "http://user@host@evil.example/"} {
		for _, t := range observable.Types {
			f.Add(string(t), s)
		}
	}
	f.Fuzz(func(t *testing.T, typ, raw string) {
		tp := observable.Type(typ)
		v, err := observable.Normalize(tp, raw)
		if err != nil {
			var ve *observable.ValueError
			if !errors.As(err, &ve) || ve.Rule == "" || ve.Message == "" {
				t.Fatalf("Normalize(%q, %q) failed without naming a rule: %v", typ, raw, err)
			}
			return
		}
		again, err := observable.Normalize(tp, v)
		if err != nil {
			t.Fatalf("Normalize(%q, %q) = %q, which is refused on a second pass: %v", typ, raw, v, err)
		}
		if again != v {
			t.Fatalf("Normalize(%q, %q) = %q, but that normalises to %q", typ, raw, v, again)
		}
	})
}
