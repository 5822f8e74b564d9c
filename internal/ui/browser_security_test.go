package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/testapp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The XSS corpus: each payload calls window.__xss, a function the test
// exposes from Go, if it ever runs.
const (
	xssTitle       = `<img src=x onerror=__xss(1)><script>__xss(2)</script>"'><svg onload=__xss(3)>{{.}}`
	xssDescription = "[click me](javascript:__xss(4))\n\n<img src=x onerror=__xss(5)>\n\n<script>__xss(6)</script>\n\n" +
		"<a href=\"javascript:__xss(7)\">link</a> <iframe src=\"javascript:__xss(8)\"></iframe>\n\n" +
		"<details open ontoggle=__xss(9)>x</details> ![img](x\" onerror=\"__xss(10))"
	xssCity     = `City"><img src=x onerror=__xss(11)>`
	xssReporter = `Ana</strong><script>__xss(12)</script><b onmouseover=__xss(13)>`
	// What the incident page shows of its comments, evidence and requests.
	xssComment = "<script>__xss(14)</script><img src=x onerror=__xss(15)>\n\n[x](javascript:__xss(16)) " +
		"<svg><animate onbegin=__xss(17) attributeName=x dur=1s>"
	xssCommentEdited = "**edited** <iframe srcdoc=\"<script>parent.__xss(18)</script>\"></iframe>"
	xssFile          = `<img src=x onerror=__xss(19)>".txt`
	xssFileNote      = `</span><script>__xss(20)</script>`
	xssTask          = `<img src=x onerror=__xss(21)>`
	xssTaskNote      = `<script>__xss(22)</script>`
)

// An XSS corpus in an incident's title and description, an
// organisation's name, a user's name, a comment (and its earlier
// version), an evidence file's name and description and a request's
// title and description never runs: not on the list, the incident page,
// a comment's pages, the account, sessions or help pages, neither under
// the CSP nor with the CSP switched off (so that escaping alone is
// tested).
func TestBrowserXSSNeverRuns(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{title: xssTitle, description: xssDescription, cityName: xssCity, reporterName: xssReporter})
	ctx := context.Background()
	w.comment(t, "reporter", xssComment)
	_, cs, _, err := w.h.App.Comments.List(ctx, access.System, w.ref, pageOf(10))
	require.NoError(t, err)
	commentPath := "/incidents/" + w.ref + "/comments/" + cs[0].ID.String()
	_, err = w.h.App.Comments.Edit(ctx, w.principal(t, "reporter"), w.ref, cs[0].ID.String(), xssCommentEdited, nil)
	require.NoError(t, err)
	w.attach(t, "reporter", xssFile, xssFileNote, "evidence")
	_, err = w.h.App.Tasks.Create(ctx, w.principal(t, "responder"), w.ref, task.NewTask{Title: xssTask, Description: xssTaskNote,
		Assignee: w.email("reporter")})
	require.NoError(t, err)
	for _, bypassCSP := range []bool{false, true} {
		t.Run(fmt.Sprintf("bypassCSP=%v", bypassCSP), func(t *testing.T) {
			b := newTab(t, w.h.URL)
			var hits atomic.Int64
			b.do(chromedp.ExposeFunc("__xss", func(ctx context.Context, args []any) (chromedp.Void, error) {
				hits.Add(1)
				return chromedp.Void{}, nil
			}))
			b.within(func(ctx context.Context) error {
				_, err := chromedp.Call(ctx, cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: bypassCSP})
				return err
			})
			require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), password))
			for _, path := range []string{"/incidents", "/incidents/" + w.ref, commentPath + "/revisions", commentPath + "/edit",
				"/account", "/account/sessions", "/help", "/accessibility"} {
				require.EqualValues(t, http.StatusOK, b.open(path), path)
				require.Zero(t, eval[int](b, `document.querySelectorAll('img[src="x"], svg, iframe, [ontoggle], script:not([src^="/static/"]), [onerror], [onload], [onmouseover], a[href^="javascript"]').length`),
					"%s: no element of the corpus made it into the page", path)
			}
			b.open("/incidents/" + w.ref)
			require.Equal(t, xssTitle, eval[string](b, `document.querySelector("h1").textContent`), "the title shows as text")
			require.Equal(t, xssCity, eval[string](b, `document.querySelector(".header-org").textContent`))
			require.Contains(t, b.text(".timeline"), xssReporter)
			require.Equal(t, xssTask, b.text(".request-title"), "a request's title shows as text")
			require.Contains(t, b.text(".evidence-table"), xssFile, "a file's name shows as text")
			require.Contains(t, b.text(".evidence-table"), xssFileNote)
			require.Contains(t, b.text(".comment .prose"), "edited", "the comment's Markdown is rendered")
			b.open(commentPath + "/edit")
			require.Equal(t, xssCommentEdited, eval[string](b, `document.querySelector("#body").value`), "the edit form holds the text as written")
			require.Zero(t, hits.Load(), "the corpus ran")

			// The hook works: a call from the page is counted.
			eval[chromedp.Void](b, "__xss(0)")
			w.h.Eventually(func() bool { return hits.Load() == 1 }, "the hook counts calls")
		})
	}
}

// A form posted from another site is refused (403, nothing changes), and
// a cross-site post to sign out does not end the session (the cookie is
// SameSite=Lax, and the CSRF check would refuse it anyway).
func TestBrowserCrossSitePostIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	app, err := url.Parse(w.h.URL)
	require.NoError(t, err)
	// The attacker's site: another host name (localhost, not 127.0.0.1),
	// so the browser sees another site.
	evil := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		action, field := "/language", `<input name="lang" value="de"><input name="csrf" value="guess">`
		if r.URL.Path == "/signout" {
			action, field = "/signout", `<input name="csrf" value="guess">`
		}
		fmt.Fprintf(rw, `<!doctype html><title>win a prize</title><form id=f method=post action="%s%s">%s</form>`+
			`<script>document.getElementById("f").submit()</script>`, w.h.URL, action, field)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	require.NotEqual(t, app.Host, strings.TrimPrefix(evilURL, "http://"))

	b := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))

	b.within(func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(evilURL+"/language"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	})
	require.True(t, strings.HasPrefix(b.location(), "/language"), b.location())
	require.Equal(t, "This form could not be sent", b.text("main h1"))
	b.open("/incidents")
	require.Equal(t, "en", eval[string](b, "document.documentElement.lang"), "the language did not change")

	b.within(func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Navigate(evilURL+"/signout"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	})
	require.EqualValues(t, http.StatusOK, b.open("/incidents"))
	require.Equal(t, "/incidents", b.location(), "still signed in")
}
