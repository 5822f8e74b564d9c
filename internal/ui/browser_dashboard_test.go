package ui_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// openByStageSQL counts the open incidents a person may see by stage and
// severity, written from the visibility rule of docs/security.md and
// design.md §2 directly on the tables (no roll-up, no store code): named
// participants see any incident; TLP:AMBER+STRICT only the reporting and
// the coordinating organisation; below it also every CERT above the
// reporting organisation and the organisations it was shared with or
// escalated to.
const openByStageSQL = `
WITH RECURSIVE below(id) AS (
    SELECT id FROM organizations WHERE id = $2
    UNION SELECT o.id FROM organizations o JOIN below b ON o.parent_id = b.id)
SELECT i.stage, i.severity, count(*) FROM incidents i
WHERE i.status = 'open' AND (
    EXISTS (SELECT 1 FROM incident_participants p WHERE p.incident_id = i.id AND p.user_id = $1)
    OR (i.tlp = 'TLP:AMBER+STRICT' AND (i.reporting_org_id = $2 OR i.coordinating_org_id = $2))
    OR (i.tlp IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') AND (
        i.reporting_org_id IN (SELECT id FROM below) OR i.coordinating_org_id = $2
        OR EXISTS (SELECT 1 FROM incident_shares s WHERE s.incident_id = i.id AND s.org_id = $2))))
GROUP BY i.stage, i.severity`

// The national CERT's viewer signs in and lands on the dashboard; the
// open incidents by stage and severity on it are what an independent SQL
// count finds; a cell's drill-down lands on the incident list showing
// exactly the incidents it counts; the monthly briefing downloads under
// the session and its text names the organisation, the month and the
// TLP marking; the printed dashboard is one A4 page; the dashboard and an
// incident's executive summary are axe-clean in light and dark themes
// (screenshots in $TMPDIR/certdesk-screens/TestBrowserViewerDashboard/).
func TestBrowserViewerDashboard(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	ctx := context.Background()
	email := "viewer@national-cert.demo"
	var userID, orgID uuid.UUID
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(ctx, `SELECT id, org_id FROM users WHERE email = $1`, email).Scan(&userID, &orgID))
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	b.look(false, 1280)
	require.EqualValues(t, http.StatusOK, b.signIn(email, app.DemoPassword))
	require.Equal(t, "/dashboard", b.location(), "a viewer lands on the dashboard")

	// The chart's numbers, as its table gives them, against SQL.
	want := map[string]int{}
	rows, err := w.h.App.DB.SQL.QueryContext(ctx, openByStageSQL, userID, orgID)
	require.NoError(t, err)
	for rows.Next() {
		var stage, sev string
		var n int
		require.NoError(t, rows.Scan(&stage, &sev, &n))
		want[stage+"/"+sev] = n
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, want)
	raw := eval[string](b, `JSON.stringify((() => {
		const t = document.querySelector("#dash-open-by-stage .dash-table table");
		const cols = Array.from(t.querySelectorAll("thead th")).slice(1).map(th => th.textContent.trim());
		const out = {};
		for (const tr of t.querySelectorAll("tbody tr")) {
			const cells = Array.from(tr.children).map(c => c.textContent.trim());
			cols.forEach((c, i) => { out[cells[0] + "/" + c] = cells[i + 1]; });
		}
		return out;
	})())`)
	var shown map[string]string
	require.NoError(t, json.Unmarshal([]byte(raw), &shown))
	got := map[string]int{}
	best, bestN := "", 0
	for k, v := range shown {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "%s: %q", k, v)
		if n > 0 {
			got[k] = n
		}
		if n > bestN {
			best, bestN = k, n
		}
	}
	require.Equal(t, want, got, "open incidents by stage and severity: the dashboard against SQL")

	// Printed, the dashboard is one A4 page, and nothing on it is wider
	// than the paper (A4 less 8 mm margins is 733 CSS pixels).
	b.within(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		if err == nil {
			err = chromedp.Do(ctx, chromedp.EmulateViewport(733, 1000))
		}
		return err
	})
	wide := eval[string](b, `Array.from(document.querySelectorAll("body *")).filter(e => {
		const r = e.getBoundingClientRect(); return r.width > 0 && r.right > document.documentElement.clientWidth + 1;
	}).slice(0, 8).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`)
	require.Empty(t, wide, "printed, these are wider than the paper")
	b.within(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
		return err
	})
	b.look(false, 1280)
	var pdf []byte
	b.within(func(ctx context.Context) error {
		yes := true
		res, err := chromedp.Call(ctx, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69,
			PreferCSSPageSize: &yes, PrintBackground: &yes})
		pdf = res.Data
		return err
	})
	printed := filepath.Join(dir, "dashboard-print.pdf")
	require.NoError(t, os.WriteFile(printed, pdf, 0o644))
	info, err := exec.Command(poppler(t, "pdfinfo"), printed).Output()
	require.NoError(t, err)
	require.Regexp(t, `(?m)^Pages:\s+1$`, string(info), "the printed dashboard is one page")
	require.NoError(t, exec.Command(poppler(t, "pdftoppm"), "-png", "-r", "60", "-singlefile", printed, filepath.Join(dir, "dashboard-print")).Run())

	// Screenshots and axe, light and dark, at desk and phone widths.
	shoot := func(name string) {
		for _, dark := range []bool{false, true} {
			for _, width := range []int64{1280, 390} {
				b.look(dark, width)
				label := fmt.Sprintf("%s-%s-%d", name, map[bool]string{false: "light", true: "dark"}[dark], width)
				if width == 1280 || !dark {
					axeSlow(b, label)
				}
				b.screenshot(dir, label)
				if width == 390 {
					require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling on a phone", label)
				}
			}
		}
		b.look(false, 1280)
	}
	shoot("dashboard")

	// The monthly briefing downloads under the session.
	href := eval[string](b, `document.querySelector(".dash-downloads a[href^='/dashboard/briefing.pdf']").getAttribute("href")`)
	body := eval[string](b, `fetch(`+strconv.Quote(href)+`).then(r => r.ok && r.headers.get("Content-Type") === "application/pdf" ? r.arrayBuffer() : Promise.reject(r.status))
		.then(buf => { let s = ""; new Uint8Array(buf).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`)
	briefing, err := base64.StdEncoding.DecodeString(body)
	require.NoError(t, err)
	text := strings.Join(pdfPages(t, briefing), "\n")
	month := strings.TrimPrefix(href, "/dashboard/briefing.pdf?month=")
	require.Contains(t, text, "Monthly briefing")
	require.Contains(t, text, "National CERT")
	require.Contains(t, text, "TLP:AMBER+STRICT")
	require.NotEmpty(t, month)

	// A cell's drill-down lands on the incident list with exactly the
	// incidents it counts.
	stage, sev, _ := strings.Cut(best, "/")
	b.look(false, 1280)
	link := eval[string](b, `(() => { for (const a of document.querySelectorAll("#open-by-stage a")) {
		const u = new URL(a.getAttribute("href"), location.href);
		if (u.searchParams.get("stage") === `+strconv.Quote(stage)+` && u.searchParams.get("severity") === `+strconv.Quote(sev)+`) return a.getAttribute("href"); }
		return ""; })()`)
	require.NotEmpty(t, link, "the %s cell links to the list", best)
	require.EqualValues(t, http.StatusOK, b.submit(`#open-by-stage a[href="`+link+`"] rect`))
	require.True(t, strings.HasPrefix(b.location(), "/incidents?"), b.location())
	require.Equal(t, bestN, eval[int](b, `document.querySelectorAll("main table tbody tr").length`), "the list shows what the cell counts")
	require.Contains(t, b.text(".list-filtered"), "Only the incidents")

	// A region's bar lands on the incidents reported in it or below it
	// during the period: as many as the bar counts.
	require.EqualValues(t, http.StatusOK, b.open("/dashboard"))
	bar := eval[string](b, `(() => { const a = document.querySelector("#regions a[href*='constituency=']");
		return a ? a.getAttribute("href") + "\n" + a.querySelector("title").textContent : ""; })()`)
	regionLink, barTitle, _ := strings.Cut(bar, "\n")
	require.NotEmpty(t, regionLink, "a region's bar links to the list")
	_, count, _ := strings.Cut(barTitle, ": ")
	regionN, err := strconv.Atoi(count)
	require.NoError(t, err, "the bar's title %q", barTitle)
	require.EqualValues(t, http.StatusOK, b.submit(`#regions a[href="`+regionLink+`"] rect`))
	require.Equal(t, regionN, eval[int](b, `document.querySelectorAll("main table tbody tr").length`),
		"the list shows what the region's bar counts (%s)", barTitle)

	// An incident's executive summary: from the incident page, printable.
	ref := eval[string](b, `document.querySelector("main table tbody tr a").textContent.trim()`)
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+ref))
	require.EqualValues(t, http.StatusOK, b.submit(`.incident-reports a[href$="/summary"]`))
	require.Equal(t, "/incidents/"+ref+"/summary", b.location())
	require.Contains(t, b.text("main"), "Key events")
	shoot("summary")
}

// poppler returns the path of a poppler-utils tool (make test installs
// the package when it is missing).
func poppler(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	require.NoError(t, err, "%s is missing: install Debian's poppler-utils (make test does)", tool)
	return path
}

// pdfPages extracts the text of a PDF, one string per page.
func pdfPages(t *testing.T, pdf []byte) []string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.pdf")
	require.NoError(t, os.WriteFile(in, pdf, 0o600))
	out, err := exec.Command(poppler(t, "pdftotext"), "-layout", "-enc", "UTF-8", in, "-").Output()
	require.NoError(t, err)
	return strings.Split(strings.TrimRight(string(out), "\f\n "), "\f")
}

// axeSlow is tab.axe with a longer deadline: a dashboard has a thousand
// SVG nodes, and axe's contrast checks on a loaded two-core machine take
// longer than the 30 seconds of an ordinary page.
func axeSlow(b *tab, label string) {
	b.t.Helper()
	if !eval[bool](b, "typeof window.axe === 'object'") {
		eval[chromedp.Void](b, axeSource)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 4*time.Minute)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ['violations'], rules: {'target-size': {enabled: true}}})
		.then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err, "axe on %s", label)
	var vs []axeViolation
	require.NoError(b.t, json.Unmarshal([]byte(raw), &vs))
	for _, v := range vs {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target)+": "+n.Summary)
		}
		b.t.Errorf("axe on %s: %s (%s): %s\n  %s", label, v.ID, v.Impact, v.Help, strings.Join(where, "\n  "))
	}
}
