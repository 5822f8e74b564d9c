package readmark_test

import (
	"context"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// An incident is unread for a person while another person recorded
// something on its timeline after they last opened it: the reporter's own
// report and what certdesk does by itself (routing) are no news to them;
// a colleague's report is, until the colleague opens it; a responder's
// entry is news to both until each opens it again. One query answers for
// a whole page, including incidents never opened.
func TestUnreadIsNewsFromOthersSinceLastOpened(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true, Playbooks: testapp.NoPlaybooks})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "north")
	ana, _ := h.User("city", access.Reporter)
	ben, _ := h.User("city", access.Reporter)
	rui, _ := h.User("north", access.Responder)
	ctx := context.Background()
	reads := h.App.Reads

	inc, _, err := h.App.Incidents.Create(ctx, ana.Principal(), incident.NewIncident{Title: "Phishing"}, nil)
	require.NoError(t, err)
	quiet, _, err := h.App.Incidents.Create(ctx, ana.Principal(), incident.NewIncident{Title: "Scan"}, nil)
	require.NoError(t, err)
	require.NoError(t, h.App.Incidents.Route(ctx, inc.ID, nil))
	ids := []uuid.UUID{inc.ID, quiet.ID}

	unread := func(p access.Principal) map[uuid.UUID]bool {
		t.Helper()
		got, err := reads.Unread(ctx, p, ids)
		require.NoError(t, err)
		return got
	}
	require.Empty(t, unread(ana.Principal()), "her own reports and the routing are no news to her")
	require.Equal(t, map[uuid.UUID]bool{inc.ID: true, quiet.ID: true}, unread(ben.Principal()), "a colleague's reports are")
	require.NoError(t, reads.MarkRead(ctx, ben.Principal(), inc.ID))
	require.Equal(t, map[uuid.UUID]bool{quiet.ID: true}, unread(ben.Principal()))

	require.NoError(t, reads.MarkRead(ctx, rui.Principal(), inc.ID))
	_, err = h.App.Incidents.AddEntry(ctx, rui.Principal(), inc.Reference, "Called the city back", nil)
	require.NoError(t, err)
	require.Equal(t, map[uuid.UUID]bool{inc.ID: true}, unread(ana.Principal()), "the CERT's entry is news")
	require.True(t, unread(ben.Principal())[inc.ID])
	require.NoError(t, reads.MarkRead(ctx, ana.Principal(), inc.ID))
	require.Empty(t, unread(ana.Principal()))
	require.Empty(t, unread(rui.Principal())[inc.ID], "his own entry is not news to him")

	require.NoError(t, reads.MarkRead(ctx, access.System, inc.ID), "certdesk marks nothing")
	got, err := reads.Unread(ctx, access.System, ids)
	require.NoError(t, err)
	require.Empty(t, got)
}
