package report_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// poppler returns the path of a poppler-utils tool; make test installs
// the package when it is missing.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	require.NoError(t, err, "%s is missing: install Debian's poppler-utils (make test does)", tool)
	return path
}

// pages extracts the text of a PDF, one string per page.
func pages(t *testing.T, pdf []byte) []string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	require.NoError(t, os.WriteFile(in, pdf, 0o600))
	out, err := exec.Command(poppler(t, "pdftotext"), "-layout", "-enc", "UTF-8", in, "-").Output()
	require.NoError(t, err)
	ps := strings.Split(string(out), "\f")
	if strings.TrimSpace(ps[len(ps)-1]) == "" {
		ps = ps[:len(ps)-1]
	}
	return ps
}

// render writes page 1 as a PNG into testdata/rendered, for a person to
// look at, and returns its path.
func render(t *testing.T, pdf []byte, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "rendered"))
	require.NoError(t, err)
	in := filepath.Join(dir, name+".pdf")
	require.NoError(t, os.WriteFile(in, pdf, 0o644))
	out := filepath.Join(dir, name)
	require.NoError(t, exec.Command(poppler(t, "pdftoppm"), "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", in, out).Run())
	require.FileExists(t, out+".png")
	return out + ".png"
}

// marked checks FIRST's rule for documents: the label, written out, at the
// top and at the bottom of every page; and the page numbers of the total.
func marked(t *testing.T, ps []string, label string) {
	t.Helper()
	require.NotEmpty(t, ps)
	for i, p := range ps {
		var lines []string
		for _, l := range strings.Split(p, "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		require.GreaterOrEqual(t, len(lines), 2, "page %d", i+1)
		require.Contains(t, lines[0], label, "page %d: the label at the top", i+1)
		require.Contains(t, lines[len(lines)-1], label, "page %d: the label at the bottom", i+1)
		require.Contains(t, lines[len(lines)-1], "Page "+strconv.Itoa(i+1)+" of "+strconv.Itoa(len(ps)), "page %d", i+1)
		for _, other := range []string{"TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER ", "TLP:GREEN", "TLP:CLEAR"} {
			if !strings.HasPrefix(label, strings.TrimSpace(other)) {
				require.NotContains(t, lines[0]+lines[len(lines)-1], other, "page %d", i+1)
			}
		}
	}
}

type world struct {
	h                                  *testapp.Harness
	cityCoord, cityReporter, southView string
	nationalViewer                     string
	coordEmail                         string
	city, coord                        access.Principal
}

func setup(t *testing.T) *world {
	t.Helper()
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("south", org.RegionalCERT, "national")
	h.Org("lodz", org.LocalAuthority, "north")
	for slug, name := range map[string]string{"national": "Národní CERT", "north": "CERT Północ", "lodz": "Miasto Łódź", "south": "CERT Юг"} {
		_, err := h.App.DB.SQL.ExecContext(context.Background(), `UPDATE organizations SET name = $1, time_zone = 'Europe/Warsaw' WHERE slug = $2`, name, slug)
		require.NoError(t, err)
	}
	w := &world{h: h}
	u, tok := h.User("lodz", access.Coordinator)
	w.cityCoord, w.coordEmail, w.coord = tok, u.Email, u.Principal()
	rep, rtok := h.User("lodz", access.Reporter)
	w.cityReporter, w.city = rtok, rep.Principal()
	_, w.southView = h.User("south", access.Viewer)
	_, w.nationalViewer = h.User("national", access.Viewer)
	return w
}

// A city's coordinator downloads the report of its incident for the
// regulator: classification, executive summary, stages, legal deadlines
// with the reports recorded, key events, tasks and the observables it may
// see, in Polish, Czech and Cyrillic names; every page marked at the top
// and the bottom with the strictest label of its content (an observable
// marked TLP:AMBER+STRICT raises the incident's TLP:AMBER). Another
// region's viewer gets 404.
func TestIncidentReportPDF(t *testing.T) {
	t.Parallel()
	w := setup(t)
	ctx := context.Background()
	app := w.h.App
	people := int64(48210)
	detected := w.h.Clock.Now().Add(-3 * time.Hour)
	inc, _, err := app.Incidents.Create(ctx, w.city, incident.NewIncident{Title: "Ransomware w Urzędzie Miasta Łodzi — Ратуша",
		Description: "Szyfrowanie serwerów plików.", Severity: incident.Critical, TLP: incident.TLPAmber, DetectedAt: &detected,
		Type: "malicious-code:infected-system", Significant: true, PersonalDataBreach: true, AffectedPeople: &people}, nil)
	require.NoError(t, err)
	w.h.Eventually(func() bool {
		i, err := app.Incidents.Get(ctx, access.System, inc.ID.String())
		return err == nil && i.CoordinatingOrgID != nil
	}, "routed")
	sys := access.System
	_, err = app.Incidents.Acknowledge(ctx, sys, inc.Reference)
	require.NoError(t, err)
	status, impact, next := "Contained; restoring from offline backups.", "Citizen portal offline; 48 210 residents' data may have been read.",
		"Portal back on Friday; next update Thursday 10:00."
	_, err = app.Incidents.Update(ctx, w.coord, inc.Reference, incident.Patch{Summary: &incident.SummaryPatch{Status: &status, Impact: &impact, NextSteps: &next}}, nil)
	require.NoError(t, err)
	_, err = app.Incidents.MarkDeadlineMet(ctx, w.coord, inc.Reference, incident.NIS2EarlyWarning, "CSIRT-PL 2026/4711")
	require.NoError(t, err)
	_, err = app.Incidents.Transition(ctx, sys, inc.Reference, incident.Recovery, "", nil)
	require.NoError(t, err)
	_, err = app.Tasks.Create(ctx, w.coord, inc.Reference, task.NewTask{Title: "Odtworzyć serwer plików fs01"})
	require.NoError(t, err)
	for _, o := range []observable.NewObservable{
		{Type: "ipv4", Value: "203.0.113.45", Note: "C2"},
		{Type: "domain", Value: "zła-domena.example", TLP: incident.TLPAmberStrict},
		{Type: "sha256", Value: strings.Repeat("ab", 32), TLP: incident.TLPRed},
	} {
		_, _, err := app.Observables.Add(ctx, sys, inc.Reference, o)
		require.NoError(t, err)
	}

	// A manual entry pinned as a key event is in the report; another,
	// not pinned, is not.
	for _, e := range []struct {
		text string
		pin  bool
	}{{"Kopie zapasowe na taśmach sprawdzone", true}, {"Kawa w pokoju 12 skończyła się", false}} {
		ev, err := app.Incidents.AddEntry(ctx, w.coord, inc.Reference, e.text, nil)
		require.NoError(t, err)
		if e.pin {
			_, err = app.Incidents.Pin(ctx, w.coord, inc.Reference, ev.ID, true)
			require.NoError(t, err)
		}
	}

	r := w.h.As(w.cityCoord).Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/report.pdf", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
	require.Equal(t, "TLP:AMBER+STRICT", r.Header.Get("X-TLP"))
	require.Contains(t, r.Header.Get("Content-Disposition"), inc.Reference+".pdf")
	ps := pages(t, r.Body)
	marked(t, ps, "TLP:AMBER+STRICT")
	text := strings.Join(ps, "\n")
	flat := regexp.MustCompile(`\s+`).ReplaceAllString(text, " ")
	for _, want := range []string{inc.Reference, "Ransomware w Urzędzie Miasta Łodzi — Ратуша", "Miasto Łódź (lodz)", "CERT Północ (north)", "Infected System", "critical",
		"significant incident (NIS2 Art. 23)", "48 210", status, impact, next, "NIS2 early warning", "CSIRT-PL 2026/4711",
		"met on time", "GDPR notification", "Stage response → recovery", "Acknowledged", "Odtworzyć serwer plików fs01",
		"203.0.113.45", "zła-domena.example", "Recovery (now)", "stricter than the incident's TLP:AMBER",
		"Pinned: Kopie zapasowe na taśmach sprawdzone"} {
		require.Contains(t, flat, want)
	}
	require.NotContains(t, flat, "Kawa w pokoju", "an entry not pinned is not a key event")
	require.NotContains(t, flat, strings.Repeat("ab", 32), "the TLP:RED observable is not the coordinator's to see")
	png := render(t, r.Body, "incident-report")
	t.Logf("page 1: %s", png)

	require.Equal(t, http.StatusNotFound, w.h.As(w.southView).Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/report.pdf", nil).Status)
}

// The national CERT's viewer downloads the monthly briefing: its figures
// for the month against the month before, the charts, and TLP:AMBER+STRICT
// at the top and the bottom of every page.
func TestBriefingPDF(t *testing.T) {
	t.Parallel()
	w := setup(t)
	for i, sev := range []string{"high", "medium", "critical"} {
		r := w.h.As(w.cityReporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing " + strconv.Itoa(i),
			"severity": sev, "type": "fraud:phishing", "personal_data_breach": i == 0, "affected_people": 120})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	}
	loc, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	month := w.h.Clock.Now().In(loc).Format("2006-01")
	r := w.h.As(w.nationalViewer).Request(http.MethodGet, "/api/v1/stats/briefing.pdf?month="+month, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "TLP:AMBER+STRICT", r.Header.Get("X-TLP"))
	ps := pages(t, r.Body)
	marked(t, ps, "TLP:AMBER+STRICT")
	flat := regexp.MustCompile(`\s+`).ReplaceAllString(strings.Join(ps, "\n"), " ")
	m, _ := time.Parse("2006-01", month)
	for _, want := range []string{"Monthly briefing: " + m.Format("January 2006"), "Národní CERT", "compared with " + m.AddDate(0, -1, 0).Format("January 2006"),
		"new incidents", "▲ 3 vs the period before (0)", "personal-data breaches", "120 people affected", "Legal deadline compliance",
		"GDPR notification (72 h) 0 0 0 1",
		"GDPR notification (72 h)", "New incidents per week by RSIT class", "Fraud", "Incidents by region", "CERT Północ",
		"Escalations between organisations", "Oldest open", "Phishing 0"} {
		require.Contains(t, flat, want)
	}
	png := render(t, r.Body, "monthly-briefing")
	t.Logf("page 1: %s", png)

	r = w.h.As(w.nationalViewer).Request(http.MethodGet, "/api/v1/stats/briefing.pdf?month=last", nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
}
