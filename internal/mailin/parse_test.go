package mailin

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseReadsTheTextAndTheFiles(t *testing.T) {
	t.Parallel()
	raw := strings.ReplaceAll(`From: "Stadt" <IT@City.example>
Subject: =?ISO-8859-1?Q?Verschl=FCsselt?= [INC-2026-000042]
Message-ID: <abc@city.example>
Authentication-Results: mx.example; dkim=pass (good) header.d=city.example; spf=pass smtp.mailfrom=it@city.example; dmarc=pass
Content-Type: multipart/alternative; boundary=x

--x
Content-Type: text/html; charset=utf-8

<p>ignored when there is text</p>
--x
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe, alles verschl=FCsselt.
--x--
`, "\n", "\r\n")
	m, err := Parse([]byte(raw), 5, 1<<20)
	require.NoError(t, err)
	require.Equal(t, "it@city.example", m.From)
	require.Equal(t, "abc@city.example", m.MessageID)
	require.Equal(t, "Verschlüsselt [INC-2026-000042]", m.Subject)
	require.Equal(t, "INC-2026-000042", Reference(m.Subject))
	require.Equal(t, "Grüße, alles verschlüsselt.", m.Text)
	a, ok := pickAuth(m.AuthResults, "MX.example")
	require.True(t, ok)
	require.Equal(t, "pass", a.DKIM)
	require.Equal(t, []string{"city.example"}, a.DKIMDomains)
	require.True(t, a.Authenticates("it@city.example"))
	_, ok = pickAuth(m.AuthResults, "other.example")
	require.False(t, ok, "only the named relay's header counts")
	require.False(t, parseAuth("mx; dkim=pass header.d=evil.example; spf=fail smtp.mailfrom=it@city.example").Authenticates("it@city.example"),
		"a signature of another domain authenticates nobody of city.example")
}

func TestReferenceIsTheFirstValidOne(t *testing.T) {
	t.Parallel()
	for subject, want := range map[string]string{
		"Re: [INC-2026-000042] backups": "INC-2026-000042",
		"inc-2026-000007 lower case":    "INC-2026-000007",
		"INC-26-1 is not one":           "",
		"no reference":                  "",
	} {
		require.Equal(t, want, Reference(subject), subject)
	}
}

// FuzzParse: no message makes the parser panic, and what it keeps is
// valid UTF-8 without markup from an HTML part.
func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n"))
	f.Add([]byte("From: a@b.example\r\nContent-Type: text/html\r\n\r\n<script>x</script><b>hi</b>\r\n"))
	f.Add([]byte("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Disposition: attachment; filename=a\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--q--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, 3, 1<<16)
		if err != nil {
			return
		}
		if !utf8Valid(m.Text) || !utf8Valid(m.Subject) {
			t.Fatalf("invalid UTF-8 kept: %q %q", m.Subject, m.Text)
		}
		if len(m.Attachments) > 3 {
			t.Fatalf("%d attachments kept", len(m.Attachments))
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }
