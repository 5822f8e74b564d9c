package observable

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A pasted list is read line by line and word by word, defanged or not:
// each indicator once, by its most specific type; words that are no
// indicator are reported, not guessed.
func TestParsePasted(t *testing.T) {
	t.Parallel()
	found, unknown := ParsePasted("evil[.]example\r\nhxxps://evil[.]example/pay?x=1, 203.0.113.7; 203.0.113.7\n" +
		"\"payroll@evil[.]example\" 44d88612fea8a8f36de82e1278abb02f CVE-2024-3400 invoice.pdf.exe hello AS64500 .")
	require.Equal(t, []Candidate{
		{Domain, "evil.example"}, {URL, "https://evil.example/pay?x=1"}, {IPv4, "203.0.113.7"},
		{Email, "payroll@evil.example"}, {MD5, "44d88612fea8a8f36de82e1278abb02f"}, {CVE, "CVE-2024-3400"},
		{Filename, "invoice.pdf.exe"}, {ASN, "AS64500"},
	}, found)
	require.Equal(t, []string{"hello"}, unknown)

	found, unknown = ParsePasted("")
	require.Empty(t, found)
	require.Empty(t, unknown)

	many := strings.Repeat("192.0.2.1 ", 3) + func() string {
		var b strings.Builder
		for i := 0; i < MaxPasted+5; i++ {
			b.WriteString("host" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + ".example" + string(rune('a'+i/26)) + "x\n")
		}
		return b.String()
	}()
	found, unknown = ParsePasted(many)
	require.Len(t, found, MaxPasted)
	require.NotEmpty(t, unknown, "beyond the limit: reported, not dropped silently")
}

// Defanged values cannot be followed by accident, and read back as the
// same value.
func TestDefangReadsBack(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		t    Type
		v    string
		want string
	}{
		{IPv4, "203.0.113.7", "203[.]0[.]113[.]7"},
		{IPv6, "2001:db8::1", "2001[:]db8[:][:]1"},
		{Domain, "evil.example", "evil[.]example"},
		{Email, "a.b@evil.example", "a[.]b[@]evil[.]example"},
		{URL, "https://evil.example/x.php?q=a.b", "hxxps://evil[.]example/x.php?q=a.b"},
		{URL, "http://evil.example/", "hxxp://evil[.]example/"},
		{SHA256, strings.Repeat("ab", 32), strings.Repeat("ab", 32)},
	} {
		require.Equal(t, c.want, Defang(c.t, c.v), c.v)
		if c.t != IPv6 {
			back, err := Normalize(c.t, c.want)
			require.NoError(t, err, c.want)
			require.Equal(t, c.v, back, "read back")
		}
	}
}

// FuzzParsePasted: no input makes the reader fail, and everything it
// returns normalises to itself.
func FuzzParsePasted(f *testing.F) {
	for _, s := range []string{"evil[.]example 1.2.3.4", "hxxp://a[.]b/c", "x@y[.]z", "[[.]]", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		found, _ := ParsePasted(s)
		for _, c := range found {
			v, err := Normalize(c.Type, c.Value)
			if err != nil || v != c.Value {
				t.Fatalf("%v does not normalise to itself: %q, %v", c, v, err)
			}
		}
	})
}
