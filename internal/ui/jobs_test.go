package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// jobsCall sends one request to River's web UI as a same-origin browser's
// script does (site names the Sec-Fetch-Site header).
func (c *client) jobsCall(method, path, body, site string) *page {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", site)
	if site == "same-origin" {
		req.Header.Set("Origin", c.base)
	}
	return c.do(req)
}

// River's web UI is mounted at /admin/jobs for the national CERT's
// administrators only: they see the queued jobs and may cancel one, which
// the audit log records; every other role and organisation, including
// other organisations' administrators, gets 403 on the page and on its
// API, a signed-out visitor the sign-in page, and a cross-site write is
// refused before it reaches River.
func TestJobsUIIsTheNationalAdministratorsAndAudited(t *testing.T) {
	t.Parallel()
	// The workers stay stopped, so the new incident's jobs stay queued.
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	ctx := context.Background()
	for name, slug := range map[string]string{"admin-north": "cert-north", "admin-city": "city-north", "admin-national": "national"} {
		w.user(t, name, slug, access.Admin, "Admin "+slug)
	}
	national := w.signedIn(t, "admin-national")

	require.Equal(t, "/admin/jobs/", national.get("/admin/jobs").header.Get("Location"))
	pg := national.get("/admin/jobs/")
	require.Equal(t, http.StatusOK, pg.status)
	require.Contains(t, pg.body, `id="config__json"`, "River's page")
	require.Contains(t, pg.header.Get("Content-Security-Policy"), "script-src 'self'", "certdesk's CSP holds on River's page")
	require.Contains(t, national.get("/admin").body, `href="/admin/jobs/"`, "the administration links to it")

	list := national.get("/admin/jobs/api/jobs?state=available&limit=100")
	require.Equal(t, http.StatusOK, list.status, list.body)
	var jobs struct {
		Data []struct {
			ID    int64  `json:"id"`
			Kind  string `json:"kind"`
			State string `json:"state"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(list.body), &jobs))
	require.NotEmpty(t, jobs.Data, "the new incident's jobs are queued: %s", list.body)
	victim := jobs.Data[0]

	t.Run("everyone else is refused", func(t *testing.T) {
		for _, name := range []string{"admin-north", "admin-city", "national", "responder", "reporter"} {
			c := w.signedIn(t, name)
			require.Equal(t, http.StatusForbidden, c.get("/admin/jobs/").status, name)
			got := c.get("/admin/jobs/api/jobs?state=available")
			require.Equal(t, http.StatusForbidden, got.status, name)
			require.NotContains(t, got.body, victim.Kind, name)
			got = c.jobsCall(http.MethodPost, "/admin/jobs/api/jobs/cancel", `{"ids":["`+strconv.FormatInt(victim.ID, 10)+`"]}`, "same-origin")
			require.Equal(t, http.StatusForbidden, got.status, name)
		}
		anon := newClient(t, w.h.URL)
		got := anon.get("/admin/jobs/api/jobs")
		require.Equal(t, http.StatusSeeOther, got.status)
		require.Contains(t, got.header.Get("Location"), "/signin")
	})

	body := `{"ids":["` + strconv.FormatInt(victim.ID, 10) + `"]}`
	got := national.jobsCall(http.MethodPost, "/admin/jobs/api/jobs/cancel", body, "cross-site")
	require.Equal(t, http.StatusForbidden, got.status, "a write from another site")
	entries, _, err := w.h.App.Audit.Read(ctx, w.users["admin-national"].Principal(), audit.Query{Action: audit.JobsOperated})
	require.NoError(t, err)
	require.Empty(t, entries, "a refused write is not recorded as done")

	got = national.jobsCall(http.MethodPost, "/admin/jobs/api/jobs/cancel", body, "same-origin")
	require.Equal(t, http.StatusOK, got.status, got.body)
	one := national.get("/admin/jobs/api/jobs/" + strconv.FormatInt(victim.ID, 10))
	require.Equal(t, http.StatusOK, one.status, one.body)
	require.Contains(t, one.body, `"state":"cancelled"`)

	entries, _, err = w.h.App.Audit.Read(ctx, w.users["admin-national"].Principal(), audit.Query{Action: audit.JobsOperated})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	e := entries[0]
	require.Equal(t, w.email("admin-national"), e.Actor)
	require.Equal(t, "/admin/jobs/api/jobs/cancel", e.TargetID)
	require.JSONEq(t, `{"method":"POST","request":`+body+`}`, string(e.Data))
}
