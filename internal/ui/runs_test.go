package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/playbooks"
	"github.com/stretchr/testify/require"
)

// shippedPlaybooks are the shipped playbooks with the given ids, for
// the runs a test starts by hand (the test world runs none of its own).
func shippedPlaybooks(t *testing.T, ids ...string) []*playbook.Playbook {
	t.Helper()
	all, err := playbook.Load(playbooks.FS())
	require.NoError(t, err)
	var out []*playbook.Playbook
	for _, pb := range all {
		for _, id := range ids {
			if pb.ID == id {
				out = append(out, pb)
			}
		}
	}
	require.Len(t, out, len(ids))
	return out
}

// runWorld is the test world with the personal-data breach playbook
// (an input, then an approval by a coordinator) to start by hand, and a
// coordinator and a viewer of CERT North besides its people.
func runWorld(t *testing.T, cfg func(*config.Config)) *world {
	t.Helper()
	w := newWorld(t, worldOpts{app: testapp.Options{Config: cfg}})
	w.h.App.Runs.SetPlaybooks(shippedPlaybooks(t, "personal-data-breach", "phishing-campaign"))
	w.addUser(t, "coordinator", "cert-north", access.Coordinator)
	w.addUser(t, "viewer", "cert-north", access.Viewer)
	return w
}

// startRun starts the personal-data breach playbook as the responder and
// returns the run's ID.
func (w *world) startRun(t *testing.T) string {
	t.Helper()
	r, err := w.h.App.Runs.Start(context.Background(), w.users["responder"].Principal(), w.ref, "personal-data-breach")
	require.NoError(t, err)
	return r.ID.String()
}

// step is the status of a step of a run, read as certdesk.
func (w *world) step(t *testing.T, runID, stepID string) runbook.Status {
	t.Helper()
	r, err := w.h.App.Runs.Get(context.Background(), access.System, w.ref, runID)
	require.NoError(t, err)
	for _, s := range r.Steps {
		if s.ID == stepID {
			return s.Status
		}
	}
	t.Fatalf("no step %s", stepID)
	return ""
}

var runPathRE = regexp.MustCompile(`^/incidents/INC-[0-9-]+/runs/([0-9a-f-]{36})\?done=started$`)

// The incident page shows a CERT its playbook runs; a responder of the
// coordinating CERT starts one by hand after its preview; bad choices
// come back named; a reporter may not start one (403), another
// organisation sees nothing (404), and nothing starts.
func TestPlaybookRunStartWithPreview(t *testing.T) {
	t.Parallel()
	w := runWorld(t, nil)
	r := w.signedIn(t, "responder")
	inc := r.get("/incidents/" + w.ref)
	require.Equal(t, http.StatusOK, inc.status)
	require.Contains(t, inc.body, `id="playbook-runs"`)
	require.Contains(t, inc.body, `href="/incidents/`+w.ref+`/runs/new"`)
	require.NotContains(t, w.signedIn(t, "reporter").get("/incidents/"+w.ref).body, `id="playbook-runs"`)

	choose := r.get("/incidents/" + w.ref + "/runs/new")
	require.Equal(t, http.StatusOK, choose.status, choose.body)
	require.Contains(t, choose.body, `value="personal-data-breach"`)
	require.NotContains(t, choose.body, "start-run", "no start before a preview")
	preview := r.get("/incidents/" + w.ref + "/runs/new?playbook=personal-data-breach")
	require.Equal(t, http.StatusOK, preview.status)
	require.Contains(t, preview.body, "<span data-written>Personal-data breach (GDPR and NIS2 deadlines)</span></h2>")
	require.Contains(t, preview.body, "Which data and how many people are affected?")
	require.Contains(t, preview.body, `id="start-run"`)
	unknown := r.get("/incidents/" + w.ref + "/runs/new?playbook=nope")
	require.Equal(t, http.StatusUnprocessableEntity, unknown.status)
	require.Contains(t, unknown.body, "Choose one of the playbooks listed")

	token := preview.csrf(t)
	for _, c := range []struct{ choice, msg string }{{"", "Choose a playbook"}, {"nope", "Choose one of the playbooks listed"}} {
		got := r.post("/incidents/"+w.ref+"/runs", url.Values{"csrf": {token}, "playbook": {c.choice}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status, c.choice)
		require.Contains(t, got.body, c.msg)
		require.Contains(t, got.body, `href="#playbook-`)
	}
	// A reporter of the reporting city may not; another city does not see it.
	rep := w.signedIn(t, "reporter")
	require.Equal(t, http.StatusForbidden, rep.get("/incidents/"+w.ref+"/runs/new").status)
	require.Equal(t, http.StatusForbidden, rep.post("/incidents/"+w.ref+"/runs",
		url.Values{"csrf": {rep.get("/incidents").csrf(t)}, "playbook": {"personal-data-breach"}}).status)
	s := w.signedIn(t, "stranger")
	require.Equal(t, http.StatusNotFound, s.get("/incidents/"+w.ref+"/runs/new").status)
	require.Equal(t, http.StatusNotFound, s.post("/incidents/"+w.ref+"/runs",
		url.Values{"csrf": {s.get("/incidents").csrf(t)}, "playbook": {"personal-data-breach"}}).status)
	_, runs, err := w.h.App.Runs.List(context.Background(), access.System, w.ref)
	require.NoError(t, err)
	require.Empty(t, runs)

	started := r.post("/incidents/"+w.ref+"/runs", url.Values{"csrf": {token}, "playbook": {"personal-data-breach"}})
	require.Equal(t, http.StatusSeeOther, started.status, started.body)
	m := runPathRE.FindStringSubmatch(started.header.Get("Location"))
	require.NotNil(t, m, started.header.Get("Location"))
	w.h.Eventually(func() bool { return w.step(t, m[1], "scope") == runbook.Waiting }, "the input waits")
	run := r.get(started.header.Get("Location"))
	require.Equal(t, http.StatusOK, run.status)
	require.Contains(t, run.body, "The playbook is running.")
	require.Contains(t, run.body, `<svg class="run-graph"`)
	require.Contains(t, run.body, `<title id="run-graph-title" data-written>`)
	require.Contains(t, run.body, `id="answer-data_subjects"`)
	// A second start of the same version is named on the field.
	again := r.post("/incidents/"+w.ref+"/runs", url.Values{"csrf": {token}, "playbook": {"personal-data-breach"}})
	require.Equal(t, http.StatusUnprocessableEntity, again.status)
	require.Contains(t, again.body, "already run on this incident")
	// The incident page lists the run.
	require.Contains(t, r.get("/incidents/"+w.ref).body, "/runs/"+m[1])
	// Another organisation gets the 404 page for the run.
	require.Equal(t, http.StatusNotFound, s.get("/incidents/"+w.ref+"/runs/"+m[1]).status)
	require.Equal(t, http.StatusNotFound, r.get("/incidents/"+w.ref+"/runs/not-a-run").status)
}

// An input step's form is built from its schema; a value of the wrong
// kind and a broken rule come back beside their fields, with everything
// typed kept; a viewer may not answer (403), another organisation gets
// the 404 page; nothing changes until the answers are right.
func TestPlaybookRunAnswerForm(t *testing.T) {
	t.Parallel()
	w := runWorld(t, nil)
	runID := w.startRun(t)
	w.h.Eventually(func() bool { return w.step(t, runID, "scope") == runbook.Waiting }, "the input waits")
	path := "/incidents/" + w.ref + "/runs/" + runID
	answer := path + "/steps/scope/answer"
	r := w.signedIn(t, "responder")
	pg := r.get(path)
	require.Contains(t, pg.body, `id="answer-data_subjects"`)
	require.Contains(t, pg.body, `type="checkbox" id="answer-high_risk"`)
	token := pg.csrf(t)

	bad := r.post(answer, url.Values{"csrf": {token}, "answer-data_subjects": {"about forty"}, "answer-high_risk": {"yes"}})
	require.Equal(t, http.StatusUnprocessableEntity, bad.status, bad.body)
	require.Contains(t, bad.body, "Data subjects must be a whole number, like 12")
	require.Contains(t, bad.body, `href="#answer-data_subjects"`)
	require.Contains(t, bad.body, `value="about forty"`)
	require.Regexp(t, `id="answer-high_risk" name="answer-high_risk" value="yes" checked`, bad.body)
	negative := r.post(answer, url.Values{"csrf": {token}, "answer-data_subjects": {"-3"}})
	require.Equal(t, http.StatusUnprocessableEntity, negative.status)
	require.Contains(t, negative.body, "Data subjects must be 0 or more")
	missing := r.post(answer, url.Values{"csrf": {token}})
	require.Equal(t, http.StatusUnprocessableEntity, missing.status)
	require.Contains(t, missing.body, "Enter Data subjects")
	require.Equal(t, runbook.Waiting, w.step(t, runID, "scope"))

	v := w.signedIn(t, "viewer")
	require.Equal(t, http.StatusForbidden, v.post(answer, url.Values{"csrf": {v.get("/incidents").csrf(t)}, "answer-data_subjects": {"12"}}).status)
	s := w.signedIn(t, "stranger")
	require.Equal(t, http.StatusNotFound, s.post(answer, url.Values{"csrf": {s.get("/incidents").csrf(t)}, "answer-data_subjects": {"12"}}).status)
	require.Equal(t, http.StatusNotFound, r.post(path+"/steps/nope/answer", url.Values{"csrf": {token}}).status)
	require.Equal(t, runbook.Waiting, w.step(t, runID, "scope"))

	ok := r.post(answer, url.Values{"csrf": {token}, "answer-data_subjects": {"40"}, "answer-high_risk": {"yes"}})
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	require.Equal(t, path+"?done=answered", ok.header.Get("Location"))
	require.Equal(t, runbook.Succeeded, w.step(t, runID, "scope"))
}

// An approval is decided by a coordinator of the coordinating CERT with
// a comment; a responder is refused (403) and another organisation gets
// the 404 page, and the step still waits; a comment too long comes back
// kept, with its error.
func TestPlaybookRunApproval(t *testing.T) {
	t.Parallel()
	w := runWorld(t, nil)
	runID := w.startRun(t)
	w.h.Eventually(func() bool { return w.step(t, runID, "scope") == runbook.Waiting }, "the input waits")
	_, err := w.h.App.Runs.Answer(context.Background(), w.users["responder"].Principal(), w.ref, runID, "scope",
		map[string]any{"data_subjects": 40, "high_risk": true})
	require.NoError(t, err)
	w.h.Eventually(func() bool { return w.step(t, runID, "approve-data-subjects") == runbook.Waiting }, "the approval waits")
	path := "/incidents/" + w.ref + "/runs/" + runID
	decide := path + "/steps/approve-data-subjects/decide"

	r := w.signedIn(t, "responder")
	pg := r.get(path)
	require.Contains(t, pg.body, "Only a coordinator of the coordinating CERT")
	require.NotContains(t, pg.body, `action="`+decide+`"`)
	require.Equal(t, http.StatusForbidden, r.post(decide, url.Values{"csrf": {pg.csrf(t)}, "decision": {"approve"}}).status)
	s := w.signedIn(t, "stranger")
	require.Equal(t, http.StatusNotFound, s.post(decide, url.Values{"csrf": {s.get("/incidents").csrf(t)}, "decision": {"approve"}}).status)
	require.Equal(t, runbook.Waiting, w.step(t, runID, "approve-data-subjects"))

	c := w.signedIn(t, "coordinator")
	cp := c.get(path)
	require.Contains(t, cp.body, `action="`+decide+`"`)
	token := cp.csrf(t)
	long := strings.Repeat("x", runbook.MaxComment+1)
	tooLong := c.post(decide, url.Values{"csrf": {token}, "decision": {"approve"}, "comment": {long}})
	require.Equal(t, http.StatusUnprocessableEntity, tooLong.status)
	require.Contains(t, tooLong.body, "The comment must be 2,000 characters or fewer")
	require.Contains(t, tooLong.body, long+"</textarea>")
	maybe := c.post(decide, url.Values{"csrf": {token}, "decision": {"maybe"}})
	require.Equal(t, http.StatusUnprocessableEntity, maybe.status)
	require.Contains(t, maybe.body, "Choose Approve or Reject")
	require.Equal(t, runbook.Waiting, w.step(t, runID, "approve-data-subjects"))

	ok := c.post(decide, url.Values{"csrf": {token}, "decision": {"approve"}, "comment": {"High risk: inform them today."}})
	require.Equal(t, http.StatusSeeOther, ok.status, ok.body)
	require.Equal(t, path+"?done=approved", ok.header.Get("Location"))
	require.Equal(t, runbook.Succeeded, w.step(t, runID, "approve-data-subjects"))
	require.Contains(t, c.get(path).body, "High risk: inform them today.")
}

// A responder cancels a run; a viewer is refused and another
// organisation gets the 404 page, and the run goes on until then.
func TestPlaybookRunCancel(t *testing.T) {
	t.Parallel()
	w := runWorld(t, nil)
	runID := w.startRun(t)
	path := "/incidents/" + w.ref + "/runs/" + runID
	v := w.signedIn(t, "viewer")
	require.NotContains(t, v.get(path).body, "/cancel")
	require.Equal(t, http.StatusForbidden, v.post(path+"/cancel", url.Values{"csrf": {v.get("/incidents").csrf(t)}}).status)
	s := w.signedIn(t, "stranger")
	require.Equal(t, http.StatusNotFound, s.post(path+"/cancel", url.Values{"csrf": {s.get("/incidents").csrf(t)}}).status)
	got, err := w.h.App.Runs.Get(context.Background(), access.System, w.ref, runID)
	require.NoError(t, err)
	require.Equal(t, runbook.RunRunning, got.State)

	r := w.signedIn(t, "responder")
	res := r.post(path+"/cancel", url.Values{"csrf": {r.get(path).csrf(t)}})
	require.Equal(t, http.StatusSeeOther, res.status)
	require.Equal(t, path+"?done=cancelled", res.header.Get("Location"))
	got, err = w.h.App.Runs.Get(context.Background(), access.System, w.ref, runID)
	require.NoError(t, err)
	require.Equal(t, runbook.RunCancelled, got.State)
	require.Contains(t, r.get(path).body, "Cancelled")
}

// The catalogue page lists every playbook with its validation; a broken
// local file shows its problems as file:line:col message. People of a
// city get the 404 page.
func TestPlaybookCatalogue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: broken\nname: Broken\nversion: 1\ntriggers:\n  - on: sometimes\nsteps: []\n"), 0o644))
	w := runWorld(t, func(c *config.Config) { c.PlaybookDir, c.SkipInvalidPlaybooks = dir, true })
	r := w.signedIn(t, "responder")
	pg := r.get("/admin/playbooks")
	require.Equal(t, http.StatusOK, pg.status, pg.body)
	require.Contains(t, pg.body, "personal-data-breach")
	require.Contains(t, pg.body, "Valid")
	require.Regexp(t, `<code>`+regexp.QuoteMeta(filepath.Join(dir, "broken.yaml"))+`:5:\d+: [^<]+</code>`, pg.body)
	require.Equal(t, http.StatusNotFound, w.signedIn(t, "reporter").get("/admin/playbooks").status)
	require.Equal(t, http.StatusNotFound, w.signedIn(t, "stranger").get("/admin/playbooks").status)
}

// The catalogue page links each valid playbook's CACAO v2 export, which
// downloads the same file as the API; an invalid playbook is the error page (400), and
// people of a city get the 404 page.
func TestPlaybookCatalogueCACAO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: broken\nname: Broken\nversion: 1\ntriggers:\n  - on: sometimes\nsteps: []\n"), 0o644))
	w := runWorld(t, func(c *config.Config) { c.PlaybookDir, c.SkipInvalidPlaybooks = dir, true })
	r := w.signedIn(t, "responder")
	pg := r.get("/admin/playbooks")
	require.Equal(t, http.StatusOK, pg.status, pg.body)
	require.Contains(t, pg.body, `href="/admin/playbooks/ransomware/cacao.json"`)
	require.NotContains(t, pg.body, `href="/admin/playbooks/broken/cacao.json"`)
	dl := r.get("/admin/playbooks/ransomware/cacao.json")
	require.Equal(t, http.StatusOK, dl.status, dl.body)
	require.Contains(t, dl.header.Get("Content-Disposition"), `filename=ransomware.cacao.json`)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(dl.body), &got))
	require.Equal(t, "cacao-2.0", got["spec_version"])
	require.Equal(t, http.StatusBadRequest, r.get("/admin/playbooks/broken/cacao.json").status, "the error page of a conflict")
	require.Equal(t, http.StatusNotFound, r.get("/admin/playbooks/nope/cacao.json").status)
	require.Equal(t, http.StatusNotFound, w.signedIn(t, "reporter").get("/admin/playbooks/ransomware/cacao.json").status)
}
