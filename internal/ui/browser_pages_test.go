package ui_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// visit is one page state of the walk through the UI: how to get there
// from the previous one.
type visit struct {
	name string
	go_  func(b *tab)
}

// walk is every page this step built, in an order one person can follow:
// signed out (sign-in, its errors, help, accessibility, 404), then signed
// in (lists, the incident, the triage queue with a bulk acknowledgement's
// confirmation and results, account and its errors, sessions, help).
func walk(w *demoWorld) []visit {
	out := []visit{
		{"signin", func(b *tab) { b.open("/signin") }},
		{"signin-error", func(b *tab) { b.signIn("nobody@city-northbridge.demo", "not-the-password-1") }},
		{"help-signed-out", func(b *tab) { b.open("/help") }},
		{"accessibility", func(b *tab) { b.open("/accessibility") }},
		{"not-found-signed-out", func(b *tab) { b.open("/no/such/page") }},
		{"incidents", func(b *tab) { b.signIn(w.email, w.password); b.open("/incidents") }},
		{"incident", func(b *tab) { b.open("/incidents/" + w.ref) }},
		{"incident-red", func(b *tab) { b.open("/incidents/" + w.redRef) }},
		{"queue", func(b *tab) { b.open("/queue") }},
		{"queue-confirm", func(b *tab) {
			b.open("/queue?tab=new")
			eval[chromedp.Void](b, `document.querySelectorAll(".queue-check").forEach((c, i) => { c.checked = i < 3 });
				document.querySelector("#bulk-action").value = "acknowledge"`)
			b.submit("#bulk-review")
		}},
		{"queue-results", func(b *tab) { b.submit("#bulk-confirm") }},
		{"account", func(b *tab) { b.open("/account") }},
		{"account-saved", func(b *tab) { b.open("/account?saved=1") }},
		{"password-error", func(b *tab) { b.open("/account/password"); b.submit(`main form button[type=submit]`) }},
		{"sessions", func(b *tab) { b.open("/account/sessions") }},
		{"help", func(b *tab) { b.open("/help") }},
		{"not-found", func(b *tab) { b.open("/incidents/INC-2099-000001") }},
		// The reporting city's view of its incident, its forms' errors, and
		// the pages of a comment (the demo's reporter wrote one).
		{"incident-reporter", func(b *tab) {
			b.submit(`.signout-form button`)
			b.signIn(w.reporter, w.password)
			b.open("/incidents/" + w.ref)
		}},
		{"incident-comment-error", func(b *tab) { b.submit(`form[action$="/comments"] button[type=submit]`) }},
		{"comment-edit", func(b *tab) { b.open("/incidents/" + w.ref); b.submit(`.comment a[href$="/edit"]`) }},
		{"comment-revisions", func(b *tab) {
			b.fill("#body", "Affected: **FS01** and **FS03**. FS02 and FS04 look clean; FS04 was checked twice.")
			b.submit(`main form button[type=submit]`)
			b.submit(`.comment a[href$="/revisions"]`)
		}},
		// The password reset pages, without cookies.
		{"password-reset", func(b *tab) { b.open(w.resetLink()) }},
		{"password-reset-error", func(b *tab) {
			b.fill("#password", "short", "#password_repeat", "shorter")
			b.submit(`main form button[type=submit]`)
		}},
		{"password-reset-done", func(b *tab) {
			b.fill("#password", "harbour-lantern-meadow-42", "#password_repeat", "harbour-lantern-meadow-42")
			b.submit(`main form button[type=submit]`)
		}},
		{"password-reset-invalid", func(b *tab) { b.open(w.lastReset) }},
	}
	names := make([]string, 0, len(walks))
	for name := range walks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, walks[name](w)...)
	}
	return out
}

// walks are the walks of the other areas of the UI (the workbench, the
// escalations, administration), each in its own file, registered from
// an init function and run after walk's own in the order of their names.
// Each starts where the previous one left off (the password reset pages,
// signed out): it signs in as the person it needs first.
var walks = map[string]func(w *demoWorld) []visit{}

// demoWorld is the demo directory and incidents (certdesk demo), as a
// newcomer sees them.
type demoWorld struct {
	h                   *testapp.Harness
	email, password     string
	ref, redRef         string
	reporter, responder string
	lastReset           string // the path of the last reset link issued
}

// resetLink issues a password reset link for the demo's national viewer
// and returns its path.
func (w *demoWorld) resetLink() string {
	ctx := context.Background()
	u, err := w.h.App.Identity.UserByEmail(ctx, access.System, "viewer@national-cert.demo")
	if err != nil {
		panic(err)
	}
	link, _, err := w.h.App.Identity.IssueResetLink(ctx, access.System, u.ID.String())
	if err != nil {
		panic(err)
	}
	w.lastReset = strings.TrimPrefix(link, w.h.URL)
	return w.lastReset
}

func newDemoWorld(t *testing.T, cfg func(*config.Config)) *demoWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{Config: cfg})
	ctx := context.Background()
	require.NoError(t, h.App.SeedDemo(ctx, io.Discard, h.URL))
	w := &demoWorld{h: h, email: "responder@cert-north.demo", password: "lighthouse-harbour-2026",
		reporter: "reporter@city-northbridge.demo", responder: "responder@cert-north.demo"}
	list, _, err := h.App.Incidents.List(ctx, access.System, incidentFilterAll(), pageOf(100))
	require.NoError(t, err)
	for _, inc := range list {
		switch inc.Title {
		case "Ransomware encrypted file servers at city hall":
			w.ref = inc.Reference
		case "Unexpected remote session on an OT engineering workstation":
			w.redRef = inc.Reference
		}
	}
	require.NotEmpty(t, w.ref)
	h.Eventually(func() bool {
		got, err := h.App.Incidents.Get(ctx, access.System, w.ref)
		return err == nil && got.CoordinatingOrgID != nil
	}, "the demo's incidents are routed")
	return w
}

// Every page, light and dark, at 1280 and 390 pixels: axe-core finds no
// serious or critical violation, and each is screenshotted for people to
// look at; no page scrolls sideways at 390 or 320 pixels.
func TestBrowserEveryPageIsAccessible(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	for _, v := range walk(w) {
		b.look(false, 1280)
		v.go_(b)
		for _, dark := range []bool{false, true} {
			for _, width := range []int64{1280, 390} {
				b.look(dark, width)
				name := v.name + map[bool]string{false: "-light", true: "-dark"}[dark] + "-" + map[int64]string{1280: "1280", 390: "390"}[width]
				b.axe(name)
				b.screenshot(dir, name)
				if width == 390 {
					require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling on a phone", name)
				}
			}
		}
		b.look(false, 320) // WCAG reflow: 320 CSS pixels, nothing cut off or scrolling sideways
		require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 320, "%s: reflows at 320 px", v.name)
	}
}

// englishFragments are the catalogue's English texts that German pages
// must not show: every English message, cut at its fmt verbs, keeping
// the pieces long enough to mean something and different from German.
func englishFragments(t *testing.T, w *demoWorld) []string {
	t.Helper()
	c := w.h.App.Messages
	verb := regexp.MustCompile(`%(\[[0-9]+\])?[sdvq]`)
	seen := map[string]bool{}
	for _, key := range c.Keys() {
		if strings.HasPrefix(key, "format.") || key == "language.name" || key == "app.name" {
			continue
		}
		en, _ := c.Text("en", key)
		de, _ := c.Text("de", key)
		for _, piece := range verb.Split(strings.ReplaceAll(en.Plain+en.Plural["other"], "%%", "%"), -1) {
			piece = strings.TrimSpace(strings.Trim(piece, " .,:;()“”"))
			if len(piece) < 6 || !strings.Contains(piece, " ") && len(piece) < 9 || strings.Contains(de.Plain+de.Plural["other"], piece) {
				continue
			}
			seen[piece] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	require.Greater(t, len(out), 100)
	return out
}

// userData is what people wrote (names, titles), longest first: it stays
// in their words, so it is taken out before looking for the catalogue's
// English. It is read at each page, as playbooks keep adding tasks.
func userData(t *testing.T, w *demoWorld) []string {
	t.Helper()
	var out []string
	rows, err := w.h.App.DB.SQL.Query(`SELECT name FROM users UNION SELECT name FROM organizations
		UNION SELECT title FROM incidents UNION SELECT title FROM incident_tasks UNION SELECT email FROM users
		UNION SELECT filename FROM incident_attachments`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// With German chosen on the sign-in page (a plain form), no page shows
// an English string of the catalogue: not in its text, its title, its
// labels for screen readers, nor the hidden session warning.
func TestBrowserGermanPagesHaveNoEnglish(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	english := englishFragments(t, w)
	b := newTab(t, w.h.URL)
	b.open("/signin")
	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	require.Equal(t, "/signin", b.location())
	for _, v := range walk(w) {
		if v.name == "signin" {
			continue
		}
		v.go_(b)
		// What people wrote (comments, descriptions, requests, and the
		// playbooks' names, questions and messages, marked data-written)
		// stays in their words: it is left out.
		eval[chromedp.Void](b, `window.withoutWritten = () => { const c = document.body.cloneNode(true);
			c.querySelectorAll(".prose, .request-text, .evidence-description, .hash, #body, [data-written]").forEach(e => e.remove());
			return c.textContent; }`)
		require.Equal(t, "de", eval[string](b, "document.documentElement.lang"), v.name)
		seen := eval[string](b, `[document.title, withoutWritten(),
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
	// The setting follows the person: signed in, the choice was saved.
	b.open("/account")
	require.Equal(t, "Deutsch", eval[string](b, `document.querySelector("#language option:checked").textContent`))
}

// With JavaScript off, people sign in, go everywhere through the
// navigation, change their settings, switch the language, stay signed
// in and sign out: every action is a plain form.
func TestBrowserWorksWithoutJavaScript(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	b := newTab(t, w.h.URL)
	b.scripts(false)
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+w.ref))
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.Equal(t, "/incidents/"+w.ref, b.location())
	require.False(t, eval[bool](b, `document.querySelector("#session-warning").hidden === false`), "the warning stays hidden without the script")

	require.EqualValues(t, http.StatusOK, b.submit(`.site-nav a[href="/incidents"]`))
	require.Equal(t, "/incidents", b.location())
	require.EqualValues(t, http.StatusOK, b.submit(`a[href="/incidents/`+w.ref+`"]`))
	require.EqualValues(t, http.StatusOK, b.submit(`.site-nav a[href="/account"]`))
	b.do(chromedp.Click(chromedp.CSS("#theme-dark")))
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/account/settings"] button[type=submit]`))
	require.Equal(t, "/account?saved=1", b.location())
	require.Equal(t, "dark", eval[string](b, "document.documentElement.dataset.theme"))

	// Without the script there is no warning: the session simply ends,
	// and the next page asks to sign in again and then returns.
	w.h.Advance(31 * time.Minute)
	require.EqualValues(t, http.StatusOK, b.submit(`a[href="/account/sessions"]`))
	require.Equal(t, "/signin?ended=1&return=%2Faccount%2Fsessions", b.location())
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.Equal(t, "/account/sessions", b.location())

	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	require.Equal(t, "Wo Sie angemeldet sind", b.text("h1"))
	require.EqualValues(t, http.StatusOK, b.submit(`.signout-form button`))
	require.Equal(t, "/signin?signedout=1", b.location())
	require.Equal(t, "Anmelden", b.text("h1"), "the language stays after signing out")
}

// Two minutes before the session ends, the warning appears (here at
// once: the idle timeout is one minute) with the focus on "Stay signed
// in"; pressing it extends the session in the background (app.js under
// the CSP, no page load).
func TestBrowserSessionWarningStaysSignedIn(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true, Config: func(c *config.Config) {
		c.SessionIdleTimeout = time.Minute
	}}})
	b := newTab(t, w.h.URL)
	b.signIn(w.email("reporter"), password)
	b.do(chromedp.WaitVisible(chromedp.CSS("#session-warning")))
	require.Equal(t, "Stay signed in", eval[string](b, "document.activeElement.textContent"))
	require.Contains(t, b.text("#session-warning"), "You will be signed out soon")
	w.h.Advance(50 * time.Second)
	eval[chromedp.Void](b, "window.__samePage = true")
	b.within(func(ctx context.Context) error {
		resp, err := chromedp.Run(ctx, chromedp.WaitEvent(network.ResponseReceived, func(ev network.EventResponseReceived) bool {
			return strings.HasSuffix(ev.Response.URL, "/session/extend")
		}, chromedp.Click(chromedp.CSS("#session-warning button"))))
		if err == nil && resp.Response.Status != http.StatusOK {
			err = fmt.Errorf("stay signed in: %d", resp.Response.Status)
		}
		return err
	})
	require.True(t, eval[bool](b, "window.__samePage === true"), "no page load")
	w.h.Advance(50 * time.Second)
	require.EqualValues(t, http.StatusOK, b.open("/account"), "the session was extended: 100 s after sign-in, 50 s after staying")
	require.Equal(t, "/account", b.location())
}
