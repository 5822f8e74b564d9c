package notify_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render writes a message as the golden files show it.
func render(name string, m notify.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s\nheader: %s\n", name, m.Header)
	for _, f := range m.Fields {
		fmt.Fprintf(&b, "field: %s = %s\n", f.Label, f.Value)
	}
	fmt.Fprintf(&b, "link: %s\ntext:\n%s\n\n", m.Link, m.Text)
	return b.String()
}

func TestTemplatesGolden(t *testing.T) {
	t.Parallel()
	inc := &incident.Incident{Reference: "INC-2026-000042", Title: "Ransomware encrypted file servers at city hall",
		Description: "At 06:40 staff found files renamed to *.lockbit.\nSecond line", TLP: incident.TLPAmber,
		Severity: incident.Critical, Stage: incident.Response,
		ReportingOrgSlug: "city-northbridge", CoordinatingOrgSlug: "cert-north"}
	var b strings.Builder
	for _, name := range notify.Templates() {
		b.WriteString(render(name, notify.RenderTemplate(name, inc, "https://certdesk.example")))
	}
	red := *inc
	red.TLP = incident.TLPRed
	for _, name := range notify.Templates() {
		b.WriteString(render(name+" (TLP:RED)", notify.RenderTemplate(name, &red, "https://certdesk.example")))
	}
	path := filepath.Join("testdata", "templates.golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), b.String())
}

func TestTemplatesNamesAndTLP(t *testing.T) {
	t.Parallel()
	// The templates the shipped playbooks name (grep -h template: playbooks/*.yaml).
	require.Equal(t, []string{"data_breach_reported", "ddos_ongoing", "defacement_reported", "patch_reminder",
		"phishing_warning", "ransomware_started", "vulnerability_advisory"}, notify.Templates())
	require.True(t, notify.HasTemplate("ransomware_started"))
	require.False(t, notify.HasTemplate("ransomware"))
	require.False(t, notify.HasTemplate(""))

	inc := &incident.Incident{Reference: "INC-2026-000007", Title: "Secret title", Description: "Secret description",
		Severity: incident.High, Stage: incident.Recovery, ReportingOrgSlug: "north-water", CoordinatingOrgSlug: "cert-north"}
	for _, name := range notify.Templates() {
		for _, tlp := range incident.TLPs {
			t.Run(name+"/"+string(tlp), func(t *testing.T) {
				c := *inc
				c.TLP = tlp
				m := notify.RenderTemplate(name, &c, "https://certdesk.example/")
				all := render("message", m)
				require.Contains(t, all, "INC-2026-000007")
				require.Contains(t, all, "high")
				require.Equal(t, "https://certdesk.example/incidents/INC-2026-000007", m.Link, "the base URL's trailing slash is trimmed")
				if notify.Restricted(tlp) {
					// Only the reference, the severity and the link; nothing
					// that tells who or what.
					for _, secret := range []string{"Secret", "north-water", "cert-north", "recovery", string(tlp),
						"ansomware", "hishing", "DoS", "breach", "eface", "atch",
						"legal", "eadline", "dvisory", "NIS2", "GDPR"} {
						require.NotContains(t, all, secret)
					}
					require.Len(t, m.Fields, 2)
					return
				}
				for _, want := range []string{"Secret title", "north-water", "cert-north", "recovery", string(tlp)} {
					require.Contains(t, all, want)
				}
			})
		}
	}

	// An unknown name renders a neutral message (validated playbooks cannot name one).
	inc.TLP = incident.TLPGreen
	m := notify.RenderTemplate("no-such-template", inc, "https://certdesk.example")
	require.Equal(t, "Playbook notification: INC-2026-000007", m.Header)
}
