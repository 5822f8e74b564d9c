package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// matrixPlaybook is the only playbook of the access matrix: started by
// hand on every matrix incident, it ends at once (both steps are skipped),
// so that no probe changes what another sees. Its finished run answers
// cancel, approval and input probes with 409 once access is granted.
const matrixPlaybook = `
id: matrix
name: Matrix
version: 1
triggers:
  - on: manual
steps:
  - id: approve
    when: severity == "critical" && severity == "low"
    action: approval
    with: { role: coordinator, prompt: "Approve?" }
  - id: fill
    when: severity == "critical" && severity == "low"
    action: input
    with: { prompt: "Fill", schema: { type: object } }
`

func matrixPlaybooks(t *testing.T) []*playbook.Playbook {
	pbs, err := playbook.LoadSources([]playbook.Source{{Name: "matrix.yaml", Data: []byte(matrixPlaybook)}})
	require.NoError(t, err)
	return pbs
}

// seedMatrixRuns runs the matrix playbook on every matrix incident and
// returns the runs' IDs.
func seedMatrixRuns(t *testing.T, w *matrixWorld) map[incident.TLP]string {
	t.Helper()
	out := map[incident.TLP]string{}
	for _, tlp := range secTLPs {
		r, err := w.h.App.Runs.Start(context.Background(), access.System, w.incs[tlp].ID, "matrix")
		require.NoError(t, err)
		out[tlp] = r.ID.String()
	}
	return out
}

// runProbes are the access-matrix probes of the playbook-run routes under
// /api/v1/incidents/{id}/playbook-runs/{runId}: suffix is "", "/cancel",
// "/approvals/approve" or "/inputs/fill", action the write that decides it
// (access.ReadIncident for the read). Invisible is 404, then the write
// table (for the approval, also the step's role: coordinator), then the
// answer of a finished run.
func (w *matrixWorld) runProbes(incidentFor func(v secUser, target string) (*secIncident, int), suffix string, action access.Action, body any, ok int) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, want := incidentFor(v, target)
		id, _, title := incidentKeys(inc)
		runID := uuid.NewString()
		if inc != nil {
			runID = w.runs[inc.TLP]
		}
		method := http.MethodPost
		if suffix == "" {
			method = http.MethodGet
		}
		switch {
		case want == http.StatusNotFound:
		case action == access.ApproveStep && v.Principal().RequireApprover(w.tree.writeRelations(v, inc), access.Coordinator, "approve") != nil:
			want = http.StatusForbidden
		case action != access.ReadIncident && !w.tree.mayWrite(v, inc, action):
			want = http.StatusForbidden
		default:
			want = ok
		}
		check := incidentCheck(title, runID, "the answer is not about the run asked for", func(r *testapp.Response) string {
			if r.Status != http.StatusOK {
				return isProblem(r)
			}
			return ""
		})
		probes := []secProbe{{method: method, path: "/api/v1/incidents/" + id + "/playbook-runs/" + runID + suffix, body: body,
			want: want, check: check, variant: "(uuid)"}}
		if inc != nil && want != http.StatusNotFound && want != http.StatusForbidden {
			// Another run ID on a visible incident is unknown.
			probes = append(probes, secProbe{method: method, path: "/api/v1/incidents/" + inc.Ref + "/playbook-runs/" + uuid.NewString() + suffix,
				body: body, want: http.StatusNotFound, check: check, variant: "(unknown run)"})
		}
		return probes
	}
}

// startRunProbes: starting an unknown playbook is 404 on an invisible
// incident, 403 where the write table refuses playbook.run, else 422.
func (w *matrixWorld) startRunProbes(incidentFor func(v secUser, target string) (*secIncident, int)) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, want := incidentFor(v, target)
		id := uuid.NewString()
		if inc != nil {
			id = inc.ID
		}
		switch {
		case want == http.StatusNotFound:
		case !w.tree.mayWrite(v, inc, access.RunPlaybook):
			want = http.StatusForbidden
		default:
			want = http.StatusUnprocessableEntity
		}
		return []secProbe{{path: "/api/v1/incidents/" + id + "/playbook-runs", body: map[string]any{"playbook": "no-such-playbook"},
			want: want, check: func(r *testapp.Response) string {
				if r.Status == http.StatusUnprocessableEntity {
					return fieldIs("playbook")(r)
				}
				return isProblem(r)
			}}}
	}
}
