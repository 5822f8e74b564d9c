package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The escalation routes of the access matrix. Their rules, written out
// again from docs/escalation.md and docs/security.md:
//
//   - escalating needs incident.escalate (responder, coordinator, admin)
//     and an organisation that owns the incident, after the incident's
//     visibility (404);
//   - an escalation exists only for the organisations on its two sides;
//     every role there reads it, anyone else gets 404;
//   - accept, decline and return need escalation.decide (coordinator,
//     admin) in the receiving organisation; the requesting side gets 403;
//   - a policy is read by the organisation and the CERTs above it, and set
//     by their administrators; a partner does not see other members.

var secEscalate = secRoleMatrix["incident.escalate"]
var secDecide = []access.Role{access.Coordinator, access.Admin}

// matrixEscalations is the escalation seed: the GREEN incident escalated
// by region-north to national-cert and declined there (so that no probe
// can change its state).
type matrixEscalations struct {
	declinedID string
	from, to   string
}

func seedMatrixEscalations(t *testing.T, w *matrixWorld) *matrixEscalations {
	t.Helper()
	inc := w.incs[incident.TLPGreen]
	r := w.h.As(w.users["region-north"][access.Coordinator].Token).Request(http.MethodPost, "/api/v1/incidents/"+inc.Ref+"/escalations",
		map[string]any{"to": "national-cert", "kind": "assist", "reason": "matrix"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var e struct{ ID string }
	r.JSON(t, &e)
	r = w.h.As(w.users["national-cert"][access.Coordinator].Token).Request(http.MethodPost, "/api/v1/escalations/"+e.ID+"/decline",
		map[string]any{"reason": "matrix"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return &matrixEscalations{declinedID: e.ID, from: "region-north", to: "national-cert"}
}

// escalationSide reports whether the viewer's organisation is a side of
// the seeded escalation.
func (m *matrixEscalations) side(v secUser) bool { return v.OrgSlug == m.from || v.OrgSlug == m.to }

// requestEscalationProbes: a target no organisation may receive (sink, an
// operator) gives 422 naming "to" once every access check passed, so that
// no probe escalates anything.
func (w *matrixWorld) requestEscalationProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		ref := "INC-1999-999999"
		want := http.StatusNotFound
		if inc != nil {
			ref = inc.Ref
			switch {
			case read == http.StatusNotFound:
			case !slices.Contains(secEscalate, v.Role):
				want = http.StatusForbidden
			case !w.tree.owns(v.OrgSlug, inc):
				want = http.StatusForbidden
			default:
				want = http.StatusUnprocessableEntity
			}
		}
		check := func(r *testapp.Response) string {
			if r.Status == http.StatusUnprocessableEntity {
				return fieldIs("to")(r)
			}
			return isProblem(r)
		}
		return []secProbe{
			{path: "/api/v1/incidents/" + ref + "/escalations", body: map[string]any{"to": "sink", "reason": "matrix"}, want: want, check: check},
			{path: "/api/v1/incidents/" + ref + "/escalations", body: map[string]any{"kind": "everything"},
				want: http.StatusUnprocessableEntity, check: fieldIs("kind"), variant: "(bad kind)"},
		}
	}
}

func (w *matrixWorld) listEscalationProbes(v secUser, target string) []secProbe {
	path := "/api/v1/escalations"
	if target != "all" {
		path += "?direction=" + target
	}
	return []secProbe{{path: path, want: http.StatusOK, check: func(r *testapp.Response) string {
		var l struct {
			Escalations []struct {
				ID                string  `json:"id"`
				FromOrg           string  `json:"from_org"`
				ToOrg             string  `json:"to_org"`
				IncidentReference string  `json:"incident_reference"`
				IncidentTitle     *string `json:"incident_title"`
			}
		}
		if err := json.Unmarshal(r.Body, &l); err != nil {
			return err.Error()
		}
		var wrong []string
		seen := false
		for _, e := range l.Escalations {
			if e.FromOrg != v.OrgSlug && e.ToOrg != v.OrgSlug {
				wrong = append(wrong, fmt.Sprintf("lists %s→%s", e.FromOrg, e.ToOrg))
			}
			if (target == "inbox" && e.ToOrg != v.OrgSlug) || (target == "outbox" && e.FromOrg != v.OrgSlug) {
				wrong = append(wrong, fmt.Sprintf("%s lists %s→%s", target, e.FromOrg, e.ToOrg))
			}
			for _, inc := range w.incs {
				if inc.Ref == e.IncidentReference && (e.IncidentTitle != nil) != w.tree.sees(v.ID, v.OrgSlug, inc) {
					wrong = append(wrong, fmt.Sprintf("the title of the %s incident shown=%v", inc.TLP, e.IncidentTitle != nil))
				}
			}
			seen = seen || e.ID == w.esc.declinedID
		}
		want := (target == "all" && w.esc.side(v)) || (target == "inbox" && v.OrgSlug == w.esc.to) || (target == "outbox" && v.OrgSlug == w.esc.from)
		if seen != want {
			wrong = append(wrong, fmt.Sprintf("the seeded escalation listed=%v want %v", seen, want))
		}
		return strings.Join(wrong, "; ")
	}}}
}

func (w *matrixWorld) getEscalationProbes(v secUser, target string) []secProbe {
	id, want := uuid.NewString(), http.StatusNotFound
	switch target {
	case "declined":
		id = w.esc.declinedID
		if w.esc.side(v) {
			want = http.StatusOK
		}
	case "not-a-uuid":
		id = "not-a-uuid"
	}
	return []secProbe{{path: "/api/v1/escalations/" + id, want: want, check: func(r *testapp.Response) string {
		if r.Status == http.StatusOK && !strings.Contains(string(r.Body), id) {
			return "the answer is not about the escalation asked for"
		}
		if r.Status != http.StatusOK {
			return isProblem(r)
		}
		return ""
	}}}
}

// decideEscalationProbes: the seeded escalation is declined, so a decider
// of the receiving organisation gets 409 and nothing changes.
func (w *matrixWorld) decideEscalationProbes(verb string) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		id, want := uuid.NewString(), http.StatusNotFound
		if target == "declined" {
			id = w.esc.declinedID
			switch {
			case !w.esc.side(v):
			case !slices.Contains(secDecide, v.Role), v.OrgSlug != w.esc.to:
				want = http.StatusForbidden
			default:
				want = http.StatusConflict
			}
		}
		return []secProbe{{path: "/api/v1/escalations/" + id + "/" + verb, body: map[string]any{"reason": "matrix"}, want: want,
			check: func(r *testapp.Response) string {
				if r.Status == http.StatusConflict && !strings.Contains(string(r.Body), `"allowed":[]`) {
					return "the 409 does not say that nothing is allowed any more"
				}
				return isProblem(r)
			}}}
	}
}

func (w *matrixWorld) policyProbes(method string) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		want := http.StatusOK
		switch {
		case !w.tree.seesOrg(v.OrgSlug, target):
			want = http.StatusNotFound
		case !w.tree.under(v.OrgSlug, target):
			want = http.StatusForbidden
		case method == http.MethodPut && !secMay("org.manage", v.Role):
			want = http.StatusForbidden
		}
		var body any
		if method == http.MethodPut {
			body = map[string]any{"rules": []any{}} // an empty policy: changes nothing another probe sees
		}
		return []secProbe{{method: method, path: "/api/v1/organizations/" + target + "/escalation-policy", body: body, want: want,
			check: func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return isProblem(r)
				}
				var p struct{ Org string }
				_ = json.Unmarshal(r.Body, &p)
				if p.Org != target {
					return "the policy of " + p.Org
				}
				return ""
			}}}
	}
}
