package incident

import (
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/stretchr/testify/require"
)

// TestParsePAP: the prefix and case are optional, WHITE is CLEAR, other
// values are refused.
func TestParsePAP(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]PAP{"PAP:RED": PAPRed, "amber": PAPAmber, " pap:Green ": PAPGreen,
		"clear": PAPClear, "PAP:WHITE": PAPClear, "white": PAPClear} {
		got, ok := ParsePAP(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "PAP:AMBER+STRICT", "TLP:RED", "purple"} {
		_, ok := ParsePAP(in)
		require.False(t, ok, in)
	}
}

// TestNewIncidentPAP: PAP:AMBER by default; a label that is not one is an
// error naming pap and the rule enum.
func TestNewIncidentPAP(t *testing.T) {
	t.Parallel()
	n := NewIncident{Title: "Phishing"}
	require.NoError(t, n.Validate(time.Now()))
	require.Equal(t, PAPAmber, n.PAP)
	n = NewIncident{Title: "Phishing", PAP: "green"}
	require.NoError(t, n.Validate(time.Now()))
	require.Equal(t, PAPGreen, n.PAP)
	n = NewIncident{Title: "Phishing", PAP: "PAP:PURPLE"}
	err := n.Validate(time.Now())
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	require.Len(t, ae.Fields, 1)
	require.Equal(t, "pap", ae.Fields[0].Field)
	require.Equal(t, "enum", ae.Fields[0].Rule)
	require.Contains(t, ae.Fields[0].Message, "PAP:RED, PAP:AMBER, PAP:GREEN, PAP:CLEAR")
}
