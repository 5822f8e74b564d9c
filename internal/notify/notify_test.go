package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestRenderTLP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tlp        incident.TLP
		restricted bool
	}{
		{incident.TLPRed, true},
		{incident.TLPAmberStrict, true},
		{incident.TLPAmber, false},
		{incident.TLPGreen, false},
		{incident.TLPClear, false},
	} {
		t.Run(string(tc.tlp), func(t *testing.T) {
			t.Parallel()
			inc := &incident.Incident{Reference: "INC-2026-000042", Title: "Ransomware at city hall",
				Description: "\n  Encrypted file servers in the *finance* department.\nSecond line", TLP: tc.tlp,
				Severity: incident.High, Stage: incident.Response}
			m := notify.Render(inc, "New incident to coordinate", "https://certdesk.example")
			require.Equal(t, tc.restricted, notify.Restricted(tc.tlp))
			require.Equal(t, "https://certdesk.example/incidents/INC-2026-000042", m.Link)
			require.Contains(t, m.Header, "INC-2026-000042")
			all := m.Header + m.Text + m.Link
			fields := map[string]string{}
			for _, f := range m.Fields {
				all += f.Label + f.Value
				fields[f.Label] = f.Value
			}
			require.Equal(t, "high", fields["Severity"])
			require.Equal(t, "INC-2026-000042", fields["Reference"])
			if tc.restricted {
				require.NotContains(t, all, "Ransomware")
				require.NotContains(t, all, "Encrypted")
				require.NotContains(t, all, "finance")
				require.NotContains(t, all, "response", "not even the stage")
				require.NotContains(t, all, "TLP", "only reference, severity and link")
				require.Len(t, m.Fields, 2)
			} else {
				require.True(t, strings.HasPrefix(m.Text, "Ransomware at city hall\nEncrypted file servers"), m.Text)
				require.NotContains(t, m.Text, "Second line", "only the first line of the description")
				require.Equal(t, string(tc.tlp), fields["TLP"])
				require.Equal(t, "response", fields["Stage"])
			}
		})
	}
}

func TestCardTLPAndAcknowledge(t *testing.T) {
	t.Parallel()
	acked := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		tlp        incident.TLP
		restricted bool
	}{
		{incident.TLPRed, true}, {incident.TLPAmberStrict, true}, {incident.TLPAmber, false}, {incident.TLPClear, false},
	} {
		t.Run(string(tc.tlp), func(t *testing.T) {
			t.Parallel()
			inc := &incident.Incident{ID: uuid.New(), Reference: "INC-2026-000042", Title: "Ransomware at city hall", TLP: tc.tlp,
				Description: "\nEncrypted file servers.\nSecond line",
				Severity:    incident.Critical, Stage: incident.Recovery, Status: incident.Open, CoordinatingOrgSlug: "region-north",
				AcknowledgedAt: &acked}
			m := notify.Card(inc, "responder@region-north.example", "https://certdesk.example")
			fields := map[string]string{}
			all := m.Header + m.Text + m.Link
			for _, f := range m.Fields {
				fields[f.Label] = f.Value
				all += f.Label + f.Value
			}
			require.Equal(t, "critical", fields["Severity"])
			require.Equal(t, "https://certdesk.example/incidents/INC-2026-000042", m.Link)
			if tc.restricted {
				require.NotContains(t, all, "Ransomware")
				require.NotContains(t, all, "recovery")
				require.NotContains(t, all, "region-north")
				require.Len(t, m.Fields, 2)
				return
			}
			require.Equal(t, "INC-2026-000042: Ransomware at city hall", m.Header)
			require.Equal(t, "Encrypted file servers.", m.Text)
			require.Equal(t, "recovery", fields["Stage"])
			require.Equal(t, "region-north", fields["Coordinating"])
			require.Equal(t, "by responder@region-north.example at 2026-11-22 09:30 UTC", fields["Acknowledged"])
		})
	}
}

func TestAcknowledgeButtonOnlyForCERTsWhileUnacknowledged(t *testing.T) {
	t.Parallel()
	now := time.Now()
	open := &incident.Incident{Status: incident.Open}
	require.True(t, notify.WantsAcknowledge(open, org.RegionalCERT))
	require.True(t, notify.WantsAcknowledge(open, org.NationalCERT))
	require.False(t, notify.WantsAcknowledge(open, org.LocalAuthority))
	require.False(t, notify.WantsAcknowledge(open, org.Partner))
	require.False(t, notify.WantsAcknowledge(&incident.Incident{Status: incident.Open, AcknowledgedAt: &now}, org.RegionalCERT))
	require.False(t, notify.WantsAcknowledge(&incident.Incident{Status: incident.Closed}, org.RegionalCERT))
}
