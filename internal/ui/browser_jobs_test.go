package ui_test

import (
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The national CERT's administrator opens River's web UI from the
// administration's navigation and sees the new incident's queued jobs,
// under certdesk's Content-Security-Policy (River's page loads its own
// scripts and styles from certdesk's origin: the page renders, which it
// would not if the policy blocked them). Screenshots at 1280 px.
func TestBrowserJobsUI(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	w.user(t, "admin-national", "national", access.Admin, "Ada National")
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	b.look(false, 1280)
	b.signIn(w.email("admin-national"), password)
	require.EqualValues(t, http.StatusOK, b.open("/admin"))
	b.do(chromedp.Click(chromedp.CSS(`a[href="/admin/jobs/"]`), chromedp.NodeVisible))
	// River's own page: its navigation of job states, rendered by its
	// script with its stylesheet.
	b.do(chromedp.WaitVisible(chromedp.CSS(`a[href^="/admin/jobs/jobs"]`)))
	require.Contains(t, b.location(), "/admin/jobs/jobs")
	require.Equal(t, "River", eval[string](b, "document.title"))
	require.NotEqual(t, "rgba(0, 0, 0, 0)", eval[string](b, `getComputedStyle(document.querySelector("a[aria-current=page]")).backgroundColor`),
		"River's stylesheet applies")
	// The incident's deadline timers wait, scheduled.
	require.EqualValues(t, http.StatusOK, b.open("/admin/jobs/jobs?state=scheduled"))
	b.do(chromedp.WaitVisible(chromedp.CSS(`a[href^="/admin/jobs/jobs/"]`)))
	require.Contains(t, b.text("main"), "deadline.timer")
	b.screenshot(dir, "1-scheduled-1280")
	b.look(true, 390)
	b.screenshot(dir, "2-scheduled-390-dark")

	// certdesk's administration links to it in German too, on a phone.
	b.look(false, 390)
	require.EqualValues(t, http.StatusOK, b.open("/admin"))
	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	require.Contains(t, b.text(`a[href="/admin/jobs/"]`), "Hintergrundaufträge")
	b.screenshot(dir, "3-admin-de-390")
	b.look(true, 1280)
	b.screenshot(dir, "4-admin-de-1280-dark")
}
