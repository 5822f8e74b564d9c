package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/testapp"
)

// statsProbes checks a stats route for a viewer of the access matrix:
// every role that reads incidents gets its figures (200, 403 otherwise),
// and no answer names a matrix incident the viewer may not see (the oldest
// open incidents are listed by reference and title).
func (w *matrixWorld) statsProbes(path string) func(v secUser, _ string) []secProbe {
	return func(v secUser, _ string) []secProbe {
		want := http.StatusOK
		if !secMay("incident.read", v.Role) {
			want = http.StatusForbidden
		}
		return []secProbe{{path: path, want: want, check: func(r *testapp.Response) string {
			if r.Status != http.StatusOK {
				return isProblem(r)
			}
			for _, inc := range w.incs {
				seen := w.tree.sees(v.ID, v.OrgSlug, inc)
				if !seen && (bytes.Contains(r.Body, []byte(inc.Ref)) || bytes.Contains(r.Body, []byte(inc.Title))) {
					return "the figures name " + inc.Ref + ", which the viewer may not see"
				}
			}
			return ""
		}}}
	}
}

// reportProbes checks the incident report: 404 for an incident the viewer
// may not see (never 403), a PDF otherwise.
func reportProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, want := incidentFor(v, target)
		id, ref, title := incidentKeys(inc)
		check := func(r *testapp.Response) string {
			if r.Status == http.StatusOK && !bytes.HasPrefix(r.Body, []byte("%PDF-")) {
				return "not a PDF"
			}
			if r.Status != http.StatusOK && strings.Contains(string(r.Body), title) {
				return "the refusal shows the incident's title"
			}
			return ""
		}
		return []secProbe{
			{path: "/api/v1/incidents/" + id + "/report.pdf", want: want, check: check, variant: "(uuid)"},
			{path: "/api/v1/incidents/" + ref + "/report.pdf", want: want, check: check, variant: "(reference)"},
		}
	}
}
