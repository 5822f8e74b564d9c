package org_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The help page calls the nearest CERT above: a city its regional CERT, a
// regional CERT the national one, the national CERT and partners the
// national CERT.
func TestResponsibleCERT(t *testing.T) {
	t.Parallel()
	h, svc := setup(t)
	ctx := context.Background()
	id := func(slug string) org.Actor {
		o, err := h.App.Store.OrganizationBySlug(ctx, slug)
		require.NoError(t, err)
		return org.Actor{OrgID: o.ID, OrgKind: o.Kind}
	}
	for actor, want := range map[string]string{"city-a": "north", "city-c": "south", "north": "national", "national": "national", "partner": "national"} {
		got, err := svc.ResponsibleCERT(ctx, id(actor))
		require.NoError(t, err, actor)
		require.Equal(t, want, got.Slug, actor)
	}
}

// A partner sees only itself and the CERTs, so Names leaves out the city.
func TestNamesFollowTheDirectoryRule(t *testing.T) {
	t.Parallel()
	h, svc := setup(t)
	ctx := context.Background()
	get := func(slug string) *org.Organization {
		o, err := h.App.Store.OrganizationBySlug(ctx, slug)
		require.NoError(t, err)
		return o
	}
	city, north, partner := get("city-a"), get("north"), get("partner")
	names, err := svc.Names(ctx, org.Actor{OrgID: partner.ID, OrgKind: org.Partner}, []uuid.UUID{city.ID, north.ID})
	require.NoError(t, err)
	require.Len(t, names, 1)
	require.Equal(t, "north", names[north.ID].Slug)
	names, err = svc.Names(ctx, org.Actor{OrgID: city.ID, OrgKind: org.LocalAuthority}, []uuid.UUID{city.ID, north.ID})
	require.NoError(t, err)
	require.Len(t, names, 2)
}

// A contact phone is a telephone number as people write it.
func TestContactPhone(t *testing.T) {
	t.Parallel()
	_, svc := setup(t)
	ctx := context.Background()
	for i, ok := range []string{"+49 30 1234 5678", "030/1234-5678", "(0421) 555.0100", ""} {
		o := &org.Organization{Slug: fmt.Sprintf("ok-%d", i), Name: "X", Kind: org.Operator, ContactPhone: ok}
		require.NoError(t, svc.Create(ctx, system, o, "north"), ok)
	}
	for _, bad := range []string{"call us", "+49", "12", "+49 30 1234 5678 ext. 9", "<script>", "+49 30 12345678901234567890123456789012345678"} {
		err := svc.Create(ctx, system, &org.Organization{Slug: "bad", Name: "X", Kind: org.Operator, ContactPhone: bad}, "north")
		field, rule := fieldErr(t, err)
		require.Equal(t, "contact_phone", field, bad)
		require.Equal(t, "format", rule, bad)
	}
	p := "+49 40 000 111"
	got, err := svc.Update(ctx, system, "north", org.Patch{ContactPhone: &p})
	require.NoError(t, err)
	require.Equal(t, p, got.ContactPhone)
}
