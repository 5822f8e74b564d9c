package runbook_test

import (
	"context"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// TestListNamesTheIncident: the list of an incident's runs comes with the
// incident it was read for, runs or none, so that no transport has to
// read the incident again; the visibility rule applies.
func TestListNamesTheIncident(t *testing.T) {
	t.Parallel()
	w := setup(t, testapp.Options{NoWorkers: true, Playbooks: testapp.NoPlaybooks})
	ctx := context.Background()
	reporter, _ := w.h.User("city", access.Reporter)
	inc, _, err := w.h.App.Incidents.Create(ctx, reporter.Principal(), incident.NewIncident{Title: "No runs"}, nil)
	require.NoError(t, err)
	got, runs, err := w.h.App.Runs.List(ctx, reporter.Principal(), inc.Reference)
	require.NoError(t, err)
	require.Equal(t, inc.ID, got.ID)
	require.Empty(t, runs)
	outsider, _ := w.h.User("town", access.Responder)
	_, _, err = w.h.App.Runs.List(ctx, outsider.Principal(), inc.Reference)
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}
