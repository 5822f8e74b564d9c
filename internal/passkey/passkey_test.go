package passkey_test

import (
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/passkey"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/stretchr/testify/require"
)

// unused stands in for the store in tests that never reach it.
type unused struct{ passkey.Store }

// The relying party is the base URL's host name; an IP address or no host
// turns passkeys off instead of stopping the start.
func TestRelyingPartyFromBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, rpID string
	}{
		{"https://certdesk.example.org", "certdesk.example.org"},
		{"https://certdesk.example.org:8443", "certdesk.example.org"},
		{"http://localhost:8080", "localhost"},
		{"http://127.0.0.1:8080", ""},
		{"http://[::1]:8080", ""},
		{"http://:8080", ""},
	} {
		t.Run(tc.base, func(t *testing.T) {
			s, err := passkey.New(passkey.Options{Store: unused{}, Limiter: throttle.New(nil, nil), BaseURL: tc.base})
			require.NoError(t, err)
			require.Equal(t, tc.rpID, s.RPID())
			require.Equal(t, tc.rpID != "", s.Available())
		})
	}
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want, rule string
	}{
		{"  Work laptop ", "Work laptop", ""},
		{"", "", "required"},
		{"   ", "", "required"},
		{strings.Repeat("ä", 100), strings.Repeat("ä", 100), ""},
		{strings.Repeat("ä", 101), "", "max_length"},
		{"bad\x00name", "", "characters"},
	} {
		got, err := passkey.CheckName(tc.in)
		if tc.rule == "" {
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.want, got)
			continue
		}
		ae, ok := apperr.As(err)
		require.True(t, ok, tc.in)
		require.Equal(t, "name", ae.Fields[0].Field)
		require.Equal(t, tc.rule, ae.Fields[0].Rule)
	}
}

func TestKeyRoundTrip(t *testing.T) {
	t.Parallel()
	p := passkey.Passkey{ID: []byte{0xfb, 0xff, 0x00, 0x10}}
	id, err := passkey.ParseKey(p.Key())
	require.NoError(t, err)
	require.Equal(t, p.ID, id)
	for _, bad := range []string{"", "not base64!", "AAAA="} {
		_, err := passkey.ParseKey(bad)
		require.True(t, apperr.Is(err, apperr.NotFound), bad)
	}
}
