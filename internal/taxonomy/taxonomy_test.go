package taxonomy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRSITIsComplete(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"abusive-content", "malicious-code", "information-gathering", "intrusion-attempts",
		"intrusions", "availability", "information-content-security", "fraud", "vulnerable", "other", "test"},
		RSIT.CategoryValues())
	n := 0
	for _, c := range RSIT.Categories {
		require.NotEmpty(t, c.Types, c.Value)
		n += len(c.Types)
	}
	require.Equal(t, 39, n)
	c, ok := RSIT.Category("availability")
	require.True(t, ok)
	require.Contains(t, c.TypeValues(), "ddos")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cat, typ, field string
	}{
		{"", "", ""},
		{"malicious-code", "", ""},
		{"malicious-code", "infected-system", ""},
		{"", "availability:ddos", ""},
		{"availability", "availability:ddos", ""},
		{"information-content-security", "data-leak", ""},
		{"malware", "", "category"},
		{"availability", "phishing", "type"},
		{"fraud", "availability:ddos", "type"},
		{"", "ddos", "category"},
	} {
		field, msg, ok := RSIT.Check(tc.cat, tc.typ)
		require.Equal(t, tc.field == "", ok, "%s/%s: %s", tc.cat, tc.typ, msg)
		require.Equal(t, tc.field, field, "%s/%s", tc.cat, tc.typ)
		if tc.field == "category" && tc.cat != "" {
			require.Contains(t, msg, "abusive-content, malicious-code", "the valid values are listed")
		}
	}
}
