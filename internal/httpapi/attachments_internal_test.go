package httpapi

import (
	"mime"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/evidence"
)

// FuzzContentDisposition checks that any display name gives a header that
// is one line of ASCII, parses, and names exactly that file.
func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"report.pdf", `quote".txt"; filename="evil.exe`, "Lösegeld 日本語.txt", "100%.txt", `back\slash`, "a\r\nb", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name := evidence.DisplayName(raw)
		cd := contentDisposition(name)
		for i := 0; i < len(cd); i++ {
			if cd[i] < 0x20 || cd[i] > 0x7e {
				t.Fatalf("contentDisposition(%q) = %q has byte %#x", name, cd, cd[i])
			}
		}
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "attachment" {
			t.Fatalf("contentDisposition(%q) = %q does not parse: %v", name, cd, err)
		}
		if params["filename"] != name {
			t.Fatalf("contentDisposition(%q) = %q names %q", name, cd, params["filename"])
		}
		if fb := strings.SplitN(cd, `"`, 3); len(fb) != 3 || strings.ContainsAny(fb[1], `\%`) {
			t.Fatalf("contentDisposition(%q) = %q: the fallback is not one plain quoted string", name, cd)
		}
	})
}
