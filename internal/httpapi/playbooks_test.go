package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

type playbookSummaryBody struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Version   int     `json:"version"`
	File      string  `json:"file"`
	Origin    string  `json:"origin"`
	Replaces  *string `json:"replaces"`
	SHA256    string  `json:"sha256"`
	Valid     bool    `json:"valid"`
	StepCount int     `json:"step_count"`
	Errors    []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
	Triggers []struct {
		On   string  `json:"on"`
		When *string `json:"when"`
	} `json:"triggers"`
}

type playbookDetailBody struct {
	playbookSummaryBody
	Steps []struct {
		ID     string         `json:"id"`
		Stage  *string        `json:"stage"`
		Needs  []string       `json:"needs"`
		When   *string        `json:"when"`
		Action string         `json:"action"`
		With   map[string]any `json:"with"`
		Retry  struct {
			Attempts int     `json:"attempts"`
			Backoff  *string `json:"backoff"`
		} `json:"retry"`
		Timeout   *string `json:"timeout"`
		OnFailure string  `json:"on_failure"`
		OnTimeout string  `json:"on_timeout"`
	} `json:"steps"`
	Source string `json:"source"`
}

type dryRunBody struct {
	Playbook struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	} `json:"playbook"`
	Incident *struct {
		ID        string `json:"id"`
		Reference string `json:"reference"`
	} `json:"incident"`
	Triggered map[string]bool `json:"triggered"`
	Triggers  []struct {
		On    string  `json:"on"`
		Fires bool    `json:"fires"`
		Error *string `json:"error"`
	} `json:"triggers"`
	Steps []struct {
		ID     string  `json:"id"`
		Run    bool    `json:"run"`
		Reason *string `json:"reason"`
	} `json:"steps"`
	StepsToRun int `json:"steps_to_run"`
}

// plan returns the dry run's steps as "id" or "-id" (skipped), in order.
func (d dryRunBody) plan() []string {
	out := make([]string, len(d.Steps))
	for i, s := range d.Steps {
		out[i] = s.ID
		if !s.Run {
			out[i] = "-" + s.ID
		}
	}
	return out
}

// pbWorld: region above city and town; city reports, town is a sibling
// that sees none of city's incidents. A local playbook folder holds a
// replacement of the shipped ddos playbook and an invalid playbook.
type pbWorld struct {
	h                                 *testapp.Harness
	cityReporter, cityViewer, townTok string
	regionCoord                       string
	localDir                          string
}

func setupPlaybooks(t *testing.T) *pbWorld {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ddos.yaml"), []byte("id: ddos\nname: Local DDoS\nversion: 9\n"+
		"triggers: [{ on: manual }]\nsteps:\n  - { id: call-isp, action: task.create, with: { title: Call the ISP, due: 30m }, timeout: 1d12h }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: broken\nname: Broken\nversion: 1\n"+
		"triggers: [{ on: manual }]\nsteps:\n  - { id: a, action: notify, with: { to: parent, template: nope } }\n"), 0o644))
	h := testapp.New(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) { c.PlaybookDir = dir }})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("town", org.LocalAuthority, "region")
	w := &pbWorld{h: h, localDir: dir}
	_, w.cityReporter = h.User("city", access.Reporter)
	_, w.cityViewer = h.User("city", access.Viewer)
	_, w.townTok = h.User("town", access.Responder)
	_, w.regionCoord = h.User("region", access.Coordinator)
	return w
}

func TestPlaybookCatalogueAPI(t *testing.T) {
	t.Parallel()
	w := setupPlaybooks(t)
	h := w.h.As(w.cityViewer) // any authenticated user reads the catalogue

	r := h.Request(http.MethodGet, "/api/v1/playbooks", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var list struct {
		Playbooks []playbookSummaryBody `json:"playbooks"`
	}
	r.JSON(t, &list)
	var ids []string
	byID := map[string]playbookSummaryBody{}
	for _, p := range list.Playbooks {
		ids = append(ids, p.ID)
		byID[p.ID] = p
	}
	require.Equal(t, []string{"broken", "ddos", "defacement", "personal-data-breach", "phishing-campaign", "ransomware", "vulnerability-advisory"}, ids)

	rw := byID["ransomware"]
	require.True(t, rw.Valid)
	require.Empty(t, rw.Errors)
	require.Equal(t, "shipped", rw.Origin)
	require.Equal(t, "playbooks/ransomware.yaml", rw.File)
	require.Equal(t, 11, rw.StepCount)
	require.Len(t, rw.Triggers, 3)
	require.Equal(t, "incident.created", rw.Triggers[0].On)
	require.Contains(t, *rw.Triggers[0].When, `category == "malicious-code"`)
	require.Nil(t, rw.Triggers[2].When, "manual has no condition")

	dd := byID["ddos"]
	require.Equal(t, "local", dd.Origin)
	require.Equal(t, "playbooks/ddos.yaml", *dd.Replaces)
	require.Equal(t, 9, dd.Version)
	require.Equal(t, filepath.Join(w.localDir, "ddos.yaml"), dd.File)

	br := byID["broken"]
	require.False(t, br.Valid)
	require.Len(t, br.Errors, 1)
	require.Equal(t, filepath.Join(w.localDir, "broken.yaml"), br.Errors[0].File)
	require.Equal(t, 6, br.Errors[0].Line)
	require.Equal(t, 60, br.Errors[0].Column)
	require.Contains(t, br.Errors[0].Message, `notify template "nope"`)

	// One playbook in full.
	r = h.Request(http.MethodGet, "/api/v1/playbooks/ransomware", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var d playbookDetailBody
	r.JSON(t, &d)
	shipped, err := os.ReadFile(filepath.Join("..", "..", "playbooks", "ransomware.yaml"))
	require.NoError(t, err)
	require.Equal(t, string(shipped), d.Source)
	require.Len(t, d.Steps, 11)
	tell := d.Steps[2]
	require.Equal(t, "tell-cert", tell.ID)
	require.Equal(t, []string{"isolate"}, tell.Needs)
	require.Equal(t, "notify", tell.Action)
	require.Equal(t, map[string]any{"to": "coordinating_org", "template": "ransomware_started"}, tell.With)
	require.Equal(t, 5, tell.Retry.Attempts)
	require.Equal(t, "1m", *tell.Retry.Backoff)
	require.Nil(t, tell.Stage)
	wait := d.Steps[3]
	require.Equal(t, "escalate", wait.OnTimeout)
	require.Equal(t, "fail", wait.OnFailure)
	require.Equal(t, "response", *d.Steps[0].Stage)
	require.Equal(t, map[string]any{"title": "Isolate affected hosts from the network", "description": "Disconnect infected machines (do not power them off: memory is evidence).\nBlock SMB/RDP between segments; disable compromised accounts.\n",
		"assignee_role": "responder", "due": "2h"}, d.Steps[0].With)
	require.Contains(t, *d.Steps[5].When, `"domain-controller" in tags`)

	r = h.Request(http.MethodGet, "/api/v1/playbooks/ddos", nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &d)
	require.Equal(t, "36h", *d.Steps[0].Timeout)

	// The source alone, and bad formats.
	r = h.Request(http.MethodGet, "/api/v1/playbooks/ransomware?format=yaml", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "application/yaml", r.Header.Get("Content-Type"))
	require.Equal(t, string(shipped), string(r.Body))
	r = h.Request(http.MethodGet, "/api/v1/playbooks/ransomware?format=xml", nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Contains(t, string(r.Body), `"field":"format"`)

	// An invalid playbook is shown with its errors; an unknown one is a 404.
	r = h.Request(http.MethodGet, "/api/v1/playbooks/broken", nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &d)
	require.False(t, d.Valid)
	require.Len(t, d.Errors, 1)
	for _, id := range []string{"nope", "RANSOMWARE", "..%2Fetc"} {
		r = h.Request(http.MethodGet, "/api/v1/playbooks/"+id, nil)
		require.Equal(t, http.StatusNotFound, r.Status, id)
	}
}

func TestPlaybookDryRun(t *testing.T) {
	t.Parallel()
	w := setupPlaybooks(t)
	h := w.h
	ctx := context.Background()

	r := h.As(w.cityReporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Ransomware at city hall", "severity": "high", "category": "malicious-code", "type": "infected-system",
		"tags": []string{"ransomware"}, "tlp": "TLP:AMBER+STRICT"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc incidentBody
	r.JSON(t, &inc)

	counts := func() (events, jobs int) {
		require.NoError(t, h.App.DB.Pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM incident_events), (SELECT count(*) FROM river_job)").Scan(&events, &jobs))
		return events, jobs
	}
	ev0, jobs0 := counts()

	dry := func(tok, id string, body any, want int) (dryRunBody, *testapp.Response) {
		t.Helper()
		r := h.As(tok).Request(http.MethodPost, "/api/v1/playbooks/"+id+"/dry-run", body)
		require.Equal(t, want, r.Status, "%s", r.Body)
		var d dryRunBody
		if want == http.StatusOK {
			r.JSON(t, &d)
		}
		return d, r
	}

	// By reference and by ID, for city's reporter and viewer.
	for _, tok := range []string{w.cityReporter, w.cityViewer} {
		for _, ref := range []string{inc.Reference, inc.ID} {
			d, _ := dry(tok, "ransomware", map[string]any{"incident": ref}, http.StatusOK)
			require.Equal(t, inc.ID, d.Incident.ID)
			require.Equal(t, inc.Reference, d.Incident.Reference)
			require.Equal(t, "ransomware", d.Playbook.ID)
			require.Equal(t, 3, d.Playbook.Version)
			require.Equal(t, map[string]bool{"incident.created": true, "incident.updated": true, "manual": true}, d.Triggered)
			// Skipped: no domain controller, no exfiltration answer in a dry
			// run, not significant; escalate is a handler step (the target
			// of wait-ack's on_timeout): it runs only when jumped to.
			require.Equal(t, []string{"isolate", "preserve-evidence", "tell-cert", "wait-ack", "-escalate", "-raise-severity",
				"exfiltration-check", "-mark-breach", "-nis2-early-warning", "restore", "lessons"}, d.plan())
			require.Equal(t, 7, d.StepsToRun)
			require.Equal(t, "runs only on timeout/failure of wait-ack", *d.Steps[4].Reason)
			require.Equal(t, `when is false: severity < "critical" && "domain-controller" in tags`, *d.Steps[5].Reason)
			require.Nil(t, d.Steps[0].Reason)
		}
	}

	// A TLP:AMBER+STRICT incident of city is routed to the CERT above in
	// the report's own transaction: its coordinator sees it at once.
	dry(w.regionCoord, "ransomware", map[string]any{"incident": inc.Reference}, http.StatusOK)
	r = h.As(w.cityReporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Phishing mails to council staff", "category": "fraud", "type": "phishing", "tlp": "TLP:AMBER"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var amber incidentBody
	r.JSON(t, &amber)
	d, _ := dry(w.regionCoord, "phishing-campaign", map[string]any{"incident": amber.Reference}, http.StatusOK)
	require.True(t, d.Triggered["incident.created"])
	require.Equal(t, amber.ID, d.Incident.ID)
	ev0, jobs0 = counts()

	// Another playbook on the same incident: its created trigger does not fire.
	d, _ = dry(w.cityReporter, "phishing-campaign", map[string]any{"incident": inc.Reference}, http.StatusOK)
	require.False(t, d.Triggered["incident.created"])
	require.True(t, d.Triggered["manual"])
	require.False(t, d.Triggers[0].Fires)
	require.Nil(t, d.Triggers[0].Error)

	// Cross-organisation: town sees none of city's incidents; the answer is
	// the one for an incident that does not exist.
	_, miss := dry(w.townTok, "ransomware", map[string]any{"incident": inc.Reference}, http.StatusNotFound)
	_, none := dry(w.townTok, "ransomware", map[string]any{"incident": "INC-1999-999999"}, http.StatusNotFound)
	require.NotContains(t, string(miss.Body), "Ransomware at city hall")
	problem := func(r *testapp.Response, from, to string) map[string]any {
		m := map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(string(r.Body), from, to)), &m))
		delete(m, "request_id")
		return m
	}
	require.Equal(t, problem(none, "INC-1999-999999", inc.Reference), problem(miss, "", ""))
	dry(w.townTok, "ransomware", map[string]any{"incident": inc.ID}, http.StatusNotFound)

	// What if: incident-like fields, any authenticated user.
	d, _ = dry(w.townTok, "ransomware", map[string]any{"incident_fields": map[string]any{
		"severity": "high", "category": "malicious-code", "tags": []string{"Ransomware", "domain-controller"},
		"flags": map[string]any{"significant": true}}}, http.StatusOK)
	require.Nil(t, d.Incident)
	require.True(t, d.Triggered["incident.created"])
	require.Equal(t, 9, d.StepsToRun, "raise-severity runs for a domain controller below critical, the NIS2 warning when significant (escalate only on a timeout)")
	d, _ = dry(w.townTok, "vulnerability-advisory", map[string]any{"incident_fields": map[string]any{"stage": "prevention", "category": "vulnerable", "tlp": "green"}}, http.StatusOK)
	require.True(t, d.Triggered["incident.created"])
	d, _ = dry(w.townTok, "vulnerability-advisory", map[string]any{"incident_fields": map[string]any{"category": "vulnerable"}}, http.StatusOK)
	require.False(t, d.Triggered["incident.created"], "the default stage is response")

	// Bad input names the field.
	for _, tc := range []struct {
		body        any
		field, rule string
	}{
		{map[string]any{}, "incident", "required"},
		{map[string]any{"incident": " "}, "incident", "required"},
		{map[string]any{"incident": inc.Reference, "incident_fields": map[string]any{}}, "incident_fields", "exclusive"},
		{map[string]any{"incident_fields": map[string]any{"severity": "urgent"}}, "incident_fields.severity", "enum"},
		{map[string]any{"incident_fields": map[string]any{"tlp": "purple"}}, "incident_fields.tlp", "enum"},
		{map[string]any{"incident_fields": map[string]any{"stage": "done"}}, "incident_fields.stage", "enum"},
		{map[string]any{"incident_fields": map[string]any{"status": "pending"}}, "incident_fields.status", "enum"},
		{map[string]any{"incident_fields": map[string]any{"category": "malware"}}, "incident_fields.category", "enum"},
		{map[string]any{"incident_fields": map[string]any{"category": "availability", "type": "phishing"}}, "incident_fields.type", "enum"},
		{map[string]any{"incident_fields": map[string]any{"tags": []string{"has space"}}}, "incident_fields.tags", "format"},
		{map[string]any{"incident_fields": map[string]any{"flags": map[string]any{"breach": true}}}, "breach", "unknown_field"},
		{map[string]any{"incident": 42}, "incident", "type"},
		{map[string]any{"incidents": "x"}, "incidents", "unknown_field"},
	} {
		_, r := dry(w.cityReporter, "ransomware", tc.body, http.StatusUnprocessableEntity)
		require.Contains(t, string(r.Body), `"field":"`+tc.field+`"`, "%v: %s", tc.body, r.Body)
		require.Contains(t, string(r.Body), `"rule":"`+tc.rule+`"`, "%v: %s", tc.body, r.Body)
	}

	// Unknown and invalid playbooks.
	dry(w.cityReporter, "nope", map[string]any{"incident": inc.Reference}, http.StatusNotFound)
	_, r = dry(w.cityReporter, "broken", map[string]any{"incident": inc.Reference}, http.StatusConflict)
	require.Contains(t, string(r.Body), "does not validate")

	// No side effects: nothing was written and no job queued.
	ev1, jobs1 := counts()
	require.Equal(t, ev0, ev1)
	require.Equal(t, jobs0, jobs1)
}
