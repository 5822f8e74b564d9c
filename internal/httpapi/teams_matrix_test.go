package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/team"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
)

// The access matrix of the teams routes and of the bulk endpoint
// (TestAccessMatrix's route table). A team is its organisation's: another
// organisation's team is a 404 exactly like one that does not exist, for
// every role, before the role is checked; changing teams is team.manage
// (coordinators and administrators of a CERT). A bulk item is judged like
// the single call it stands for.

// matrixTeams is the teams' seed: one team per CERT of the matrix, with
// the CERT's responder as member.
type matrixTeams struct {
	byOrg map[string]*team.Team // CERT slug → its team
}

func seedMatrixTeams(t *testing.T, w *matrixWorld) *matrixTeams {
	t.Helper()
	mt := &matrixTeams{byOrg: map[string]*team.Team{}}
	for _, o := range w.orgs {
		if !w.tree.isCERT(o) {
			continue
		}
		mt.byOrg[o] = w.freshTeam(o, "Matrix team")
	}
	return mt
}

// freshTeam creates a team of the CERT o (by its coordinator) with o's
// responder as member.
func (w *matrixWorld) freshTeam(o, name string) *team.Team {
	ctx := context.Background()
	coord := w.users[o][access.Coordinator]
	tm, err := w.h.App.Teams.Create(ctx, coord.Principal(), fmt.Sprintf("%s %d", name, w.next()))
	if err == nil {
		tm, err = w.h.App.Teams.AddMember(ctx, coord.Principal(), tm.ID.String(), w.users[o][access.Responder].Email)
	}
	if err != nil {
		panic(fmt.Sprintf("seed a team of %s: %v", o, err))
	}
	return tm
}

// teamTargets are the matrix's targets of the team routes: each CERT's
// team, and one that does not exist.
func (w *matrixWorld) teamTargets() []string {
	var out []string
	for _, o := range w.orgs {
		if w.tree.isCERT(o) {
			out = append(out, o+"'s team")
		}
	}
	return append(out, "unknown")
}

// teamFor returns the target's team ID, the status of reading it as v and
// whether v may manage it once it sees it. A target of v's own CERT with
// fresh set is a team made for this probe alone (DELETE routes), so that
// no probe changes what another one sees.
func (w *matrixWorld) teamFor(v secUser, target string, fresh bool) (id string, read int, manage bool) {
	owner := ""
	for o, tm := range w.teams.byOrg {
		if target == o+"'s team" {
			owner, id = o, tm.ID.String()
		}
	}
	if owner == "" {
		return uuid.NewString(), http.StatusNotFound, false
	}
	if owner != v.OrgSlug {
		return id, http.StatusNotFound, false
	}
	if fresh {
		id = w.freshTeam(owner, "Probe team").ID.String()
	}
	return id, http.StatusOK, v.Role == access.Coordinator || v.Role == access.Admin
}

// teamChange is the expected status of a change to a team: 404 when v does
// not see it, 403 without team.manage, ok otherwise.
func teamChange(read int, manage bool, ok int) int {
	switch {
	case read == http.StatusNotFound:
		return http.StatusNotFound
	case !manage:
		return http.StatusForbidden
	}
	return ok
}

// teamCases returns the route table's entries of the teams routes and of
// the bulk endpoint.
func (w *matrixWorld) teamCases(incidentFor incidentForFunc, incTargets []string) map[string]secCase {
	foreign := func(v secUser) map[string]bool {
		out := map[string]bool{}
		for o, tm := range w.teams.byOrg {
			if o != v.OrgSlug {
				out[tm.ID.String()] = true
			}
		}
		return out
	}
	noForeign := func(v secUser) func(r *testapp.Response) string {
		return func(r *testapp.Response) string {
			var l struct {
				Teams []struct{ ID string }
			}
			if r.Status != http.StatusOK {
				return isProblem(r)
			}
			if err := json.Unmarshal(r.Body, &l); err != nil {
				return err.Error()
			}
			own, listed := w.teams.byOrg[v.OrgSlug], false
			for _, tm := range l.Teams {
				if foreign(v)[tm.ID] {
					return "lists another organisation's team " + tm.ID
				}
				listed = listed || (own != nil && tm.ID == own.ID.String())
			}
			if own != nil && !listed {
				return "does not list its own organisation's team"
			}
			return ""
		}
	}
	teamsCases := map[string]secCase{
		"GET /api/v1/teams": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/teams", want: http.StatusOK, check: noForeign(v)}}
		}},
		"GET /api/v1/teams/:id": {targets: w.teamTargets(), build: func(v secUser, target string) []secProbe {
			id, read, _ := w.teamFor(v, target, false)
			return []secProbe{{path: "/api/v1/teams/" + id, want: read, check: isProblemUnlessOK}}
		}},
		// A name of its own per probe: a manager creates a team (additive).
		"POST /api/v1/teams": {build: func(v secUser, _ string) []secProbe {
			want := http.StatusForbidden
			if w.tree.isCERT(v.OrgSlug) && (v.Role == access.Coordinator || v.Role == access.Admin) {
				want = http.StatusCreated
			}
			return []secProbe{{body: map[string]any{"name": fmt.Sprintf("Created %d", w.next())}, path: "/api/v1/teams", want: want,
				check: isProblemUnlessOK}}
		}},
		// Renaming to the same name changes nothing.
		"PATCH /api/v1/teams/:id": {targets: w.teamTargets(), build: func(v secUser, target string) []secProbe {
			id, read, manage := w.teamFor(v, target, false)
			name := "any name"
			for _, tm := range w.teams.byOrg {
				if tm.ID.String() == id {
					name = tm.Name
				}
			}
			return []secProbe{{body: map[string]any{"name": name}, path: "/api/v1/teams/" + id,
				want: teamChange(read, manage, http.StatusOK), check: isProblemUnlessOK}}
		}},
		"DELETE /api/v1/teams/:id": {targets: w.teamTargets(), build: func(v secUser, target string) []secProbe {
			id, read, manage := w.teamFor(v, target, true)
			return []secProbe{{path: "/api/v1/teams/" + id, want: teamChange(read, manage, http.StatusNoContent), check: isProblemUnlessOK}}
		}},
		// Adding the member it has changes nothing.
		"POST /api/v1/teams/:id/members": {targets: w.teamTargets(), build: func(v secUser, target string) []secProbe {
			id, read, manage := w.teamFor(v, target, false)
			member := w.users["region-north"][access.Responder].Email
			if o := target[:max(0, len(target)-len("'s team"))]; w.users[o] != nil {
				member = w.users[o][access.Responder].Email
			}
			return []secProbe{{body: map[string]any{"email": member}, path: "/api/v1/teams/" + id + "/members",
				want: teamChange(read, manage, http.StatusOK), check: isProblemUnlessOK}}
		}},
		"DELETE /api/v1/teams/:id/members/:userId": {targets: w.teamTargets(), build: func(v secUser, target string) []secProbe {
			id, read, manage := w.teamFor(v, target, true)
			member := uuid.NewString()
			if o := target[:max(0, len(target)-len("'s team"))]; w.users[o] != nil {
				member = w.users[o][access.Responder].ID.String()
			}
			return []secProbe{{path: "/api/v1/teams/" + id + "/members/" + member,
				want: teamChange(read, manage, http.StatusOK), check: isProblemUnlessOK}}
		}},
		// A bulk acknowledgement of one incident: the request is fine (200),
		// and its one item has the single call's status; a hidden incident
		// is a 404 item that does not show its title.
		"POST /api/v1/incidents/bulk": {targets: incTargets, build: func(v secUser, target string) []secProbe {
			inc, read := incidentFor(v, target)
			id, ref, title := incidentKeys(inc)
			want := w.tree.writeStatus(v, inc, read, access.TransitionIncident, http.StatusOK)
			check := func(r *testapp.Response) string {
				var res struct {
					Results []struct{ Status int }
				}
				if err := json.Unmarshal(r.Body, &res); err != nil || len(res.Results) != 1 {
					return "not one result: " + secExcerpt(r.Body)
				}
				if res.Results[0].Status != want {
					return fmt.Sprintf("the item is %d, the single call is %d", res.Results[0].Status, want)
				}
				if want == http.StatusNotFound && bytes.Contains(r.Body, []byte(title)) {
					return "the 404 item shows the incident's title"
				}
				return ""
			}
			return []secProbe{
				{body: map[string]any{"action": "acknowledge", "incidents": []string{id}}, path: "/api/v1/incidents/bulk",
					want: http.StatusOK, check: check, variant: "(uuid)"},
				{body: map[string]any{"action": "acknowledge", "incidents": []string{ref}}, path: "/api/v1/incidents/bulk",
					want: http.StatusOK, check: check, variant: "(reference)"},
			}
		}},
	}
	return teamsCases
}

// isProblemUnlessOK: an error status must carry a problem document.
func isProblemUnlessOK(r *testapp.Response) string {
	if r.Status >= 400 {
		return isProblem(r)
	}
	return ""
}
