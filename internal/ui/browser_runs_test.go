package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

func init() {
	// The playbook runs of the demo's ransomware incident: its run page
	// (the ransomware playbook started when it was reported), starting
	// one by hand with a preview, an input's errors, the catalogue.
	walks["runs"] = func(w *demoWorld) []visit {
		return []visit{
			{"runs-new", func(b *tab) {
				b.open("/incidents")
				if eval[bool](b, `!!document.querySelector(".signout-form button")`) {
					b.submit(`.signout-form button`)
				}
				b.signIn(w.responder, w.password)
				b.open("/incidents/" + w.ref + "/runs/new")
			}},
			{"runs-preview", func(b *tab) { b.open("/incidents/" + w.ref + "/runs/new?playbook=personal-data-breach") }},
			{"runs-run", func(b *tab) { b.open(w.firstRun()) }},
			{"runs-input-error", func(b *tab) {
				b.open(w.firstRun())
				if eval[bool](b, `!!document.querySelector("#answer-form")`) {
					b.submit(`#answer-form button[type=submit]`)
				}
			}},
			{"runs-catalogue", func(b *tab) { b.open("/admin/playbooks") }},
			{"runs-signout", func(b *tab) { b.submit(`.signout-form button`) }},
		}
	}
}

// firstRun is the path of the first playbook run of the demo's
// ransomware incident.
func (w *demoWorld) firstRun() string {
	_, runs, err := w.h.App.Runs.List(context.Background(), access.System, w.ref)
	if err != nil || len(runs) == 0 {
		panic(fmt.Sprintf("no run of %s: %v", w.ref, err))
	}
	return "/incidents/" + w.ref + "/runs/" + runs[len(runs)-1].ID.String()
}

// A regional CERT's responder starts the personal-data breach playbook by
// hand after its preview, answers its question (first with an error,
// which keeps what was typed), and a coordinator approves the approval it
// then waits for, with a comment. Screenshots at 1280 and 390 px.
func TestBrowserPlaybookRun(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	shots := func(name string) {
		for _, width := range []int64{1280, 390} {
			b.look(false, width)
			b.screenshot(dir, fmt.Sprintf("%s-%d", name, width))
			for part, sel := range map[string]string{"graph": ".run-figure", "form": ".run-open", "preview": ".run-preview"} {
				if !eval[bool](b, `!!document.querySelector("`+sel+`")`) {
					continue
				}
				b.within(func(ctx context.Context) error {
					png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
					if err != nil {
						return err
					}
					return os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", name, part, width)), png, 0o644)
				})
			}
		}
		b.look(false, 1280)
	}
	b.open("/signin")
	b.signIn(w.responder, w.password)
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+w.ref))
	require.Contains(t, b.text("#playbook-runs"), "Playbook runs")
	b.submit(`#playbook-runs a[href$="/runs/new"]`)
	require.Equal(t, "/incidents/"+w.ref+"/runs/new", b.location())
	b.do(chromedp.Click(chromedp.CSS(`#playbook-personal-data-breach`)))
	require.EqualValues(t, http.StatusOK, b.submit(`main form[method=get] button[type=submit]`))
	require.Contains(t, b.text(".run-preview"), "Which data and how many people are affected?")
	shots("1-preview")
	require.EqualValues(t, http.StatusOK, b.submit(`#start-run`))
	require.Contains(t, b.text(".notice"), "The playbook is running.")
	path := strings.SplitN(b.location(), "?", 2)[0]
	runID := path[strings.LastIndex(path, "/")+1:]
	step := func(id string) runbook.Status {
		r, err := w.h.App.Runs.Get(context.Background(), access.System, w.ref, runID)
		require.NoError(t, err)
		for _, s := range r.Steps {
			if s.ID == id {
				return s.Status
			}
		}
		return ""
	}
	w.h.Eventually(func() bool { return step("scope") == runbook.Waiting }, "the question waits")
	b.open(path)
	shots("2-run-waiting")

	// First with an error: the number in words; the checkbox stays ticked.
	b.fill("#answer-data_subjects", "about forty")
	b.do(chromedp.Click(chromedp.CSS(`#answer-high_risk`)))
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`#answer-form button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "Data subjects must be a whole number")
	require.Equal(t, "about forty", eval[string](b, `document.querySelector("#answer-data_subjects").value`))
	require.True(t, eval[bool](b, `document.querySelector("#answer-high_risk").checked`))
	b.axe("input error")
	shots("3-input-error")
	b.fill("#answer-data_subjects", "40")
	require.EqualValues(t, http.StatusOK, b.submit(`#answer-form button[type=submit]`))
	require.Contains(t, b.text(".notice"), "Your answers are saved.")
	w.h.Eventually(func() bool { return step("approve-data-subjects") == runbook.Waiting }, "the approval waits")
	b.open(path)
	require.Contains(t, b.text("#step-approve-data-subjects"), "Only a coordinator of the coordinating CERT")
	shots("4-responder-sees-approval")

	// The coordinator decides.
	b.submit(`.signout-form button`)
	b.signIn("coordinator@cert-north.demo", w.password)
	b.open(path)
	b.fill(`#comment-approve-data-subjects`, "High risk: inform the residents today; DPO agrees.")
	b.axe("approval form")
	shots("5-approval-form")
	require.EqualValues(t, http.StatusOK, b.submit(`#open-approve-data-subjects button[value=approve]`))
	require.Contains(t, b.text(".notice"), "You approved the step.")
	require.Equal(t, runbook.Succeeded, step("approve-data-subjects"))
	require.Contains(t, b.text(".run-history"), "High risk: inform the residents today")
	b.axe("run after approval")
	shots("6-approved")

	// The same pages in German show none of the catalogue's English
	// (the playbooks' own words, data-written, and people's are left out).
	english := englishFragments(t, w)
	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	for p, sel := range map[string]string{path: "main", "/incidents/" + w.ref + "/runs/new?playbook=phishing-campaign": "main",
		"/admin/playbooks": "main", "/incidents/" + w.ref: "#playbook-runs"} {
		b.open(p)
		require.Equal(t, "de", eval[string](b, "document.documentElement.lang"), p)
		seen := eval[string](b, `(() => { const c = document.querySelector("`+sel+`").cloneNode(true);
			c.querySelectorAll(".prose, .request-text, .evidence-description, .hash, #body, [data-written]").forEach(e => e.remove());
			return [document.title, c.textContent].join("\n"); })()`)
		for _, data := range userData(t, w) {
			seen = strings.ReplaceAll(seen, data, "")
		}
		for _, en := range english {
			require.NotContains(t, seen, en, "%s shows English", p)
		}
	}
	shots("7-german")
}
