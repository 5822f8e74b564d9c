package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/testapp"
)

// notificationProbes are the access-matrix probes of GET /api/v1/notifications:
// without a filter, only notifications of incidents the caller sees are
// listed; with ?incident=, an incident the caller may not see is a 404.
func (w *matrixWorld) notificationProbes(incidentFor func(v secUser, target string) (*secIncident, int)) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		listed := func(r *testapp.Response) (map[string]bool, string) {
			var l struct {
				Notifications []struct {
					IncidentID string `json:"incident_id"`
				}
			}
			if err := json.Unmarshal(r.Body, &l); err != nil {
				return nil, err.Error()
			}
			got := map[string]bool{}
			for _, n := range l.Notifications {
				got[n.IncidentID] = true
			}
			return got, ""
		}
		if target == "all" {
			return []secProbe{{path: "/api/v1/notifications?limit=500", want: http.StatusOK, check: func(r *testapp.Response) string {
				got, bad := listed(r)
				if bad != "" {
					return bad
				}
				var wrong []string
				for _, inc := range w.incs {
					if got[inc.ID] && !w.tree.sees(v.ID, v.OrgSlug, inc) {
						wrong = append(wrong, fmt.Sprintf("lists a notification of the invisible %s incident", inc.TLP))
					}
				}
				return strings.Join(wrong, "; ")
			}}}
		}
		inc, want := incidentFor(v, target)
		id, ref := testapp.NewID(), "INC-1999-999999"
		if inc != nil {
			id, ref = inc.ID, inc.Ref
		}
		check := func(r *testapp.Response) string {
			if r.Status != http.StatusOK {
				return isProblem(r)
			}
			got, bad := listed(r)
			if bad != "" {
				return bad
			}
			for other := range got {
				if other != id {
					return "lists a notification of another incident"
				}
			}
			return ""
		}
		return []secProbe{
			{path: "/api/v1/notifications?incident=" + id, want: want, check: check, variant: "(uuid)"},
			{path: "/api/v1/notifications?incident=" + ref, want: want, check: check, variant: "(reference)"},
		}
	}
}
