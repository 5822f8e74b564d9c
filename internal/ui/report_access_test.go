package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// A draft belongs to the organisation that writes it, and an incident's
// legal reports to those who may see the incident: someone of another
// city, and the CERT's responder for drafts, get the same 404 page as
// for a draft or an incident that does not exist, for every page and
// every form post of the reporting journey, and their posts change
// nothing.
func TestReportPagesOfAnotherOrganisationAreNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	ref := guidedIncident(t, w)
	reporter := w.users["reporter"].Principal()
	d, err := w.h.App.Filings.Start(ctx, reporter)
	require.NoError(t, err)
	_, _, err = w.h.App.Filings.SaveStep(ctx, reporter, d.ID.String(), "noticed", map[string][]string{"noticed_unknown": {"1"}}, time.UTC)
	require.NoError(t, err)
	draft := "/report/" + d.ID.String()
	const missingDraft = "/report/00000000-0000-4000-8000-000000000000"
	const missingRef = "INC-2099-999999"

	gets := []string{
		draft + "/what", draft + "/files", draft + "/check", draft + "/discard",
		"/report/sent/" + ref, "/incidents/" + ref + "/legal", "/incidents/" + ref + "/legal/nis2_early_warning",
		"/incidents/" + ref + "/legal/nis2_early_warning/check",
	}
	posts := []struct {
		path string
		form url.Values
	}{
		{draft + "/what", url.Values{"what": {"phishing"}}},
		{draft + "/files", url.Values{}},
		{draft + "/files/0/remove", url.Values{}},
		{draft + "/check", url.Values{"title": {"Taken over"}, "severity": {"low"}}},
		{draft + "/discard", url.Values{}},
		{"/incidents/" + ref + "/legal/nis2_early_warning", url.Values{"ew_summary": {"Taken over"}}},
		{"/incidents/" + ref + "/legal/nis2_early_warning/check", url.Values{}},
	}
	missing := func(path string) string {
		path = strings.Replace(path, draft, missingDraft, 1)
		return strings.Replace(path, ref, missingRef, 1)
	}

	for _, who := range []string{"stranger", "responder"} {
		c := newClient(t, w.h.URL)
		require.Equal(t, http.StatusSeeOther, c.signIn(w.email(who), password).status)
		token := c.get("/incidents").csrf(t)
		for _, path := range gets {
			if who == "responder" && !strings.HasPrefix(path, "/report/") {
				continue // the CERT sees the incident and its legal reports
			}
			if who == "responder" && path == "/report/sent/"+ref {
				continue
			}
			got := c.get(path)
			require.Equal(t, http.StatusNotFound, got.status, "%s GET %s", who, path)
			other := c.get(missing(path))
			require.Equal(t, http.StatusNotFound, other.status, "%s GET %s", who, missing(path))
			require.Equal(t, sessionTimes.ReplaceAllString(normalise(other.body, missingRef, "REF", missingDraft, "DRAFT"), ""),
				sessionTimes.ReplaceAllString(normalise(got.body, ref, "REF", draft, "DRAFT"), ""),
				"%s GET %s: the same page as one that does not exist", who, path)
		}
		for _, p := range posts {
			if who == "responder" && !strings.HasPrefix(p.path, "/report/") {
				continue
			}
			form := url.Values{"csrf": {token}}
			for k, v := range p.form {
				form[k] = v
			}
			got := c.post(p.path, form)
			require.Equal(t, http.StatusNotFound, got.status, "%s POST %s", who, p.path)
			require.Equal(t, http.StatusNotFound, c.post(missing(p.path), form).status, "%s POST %s", who, missing(p.path))
		}
	}

	// Nothing changed: the draft is as the reporter left it, and no legal
	// report was filed.
	again, err := w.h.App.Filings.Draft(ctx, reporter, d.ID.String())
	require.NoError(t, err)
	require.Nil(t, again.SubmittedAt)
	require.Empty(t, again.Answers.Get("what"))
	_, filed, err := w.h.App.Incidents.LegalReports(ctx, access.System, ref)
	require.NoError(t, err)
	require.Empty(t, filed)

	// The reporter opens them all.
	c := newClient(t, w.h.URL)
	c.signIn(w.email("reporter"), password)
	for _, path := range gets {
		require.Less(t, c.get(path).status, 400, path)
	}
}

// sessionTimes are the seconds a session has left, which differ between
// two pages shown a second apart.
var sessionTimes = regexp.MustCompile(`data-session-(idle|max)="\d+"`)

// A draft's pages carry the TLP banner like every page with marked
// content: TLP:AMBER, the answer the sharing question starts with, until
// the reporter chooses another label, then that one — on the questions,
// the files page and check your answers.
func TestDraftPagesShowTheTLPBanner(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	ctx := context.Background()
	reporter := w.users["reporter"].Principal()
	d, err := w.h.App.Filings.Start(ctx, reporter)
	require.NoError(t, err)
	draft := "/report/" + d.ID.String()
	c := newClient(t, w.h.URL)
	c.signIn(w.email("reporter"), password)
	banner := regexp.MustCompile(`class="tlp-banner"[^>]*>\s*<p class="tlp-banner-inner"><strong class="tlp [^"]*">([^<]+)</strong>`)
	label := func(path string) string {
		t.Helper()
		got := c.get(path)
		require.Equal(t, http.StatusOK, got.status, path)
		m := banner.FindStringSubmatch(got.body)
		require.NotNil(t, m, "%s has no TLP banner", path)
		return m[1]
	}
	for _, step := range []string{"noticed", "what", "sharing", "files", "check"} {
		require.Equal(t, "TLP:AMBER", label(draft+"/"+step), step)
	}
	_, _, err = w.h.App.Filings.SaveStep(ctx, reporter, d.ID.String(), "sharing", map[string][]string{"tlp": {"TLP:RED"}}, time.UTC)
	require.NoError(t, err)
	for _, step := range []string{"noticed", "sharing", "files", "check"} {
		require.Equal(t, "TLP:RED", label(draft+"/"+step), step)
	}
}
