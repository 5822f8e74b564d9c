package ui_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// reportWalk is every page of the reporting organisation's journey, in
// the order a city's reporter meets them: "Our reports", the start page,
// every question of the guided report (with an error, a revealed
// question, a file, recognised indicators), check your answers, the
// confirmation, the start page with a draft, the incident's legal
// reports, a legal report's form and check page, and the legal reports
// page with what was sent. The steps use selectors only, so the walk
// runs in any language.
func reportWalk(w *demoWorld) []visit {
	var sent string // the confirmation's address
	berlin, _ := time.LoadLocation("Europe/Berlin")
	noticed := w.h.Clock.Now().Add(-2 * time.Hour).In(berlin)
	next := func(b *tab) { b.t.Helper(); b.next() }
	return []visit{
		{"our-reports", func(b *tab) { b.signIn(w.reporterEmail(), w.password); b.open("/reports") }},
		{"report-start", func(b *tab) { b.open("/report") }},
		{"report-noticed", func(b *tab) { b.submit(`form[action="/report"] button`) }},
		{"report-noticed-error", next},
		{"report-what", func(b *tab) {
			b.fill("#noticed-day", strconv.Itoa(noticed.Day()), "#noticed-month", strconv.Itoa(int(noticed.Month())),
				"#noticed-year", strconv.Itoa(noticed.Year()), "#noticed-hour", strconv.Itoa(noticed.Hour()), "#noticed-minute", "05")
			b.choose("noticed_about")
			b.next()
		}},
		{"report-services", func(b *tab) {
			b.choose("what")
			b.fill("#what_details", "README-RESTORE.txt")
			b.next()
			b.choose("services") // yes: the question beneath appears
		}},
		{"report-personal", func(b *tab) { b.fill("#services_which", "Bürgerbüro"); b.next() }},
		{"report-personal-data", func(b *tab) { b.choose("personal"); b.next() }},
		{"report-personal-numbers", func(b *tab) { b.choose("data_categories"); b.choose("data_categories-health"); b.next() }},
		{"report-personal-dpo", func(b *tab) { b.fill("#people_count", "1200"); b.next() }},
		{"report-personal-impact", next},
		{"report-personal-told", next},
		{"report-malicious", func(b *tab) { b.choose("told-not-yet"); b.next() }},
		{"report-cross-border", func(b *tab) { b.choose("malicious"); b.next(); b.choose("cross_border") }},
		{"report-severe", func(b *tab) { b.next() }},
		{"report-damage", func(b *tab) { b.choose("severe"); b.next() }},
		{"report-assets", func(b *tab) { b.choose("damage-unknown"); b.next() }},
		{"report-contact", func(b *tab) { b.next() }},
		{"report-sharing", func(b *tab) { b.fill("#contact_phone", "+49 421 5550 4000"); b.next() }},
		{"report-files", func(b *tab) {
			b.next()
			path := filepath.Join(b.t.TempDir(), "lösegeld.txt")
			require.NoError(b.t, os.WriteFile(path, []byte("README"), 0o600))
			b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}))
			b.submit(`form.upload-form button[type=submit]`)
		}},
		{"report-indicators", func(b *tab) { b.next() }},
		{"report-indicators-recognised", func(b *tab) {
			b.fill("#indicators", "evil[.]example\n203.0.113.7\nhxxps://evil[.]example/pay\nkeinindikator")
			b.submit(`button[name=preview]`)
		}},
		{"report-check", next},
		{"report-sent", func(b *tab) {
			b.submit(`button[data-once-button]`)
			sent = b.location()
			require.True(b.t, strings.HasPrefix(sent, "/report/sent/"), sent)
		}},
		{"report-start-drafts", func(b *tab) {
			b.open("/report")
			b.submit(`form[action="/report"] button`)
			b.choose("noticed_unknown")
			b.next()
			b.open("/report")
		}},
		{"report-discard", func(b *tab) { b.submit(`.delete-link`) }},
		{"our-reports-after", func(b *tab) { b.open("/reports") }},
		{"incident-legal", func(b *tab) { b.open("/incidents/" + strings.TrimPrefix(sent, "/report/sent/")) }},
		{"legal-early-warning", func(b *tab) { b.submit(`.task-list a[href$="/legal/nis2_early_warning"]`) }},
		{"legal-early-warning-check", next},
		{"legal-sent", func(b *tab) { b.submit(`button[data-once-button]`) }},
		{"legal-gdpr", func(b *tab) { b.submit(`.task-list a[href$="/legal/gdpr_notification"]`) }},
		{"legal-gdpr-error", func(b *tab) {
			eval[chromedp.Void](b, `document.querySelector("#gd_nature").value = ""`)
			b.next()
		}},
	}
}

func (w *demoWorld) reporterEmail() string { return "reporter@city-northbridge.demo" }

// Every page of the reporting journey, light and dark, at 1280 and 390
// pixels: axe-core finds no serious or critical violation, no page
// scrolls sideways on a phone (nor at 320 pixels), and each is
// screenshotted into $TMPDIR/certdesk-screens/<test name>/.
func TestBrowserReportPagesAreAccessible(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	for i, v := range reportWalk(w) {
		b.look(false, 1280)
		v.go_(b)
		prefix := strconv.Itoa(100 + i)[1:] + "-" + v.name
		for _, dark := range []bool{false, true} {
			for _, width := range []int64{1280, 390} {
				b.look(dark, width)
				name := prefix + map[bool]string{false: "-light", true: "-dark"}[dark] + "-" + strconv.FormatInt(width, 10)
				b.axe(name)
				b.screenshot(dir, name)
				if width == 390 {
					require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling on a phone", name)
				}
			}
		}
		b.look(false, 320)
		require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 320, "%s: reflows at 320 px", v.name)
	}
}

// With German chosen, no page of the reporting journey shows an English
// string of the catalogue: not in its text, its title, its labels for
// screen readers, nor its hidden parts.
func TestBrowserGermanReportPagesHaveNoEnglish(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	english := englishFragments(t, w)
	b := newTab(t, w.h.URL)
	b.open("/signin")
	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	for _, v := range reportWalk(w) {
		v.go_(b)
		require.Equal(t, "de", eval[string](b, "document.documentElement.lang"), v.name)
		seen := eval[string](b, `[document.title, document.body.textContent,
			...Array.from(document.querySelectorAll("[aria-label],[title],[alt],[placeholder]")).map(e =>
				[e.getAttribute("aria-label"), e.getAttribute("title"), e.getAttribute("alt"), e.getAttribute("placeholder")].join(" "))
		].join("\n")`)
		for _, data := range userData(t, w) {
			seen = strings.ReplaceAll(seen, data, "")
		}
		for _, en := range english {
			require.NotContains(t, seen, en, "%s shows English", v.name)
		}
	}
}
