package task_test

import (
	"context"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// What the CERT asks of an organisation: the open tasks of its incidents
// assigned to its people, for a page of incidents in one call; tasks done,
// and tasks of the CERT's own people, are not asked of it; an incident
// the reader may not see contributes none.
func TestOpenForOrgIsWhatIsAskedOfTheOrganisation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	h := b.h
	reporter, _ := h.User("city", access.Reporter)
	certResponder, _ := h.User("region", access.Responder)
	h.Org("elsewhere", "local_authority", "national")
	stranger, _ := h.User("elsewhere", access.Reporter)
	require.NoError(t, h.App.Incidents.Route(ctx, b.inc.ID, nil))
	other, _, err := h.App.Incidents.Create(ctx, reporter.Principal(), incident.NewIncident{Title: "Phishing"}, nil)
	require.NoError(t, err)
	require.NoError(t, h.App.Incidents.Route(ctx, other.ID, nil))

	mk := func(incID uuid.UUID, title, assignee string) *task.Task {
		t.Helper()
		tk, err := b.svc.Create(ctx, certResponder.Principal(), incID.String(), task.NewTask{Title: title, Assignee: assignee})
		require.NoError(t, err)
		return tk
	}
	mk(b.inc.ID, "Send us the firewall logs", reporter.Email)
	done := mk(b.inc.ID, "Confirm the backups", b.responder.Email)
	mk(b.inc.ID, "Analyse the sample", certResponder.Email)
	mk(other.ID, "Reset the passwords", b.responder.Email)
	d := task.Done
	_, err = b.svc.Update(ctx, b.responder.Principal(), b.inc.ID.String(), done.ID.String(), task.Patch{Status: &d}, nil)
	require.NoError(t, err)

	got, err := b.svc.OpenForOrg(ctx, reporter.Principal(), []uuid.UUID{b.inc.ID, other.ID})
	require.NoError(t, err)
	titles := func(ts []task.Task) []string {
		var out []string
		for _, tk := range ts {
			out = append(out, tk.Title)
		}
		return out
	}
	require.Equal(t, []string{"Send us the firewall logs"}, titles(got[b.inc.ID]))
	require.Equal(t, []string{"Reset the passwords"}, titles(got[other.ID]))

	none, err := b.svc.OpenForOrg(ctx, stranger.Principal(), []uuid.UUID{b.inc.ID, other.ID})
	require.NoError(t, err)
	require.Empty(t, none)
}
