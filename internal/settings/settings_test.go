package settings_test

import (
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/stretchr/testify/require"
)

// Settings accept the catalogue's languages, IANA time zones and the
// three themes; empty values are the defaults; anything else names its
// field.
func TestValidate(t *testing.T) {
	t.Parallel()
	langs := []string{"en", "de"}
	ok := []settings.Settings{
		{},
		{Language: "de", TimeZone: "Europe/Berlin", Theme: settings.Dark},
		{TimeZone: "UTC", Theme: settings.Light},
	}
	for _, s := range ok {
		require.NoError(t, s.Validate(langs), "%+v", s)
		require.NotEmpty(t, s.Theme, "an empty theme becomes system")
	}
	for field, s := range map[string]settings.Settings{
		"language":  {Language: "fr"},
		"time_zone": {TimeZone: "Mars/Olympus"},
		"theme":     {Theme: "neon"},
	} {
		e, isApp := apperr.As(s.Validate(langs))
		require.True(t, isApp, field)
		require.Equal(t, field, e.Fields[0].Field)
	}
	local := settings.Settings{TimeZone: "Local"}
	require.Error(t, local.Validate(langs), "the server's own zone is not a choice")
}
