package httpapi_test

import (
	"encoding/json"
	"net/http"

	"github.com/certdesk/certdesk/internal/testapp"
)

// TLP:RED recipients in the access matrix (red_routing_test.go has the
// behaviour).

// redRecipientsProbes: an organisation's TLP:RED recipients are read by
// the members of it and of the CERTs above it and set by their admins,
// like its escalation policy; only CERTs designate (409). The PUT
// designates nobody, which the matrix's CERTs already do, so that no probe
// changes what another sees.
func (w *matrixWorld) redRecipientsProbes(method string) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		want := http.StatusOK
		switch {
		case !w.tree.seesOrg(v.OrgSlug, target):
			want = http.StatusNotFound
		case !w.tree.under(v.OrgSlug, target):
			want = http.StatusForbidden
		case method == http.MethodPut && !secMay("org.manage", v.Role):
			want = http.StatusForbidden
		case method == http.MethodPut && !w.tree.isCERT(target):
			want = http.StatusConflict
		}
		var body any
		if method == http.MethodPut {
			body = map[string]any{"recipients": []string{}}
		}
		return []secProbe{{method: method, path: "/api/v1/organizations/" + target + "/red-recipients", body: body, want: want,
			check: func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return isProblem(r)
				}
				var p struct{ Organization string }
				_ = json.Unmarshal(r.Body, &p)
				if p.Organization != target {
					return "the TLP:RED recipients of " + p.Organization
				}
				return ""
			}}}
	}
}

// myRedRecipientsProbes: every role that reports is told which
// organisation would coordinate its TLP:RED report (the nearest CERT at or
// above its organisation; its own organisation when there is none).
func (w *matrixWorld) myRedRecipientsProbes(v secUser, _ string) []secProbe {
	want := http.StatusOK
	if !secMay("incident.create", v.Role) {
		want = http.StatusForbidden
	}
	routedTo := v.OrgSlug
	for o := v.OrgSlug; o != ""; o = w.tree.parent[o] {
		if w.tree.isCERT(o) {
			routedTo = o
			break
		}
	}
	return []secProbe{{path: "/api/v1/me/red-recipients", want: want, check: func(r *testapp.Response) string {
		if r.Status != http.StatusOK {
			return isProblem(r)
		}
		var p struct{ Organization string }
		_ = json.Unmarshal(r.Body, &p)
		if p.Organization != routedTo {
			return "routed to " + p.Organization + ", not " + routedTo
		}
		return ""
	}}}
}
