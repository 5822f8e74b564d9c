package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// tab is one browser tab in a browser context of its own (its own
// cookies), closed when the test ends.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newTab opens a tab for the test in the shared browser.
func newTab(t *testing.T, base string) *tab {
	t.Helper()
	b := needBrowser(t)
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "open a tab") // no deadline on the run that creates the tab
	return &tab{t: t, ctx: ctx, base: base}
}

// within runs f with a deadline, so that a page that never comes fails
// the test instead of hanging it.
func (b *tab) within(f func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(b.t, f(ctx))
}

// do runs actions that return nothing.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.within(func(ctx context.Context) error { return chromedp.Do(ctx, actions...) })
}

// open navigates to a path of the site and returns the HTTP status of
// the page (after redirects).
func (b *tab) open(path string) int64 {
	b.t.Helper()
	var status int64
	b.within(func(ctx context.Context) error {
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(b.base+path))
		if err == nil && resp != nil {
			status = resp.Status
		}
		return err
	})
	return status
}

// submit clicks a button that sends a form and returns the status of the
// page that comes back.
func (b *tab) submit(sel string) int64 {
	b.t.Helper()
	var status int64
	b.within(func(ctx context.Context) error {
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
		if err == nil && resp != nil {
			status = resp.Status
		}
		return err
	})
	return status
}

// fill types into the fields (CSS selector → text), replacing what was there.
func (b *tab) fill(fields ...string) {
	b.t.Helper()
	for i := 0; i+1 < len(fields); i += 2 {
		sel, _ := json.Marshal(fields[i])
		b.do(chromedp.WaitVisible(chromedp.CSS(fields[i])))
		eval[chromedp.Void](b, "document.querySelector("+string(sel)+").value = ''")
		b.do(chromedp.SendKeys(chromedp.CSS(fields[i]), fields[i+1]))
	}
}

// signIn signs in through the sign-in page the tab is on (or opens it):
// the e-mail step first when the page asks for the address alone, then
// the password.
func (b *tab) signIn(email, pw string) int64 {
	b.t.Helper()
	if !strings.Contains(b.location(), "/signin") {
		b.open("/signin")
	}
	if !eval[bool](b, `!!document.querySelector("#password")`) {
		b.fill("#email", email)
		if status := b.submit(`form[action="/signin"] button[type=submit]`); status != 200 {
			return status
		}
	}
	b.fill("#email", email, "#password", pw)
	return b.submit(`form[action="/signin"] button[type=submit]`)
}

// location is the path and query of the tab's page.
func (b *tab) location() string {
	b.t.Helper()
	var loc string
	b.within(func(ctx context.Context) error {
		var err error
		loc, err = chromedp.Run(ctx, chromedp.Location())
		return err
	})
	return strings.TrimPrefix(loc, b.base)
}

// text is the visible text of the first element matching sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	var s string
	b.within(func(ctx context.Context) error {
		var err error
		s, err = chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
		return err
	})
	return strings.Join(strings.Fields(s), " ")
}

// eval evaluates JavaScript in the page (through DevTools: it runs even
// with the page's scripts disabled and under its CSP).
func eval[T any](b *tab, js string) T {
	b.t.Helper()
	var v T
	b.within(func(ctx context.Context) error {
		var err error
		v, err = chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
		return err
	})
	return v
}

// cookie is the value of one of the tab's cookies for the site.
func (b *tab) cookie(name string) string {
	b.t.Helper()
	var value string
	b.within(func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
		for _, c := range res.Cookies {
			if c.Name == name {
				value = c.Value
			}
		}
		return err
	})
	return value
}

// scripts turns the page's JavaScript on or off (for the pages that must
// work without it).
func (b *tab) scripts(on bool) {
	b.t.Helper()
	b.within(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})
}

// look sets the colour scheme the page sees (dark or light) and the
// viewport width (the height grows with full-page screenshots).
func (b *tab) look(dark bool, width int64) {
	b.t.Helper()
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	b.within(func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
			return err
		}
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if width < 600 {
			opts = append(opts, chromedp.EmulateMobile)
		}
		return chromedp.Do(ctx, chromedp.EmulateViewport(width, 900, opts...))
	})
}

// screenshot saves a full-page PNG into dir.
func (b *tab) screenshot(dir, name string) {
	b.t.Helper()
	b.within(func(ctx context.Context) error {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axe runs axe-core on the page (its default rules: WCAG 2.x A and AA and
// best practices; and the WCAG 2.2 target size) and fails the test on
// every serious or critical violation.
func (b *tab) axe(label string) {
	b.t.Helper()
	if eval[bool](b, "typeof window.axe === 'object'") == false {
		eval[chromedp.Void](b, axeSource)
	}
	// target-size (WCAG 2.2: 24 px targets) is off in axe-core by default.
	raw := eval[string](b, `axe.run(document, {resultTypes: ['violations'], rules: {'target-size': {enabled: true}}})
		.then(r => JSON.stringify(r.violations))`)
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

// screensDir is the folder of a test's screenshots:
// $TMPDIR/certdesk-screens/<test name>/ (not committed; printed).
func screensDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "certdesk-screens", strings.ReplaceAll(t.Name(), "/", "_"))
	require.NoError(t, os.RemoveAll(dir))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	t.Logf("screenshots: %s", dir)
	return dir
}
