package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/chromedp/chromedp"
)

// browser is the one Chromium of this test binary (nil when there is
// none outside CI); each test opens its own browser context in it
// (newTab), with its own cookies.
var (
	browser     context.Context
	noBrowser   string // why there is no browser
	axeSource   string // axe-core, injected into pages by the accessibility checks
	noAxeReason string
)

// axeVersion is the axe-core release make test fetches (Makefile:
// AXE_VERSION); the file is looked for in .cache/axe-core-<version>.
const axeVersion = "4.14.1"

// TestMain starts one browser for every test of the package, then runs
// them against real PostgreSQL (testdb).
func TestMain(m *testing.M) {
	code := func() int {
		stop := startBrowser()
		defer stop()
		loadAxe()
		return testdb.Run(m)
	}()
	os.Exit(code)
}

// startBrowser starts Chromium (CHROME_PATH, else chromium on the PATH)
// headless. make test installs Debian's chromium when it is missing; a
// plain go test without it runs the browser tests only in CI (CI set),
// where a missing browser fails them.
func startBrowser() func() {
	path := os.Getenv("CHROME_PATH")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		noBrowser = "no Chromium found (install Debian's chromium, or run make test, which does; CHROME_PATH names another)"
		return func() {}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-features", "HttpsUpgrades,HttpsFirstBalancedModeAutoEnable"),
		chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // start it now, without a deadline (a deadline here would end the browser)
		cancelBrowser()
		cancelAlloc()
		noBrowser = fmt.Sprintf("Chromium at %s did not start: %v", path, err)
		return func() {}
	}
	browser = bctx
	return func() {
		cancelBrowser()
		cancelAlloc()
	}
}

// loadAxe reads axe-core from the cache make test fills
// (.cache/axe-core-<version>/node_modules/axe-core/axe.min.js), or from
// AXE_CORE_JS.
func loadAxe() {
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		_, here, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(here), "..", "..", ".cache", "axe-core-"+axeVersion, "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		noAxeReason = fmt.Sprintf("axe-core %s not found at %s (make test fetches it with npm)", axeVersion, path)
		return
	}
	axeSource = string(b)
}

// needBrowser returns the shared browser, or ends the test: under make
// test (CERTDESK_REQUIRE_BROWSER; it installs both) and in CI a missing
// browser or axe-core fails it; a bare go test elsewhere skips it with
// the reason.
func needBrowser(t *testing.T) context.Context {
	t.Helper()
	reason := noBrowser
	if reason == "" {
		reason = noAxeReason
	}
	if reason == "" {
		return browser
	}
	if os.Getenv("CI") != "" || os.Getenv("CERTDESK_REQUIRE_BROWSER") != "" {
		t.Fatalf("browser tests need Chromium and axe-core under make test and in CI: %s", reason)
	}
	t.Skipf("browser test skipped outside CI: %s", reason)
	return nil
}
