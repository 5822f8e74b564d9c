package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// demoTeam makes the team "Forensics" of CERT North (as its demo
// coordinator) and returns its ID; the demo has no teams.
func demoTeam(t *testing.T, w *demoWorld) string {
	t.Helper()
	ctx := context.Background()
	u, err := w.h.App.Identity.UserByEmail(ctx, access.System, "coordinator@cert-north.demo")
	require.NoError(t, err)
	tm, err := w.h.App.Teams.Create(ctx, u.Principal(), "Forensics")
	require.NoError(t, err)
	return tm.ID.String()
}

// casePasted are the observables the journey pastes: defanged and not,
// one a line, one line with two.
const casePasted = "185.220.101.4\nhxxps://invoice-portal[.]example/pay.php\nbilling@invoice-portal.example, 44d88612fea8a8f36de82e1278abb02f\nCVE-2024-3400"

// CERT North's responder works the demo's ransomware incident at night:
// pastes several observables (shown defanged, each with its type), adds a
// task for the team Forensics, moves it on the board, and shares the
// incident with CERT South, which then opens it. Every state is
// axe-checked and screenshotted light and dark at 1280 and 390 pixels,
// without sideways scrolling.
func TestBrowserCaseworkJourney(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	demoTeam(t, w)
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	shot := func(name string) {
		for _, dark := range []bool{false, true} {
			for _, width := range []int64{1280, 390} {
				b.look(dark, width)
				n := name + map[bool]string{false: "-light", true: "-dark"}[dark] + "-" + map[int64]string{1280: "1280", 390: "390"}[width]
				b.axe(n)
				b.screenshot(dir, n)
				if width == 390 {
					require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling", n)
				}
			}
		}
		b.look(false, 1280)
	}
	require.EqualValues(t, http.StatusOK, b.signIn("responder@cert-north.demo", "lighthouse-harbour-2026"))
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+w.ref))
	shot("incident")

	// Observables: an unrecognised line first, then the list.
	b.fill("#observables-paste", casePasted+"\nsee attachment")
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`form[action$="/observables"] button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "attachment")
	require.Contains(t, eval[string](b, `document.querySelector("#observables-paste").value`), "invoice-portal[.]example", "the text is kept")
	shot("observables-error")
	b.fill("#observables-paste", casePasted)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/observables"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "5 new observables are added")
	table := b.text(".observable-table")
	for _, s := range []string{"185[.]220[.]101[.]4", "hxxps://invoice-portal[.]example/pay.php", "billing[@]invoice-portal[.]example",
		"44d88612fea8a8f36de82e1278abb02f", "CVE-2024-3400", "IPv4 address", "URL", "E-mail address", "MD5 hash", "CVE ID"} {
		require.Contains(t, table, s)
	}
	require.NotContains(t, table, "https://invoice-portal.example")
	shot("observables")

	// A task for the team, due tomorrow morning.
	b.fill("#task-title", "Image FS01 and FS03 before restoring", "#task-description", "Write-blocked, hashes into the evidence.")
	eval[chromedp.Void](b, `const s = document.querySelector("#task-team");
		s.value = Array.from(s.options).find(o => o.textContent === "Forensics").value;
		document.querySelector("#task-due").value = "2030-01-02T08:00"`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/tasks"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "The task is added")
	id := eval[string](b, `Array.from(document.querySelectorAll(".task-card")).find(c => c.textContent.includes("Image FS01")).id`)
	require.NotEmpty(t, id)
	require.Contains(t, b.text(".board-open"), "Image FS01 and FS03 before restoring")
	require.Contains(t, b.text("#"+id), "Forensics")
	shot("task-created")

	require.EqualValues(t, http.StatusOK, b.submit("#"+id+` button[value="in_progress"]`))
	require.Contains(t, b.text(".board-in_progress"), "Image FS01 and FS03 before restoring")
	require.NotContains(t, b.text(".board-open"), "Image FS01")
	// Its assignment, opened.
	b.do(chromedp.Click(chromedp.CSS("#"+id+" .task-assign summary"), chromedp.NodeVisible))
	shot("task-moved")

	// Shared with CERT South, which then opens the incident.
	eval[chromedp.Void](b, `document.querySelector("#share-org").value = "cert-south"`)
	b.fill("#share-note", "The same invoice-portal domain hit Southvale.")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/shares"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "The incident is shared")
	require.Contains(t, b.text("#circle"), "CERT South (regional)")
	shot("shared")

	south := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, south.signIn("responder@cert-south.demo", "lighthouse-harbour-2026"))
	require.EqualValues(t, http.StatusOK, south.open("/incidents/"+w.ref))
	require.True(t, strings.Contains(south.text("h1"), "Ransomware"))
}

func init() {
	walks["casework"] = func(w *demoWorld) []visit {
		return []visit{
			{"casework-filled", func(b *tab) {
				b.open("/signin") // the walk before may have left someone signed in
				if eval[int](b, `document.querySelectorAll(".signout-form button").length`) > 0 {
					b.submit(`.signout-form button`)
				}
				b.signIn(w.responder, w.password)
				b.open("/incidents/" + w.ref)
				b.fill("#observables-paste", casePasted)
				b.submit(`form[action$="/observables"] button[type=submit]`)
				b.fill("#task-title", "Image FS01 and FS03 before restoring")
				b.submit(`form[action$="/tasks"] button[type=submit]`)
				eval[chromedp.Void](b, `document.querySelector("#share-org").value = "cert-south"`)
				b.submit(`form[action$="/shares"] button[type=submit]`)
			}},
			{"casework-task-error", func(b *tab) { b.submit(`form[action$="/tasks"] button[type=submit]`) }},
			{"casework-paste-error", func(b *tab) {
				b.fill("#observables-paste", "see attachment")
				b.submit(`form[action$="/observables"] button[type=submit]`)
			}},
			{"casework-end-share-error", func(b *tab) {
				b.do(chromedp.Click(chromedp.CSS(`.circle-end summary`), chromedp.NodeVisible))
				b.submit(`form[action$="/shares/cert-south/end"] button[type=submit]`)
			}},
		}
	}
}
