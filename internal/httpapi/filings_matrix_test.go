package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
)

// The routes of the reports written in the web UI, in TestAccessMatrix.
// The matrix's incidents were created through the API, so none has a
// structured report or a legal report: every cell is a 404, and what the
// matrix checks is that the 404 of an incident the viewer may see says
// so ("no structured report", "legal report … not found") while the 404 of
// one they may not see is the plain "not found" of an incident that does
// not exist, never showing the title. The answers with content, and who
// reads them, are tested in reports_test.go.

// guidedReportProbes are the probes of GET /incidents/{id}/guided-report.
func guidedReportProbes(incidentFor func(v secUser, target string) (*secIncident, int)) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		id, ref, title := incidentKeys(inc)
		check := notFoundSaying(title, read == http.StatusOK, "has no structured report")
		return []secProbe{
			{path: "/api/v1/incidents/" + id + "/guided-report", want: http.StatusNotFound, check: check, variant: "(uuid)"},
			{path: "/api/v1/incidents/" + ref + "/guided-report", want: http.StatusNotFound, check: check, variant: "(reference)"},
		}
	}
}

// legalReportProbes are the probes of GET /incidents/{id}/legal-reports/{reportId}.
func legalReportProbes(incidentFor func(v secUser, target string) (*secIncident, int)) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		id, ref, title := incidentKeys(inc)
		check := notFoundSaying(title, read == http.StatusOK, "legal report")
		return []secProbe{
			{path: "/api/v1/incidents/" + id + "/legal-reports/" + uuid.NewString(), want: http.StatusNotFound, check: check, variant: "(uuid)"},
			{path: "/api/v1/incidents/" + ref + "/legal-reports/not-a-uuid", want: http.StatusNotFound, check: check, variant: "(reference)"},
		}
	}
}

// notFoundSaying checks a 404 problem: it never shows the title, and it
// names what is missing (say) exactly when the incident is visible.
func notFoundSaying(title string, visible bool, say string) func(r *testapp.Response) string {
	return func(r *testapp.Response) string {
		if bytes.Contains(r.Body, []byte(title)) {
			return "the 404 shows the incident's title"
		}
		if bytes.Contains(r.Body, []byte(say)) != visible {
			return fmt.Sprintf("visible=%v, but the answer is %s", visible, r.Body)
		}
		return isProblem(r)
	}
}
