package observable

import (
	"strings"
	"testing"
)

// FuzzDefang: for every value Normalize accepts, Defang's form (for
// display) reads back through Normalize as the same value (format, then
// parse), has no dot left outside "[.]" in an address or a name, and is
// at most three times as long.
func FuzzDefang(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "2001:db8::1", "evil.example", "a.b@evil.example", "https://evil.example/x.php?q=a.b",
		"http://evil.example/", "ftp://files.example/a.b", "http://[2001:db8::1]:8080/a?b#c", "HTTPS://Bücher.Example./", "xn--bcher-kva.example",
		"hxxp://evil[.]example", "carol[at]example[.]org", "http://user:pw@evil.example:81/p", "mailto:a@b.example", strings.Repeat("ab", 32),
		"CVE-2024-3094", "AS64500", "invoice.pdf.exe", "http://a.b/%zz", "http://a.b"} {
		for _, t := range Types {
			f.Add(string(t), s)
		}
	}
	f.Fuzz(func(t *testing.T, typ, raw string) {
		tp := Type(typ)
		v, err := Normalize(tp, raw)
		if err != nil {
			return
		}
		d := Defang(tp, v)
		if len(d) > 3*len(v) {
			t.Fatalf("Defang(%s, %q) = %q: more than three times as long", tp, v, d)
		}
		switch tp {
		case IPv4, Domain, Email:
			if strings.Contains(strings.ReplaceAll(d, "[.]", ""), ".") {
				t.Fatalf("Defang(%s, %q) = %q still has a dot", tp, v, d)
			}
		case IPv6:
			return // "[:]" is for reading, not for pasting back: see TestDefangReadsBack
		}
		back, err := Normalize(tp, d)
		if err != nil {
			t.Fatalf("Defang(%s, %q) = %q, which Normalize refuses: %v", tp, v, d, err)
		}
		if back != v {
			t.Fatalf("Defang(%s, %q) = %q reads back as %q", tp, v, d, back)
		}
	})
}
