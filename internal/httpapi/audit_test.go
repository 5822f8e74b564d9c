package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// TestAuditLogFilters: GET /api/v1/audit narrows the log by actor,
// action, target and time (audit.Service.Read, which the web interface
// calls too); the filters are documented parameters, malformed times are
// a 422 naming them, and the log stays the national CERT admins'.
func TestAuditLogFilters(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("city", org.LocalAuthority, "national")
	admin, tok := h.User("national", access.Admin)
	_, cityTok := h.User("city", access.Admin)
	for _, email := range []string{"a@city.example", "b@city.example"} {
		r := h.As(tok).Request(http.MethodPost, "/api/v1/users", map[string]any{"org": "city", "email": email, "role": "reporter"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	}
	type page struct {
		Entries []struct {
			Action   string `json:"action"`
			Actor    string `json:"actor"`
			TargetID string `json:"target_id"`
			At       string `json:"at"`
		} `json:"entries"`
		NextCursor *string `json:"next_cursor"`
	}
	get := func(token string, q url.Values) (*testapp.Response, page) {
		t.Helper()
		r := h.As(token).Request(http.MethodGet, "/api/v1/audit?"+q.Encode(), nil)
		var p page
		if r.Status == http.StatusOK {
			r.JSON(t, &p)
		}
		return r, p
	}
	r, p := get(tok, url.Values{"actor": {admin.Email}, "action": {"user.created"}, "target_type": {"user"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, p.Entries, 2)
	newest := p.Entries[0]
	require.Equal(t, admin.Email, newest.Actor)
	_, p = get(tok, url.Values{"target_id": {newest.TargetID}})
	require.Len(t, p.Entries, 1)
	_, p = get(tok, url.Values{"actor": {admin.Email}, "since": {newest.At}})
	require.Len(t, p.Entries, 1)
	_, p = get(tok, url.Values{"actor": {admin.Email}, "until": {newest.At}})
	require.Len(t, p.Entries, 1)
	_, p = get(tok, url.Values{"actor": {admin.Email}, "limit": {"1"}})
	require.Len(t, p.Entries, 1)
	require.NotNil(t, p.NextCursor)
	_, p = get(tok, url.Values{"actor": {admin.Email}, "limit": {"1"}, "cursor": {*p.NextCursor}})
	require.Len(t, p.Entries, 1)
	require.NotEqual(t, newest.TargetID, p.Entries[0].TargetID)

	r, _ = get(tok, url.Values{"since": {"yesterday"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "since", fieldOf(t, r))
	r, _ = get(tok, url.Values{"since": {newest.At}, "until": {newest.At}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "until", fieldOf(t, r))
	r, _ = get(cityTok, url.Values{"actor": {admin.Email}})
	require.Equal(t, http.StatusForbidden, r.Status, "a city's admin does not read the log")
}
