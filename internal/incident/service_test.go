package incident_test

import (
	"context"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

// TestMain runs the tests; those of the service on a real store get their
// database from testdb.
func TestMain(m *testing.M) { testdb.Main(m) }

// TestAdminWarningsAndRedPreview: what an organisation's page shows its
// administrators, and the note before a TLP:RED report, are use cases of
// the service that both transports call: warnings for those who manage
// the organisation, nothing (and no error) for anyone else.
func TestAdminWarningsAndRedPreview(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("partner", org.Partner, "")
	svc := h.App.Incidents
	ctx := context.Background()
	principal := func(slug string, role access.Role) access.Principal {
		u, _ := h.User(slug, role)
		return u.Principal()
	}
	regionAdmin, natAdmin := principal("region", access.Admin), principal("national", access.Admin)

	for name, tc := range map[string]struct {
		p    access.Principal
		slug string
	}{
		"the region's admin":         {regionAdmin, "region"},
		"an admin of the CERT above": {natAdmin, "region"},
	} {
		ws, err := svc.AdminWarnings(ctx, tc.p, tc.slug)
		require.NoError(t, err, name)
		require.Len(t, ws, 1, name)
		require.Equal(t, incident.WarnNoRedRecipients, ws[0].Code, name)
	}
	ws, err := svc.AdminWarnings(ctx, regionAdmin, "city")
	require.NoError(t, err)
	require.NotNil(t, ws, "a city is managed by the region's admin")
	require.Empty(t, ws, "but routes no TLP:RED incidents")
	for name, tc := range map[string]struct {
		p    access.Principal
		slug string
	}{
		"a responder":                     {principal("region", access.Responder), "region"},
		"a city's admin on its CERT":      {principal("city", access.Admin), "region"},
		"a partner's admin on a city":     {principal("partner", access.Admin), "city"},
		"an organisation that is missing": {regionAdmin, "nowhere"},
	} {
		ws, err := svc.AdminWarnings(ctx, tc.p, tc.slug)
		require.NoError(t, err, name)
		require.Nil(t, ws, name)
	}

	reporter := principal("city", access.Reporter)
	r, err := svc.RedRecipientsFor(ctx, reporter)
	require.NoError(t, err)
	require.Equal(t, incident.RedNobody, r.Source)
	require.Equal(t, "Region has nobody who receives TLP:RED reports: a TLP:RED report is seen by you only until you name participants. Consider TLP:AMBER+STRICT, or call Region.", r.PreviewNote())
	principal("region", access.Coordinator)
	r, err = svc.RedRecipientsFor(ctx, reporter)
	require.NoError(t, err)
	require.Equal(t, incident.RedCoordinators, r.Source)
	require.Contains(t, r.PreviewNote(), "Region has designated no TLP:RED recipients: a TLP:RED report is seen by you and by its coordinators listed here")
}
