package comment

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/stretchr/testify/require"
)

func TestValidateBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, rule string
	}{
		{"ordinary", "Isolated **web1**.", ""},
		{"longest", strings.Repeat("ü", MaxBody), ""},
		{"empty", "", "required"},
		{"blank", " \t\n\r ", "required"},
		{"too long", strings.Repeat("a", MaxBody+1), "max_length"},
		{"NUL", "a\x00b", "characters"},
		{"invalid UTF-8", "a\xffb", "utf8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateBody(tc.body)
			if tc.rule == "" {
				require.NoError(t, err)
				return
			}
			ae, ok := apperr.As(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, apperr.Invalid, ae.Code)
			require.Equal(t, "body", ae.Fields[0].Field)
			require.Equal(t, tc.rule, ae.Fields[0].Rule)
		})
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	require.Equal(t, "short", excerpt("short"))
	exact := strings.Repeat("é", MaxExcerpt)
	require.Equal(t, exact, excerpt(exact), "200 characters are not cut")
	multi := excerpt(strings.Repeat("é", 300))
	require.Equal(t, strings.Repeat("é", MaxExcerpt-1)+"…", multi, "cut on characters, not bytes")
	words := excerpt(strings.Repeat("word ", 100))
	require.LessOrEqual(t, utf8.RuneCountInString(words), MaxExcerpt)
	require.True(t, strings.HasSuffix(words, "…"))
	require.NotContains(t, words, " …", "no space before the ellipsis")
	require.True(t, strings.HasPrefix(strings.Repeat("word ", 100), strings.TrimSuffix(words, "…")))
}
