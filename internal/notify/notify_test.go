package notify_test

import (
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
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
