package identity

import (
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/stretchr/testify/require"
)

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pw, rule string
	}{
		{"short", "min_length"},
		{"elevenchars", "min_length"},
		{strings.Repeat("x", 257), "max_length"},
		{"password1234", "common"},
		{"Password1234!", "common"},
		{"qwertyuiop12", "common"},
		{"zzzzzzzzzzzzzzz", "repeated"},
		{"ana.kowalski-2026", "contains_email"},
		{"correct horse battery staple", ""},
		{"Tr4ffic-Light-Amber", ""},
	} {
		t.Run(tc.pw[:min(len(tc.pw), 20)], func(t *testing.T) {
			err := CheckPassword(tc.pw, "ana.kowalski@city.example")
			if tc.rule == "" {
				require.NoError(t, err)
				return
			}
			e, ok := apperr.As(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, apperr.Invalid, e.Code)
			require.Equal(t, "password", e.Fields[0].Field)
			require.Equal(t, tc.rule, e.Fields[0].Rule)
		})
	}
}

func TestArgon2idHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	h2, err := HashPassword("correct horse battery staple")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "each hash has its own salt")

	ok, err := VerifyPassword(h, "correct horse battery staple")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = VerifyPassword(h, "correct horse battery stapler")
	require.NoError(t, err)
	require.False(t, ok)
	for _, bad := range []string{"", "plain", "$bcrypt$x", "$argon2id$v=19$m=1,t=1,p=1$!!$!!"} {
		_, err := VerifyPassword(bad, "x")
		require.Error(t, err, bad)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, pa, ha, err := NewToken()
	require.NoError(t, err)
	b, _, hb, err := NewToken()
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.True(t, strings.HasPrefix(a, TokenPrefix))
	require.GreaterOrEqual(t, len(a), len(TokenPrefix)+43, "256 bits of randomness")
	require.True(t, strings.HasPrefix(a, pa))
	require.Equal(t, ha, HashToken(a))
	require.NotEqual(t, ha, hb)
	require.NotContains(t, string(ha), a)
}
