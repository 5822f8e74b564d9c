package runbook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// world is a harness with a small directory: a national CERT, a regional
// CERT with a city below it, and another city elsewhere.
type world struct {
	h *testapp.Harness
	// tokens by name: reporter (city), responder, coordinator, viewer,
	// admin (region), outsider (a responder of another city).
	tok map[string]string
}

func setup(t *testing.T, opts testapp.Options, yamls ...string) *world {
	t.Helper()
	if len(yamls) > 0 {
		var srcs []playbook.Source
		for i, y := range yamls {
			srcs = append(srcs, playbook.Source{Name: fmt.Sprintf("test-%d.yaml", i), Data: []byte(y)})
		}
		pbs, err := playbook.LoadSources(srcs)
		require.NoError(t, err)
		opts.Playbooks = pbs
	}
	h := testapp.New(t, opts)
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("elsewhere", org.RegionalCERT, "national")
	h.Org("town", org.LocalAuthority, "elsewhere")
	w := &world{h: h, tok: map[string]string{}}
	_, w.tok["reporter"] = h.User("city", access.Reporter)
	_, w.tok["responder"] = h.User("region", access.Responder)
	_, w.tok["coordinator"] = h.User("region", access.Coordinator)
	_, w.tok["viewer"] = h.User("region", access.Viewer)
	_, w.tok["admin"] = h.User("region", access.Admin)
	_, w.tok["outsider"] = h.User("town", access.Responder)
	return w
}

func (w *world) as(name string) *testapp.Harness { return w.h.As(w.tok[name]) }

// report creates an incident as the city's reporter and returns its ID.
func (w *world) report(t *testing.T, body map[string]any) string {
	t.Helper()
	if body["title"] == nil {
		body["title"] = "Test incident"
	}
	r := w.as("reporter").Request(http.MethodPost, "/api/v1/incidents", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	return r.Map(t)["id"].(string)
}

type stepView struct {
	ID         string         `json:"id"`
	Status     string         `json:"status"`
	Attempts   int            `json:"attempts"`
	LastError  string         `json:"last_error"`
	Output     map[string]any `json:"output"`
	WaitingFor string         `json:"waiting_for"`
	JumpedFrom string         `json:"jumped_from"`
	Needs      []string       `json:"needs"`
}

type runView struct {
	ID       string     `json:"id"`
	Playbook string     `json:"playbook"`
	State    string     `json:"state"`
	Trigger  string     `json:"trigger"`
	Error    string     `json:"error"`
	Steps    []stepView `json:"steps"`
}

func (r runView) step(id string) stepView {
	for _, s := range r.Steps {
		if s.ID == id {
			return s
		}
	}
	return stepView{}
}

// statuses formats the steps as "id=status ..." in file order.
func (r runView) statuses() string {
	s := ""
	for i, st := range r.Steps {
		if i > 0 {
			s += " "
		}
		s += st.ID + "=" + st.Status
	}
	return s
}

// runs lists the incident's runs as the coordinator.
func (w *world) runs(t *testing.T, incID string) []runView {
	t.Helper()
	r := w.as("coordinator").Request(http.MethodGet, "/api/v1/incidents/"+incID+"/playbook-runs", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct{ Runs []runView }
	r.JSON(t, &l)
	return l.Runs
}

// run returns the incident's only run of playbook id.
func (w *world) run(t *testing.T, incID, id string) runView {
	t.Helper()
	for _, r := range w.runs(t, incID) {
		if r.Playbook == id {
			return r
		}
	}
	return runView{}
}

// until waits until the run of playbook id on the incident is in a state
// for which cond holds, and returns it.
func (w *world) until(t *testing.T, incID, id string, cond func(r runView) bool, msg string) runView {
	t.Helper()
	var last runView
	w.h.Eventually(func() bool {
		last = w.run(t, incID, id)
		return cond(last)
	}, msg)
	return last
}

// count runs a counting query on the test database.
func (w *world) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(context.Background(), q, args...).Scan(&n))
	return n
}

// timeline returns the incident's events of the given kind, in order.
func (w *world) timeline(t *testing.T, incID, kind string) []map[string]any {
	t.Helper()
	r := w.as("coordinator").Request(http.MethodGet, "/api/v1/incidents/"+incID+"/timeline?limit=500&kind="+kind, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l struct {
		Events []struct {
			Kind  string          `json:"kind"`
			Actor string          `json:"actor"`
			Data  json.RawMessage `json:"data"`
		} `json:"events"`
	}
	r.JSON(t, &l)
	out := []map[string]any{}
	for _, e := range l.Events {
		m := map[string]any{}
		require.NoError(t, json.Unmarshal(e.Data, &m))
		m["_kind"], m["_actor"] = e.Kind, e.Actor
		out = append(out, m)
	}
	return out
}
