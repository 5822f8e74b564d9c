package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The access matrix of the observable routes (TestAccessMatrix's route
// table calls these builders). Adding observables needs the write table's
// observable.add, changing and removing them observable.change, on an
// incident the caller sees; reading them,
// correlating and exporting need only the incident's visibility. Bodies
// and query parameters are checked before anything else and reveal
// nothing.

// matrixCorrelated is the value every matrix incident holds, so that the
// correlation probe can check which incidents each viewer finds.
const matrixCorrelated = "198.51.100.42"

// seedMatrixObservables gives every matrix incident the correlated IP
// address (as System, which sees every incident) and returns its ID per TLP.
func seedMatrixObservables(t *testing.T, h *testapp.Harness, incs map[incident.TLP]*secIncident) map[incident.TLP]string {
	t.Helper()
	out := map[incident.TLP]string{}
	for tlp, inc := range incs {
		o, created, err := h.App.Observables.Add(context.Background(), access.System, inc.ID,
			observable.NewObservable{Type: observable.IPv4, Value: matrixCorrelated})
		require.NoError(t, err)
		require.True(t, created)
		out[tlp] = o.ID.String()
	}
	return out
}

// matrixObservableExpect is the expected status of a write a to an
// observable of the target incident: invisible 404 (never 403), then the
// write table.
func (w *matrixWorld) matrixObservableExpect(v secUser, inc *secIncident, read int, a access.Action, ok int) int {
	return w.tree.writeStatus(v, inc, read, a, ok)
}

func (w *matrixWorld) matrixAddObservable(incidentFor incidentForFunc, problemUnless func(int) func(*testapp.Response) string) func(secUser, string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		id := uuid.NewString()
		if inc != nil {
			id = inc.ID
		}
		body := map[string]any{"type": "domain", "value": fmt.Sprintf("m%d.matrix.example", w.next())}
		return []secProbe{
			{path: "/api/v1/incidents/" + id + "/observables", body: body, want: w.matrixObservableExpect(v, inc, read, access.AddObservable, http.StatusCreated),
				check: problemUnless(http.StatusCreated), variant: "(uuid)"},
			{path: "/api/v1/incidents/" + id + "/observables", body: map[string]any{"type": "ipv4", "value": "999.1.1.1"},
				want: http.StatusUnprocessableEntity, check: fieldIs("value"), variant: "(bad value)"},
		}
	}
}

// matrixImportMISP: importing a MISP event into an incident is adding
// observables (observable.add): invisible is a 404, not allowed a 403.
func (w *matrixWorld) matrixImportMISP(incidentFor incidentForFunc, problemUnless func(int) func(*testapp.Response) string) func(secUser, string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		id := uuid.NewString()
		if inc != nil {
			id = inc.ID
		}
		body := map[string]any{"Event": map[string]any{"info": "matrix", "Attribute": []any{
			map[string]any{"type": "domain", "category": "Network activity", "value": fmt.Sprintf("m%d.misp.example", w.next())}}}}
		return []secProbe{{path: "/api/v1/incidents/" + id + "/misp", body: body,
			want: w.matrixObservableExpect(v, inc, read, access.AddObservable, http.StatusOK), check: problemUnless(http.StatusOK)}}
	}
}

func (w *matrixWorld) matrixPatchObservable(incidentFor incidentForFunc, problemUnless func(int) func(*testapp.Response) string) func(secUser, string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		ref, obs := "INC-1999-999999", uuid.NewString()
		if inc != nil {
			ref, obs = inc.Ref, w.obs[incident.TLP(target)]
		}
		path := "/api/v1/incidents/" + ref + "/observables/"
		return []secProbe{
			{method: http.MethodPatch, path: path + obs, body: map[string]any{"sighted": true},
				want: w.matrixObservableExpect(v, inc, read, access.ChangeObservable, http.StatusOK), check: problemUnless(http.StatusOK), variant: "(reference)"},
			{method: http.MethodPatch, path: path + uuid.NewString(), body: map[string]any{"sighted": true},
				want: w.matrixObservableExpect(v, inc, read, access.ChangeObservable, http.StatusNotFound), check: problemUnless(0), variant: "(unknown observable)"},
			{method: http.MethodPatch, path: path + obs, body: map[string]any{"tlp": "TLP:PURPLE"},
				want: http.StatusUnprocessableEntity, check: fieldIs("tlp"), variant: "(bad tlp)"},
		}
	}
}

func (w *matrixWorld) matrixDeleteObservable(incidentFor incidentForFunc, problemUnless func(int) func(*testapp.Response) string) func(secUser, string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		id, obs := uuid.NewString(), uuid.NewString()
		if inc != nil {
			// An observable of its own for every probe, so that the order in
			// which the cells run does not matter.
			o, _, err := w.h.App.Observables.Add(context.Background(), access.System, inc.ID, observable.NewObservable{
				Type: observable.Domain, Value: fmt.Sprintf("d%d.matrix.example", w.next())})
			if err != nil {
				panic(err)
			}
			id, obs = inc.ID, o.ID.String()
		}
		return []secProbe{{path: "/api/v1/incidents/" + id + "/observables/" + obs,
			want: w.matrixObservableExpect(v, inc, read, access.ChangeObservable, http.StatusNoContent), check: problemUnless(http.StatusNoContent)}}
	}
}

func (w *matrixWorld) matrixExport(incidentFor incidentForFunc) func(secUser, string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, want := incidentFor(v, target)
		id, ref, title := incidentKeys(inc)
		check := incidentCheck(title, ref, "the export is not of the incident asked for", func(r *testapp.Response) string {
			if r.Status == http.StatusOK && !bytes.Contains(r.Body, []byte(matrixCorrelated)) {
				return "the export misses the incident's observable"
			}
			return ""
		})
		return []secProbe{
			{path: "/api/v1/incidents/" + id + "/export?format=json", want: want, check: check, variant: "(json)"},
			{path: "/api/v1/incidents/" + ref + "/export?format=stix", want: want, check: check, variant: "(stix)"},
			{path: "/api/v1/incidents/" + ref + "/export?format=misp", want: want, check: check, variant: "(misp)"},
			{path: "/api/v1/incidents/" + id + "/export?format=taxii", want: http.StatusUnprocessableEntity, check: fieldIs("format"),
				variant: "(bad format)"},
		}
	}
}

// matrixCorrelate checks that the correlation search finds the shared IP
// address in exactly the matrix incidents the viewer may see.
func (w *matrixWorld) matrixCorrelate(v secUser, _ string) []secProbe {
	return []secProbe{
		{path: "/api/v1/observables?type=ipv4&limit=500&value=" + matrixCorrelated, want: http.StatusOK, check: func(r *testapp.Response) string {
			var m struct {
				Matches []struct{ Incident struct{ ID string } }
			}
			if err := json.Unmarshal(r.Body, &m); err != nil {
				return err.Error()
			}
			got := map[string]bool{}
			for _, x := range m.Matches {
				got[x.Incident.ID] = true
			}
			var wrong []string
			for tlp, inc := range w.incs {
				if want := w.tree.sees(v.ID, v.OrgSlug, inc); got[inc.ID] != want {
					wrong = append(wrong, fmt.Sprintf("%s found=%v want %v", tlp, got[inc.ID], want))
				}
			}
			if len(m.Matches) != len(got) {
				wrong = append(wrong, "an incident is listed twice")
			}
			sort.Strings(wrong)
			return strings.Join(wrong, "; ")
		}},
		{path: "/api/v1/observables?type=ipv4", want: http.StatusUnprocessableEntity, check: fieldIs("value"), variant: "(no value)"},
	}
}
