package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// key presses one key on the page (to whatever has the focus).
func (b *tab) key(k string) {
	b.t.Helper()
	b.do(chromedp.KeyEvent(k))
}

// refs lists the references of the queue's rows, in order.
func (b *tab) refs() []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll("tbody[data-queue-rows] tr[data-ref]")).map(r => r.dataset.ref)`)
}

// A CERT responder's shift in the queue, in a real browser with the
// page's own script: a city's new report appears without a reload within
// two seconds and is announced politely; the keyboard moves, selects and
// acknowledges; the bulk bar acknowledges a selection through one
// confirmation page with a result per incident; filters and the sort live
// in the URL; the page carries no inline script or style (CSP) and axe
// finds nothing serious. Screenshots of each state for people to judge.
func TestBrowserQueueShift(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	rep := w.users["reporter"].Principal()
	var older []string
	for _, title := range []string{"Phishing wave against the city's payroll office", "Defaced web site of the public library"} {
		inc, _, err := w.h.App.Incidents.Create(ctx, rep, incident.NewIncident{Title: title, Severity: incident.Medium, TLP: incident.TLPAmber}, nil)
		require.NoError(t, err)
		older = append(older, inc.Reference)
	}
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	b.look(false, 1280)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.Equal(t, "/queue", b.location(), "a CERT's responder lands on the queue")
	require.Equal(t, []string{w.ref, older[0], older[1]}, b.refs(), "the NIS2 clock first, then the oldest report")
	require.Contains(t, b.text("tr[data-ref='"+w.ref+"'] .cell-clock"), "NIS2 early warning")
	require.Zero(t, eval[int](b, `document.querySelectorAll("script:not([src]), style, [style]").length`), "no inline script or style (CSP)")
	b.axe("queue")
	b.screenshot(dir, "1-queue")
	require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 1280, "the page does not scroll sideways at 1280 px")

	// Live: a new report of the city shows within 2 s, without a reload.
	marker := eval[string](b, `window.__queueMarker = "same page"`)
	inc, _, err := w.h.App.Incidents.Create(ctx, rep, incident.NewIncident{Title: "Suspicious logins on the mail gateway",
		Severity: incident.High, TLP: incident.TLPGreen}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(strings.Join(b.refs(), " "), inc.Reference)
	}, 2*time.Second, 50*time.Millisecond, "the new report appears in the open queue within 2 s")
	require.Equal(t, marker, eval[string](b, `window.__queueMarker`), "no reload")
	require.Eventually(t, func() bool { return strings.Contains(b.text("#queue-live"), inc.Reference) }, 2*time.Second, 50*time.Millisecond,
		"the live region says so")
	require.Equal(t, "polite", eval[string](b, `document.querySelector("#queue-live").getAttribute("aria-live")`))
	b.screenshot(dir, "2-live-arrival")

	// Keyboard: j moves to the first row, x selects it, j and x the next;
	// a acknowledges the current row in place.
	b.do(chromedp.Click(chromedp.CSS("h1")))
	b.key("j")
	first := eval[string](b, `document.querySelector("tr.is-current").dataset.ref`)
	b.key("x")
	b.key("j")
	second := eval[string](b, `document.querySelector("tr.is-current").dataset.ref`)
	require.NotEqual(t, first, second)
	b.key("x")
	require.Contains(t, b.text("[data-bulk-count]"), "2 selected")
	b.key("k")
	require.Equal(t, first, eval[string](b, `document.querySelector("tr.is-current").dataset.ref`))
	b.key("a")
	require.Eventually(t, func() bool {
		got, err := w.h.App.Incidents.Get(ctx, access.System, first)
		return err == nil && got.AcknowledgedAt != nil
	}, 5*time.Second, 50*time.Millisecond, "a acknowledges the current row")
	require.Eventually(t, func() bool {
		return !eval[bool](b, `document.querySelector("tr[data-ref='`+first+`']").classList.contains("is-new")`)
	}, 5*time.Second, 50*time.Millisecond, "its row is replaced in place")
	b.key("?")
	require.True(t, eval[bool](b, `document.querySelector("#queue-keys").open`), "? opens the help")
	b.screenshot(dir, "3-keyboard")
	// A real key press: keyDown with its text, as a keyboard sends it
	// (chromedp.KeyEvent sends the character as a separate event, which
	// the page's preventDefault cannot stop).
	b.within(func(ctx context.Context) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
			p := input.DispatchKeyEventParams{Type: typ, Key: "/", Code: "Slash", WindowsVirtualKeyCode: 191}
			if typ == input.DispatchKeyEventTypeKeyDown {
				p.Text = "/"
			}
			if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	})
	require.Eventually(t, func() bool { return eval[string](b, `document.activeElement.id`) == "queue-q" }, 5*time.Second, 50*time.Millisecond,
		"/ goes to search")
	require.Empty(t, eval[string](b, `document.querySelector("#queue-q").value`), "the / is not typed into the search")
	b.do(chromedp.SendKeys(chromedp.CSS("#queue-q"), "payroll"))
	require.EqualValues(t, http.StatusOK, b.submit(".queue-filters button[type=submit]"))
	require.Contains(t, b.location(), "q=payroll")
	require.Equal(t, []string{older[0]}, b.refs(), "the search lives in the URL")

	// Filters and sort from the URL (shareable).
	b.open("/queue?severity=high&sort=-created")
	require.Equal(t, []string{inc.Reference, w.ref}, b.refs(), "high only, newest first")
	require.Equal(t, "-created", eval[string](b, `document.querySelector("#queue-sort").value`))

	// Bulk: select everything on the page, acknowledge, one confirmation,
	// a result per incident. Meanwhile a coordinator... (here: the
	// responder itself) closed one before anyone acknowledged it.
	b.open("/queue?tab=new")
	pending := b.refs()
	require.Len(t, pending, 3)
	_, err = w.h.App.Incidents.Close(ctx, w.users["responder"].Principal(), older[1], "a duplicate of another report", nil)
	require.NoError(t, err)
	b.do(chromedp.Click(chromedp.CSS("#queue-check-all")))
	require.Contains(t, b.text("[data-bulk-count]"), "3 selected")
	eval[chromedp.Void](b, `document.querySelector("#bulk-action").value = "acknowledge"`)
	require.EqualValues(t, http.StatusOK, b.submit("#bulk-review"))
	require.Equal(t, 3, eval[int](b, `document.querySelectorAll(".bulk-table tbody tr").length`), "the confirmation names every incident")
	b.axe("queue-confirm")
	b.screenshot(dir, "4-bulk-confirm")
	require.EqualValues(t, http.StatusOK, b.submit("#bulk-confirm"))
	require.Equal(t, 2, eval[int](b, `document.querySelectorAll("tr.result-done").length`))
	require.Equal(t, 1, eval[int](b, `document.querySelectorAll("tr.result-failed").length`))
	require.Contains(t, b.text("tr.result-failed"), older[1])
	b.axe("queue-results")
	b.screenshot(dir, "5-bulk-results")
	b.look(false, 390)
	b.screenshot(dir, "6-bulk-results-390")
	b.open("/queue")
	b.axe("queue-390")
	b.screenshot(dir, "7-queue-390")
	require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "no sideways scrolling on a phone")
	for _, ref := range pending {
		got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
		require.NoError(t, err)
		require.Equal(t, ref != older[1], got.AcknowledgedAt != nil, "%s", ref)
	}
}

// With the shortcuts switched off in the settings, the keys do nothing
// (WCAG 2.1.4).
func TestBrowserQueueShortcutsCanBeSwitchedOff(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	b := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	b.open("/account")
	eval[chromedp.Void](b, `document.querySelector("[name=shortcuts][value=off]").checked = true`)
	require.EqualValues(t, http.StatusOK, b.submit(`form[action="/account/settings"] button[type=submit]`))
	b.open("/queue")
	require.Equal(t, "off", eval[string](b, `document.querySelector("[data-queue]").dataset.shortcuts`))
	b.do(chromedp.Click(chromedp.CSS("h1")))
	b.key("j")
	require.Zero(t, eval[int](b, `document.querySelectorAll("tr.is-current").length`), "j does nothing")
	b.key("?")
	require.False(t, eval[bool](b, `document.querySelector("#queue-keys").open`))
}
