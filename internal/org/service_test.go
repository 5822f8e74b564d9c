package org_test

import (
	"context"
	"slices"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var system = org.Actor{System: true, Name: "certdesk"}

func setup(t *testing.T) (*testapp.Harness, *org.Service) {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	svc := h.App.Orgs
	ctx := context.Background()
	for _, o := range []struct {
		slug   string
		kind   org.Kind
		parent string
	}{
		{"national", org.NationalCERT, ""},
		{"north", org.RegionalCERT, "national"},
		{"south", org.RegionalCERT, "national"},
		{"city-a", org.LocalAuthority, "north"},
		{"city-b", org.LocalAuthority, "north"},
		{"city-c", org.LocalAuthority, "south"},
		{"partner", org.Partner, ""},
	} {
		require.NoError(t, svc.Create(ctx, system, &org.Organization{Slug: o.slug, Name: o.slug, Kind: o.kind}, o.parent))
	}
	return h, svc
}

func slugs(os []org.Organization) []string {
	out := []string{}
	for _, o := range os {
		out = append(out, o.Slug)
	}
	slices.Sort(out)
	return out
}

func fieldErr(t *testing.T, err error) (string, string) {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Code, "%v", err)
	return e.Fields[0].Field, e.Fields[0].Rule
}

func TestPlacementRules(t *testing.T) {
	t.Parallel()
	_, svc := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		o           org.Organization
		parent      string
		field, rule string
	}{
		{"city needs a CERT parent", org.Organization{Slug: "lone", Name: "Lone", Kind: org.LocalAuthority}, "", "parent", "cert"},
		{"city under a city", org.Organization{Slug: "sub", Name: "Sub", Kind: org.LocalAuthority}, "city-a", "parent", "cert"},
		{"operator under a partner", org.Organization{Slug: "op", Name: "Op", Kind: org.Operator}, "partner", "parent", "cert"},
		{"partner has no parent", org.Organization{Slug: "p2", Name: "P2", Kind: org.Partner}, "national", "parent", "none"},
		{"unknown parent", org.Organization{Slug: "x", Name: "X", Kind: org.Operator}, "atlantis", "parent", "exists"},
		{"bad slug", org.Organization{Slug: "Bad Slug", Name: "X", Kind: org.Operator}, "north", "slug", "format"},
		{"reserved slug", org.Organization{Slug: org.NoOrg, Name: "X", Kind: org.Operator}, "north", "slug", "reserved"},
		{"unknown kind", org.Organization{Slug: "x", Name: "X", Kind: "ministry"}, "north", "kind", "enum"},
		{"unknown sector", org.Organization{Slug: "x", Name: "X", Kind: org.Operator, Sector: "mining"}, "north", "sector", "enum"},
		{"bad time zone", org.Organization{Slug: "x", Name: "X", Kind: org.Operator, TimeZone: "Mars/Olympus"}, "north", "time_zone", "enum"},
		{"bad channel", org.Organization{Slug: "x", Name: "X", Kind: org.Operator, ChatChannel: "#general"}, "north", "chat_channel", "format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			field, rule := fieldErr(t, svc.Create(ctx, system, &o, tc.parent))
			require.Equal(t, tc.field, field)
			require.Equal(t, tc.rule, rule)
		})
	}
	t.Run("duplicate slug", func(t *testing.T) {
		err := svc.Create(ctx, system, &org.Organization{Slug: "city-a", Name: "Again", Kind: org.LocalAuthority}, "north")
		require.True(t, apperr.Is(err, apperr.Conflict), "%v", err)
	})
}

func TestConstituencyAndMoves(t *testing.T) {
	t.Parallel()
	_, svc := setup(t)
	ctx := context.Background()
	got, err := svc.Constituency(ctx, system, "north")
	require.NoError(t, err)
	require.Equal(t, []string{"city-a", "city-b"}, slugs(got))
	got, err = svc.Constituency(ctx, system, "national")
	require.NoError(t, err)
	require.Equal(t, []string{"city-a", "city-b", "city-c", "north", "south"}, slugs(got))

	// Move south (with city-c) below north: the closure follows.
	north := "north"
	_, err = svc.Update(ctx, system, "south", org.Patch{Parent: &north})
	require.NoError(t, err)
	got, err = svc.Constituency(ctx, system, "north")
	require.NoError(t, err)
	require.Equal(t, []string{"city-a", "city-b", "city-c", "south"}, slugs(got))
	got, err = svc.Constituency(ctx, system, "national")
	require.NoError(t, err)
	require.Len(t, got, 5, "the national CERT still holds everything")

	// A cycle is refused.
	south := "south"
	_, err = svc.Update(ctx, system, "north", org.Patch{Parent: &south})
	field, rule := fieldErr(t, err)
	require.Equal(t, "parent", field)
	require.Equal(t, "cycle", rule)
}

func TestWhoManagesWhat(t *testing.T) {
	t.Parallel()
	h, svc := setup(t)
	ctx := context.Background()
	actor := func(slug string, role access.Role) org.Actor {
		u, _ := h.User(slug, role)
		p := u.Principal()
		return org.Actor{UserID: p.UserIDPtr(), Name: p.Name(), OrgID: p.OrgID, OrgKind: p.OrgKind, Admin: p.Can(access.ManageOrgs)}
	}
	northAdmin := actor("north", access.Admin)
	require.NoError(t, svc.Create(ctx, northAdmin, &org.Organization{Slug: "city-d", Name: "City D", Kind: org.LocalAuthority}, "north"))
	err := svc.Create(ctx, northAdmin, &org.Organization{Slug: "city-e", Name: "City E", Kind: org.LocalAuthority}, "south")
	require.True(t, apperr.Is(err, apperr.Forbidden), "north's admin does not manage south: %v", err)
	err = svc.Create(ctx, actor("north", access.Coordinator), &org.Organization{Slug: "city-f", Name: "F", Kind: org.LocalAuthority}, "north")
	require.True(t, apperr.Is(err, apperr.Forbidden), "only admins manage organisations")
	err = svc.Create(ctx, northAdmin, &org.Organization{Slug: "p2", Name: "P2", Kind: org.Partner}, "")
	require.True(t, apperr.Is(err, apperr.Forbidden), "only the national CERT creates partners")
	require.NoError(t, svc.Create(ctx, actor("national", access.Admin), &org.Organization{Slug: "p2", Name: "P2", Kind: org.Partner}, ""))

	name := "City A (renamed)"
	_, err = svc.Update(ctx, actor("city-b", access.Admin), "city-a", org.Patch{Name: &name})
	require.True(t, apperr.Is(err, apperr.Forbidden), "a city's admin does not manage its sibling")
	got, err := svc.Update(ctx, actor("city-a", access.Admin), "city-a", org.Patch{Name: &name})
	require.NoError(t, err)
	require.Equal(t, name, got.Name)

	partner := actor("partner", access.Viewer)
	list, err := svc.List(ctx, partner)
	require.NoError(t, err)
	require.Equal(t, []string{"national", "north", "partner", "south"}, slugs(list), "a partner sees itself and the CERTs only")
	_, err = svc.Get(ctx, partner, "city-a")
	require.True(t, apperr.Is(err, apperr.NotFound))
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE action IN ('org.created', 'org.changed')").Scan(&n))
	require.Equal(t, 7+2+1, n, "every creation and change is audited")
}

// TestCreateAndUpdateAnswerForBothTransports: Create fills the new
// organisation as stored (its parent's slug and times: what the API
// answers), and Update hides an organisation the actor does not see
// exactly like a missing one, before asking whether the actor manages it.
func TestCreateAndUpdateAnswerForBothTransports(t *testing.T) {
	t.Parallel()
	h, svc := setup(t)
	ctx := context.Background()
	actor := func(slug string, role access.Role) org.Actor {
		u, _ := h.User(slug, role)
		return u.Principal().OrgActor()
	}
	o := &org.Organization{Slug: "city-d", Name: "City D", Kind: org.LocalAuthority}
	require.NoError(t, svc.Create(ctx, actor("north", access.Admin), o, "north"))
	require.Equal(t, "north", o.ParentSlug)
	require.False(t, o.CreatedAt.IsZero())
	require.Equal(t, o.CreatedAt, o.UpdatedAt)

	name := "Renamed"
	_, err := svc.Update(ctx, actor("partner", access.Admin), "city-a", org.Patch{Name: &name})
	require.True(t, apperr.Is(err, apperr.NotFound), "a partner does not see a city: %v", err)
	_, err = svc.Update(ctx, actor("partner", access.Admin), "north", org.Patch{Name: &name})
	require.True(t, apperr.Is(err, apperr.Forbidden), "it sees the CERTs but manages none: %v", err)
	_, err = svc.Update(ctx, actor("partner", access.Admin), "nowhere", org.Patch{Name: &name})
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}

// Managed is what an administrator manages: their organisation and its
// constituency, and the partners for the national CERT; GetManaged
// answers anything else as not found, whatever the directory shows.
func TestManagedIsTheAdministratorsConstituency(t *testing.T) {
	t.Parallel()
	h, svc := setup(t)
	ctx := context.Background()
	actor := func(slug string, role access.Role) org.Actor {
		u, _ := h.User(slug, role)
		return u.Principal().OrgActor()
	}
	for _, c := range []struct {
		slug string
		want []string
	}{
		{"national", []string{"city-a", "city-b", "city-c", "national", "north", "partner", "south"}},
		{"north", []string{"city-a", "city-b", "north"}},
		{"city-a", []string{"city-a"}},
		{"partner", []string{"partner"}},
	} {
		got, err := svc.ManagedOrgs(ctx, actor(c.slug, access.Admin))
		require.NoError(t, err)
		require.Equal(t, c.want, slugs(got), c.slug)
	}
	_, err := svc.ManagedOrgs(ctx, actor("north", access.Coordinator))
	require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)

	north := actor("north", access.Admin)
	o, err := svc.GetManaged(ctx, north, "city-b")
	require.NoError(t, err)
	require.Equal(t, "north", o.ParentSlug)
	for _, slug := range []string{"south", "city-c", "national", "no-such-org"} {
		_, err := svc.GetManaged(ctx, north, slug)
		require.True(t, apperr.Is(err, apperr.NotFound), "%s: %v", slug, err)
	}
	_, err = svc.GetManaged(ctx, actor("city-a", access.Admin), "north")
	require.True(t, apperr.Is(err, apperr.NotFound), "a city's administrator does not manage its CERT: %v", err)
}
