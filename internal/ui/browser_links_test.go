package ui_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserLinkMergeUndo walks the "Linked incidents" section in a real
// browser: a second report of the demo's ransomware incident shows it as a
// possible duplicate on the queue and the workbench; the responder links
// it in one click, merges it, and undoes the merge; the reporting city
// sees "Merged into …" with the survivor's status while merged. Light and
// dark, 1280 and 390 pixels, axe on each; one screenshot in German.
func TestBrowserLinkMergeUndo(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	ctx := context.Background()
	rep, err := w.h.App.Identity.UserByEmail(ctx, access.System, w.reporter)
	require.NoError(t, err)
	dup, _, err := w.h.App.Incidents.Create(ctx, rep.Principal(), incident.NewIncident{Title: "Ransomware encrypted the file servers of city hall again",
		TLP: incident.TLPAmber, Severity: incident.High}, nil)
	require.NoError(t, err)
	w.h.Eventually(func() bool {
		got, err := w.h.App.Incidents.Get(ctx, access.System, dup.Reference)
		return err == nil && got.CoordinatingOrgID != nil
	}, "the second report is routed")

	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	// section saves the "Linked incidents" section alone, to judge it
	// without the whole page.
	section := func(name string) {
		b.within(func(ctx context.Context) error {
			png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#links"), chromedp.NodeVisible))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+"-section.png"), png, 0o644)
		})
	}
	shot := func(name string) {
		for _, dark := range []bool{false, true} {
			for _, width := range []int64{1280, 390} {
				b.look(dark, width)
				n := name + map[bool]string{false: "-light", true: "-dark"}[dark] + "-" + map[int64]string{1280: "1280", 390: "390"}[width]
				b.axe(n)
				b.screenshot(dir, n)
				section(n)
				if width == 390 {
					require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling", n)
				}
			}
		}
		b.look(false, 1280)
	}
	require.EqualValues(t, http.StatusOK, b.signIn(w.responder, w.password))
	require.EqualValues(t, http.StatusOK, b.open("/queue"))
	require.Contains(t, b.text(`tr[data-ref="`+dup.Reference+`"]`), "possible duplicates")

	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+dup.Reference+"#links"))
	require.Contains(t, b.text("#suggestions"), w.ref)
	shot("suggestion")

	require.EqualValues(t, http.StatusOK, b.submit(`#suggestions form[action$="/links"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "Incidents linked.")
	require.Contains(t, b.text("#links-list"), "Duplicate of")
	require.Contains(t, b.text("#links-list"), w.ref)

	eval[bool](b, `document.querySelector("#links details").open = true`)
	b.fill("#merge-into", w.ref)
	require.EqualValues(t, http.StatusOK, b.submit("#merge-submit"))
	require.Contains(t, b.text(".notice"), "Incident merged.")
	require.Contains(t, b.text("#merged-into"), "Merged into "+w.ref)
	shot("merged")

	// The reporting city follows the survivor's status.
	c := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, c.signIn(w.reporter, w.password))
	require.EqualValues(t, http.StatusOK, c.open("/incidents/"+dup.Reference))
	require.Contains(t, c.text("#merged-into"), "Merged into "+w.ref)
	require.Equal(t, 0, eval[int](c, `document.querySelectorAll("#merge-undo").length`), "a reporter may not undo")

	require.EqualValues(t, http.StatusOK, b.submit("#merge-undo"))
	require.Contains(t, b.text(".notice"), "Merge undone.")
	require.Equal(t, 0, eval[int](b, `document.querySelectorAll("#merged-into").length`))

	// German, at phone width.
	b.submit(`form[action="/language"] button[value="de"]`)
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+dup.Reference+"#links"))
	require.Contains(t, b.text("#links"), "Verknüpfte Vorfälle")
	b.look(false, 390)
	b.screenshot(dir, "links-de-390")
	section("links-de-390")
	b.look(true, 390)
	require.EqualValues(t, http.StatusOK, b.open("/queue"))
	b.screenshot(dir, "queue-de-dark-390")
}
