package httpapi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCSVSafe: a cell a spreadsheet would read as a formula, also behind
// white space or invisible characters, is prefixed with a quote; anything
// else is left as it is (OWASP's CSV injection advice).
func TestCSVSafe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		defused bool
	}{
		{"=1+1", true},
		{"+1", true},
		{"-1", true},
		{"@SUM(A1)", true},
		{"\t=1", true},
		{"\r=1", true},
		{"\tplain", true}, // a leading tab or carriage return is a formula trigger of its own
		{"\rplain", true},
		{" =HYPERLINK(\"https://evil.example\")", true},
		{"   +1", true},
		{"\n=1", true},
		{"\n\n@x", true},
		{"\u200b=1", true}, // zero-width space
		{"\u200c=1", true}, // zero-width non-joiner
		{"\u200d-1", true}, // zero-width joiner
		{"\ufeff=1", true}, // byte-order mark
		{"\u2060@x", true}, // word joiner
		{"\u00a0=1", true}, // no-break space
		{" \u200b\t\n=1", true},
		{"", false},
		{"Ransomware at the city hall", false},
		{"INC-2026-000042", false},
		{"a=b", false},
		{"   ", false},
		{"\u200b", false},
		{" plain text", false},
		{"\nplain", false},
		{"café = tea", false},
	} {
		got := csvSafe([]string{tc.in})[0]
		if tc.defused {
			require.Equal(t, "'"+tc.in, got, "%q", tc.in)
		} else {
			require.Equal(t, tc.in, got, "%q", tc.in)
		}
	}
}
