package postgres_test

import (
	"context"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestRelationsOf checks the relations the store reads with an incident
// (relationsOf, beside visibleTo): several at once, and how an escalation
// turns a share into "escalated to" while it is requested or accepted and
// back into "shared with" once it is returned.
func TestRelationsOf(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	ctx := context.Background()
	region := h.Org("region", org.RegionalCERT, "national")
	city := h.Org("city-2", org.LocalAuthority, "region")
	partner := h.Org("partner", org.Partner, "")
	reporter, _ := h.User("city-2", access.Reporter)

	inc := newIncident(city.ID)
	inc.ReporterUserID = &reporter.ID
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		if err := tx.InsertIncident(ctx, inc); err != nil {
			return err
		}
		if _, err := tx.InsertParticipant(ctx, inc.ID, reporter.ID, nil); err != nil {
			return err
		}
		return tx.SetCoordinatingOrg(ctx, inc.ID, region.ID, inc.CreatedAt)
	}))
	national, err := h.App.Store.OrganizationBySlug(ctx, "national")
	require.NoError(t, err)
	relations := func(p access.Principal) access.Relations {
		t.Helper()
		got, err := h.App.Store.Incident(ctx, p, inc.ID)
		require.NoError(t, err)
		return got.Relations
	}
	of := func(o *org.Organization) access.Principal {
		return access.Principal{UserID: uuid.New(), Role: access.Responder, OrgID: o.ID, OrgSlug: o.Slug, OrgKind: o.Kind}
	}
	require.Equal(t, access.Of(access.Reporting, access.Participant), relations(reporter.Principal()))
	require.Equal(t, access.Of(access.Reporting), relations(of(city)))
	require.Equal(t, access.Of(access.Coordinating, access.CERTAbove), relations(of(region)))
	nat := of(national)
	require.Equal(t, access.Of(access.CERTAbove), relations(nat))
	require.Zero(t, relations(access.System), "System needs no relations")

	exec := func(q string, args ...any) {
		t.Helper()
		_, err := h.App.DB.Pool.Exec(ctx, q, args...)
		require.NoError(t, err)
	}
	// A TLP:AMBER incident reaches a partner only through an explicit share.
	exec(`INSERT INTO incident_shares (incident_id, org_id, kind) VALUES ($1, $2, 'share')`, inc.ID, partner.ID)
	require.Equal(t, access.Of(access.SharedWith), relations(of(partner)))
	escID := uuid.New()
	exec(`INSERT INTO escalations (id, incident_id, from_org_id, to_org_id, kind, state, requested_by, requested_at)
		VALUES ($1, $2, $3, $4, 'assist', 'requested', 'test', now())`, escID, inc.ID, region.ID, partner.ID)
	require.Equal(t, access.Of(access.EscalatedTo), relations(of(partner)), "asked for help after the share: escalated to")
	exec(`UPDATE escalations SET state = 'accepted' WHERE id = $1`, escID)
	require.Equal(t, access.Of(access.EscalatedTo), relations(of(partner)))
	exec(`UPDATE escalations SET state = 'returned' WHERE id = $1`, escID)
	require.Equal(t, access.Of(access.SharedWith), relations(of(partner)), "the help has ended: shared with")

	// An escalation's own share, once returned, leaves "shared with" too.
	exec(`INSERT INTO incident_shares (incident_id, org_id, kind) VALUES ($1, $2, 'escalation')`, inc.ID, national.ID)
	exec(`INSERT INTO escalations (id, incident_id, from_org_id, to_org_id, kind, state, requested_by, requested_at)
		VALUES ($1, $2, $3, $4, 'coordinate', 'returned', 'test', now())`, uuid.New(), inc.ID, region.ID, national.ID)
	require.Equal(t, access.Of(access.CERTAbove, access.SharedWith), relations(nat))

	// The locked read of a write returns them too.
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		got, err := tx.LockIncident(ctx, of(region), inc.Reference)
		require.NoError(t, err)
		require.Equal(t, access.Of(access.Coordinating, access.CERTAbove), got.Relations)
		return nil
	}))
}
