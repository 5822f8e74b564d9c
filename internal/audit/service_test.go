package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Code, "%v", err)
	require.Len(t, e.Fields, 1, "%v", err)
	return e.Fields[0].Field + "/" + e.Fields[0].Rule
}

// TestReadIsForTheNationalCERTsAdmins: the audit log's reader refuses
// every other principal before it looks at the query.
func TestReadIsForTheNationalCERTsAdmins(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	svc := h.App.Audit
	ctx := context.Background()
	natAdmin, _ := h.User("national", access.Admin)
	bad := audit.Query{Actor: strings.Repeat("x", 300)}
	for _, u := range []struct {
		org  string
		role access.Role
	}{{"region", access.Admin}, {"national", access.Coordinator}, {"national", access.Viewer}} {
		user, _ := h.User(u.org, u.role)
		_, _, err := svc.Read(ctx, user.Principal(), bad)
		require.True(t, apperr.Is(err, apperr.Forbidden), "%s/%s: %v", u.org, u.role, err)
	}
	_, _, err := svc.Read(ctx, natAdmin.Principal(), bad)
	require.Equal(t, "actor/max_length", fieldOf(t, err))
	es, _, err := svc.Read(ctx, natAdmin.Principal(), audit.Query{})
	require.NoError(t, err)
	require.NotEmpty(t, es)
	_, _, err = svc.Read(ctx, access.System, audit.Query{})
	require.NoError(t, err, "the operator reads it too")
}

// TestReadFilters: actor (ignoring case), action, target and a time range
// narrow the log; pages follow the filters.
func TestReadFilters(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("city", org.LocalAuthority, "national")
	ctx := context.Background()
	admin, _ := h.User("national", access.Admin) // user.created and token.created by certdesk
	p := admin.Principal()
	var made []*identity.User
	for _, email := range []string{"a@city.example", "b@city.example", "c@city.example"} {
		u, err := h.App.Identity.CreateUserIn(ctx, p, "city", identity.NewUser{Email: email, Role: access.Reporter})
		require.NoError(t, err)
		made = append(made, u)
	}
	svc := h.App.Audit
	read := func(q audit.Query) []audit.Entry {
		t.Helper()
		es, _, err := svc.Read(ctx, p, q)
		require.NoError(t, err)
		return es
	}

	byAdmin := read(audit.Query{Actor: strings.ToUpper(admin.Email)})
	require.Len(t, byAdmin, 3, "the actor matches ignoring case")
	for i, e := range byAdmin {
		require.Equal(t, audit.UserCreated, e.Action)
		require.Equal(t, made[2-i].ID.String(), e.TargetID, "newest first")
	}
	require.Len(t, read(audit.Query{Action: audit.TokenCreated}), 1)
	require.Len(t, read(audit.Query{Actor: "certdesk", Action: audit.UserCreated}), 1)
	one := read(audit.Query{TargetType: "user", TargetID: made[1].ID.String()})
	require.Len(t, one, 1)
	require.Equal(t, admin.Email, one[0].Actor)
	require.Empty(t, read(audit.Query{TargetType: "token", TargetID: made[1].ID.String()}))

	// The time range: at or after since, before until.
	mid := byAdmin[1].At
	require.Len(t, read(audit.Query{Actor: admin.Email, Since: &mid}), 2)
	require.Len(t, read(audit.Query{Actor: admin.Email, Until: &mid}), 1)
	later := mid.Add(time.Microsecond)
	require.Len(t, read(audit.Query{Actor: admin.Email, Since: &mid, Until: &later}), 1)
	_, _, err := svc.Read(ctx, p, audit.Query{Since: &later, Until: &mid})
	require.Equal(t, "until/after_since", fieldOf(t, err))

	// Pages keep the filters.
	first, next, err := svc.Read(ctx, p, audit.Query{Actor: admin.Email, Limit: 2})
	require.NoError(t, err)
	require.Len(t, first, 2)
	require.NotEmpty(t, next)
	second, next, err := svc.Read(ctx, p, audit.Query{Actor: admin.Email, Limit: 2, After: next})
	require.NoError(t, err)
	require.Equal(t, []string{made[0].ID.String()}, []string{second[0].TargetID})
	require.Len(t, second, 1)
	require.Empty(t, next)
	_, _, err = svc.Read(ctx, p, audit.Query{After: "not-a-cursor"})
	require.Equal(t, "cursor/format", fieldOf(t, err))
}
