package app_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestOrgPolicySetAndShow(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: testdb.New(t)}
	for _, args := range [][]string{
		{"--slug", "national-cert", "--name", "National CERT", "--kind", "national_cert"},
		{"--slug", "region-north", "--name", "Region North", "--kind", "regional_cert", "--parent", "national-cert"},
		{"--slug", "city-a", "--name", "City A", "--kind", "local_authority", "--parent", "region-north"},
	} {
		_, _, err := c.run("", append([]string{"org", "create"}, args...)...)
		require.NoError(t, err, args)
	}
	dir := t.TempDir()
	yamlFile := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(yamlFile, []byte(`rules:
  - name: high-unacknowledged
    when: { min_severity: high }
    unacknowledged_for: 15m
    action: escalate
    to: parent
    kind: coordinate
    repeat_up: true
  - name: significant-to-national
    when: { significant: true }
    unacknowledged_for: immediately
    action: notify
    to: national
`), 0o600))
	out, errOut, err := c.run("", "org", "policy", "set", "region-north", "--file", yamlFile)
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "escalation policy of region-north set (2 rules)")
	var doc struct {
		Rules []map[string]any `json:"rules"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.Len(t, doc.Rules, 2)
	require.Equal(t, "15m", doc.Rules[0]["unacknowledged_for"])
	require.Equal(t, "immediately", doc.Rules[1]["unacknowledged_for"])

	out, errOut, err = c.run("", "org", "policy", "show", "city-a")
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "incidents reported by city-a follow the policy of region-north")
	require.JSONEq(t, `{"rules": []}`, out)
	out, _, err = c.run("", "org", "policy", "show", "region-north")
	require.NoError(t, err)
	require.Contains(t, out, `"high-unacknowledged"`)

	// A JSON file with mistakes: every one is named.
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"rules": [{"name": "x", "unacknowledged_for": "soon", "to": "city-a"}]}`), 0o600))
	_, _, err = c.run("", "org", "policy", "set", "--file", bad, "region-north")
	require.Error(t, err)
	require.Contains(t, err.Error(), "rules[0].unacknowledged_for")
	bad2 := filepath.Join(dir, "bad2.json")
	require.NoError(t, os.WriteFile(bad2, []byte(`{"rules": [{"name": "x", "unacknowledged_for": "15m", "to": "city-a"}]}`), 0o600))
	_, _, err = c.run("", "org", "policy", "set", "region-north", "--file", bad2)
	require.Error(t, err)
	require.Contains(t, err.Error(), "rules[0].to")
	_, _, err = c.run("", "org", "policy", "show", "no-such-org")
	require.Error(t, err)
	require.Contains(t, err.Error(), "not found")
	_, errOut, err = c.run("", "org", "policy", "set", "region-north")
	require.ErrorIs(t, err, app.ErrUsage)
	require.Contains(t, errOut, "--file is required")
	out, _, err = c.run("", "org", "policy", "--help")
	require.NoError(t, err)
	require.Contains(t, out, "Usage: certdesk org policy")
}

func TestDemoSeedsAnEscalationPolicy(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: testdb.New(t)}
	_, errOut, err := c.run("", "demo")
	require.NoError(t, err, errOut)
	out, errOut, err := c.run("", "org", "policy", "show", "city-northbridge")
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "follow the policy of national-cert")
	require.JSONEq(t, `{"rules": []}`, out)
	out, _, err = c.run("", "org", "policy", "show", "national-cert")
	require.NoError(t, err)
	require.Contains(t, out, `"high-unacknowledged"`)
	// A second run leaves a changed policy alone.
	file := filepath.Join(t.TempDir(), "p.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"rules": [{"name": "own", "unacknowledged_for": "1h"}]}`), 0o600))
	_, _, err = c.run("", "org", "policy", "set", "national-cert", "--file", file)
	require.NoError(t, err)
	_, _, err = c.run("", "demo")
	require.NoError(t, err)
	out, _, err = c.run("", "org", "policy", "show", "national-cert")
	require.NoError(t, err)
	require.Contains(t, out, `"own"`)
	require.NotContains(t, out, `"high-unacknowledged"`)
}
