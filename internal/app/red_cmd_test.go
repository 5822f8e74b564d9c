package app_test

import (
	"testing"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestOrgRedRecipientsSetAndShow(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: testdb.New(t)}
	for _, args := range [][]string{
		{"org", "create", "--slug", "national-cert", "--name", "National CERT", "--kind", "national_cert"},
		{"org", "create", "--slug", "region-north", "--name", "Region North", "--kind", "regional_cert", "--parent", "national-cert"},
		{"org", "create", "--slug", "city-a", "--name", "City A", "--kind", "local_authority", "--parent", "region-north"},
		{"user", "create", "--org", "region-north", "--email", "duty@region-north.example", "--role", "responder", "--name", "Dana Duty"},
		{"user", "create", "--org", "region-north", "--email", "lead@region-north.example", "--role", "coordinator"},
		{"user", "create", "--org", "region-north", "--email", "boss@region-north.example", "--role", "viewer"},
	} {
		_, errOut, err := c.run("", args...)
		require.NoError(t, err, "%v: %s", args, errOut)
	}

	out, errOut, err := c.run("", "org", "red-recipients", "show", "region-north")
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "reach its coordinators")
	require.Contains(t, errOut, "warning (no_red_recipients)")
	require.Contains(t, out, "lead@region-north.example")

	out, errOut, err = c.run("", "org", "red-recipients", "set", "region-north", "--user", "duty@region-north.example")
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "TLP:RED recipients of region-north set (1)")
	require.Contains(t, out, "duty@region-north.example  Dana Duty")
	require.NotContains(t, out, "lead@")
	require.NotContains(t, errOut, "warning")

	_, _, err = c.run("", "org", "red-recipients", "set", "region-north", "--user", "boss@region-north.example")
	require.Error(t, err)
	require.Contains(t, err.Error(), "recipients[0]: boss@region-north.example is a viewer")
	_, _, err = c.run("", "org", "red-recipients", "set", "city-a", "--user", "duty@region-north.example")
	require.Error(t, err)
	require.Contains(t, err.Error(), "only CERTs")
	_, errOut, err = c.run("", "org", "red-recipients", "set", "region-north")
	require.ErrorIs(t, err, app.ErrUsage)
	require.Contains(t, errOut, "give --user (one or more) or --none")

	_, errOut, err = c.run("", "org", "red-recipients", "set", "region-north", "--none")
	require.NoError(t, err, errOut)
	require.Contains(t, errOut, "reach its coordinators")
	out, _, err = c.run("", "org", "red-recipients", "--help")
	require.NoError(t, err)
	require.Contains(t, out, "Usage: certdesk org red-recipients")
}

// The demo designates each CERT's responder as its TLP:RED recipient.
func TestDemoDesignatesRedRecipients(t *testing.T) {
	t.Parallel()
	c := cli{t: t, url: testdb.New(t)}
	_, errOut, err := c.run("", "demo")
	require.NoError(t, err, errOut)
	for _, cert := range []string{"national-cert", "cert-north", "cert-south"} {
		out, errOut, err := c.run("", "org", "red-recipients", "show", cert)
		require.NoError(t, err, errOut)
		require.Contains(t, errOut, "reach its TLP:RED recipients", cert)
		require.Contains(t, out, "responder@"+cert+".demo", cert)
		require.NotContains(t, errOut, "warning", cert)
	}
	// A second run leaves a changed designation alone.
	_, errOut, err = c.run("", "org", "red-recipients", "set", "cert-north", "--user", "coordinator@cert-north.demo")
	require.NoError(t, err, errOut)
	_, errOut, err = c.run("", "demo")
	require.NoError(t, err, errOut)
	out, _, err := c.run("", "org", "red-recipients", "show", "cert-north")
	require.NoError(t, err)
	require.Contains(t, out, "coordinator@cert-north.demo")
	require.NotContains(t, out, "responder@cert-north.demo")
}
