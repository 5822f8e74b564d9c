package evidence

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/stretchr/testify/require"
)

func TestDisplayName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 300)
	for _, tc := range []struct{ raw, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`..\..\boot.ini`, "boot.ini"},
		{`C:\Users\anna\Desktop\note.txt`, "note.txt"},
		{"/etc/shadow", "shadow"},
		{"dir/", "dir"},
		{"..", "attachment"},
		{".", "attachment"},
		{"../..", "attachment"},
		{"/", "attachment"},
		{"", "attachment"},
		{"   ", "attachment"},
		{"...", "attachment"},
		{".bashrc", ".bashrc"},
		{"evil.exe.", "evil.exe"},
		{"evil.exe . .", "evil.exe"},
		{"a\x00b.txt", "ab.txt"},
		{"line\r\nbreak.txt", "linebreak.txt"},
		{"Content-Type: text/html\r\n\r\n<script>.txt", "html<script>.txt"},
		{"tab\there.txt", "tabhere.txt"},
		{"\x7fdel\u0085nel.txt", "delnel.txt"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},           // right-to-left override
		{"zero\u200Bwidth.txt", "zerowidth.txt"},             // zero-width space
		{"para\u2029graph.txt", "paragraph.txt"},             // paragraph separator
		{`say "hi"; x=1.txt`, `say "hi"; x=1.txt`},           // quotes are the header's job
		{"Lösegeld-Notiz 日本語.txt", "Lösegeld-Notiz 日本語.txt"}, // unicode stays
		{"bad\xff\xfeutf8.txt", "bad\uFFFDutf8.txt"},         // one replacement per run of bad bytes
		{long + ".pdf", strings.Repeat("é", 251) + ".pdf"},
		{strings.Repeat("x", 300), strings.Repeat("x", 255)},
		{"a." + strings.Repeat("y", 300), "a." + strings.Repeat("y", 253)}, // an "extension" too long to keep
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, DisplayName(tc.raw))
		})
	}
}

// FuzzDisplayName checks the promises of DisplayName for any input.
func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", `..\..\boot.ini`, "a\x00b", "\u202E", strings.Repeat("ab.", 100), " . ", "x/..", "é\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := DisplayName(raw)
		if got == "" || got == "." || got == ".." {
			t.Fatalf("DisplayName(%q) = %q", raw, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("DisplayName(%q) = %q is not UTF-8", raw, got)
		}
		if n := utf8.RuneCountInString(got); n > MaxFilename {
			t.Fatalf("DisplayName(%q) has %d characters", raw, n)
		}
		for _, r := range got {
			if r == '/' || r == '\\' || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				t.Fatalf("DisplayName(%q) = %q keeps %U", raw, got, r)
			}
		}
		if again := DisplayName(got); again != got {
			t.Fatalf("DisplayName is not stable: %q → %q → %q", raw, got, again)
		}
	})
}

func TestMediaType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ declared, want string }{
		{"application/pdf", "application/pdf"},
		{"Text/Plain; Charset=UTF-8", "text/plain; charset=UTF-8"},
		{"image/png", "image/png"},
		{"", DefaultContentType},
		{"pdf", DefaultContentType},
		{"text/", DefaultContentType},
		{"/plain", DefaultContentType},
		{"text/html\r\nX-Evil: 1", DefaultContentType},
		{"text/plain; charset=\"unterminated", DefaultContentType},
		{"application/" + strings.Repeat("x", 300), DefaultContentType},
	} {
		require.Equal(t, tc.want, MediaType(tc.declared), "%q", tc.declared)
	}
}

func TestNormalizeRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		in          NewAttachment
		field, rule string
	}{
		{"description too long", NewAttachment{Description: strings.Repeat("d", MaxDescription+1)}, "description", "max_length"},
		{"description not UTF-8", NewAttachment{Description: "\xff"}, "description", "utf8"},
		{"description with NUL", NewAttachment{Description: "a\x00b"}, "description", "no_nul"},
		{"file name too long", NewAttachment{Filename: strings.Repeat("n", MaxOriginalFilename+1)}, "file", "max_length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, _, err := tc.in.normalize()
			ae, ok := apperr.As(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, apperr.Invalid, ae.Code)
			require.Equal(t, tc.field, ae.Fields[0].Field)
			require.Equal(t, tc.rule, ae.Fields[0].Rule)
		})
	}
	display, original, ct, desc, err := NewAttachment{Filename: "../x\x00y.txt\xff", ContentType: "nonsense", Description: "ok"}.normalize()
	require.NoError(t, err)
	require.Equal(t, "xy.txt\uFFFD", display)
	require.Equal(t, "../x\uFFFDy.txt\uFFFD", original, "the name as sent, storable: valid UTF-8 without NUL")
	require.Equal(t, DefaultContentType, ct)
	require.Equal(t, "ok", desc)
}
