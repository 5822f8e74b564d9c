package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestShippedPlaybooksOnDemoIncidents is issue 5's "all six shipped
// playbooks validate and dry-run on demo incidents": each shipped playbook
// is valid, and its incident.created trigger fires for its demo incident
// with at least one step planned to run. The demo stays idempotent.
func TestShippedPlaybooksOnDemoIncidents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	require.NoError(t, h.App.SeedDemo(ctx, io.Discard, h.URL))
	require.NoError(t, h.App.SeedDemo(ctx, io.Discard, h.URL), "a second run")

	cat := h.App.Playbooks
	require.Empty(t, cat.Errors(), "the shipped playbooks validate, notify templates included")
	require.Len(t, cat.Valid(), 6)

	cases := map[string]struct{ org, title string }{
		"ransomware":             {"city-northbridge", "Ransomware encrypted file servers at city hall"},
		"phishing-campaign":      {"city-harbourton", "Phishing campaign against council staff"},
		"ddos":                   {"city-southvale", "DDoS on the citizen services portal"},
		"personal-data-breach":   {"city-southvale", "Data leak of resident registration records"},
		"defacement":             {"city-harbourton", "Defaced town website"},
		"vulnerability-advisory": {"north-water", "Vulnerable VPN appliance advisory (remote access gateway)"},
	}
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM incidents").Scan(&n))
	require.Equal(t, 13, n, "the demo created each incident once")

	for _, pb := range cat.Valid() {
		c, ok := cases[pb.ID]
		require.True(t, ok, "no demo incident for the shipped playbook %s", pb.ID)
		var id uuid.UUID
		require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT i.id FROM incidents i JOIN organizations o ON o.id = i.reporting_org_id
			WHERE o.slug = $1 AND i.title = $2`, c.org, c.title).Scan(&id), c.title)
		inc, err := h.App.Incidents.Get(ctx, access.System, id.String())
		require.NoError(t, err)
		env := playbook.NewEnv(*inc)
		require.True(t, pb.Triggered(t.Context(), "incident.created", env), "%s: the created trigger fires for %q", pb.ID, c.title)
		run := 0
		for _, s := range playbook.DryRun(t.Context(), pb, env) {
			if s.Run {
				run++
			}
		}
		require.Positive(t, run, "%s: at least one step would run for %q", pb.ID, c.title)
		t.Logf("%s on %s (%s): %d of %d steps would run", pb.ID, inc.Reference, c.title, run, len(pb.Steps))

		// The ransomware one is the playbook the demo is about; it is
		// the only shipped playbook it starts.
		if pb.ID == "ransomware" {
			for _, other := range cat.Valid() {
				require.Equal(t, other.ID == "ransomware", other.Triggered(t.Context(), "incident.created", env), other.ID)
			}
		}
	}

	// Through the API, as the demo's regional responder would check it.
	_, tok := h.User("cert-north", access.Responder)
	var ref string
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT reference FROM incidents WHERE title = $1`, cases["vulnerability-advisory"].title).Scan(&ref))
	r := h.As(tok).Request(http.MethodPost, "/api/v1/playbooks/vulnerability-advisory/dry-run", map[string]any{"incident": ref})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var plan struct {
		Triggered  map[string]bool `json:"triggered"`
		StepsToRun int             `json:"steps_to_run"`
	}
	r.JSON(t, &plan)
	require.True(t, plan.Triggered["incident.created"])
	require.Positive(t, plan.StepsToRun)
}
