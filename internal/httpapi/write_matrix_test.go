package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// The write matrix (TestWriteMatrix): every write route × role × relation
// to the incident × TLP label, against the write table of
// internal/access (docs/security.md, "The write table").
//
// Where the expectations come from:
//   - whether the actor sees the incident, and the actor's relations to it,
//     come from this suite's own model (secTree.sees, writeRelations), not
//     from the store under test (postgres.visibleTo, postgres.relationsOf);
//   - what a role in those relations may do comes from the one write table
//     (access.Principal.MayWrite), which docs/security.md shows and
//     access's TestWriteTableIsDocumented keeps equal to the document; the
//     security review's findings have tests of their own that name the
//     answers outright (TestReporterWritesOnlyToOwnReports,
//     TestOnlyTheCoordinatorDecidesPlaybookSteps).
//
// The matrix is built in two layers so that another driver (the web UI)
// can reuse the first: writeActions is the table of actions — a name, the
// access action that decides it, and how to call it in terms of the
// incident, the other resources it names and the fields the actor
// submits — and a writeDriver performs a call and says how it ended
// (done, invalid, conflict, refused, hidden). apiWriteDriver performs
// calls through the JSON API.

// writeOutcome is how a write ended, whatever the driver.
type writeOutcome string

const (
	wDone     writeOutcome = "done"     // the write happened (2xx)
	wInvalid  writeOutcome = "invalid"  // every access check passed; the fields break a rule (422)
	wConflict writeOutcome = "conflict" // every access check passed; the state refuses it (409)
	wRefused  writeOutcome = "refused"  // the write table refuses the actor (403)
	wHidden   writeOutcome = "hidden"   // the actor does not see what it names (404)
)

// writeCall is one call of an action, independent of how it is made.
type writeCall struct {
	Incident string            // the incident's ID or reference ("" when the action names none)
	Params   map[string]string // the other resources, by the API route's parameter names
	Fields   map[string]any    // what the actor submits
	File     *writeFile        // a file the actor uploads
}

// writeFile is an uploaded file.
type writeFile struct {
	Name    string
	Content []byte
}

// writeTarget says what an action is aimed at.
type writeTarget int

const (
	targetIncidents  writeTarget = iota // the world's incident of every TLP
	targetEscalation                    // the world's escalation
)

// writeAction is one row of the table of actions.
type writeAction struct {
	Name   string        // e.g. "task.create"
	Route  string        // the API route, "METHOD pattern" as Echo registers it
	Action access.Action // the write table's row that decides it
	Target writeTarget
	// Prepare returns the call actor makes on inc (nil for the
	// escalation), creating, as certdesk or as the actor, what the call
	// consumes. It runs once per cell, before the cells run.
	Prepare func(fx *writeFixture, actor secUser, inc *secIncident) writeCall
	// Granted is the outcome once every access check passed. Calls are
	// chosen so that no cell changes what another cell sees or may do: a
	// rule broken after the access checks, a finished run, or an
	// additive change.
	Granted func(inc *secIncident) writeOutcome
	// Allowed decides with the write table; nil means
	// p.MayWrite(Action, rels).
	Allowed func(p access.Principal, rels access.Relations) bool
	// ActionOn, when set, is the write table's row for a call on inc
	// (a write that depends on the incident's TLP); nil means Action.
	ActionOn func(inc *secIncident) access.Action
	// Bulk: the route answers 200 with one result per incident; the
	// outcome is the status of the call's one item.
	Bulk bool
}

// writeDriver performs the calls of the table of actions.
type writeDriver interface {
	// Name names the driver in failures.
	Name() string
	// Perform makes call as actor and says how it ended; note explains an
	// answer it could not classify or found malformed ("" when fine).
	Perform(a *writeAction, actor secUser, call writeCall) (got writeOutcome, note string)
}

// writeOutside lists the write routes that concern no incident, and why the
// write table does not decide them; TestAccessMatrix's route table holds
// their cells. A new write route must be in writeActions or here.
var writeOutside = map[string]string{
	"POST /api/v1/incidents":                            "creates an incident: the role matrix's incident.create; the creator becomes its reporter",
	"POST /api/v1/incidents/misp":                       "creates an incident from a MISP event: incident.create, as POST /api/v1/incidents",
	"POST /api/v1/organizations":                        "organisations: org.manage within the admin's scope",
	"PATCH /api/v1/organizations/:slug":                 "organisations: org.manage within the admin's scope",
	"PUT /api/v1/organizations/:slug/escalation-policy": "an organisation's policy: org.manage within the admin's scope",
	"PUT /api/v1/organizations/:slug/red-recipients":    "a CERT's TLP:RED recipients: org.manage within the admin's scope (red_matrix_test.go)",
	"POST /api/v1/users":                                "users: user.manage within the admin's scope",
	"PATCH /api/v1/users/:id":                           "users: one's own name and password, or user.manage within the admin's scope",
	"POST /api/v1/users/:id/reset-link":                 "a user's password reset link: user.manage within the admin's scope",
	"POST /api/v1/tokens":                               "one's own tokens",
	"DELETE /api/v1/tokens/:id":                         "one's own tokens",
	"POST /api/v1/playbooks/:id/dry-run":                "a read with a body: it writes nothing, and reads the incident through the visibility rule",
	"POST /api/v1/teams":                                "teams of one's own CERT: team.manage (teams_matrix_test.go)",
	"PATCH /api/v1/teams/:id":                           "teams of one's own CERT: team.manage; another organisation's team is 404 (teams_matrix_test.go)",
	"DELETE /api/v1/teams/:id":                          "teams of one's own CERT: team.manage; another organisation's team is 404 (teams_matrix_test.go)",
	"POST /api/v1/teams/:id/members":                    "teams of one's own CERT: team.manage; another organisation's team is 404 (teams_matrix_test.go)",
	"DELETE /api/v1/teams/:id/members/:userId":          "teams of one's own CERT: team.manage; another organisation's team is 404 (teams_matrix_test.go)",
}

// isWriteMethod reports whether an HTTP method changes something.
func isWriteMethod(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch || m == http.MethodDelete
}

// firstEvent aims at the incident's first timeline event (its report).
func firstEvent(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
	_, evs, _, err := fx.h.App.Incidents.Timeline(context.Background(), access.System, inc.ID, nil, incident.Page{Limit: 1})
	if err != nil || len(evs) == 0 {
		panic(fmt.Sprintf("the timeline of %s: %v", inc.Ref, err))
	}
	return writeCall{Incident: fx.key(inc), Params: map[string]string{"eventId": fmt.Sprint(evs[0].ID)}}
}

// writeActions is the table of actions: every write route that concerns
// an incident (or one of its escalations).
func writeActions() []*writeAction {
	inc := func(fields map[string]any) func(fx *writeFixture, actor secUser, inc *secIncident) writeCall {
		return func(fx *writeFixture, actor secUser, inc *secIncident) writeCall {
			return writeCall{Incident: fx.key(inc), Fields: fields}
		}
	}
	always := func(o writeOutcome) func(*secIncident) writeOutcome {
		return func(*secIncident) writeOutcome { return o }
	}
	return []*writeAction{
		{Name: "incident.edit", Route: "PATCH /api/v1/incidents/:id", Action: access.UpdateIncident,
			Prepare: inc(map[string]any{"title": ""}), Granted: always(wInvalid)},
		{Name: "timeline.add", Route: "POST /api/v1/incidents/:id/timeline", Action: access.AddTimelineEntry,
			Prepare: inc(map[string]any{"summary": ""}), Granted: always(wInvalid)},
		{Name: "event.pin", Route: "POST /api/v1/incidents/:id/timeline/:eventId/pin", Action: access.PinEvent,
			Prepare: firstEvent, Granted: always(wDone)},
		{Name: "event.unpin", Route: "DELETE /api/v1/incidents/:id/timeline/:eventId/pin", Action: access.PinEvent,
			Prepare: firstEvent, Granted: always(wDone)},
		// Links and merges name a second incident: an empty one is invalid
		// once the write table allows the call on the first.
		{Name: "incident.link", Route: "POST /api/v1/incidents/:id/links", Action: access.LinkIncident,
			Prepare: inc(map[string]any{"incident": "", "kind": "related"}), Granted: always(wInvalid)},
		{Name: "incident.unlink", Route: "DELETE /api/v1/incidents/:id/links/:linkId", Action: access.LinkIncident,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"linkId": testapp.NewID()}}
			}, Granted: always(wHidden)},
		{Name: "incident.merge", Route: "POST /api/v1/incidents/:id/merge", Action: access.MergeIncident,
			Prepare: inc(map[string]any{"into": ""}), Granted: always(wInvalid)},
		{Name: "incident.merge_undo", Route: "POST /api/v1/incidents/:id/merge/undo", Action: access.MergeIncident,
			Prepare: inc(nil), Granted: always(wConflict)},
		{Name: "stage.change", Route: "POST /api/v1/incidents/:id/transitions", Action: access.TransitionIncident,
			Prepare: inc(map[string]any{"to": "nowhere"}), Granted: always(wInvalid)},
		{Name: "incident.close", Route: "POST /api/v1/incidents/:id/close", Action: access.TransitionIncident,
			Prepare: inc(map[string]any{"resolution": ""}), Granted: always(wInvalid)},
		{Name: "incident.reopen", Route: "POST /api/v1/incidents/:id/reopen", Action: access.TransitionIncident,
			Prepare: inc(map[string]any{"reason": ""}), Granted: always(wInvalid)},
		{Name: "incident.acknowledge", Route: "POST /api/v1/incidents/:id/acknowledge", Action: access.TransitionIncident,
			Prepare: inc(nil), Granted: always(wDone)},
		// The bulk endpoint: its one item must end as the single call does
		// (the API driver judges the item, not the 200 of the request).
		{Name: "incident.bulk_acknowledge", Route: "POST /api/v1/incidents/bulk", Action: access.TransitionIncident, Bulk: true,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Fields: map[string]any{"action": "acknowledge", "incidents": []string{fx.key(inc)}}}
			}, Granted: always(wDone)},
		{Name: "deadline.met", Route: "POST /api/v1/incidents/:id/deadlines/:kind/met", Action: access.TransitionIncident,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"kind": "gdpr_notification"}, Fields: map[string]any{"reference": ""}}
			}, Granted: always(wInvalid)},
		// Passing the incident on to sink, whose users act in no cell.
		{Name: "incident.share", Route: "POST /api/v1/incidents/:id/shares", Action: access.ShareIncident,
			Prepare: inc(map[string]any{"org": "sink", "note": "write matrix"}),
			Granted: func(inc *secIncident) writeOutcome {
				if inc.TLP == incident.TLPRed || inc.TLP == incident.TLPAmberStrict {
					return wConflict // never shared with organisations: name participants instead
				}
				return wDone
			}},
		{Name: "participant.add", Route: "POST /api/v1/incidents/:id/participants", Action: access.ShareIncident,
			ActionOn: func(inc *secIncident) access.Action {
				if inc.TLP == incident.TLPRed {
					return access.NameRedParticipant
				}
				return access.ShareIncident
			},
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Fields: map[string]any{"email": fx.sink.Email}}
			},
			Granted: func(inc *secIncident) writeOutcome {
				if inc.TLP == incident.TLPAmberStrict {
					return wConflict // sink is outside the strict circle
				}
				return wDone
			}},
		// To sink, which may receive no escalation: 422 naming "to".
		{Name: "escalation.request", Route: "POST /api/v1/incidents/:id/escalations", Action: access.EscalateIncident,
			Prepare: inc(map[string]any{"to": "sink", "reason": "write matrix"}), Granted: always(wInvalid)},
		{Name: "comment.add", Route: "POST /api/v1/incidents/:id/comments", Action: access.CommentIncident,
			Prepare: func(fx *writeFixture, actor secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Fields: map[string]any{"body": fmt.Sprintf("write matrix %d", fx.next())}}
			}, Granted: always(wDone)},
		// One's own comment where the write table lets one comment (editing
		// another's is refused to everyone: comments_matrix_test.go).
		{Name: "comment.edit", Route: "PATCH /api/v1/incidents/:id/comments/:commentId", Action: access.CommentIncident,
			Prepare: func(fx *writeFixture, actor secUser, inc *secIncident) writeCall {
				id := fx.comments[inc.TLP]
				c, _, err := fx.h.App.Comments.Add(context.Background(), actor.Principal(), inc.ID, "to edit", nil)
				if err == nil {
					id = c.ID.String()
				}
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"commentId": id},
					Fields: map[string]any{"body": fmt.Sprintf("edited %d", fx.next())}}
			}, Granted: always(wDone)},
		{Name: "evidence.upload", Route: "POST /api/v1/incidents/:id/attachments", Action: access.AddEvidence,
			Prepare: func(fx *writeFixture, actor secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), File: &writeFile{Name: fmt.Sprintf("w%d.txt", fx.next()), Content: []byte("write matrix")}}
			}, Granted: always(wDone)},
		{Name: "observable.add", Route: "POST /api/v1/incidents/:id/observables", Action: access.AddObservable,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Fields: map[string]any{"type": "domain", "value": fmt.Sprintf("w%d.matrix.example", fx.next())}}
			}, Granted: always(wDone)},
		{Name: "observable.import_misp", Route: "POST /api/v1/incidents/:id/misp", Action: access.AddObservable,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Fields: map[string]any{"Event": map[string]any{"info": "write matrix", "Attribute": []any{
					map[string]any{"type": "domain", "category": "Network activity", "value": fmt.Sprintf("w%d.misp.example", fx.next())}}}}}
			}, Granted: always(wDone)},
		{Name: "observable.edit", Route: "PATCH /api/v1/incidents/:id/observables/:observable", Action: access.ChangeObservable,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"observable": fx.obs[inc.TLP]}, Fields: map[string]any{"sighted": true}}
			}, Granted: always(wDone)},
		// An observable of its own for every cell.
		{Name: "observable.delete", Route: "DELETE /api/v1/incidents/:id/observables/:observable", Action: access.ChangeObservable,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				o, _, err := fx.h.App.Observables.Add(context.Background(), access.System, inc.ID,
					observable.NewObservable{Type: observable.Domain, Value: fmt.Sprintf("d%d.matrix.example", fx.next())})
				if err != nil {
					panic(err)
				}
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"observable": o.ID.String()}}
			}, Granted: always(wDone)},
		{Name: "task.create", Route: "POST /api/v1/incidents/:id/tasks", Action: access.WriteTask,
			Prepare: func(fx *writeFixture, actor secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Fields: map[string]any{"title": fmt.Sprintf("by %s/%s", actor.OrgSlug, actor.Role)}}
			}, Granted: always(wDone)},
		{Name: "task.edit", Route: "PATCH /api/v1/incidents/:id/tasks/:taskId", Action: access.WriteTask,
			Prepare: func(fx *writeFixture, actor secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"taskId": fx.tasks[inc.TLP]},
					Fields: map[string]any{"description": "checked by " + actor.Email}}
			}, Granted: always(wDone)},
		// The matrix playbook (playbook_runs_matrix_test.go): its runs have
		// ended, so whoever passes the checks gets 409 and nothing changes.
		{Name: "playbook.start", Route: "POST /api/v1/incidents/:id/playbook-runs", Action: access.RunPlaybook,
			Prepare: inc(map[string]any{"playbook": "no-such-playbook"}), Granted: always(wInvalid)},
		{Name: "playbook.cancel", Route: "POST /api/v1/incidents/:id/playbook-runs/:runId/cancel", Action: access.RunPlaybook,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"runId": fx.runs[inc.TLP]}}
			}, Granted: always(wConflict)},
		{Name: "playbook.approve", Route: "POST /api/v1/incidents/:id/playbook-runs/:runId/approvals/:stepId", Action: access.ApproveStep,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"runId": fx.runs[inc.TLP], "stepId": "approve"},
					Fields: map[string]any{"decision": "approve"}}
			}, Granted: always(wConflict),
			// The step names the coordinator role.
			Allowed: func(p access.Principal, rels access.Relations) bool {
				return p.RequireApprover(rels, access.Coordinator, "approve") == nil
			}},
		{Name: "playbook.answer", Route: "POST /api/v1/incidents/:id/playbook-runs/:runId/inputs/:stepId", Action: access.AnswerInput,
			Prepare: func(fx *writeFixture, _ secUser, inc *secIncident) writeCall {
				return writeCall{Incident: fx.key(inc), Params: map[string]string{"runId": fx.runs[inc.TLP], "stepId": "fill"},
					Fields: map[string]any{"answers": map[string]any{}}}
			}, Granted: always(wConflict)},
		// The world's escalation has been returned: a decider gets 409.
		escalationDecision("escalation.accept", "accept"),
		escalationDecision("escalation.decline", "decline"),
		escalationDecision("escalation.return", "return"),
	}
}

func escalationDecision(name, verb string) *writeAction {
	return &writeAction{Name: name, Route: "POST /api/v1/escalations/:id/" + verb, Action: access.DecideEscalation, Target: targetEscalation,
		Prepare: func(fx *writeFixture, _ secUser, _ *secIncident) writeCall {
			return writeCall{Params: map[string]string{"id": fx.esc.id}, Fields: map[string]any{"reason": "write matrix"}}
		},
		Granted: func(*secIncident) writeOutcome { return wConflict }}
}

// ---------------------------------------------------------------------------
// The expectation.

// expect is the outcome the matrix expects of action a by actor on inc.
func (fx *writeFixture) expect(a *writeAction, actor secUser, inc *secIncident) (writeOutcome, access.Relations) {
	var rels access.Relations
	switch a.Target {
	case targetEscalation:
		if actor.OrgSlug != fx.esc.from && actor.OrgSlug != fx.esc.to {
			return wHidden, 0 // an escalation exists for its two sides only
		}
		if actor.OrgSlug == fx.esc.to {
			rels = access.Of(access.EscalatedTo)
		}
	default:
		if !fx.tree.sees(actor.ID, actor.OrgSlug, inc) {
			return wHidden, fx.tree.writeRelations(actor, inc)
		}
		rels = fx.tree.writeRelations(actor, inc)
	}
	action := a.Action
	if a.ActionOn != nil {
		action = a.ActionOn(inc)
	}
	allowed := actor.Principal().MayWrite(action, rels)
	if a.Allowed != nil {
		allowed = a.Allowed(actor.Principal(), rels)
	}
	if !allowed {
		return wRefused, rels
	}
	return a.Granted(inc), rels
}

// ---------------------------------------------------------------------------
// The world.

// writeFixture is what TestWriteMatrix seeds once: the security tree with
// two more organisations, a user of every role in nine organisations that
// hold every relation to the incidents, and one incident per TLP label.
//
//	city-a         reporting organisation (its reporter: also a named participant)
//	region-north   coordinating organisation and CERT above
//	national-cert  CERT above
//	region-south   escalated to (an accepted escalation: a CERT outside the
//	               reporter's line, as after a tree change)
//	partner-2      escalated to, a partner; on GREEN the escalation was
//	               accepted and returned (through the API): shared with
//	city-b         every user a named participant
//	city-c         shared with
//	partner        shared with, a partner
//	city-d         no relation
//
// The shares are written as the incidents' history would have left them,
// whatever the TLP (an incident may have been shared before its TLP was
// raised); which of them still show the incident is the visibility
// rule's business.
type writeFixture struct {
	h        *testapp.Harness
	tree     *secTree
	orgs     []string
	users    map[string]map[access.Role]secUser
	actors   []secUser
	incs     []*secIncident
	sink     secUser
	tasks    map[incident.TLP]string // one task per incident
	obs      map[incident.TLP]string // one observable per incident
	runs     map[incident.TLP]string // the finished matrix playbook run per incident
	comments map[incident.TLP]string // the reporter's comment per incident
	esc      struct{ id, from, to string }
	seq      atomic.Int64
}

func (fx *writeFixture) next() int64 { return fx.seq.Add(1) }

// key addresses inc by reference or by ID, alternately by TLP, so that both
// reach the write table.
func (fx *writeFixture) key(inc *secIncident) string {
	if slices.Index(secTLPs, inc.TLP)%2 == 0 {
		return inc.ID
	}
	return inc.Ref
}

func seedWriteFixture(t *testing.T, h *testapp.Harness) *writeFixture {
	t.Helper()
	ctx := context.Background()
	fx := &writeFixture{h: h, tree: seedSecTree(h), users: map[string]map[access.Role]secUser{},
		tasks: map[incident.TLP]string{}, obs: map[incident.TLP]string{}, runs: map[incident.TLP]string{}, comments: map[incident.TLP]string{}}
	for _, o := range []struct {
		slug   string
		kind   org.Kind
		parent string
	}{{"partner-2", org.Partner, ""}, {"city-d", org.LocalAuthority, "region-south"}} {
		h.Org(o.slug, o.kind, o.parent)
		fx.tree.order = append(fx.tree.order, o.slug)
		fx.tree.parent[o.slug], fx.tree.kind[o.slug] = o.parent, o.kind
	}
	fx.orgs = []string{"city-a", "region-north", "national-cert", "region-south", "partner-2", "city-b", "city-c", "partner", "city-d"}
	for _, o := range fx.orgs {
		fx.users[o] = map[access.Role]secUser{}
		for _, r := range secAllRoles {
			u := secNewUser(h, o, r)
			fx.users[o][r] = u
			fx.actors = append(fx.actors, u)
		}
	}
	fx.sink = secNewUser(h, "sink", access.Viewer)

	reporter := fx.users["city-a"][access.Reporter]
	for _, tlp := range secTLPs {
		fx.incs = append(fx.incs, secReport(t, h, reporter, "Write matrix "+string(tlp), tlp))
	}
	secWaitRouted(t, h, fx.incs...)
	share := func(inc *secIncident, slug, kind string) {
		_, err := h.App.DB.Pool.Exec(ctx, `INSERT INTO incident_shares (incident_id, org_id, kind, note)
			VALUES ($1, (SELECT id FROM organizations WHERE slug = $2), $3, 'write matrix')`, inc.ID, slug, kind)
		require.NoError(t, err)
		inc.shares[slug] = kind
	}
	// An accepted escalation to assist, from the coordinating CERT, and
	// its share.
	escalate := func(inc *secIncident, slug string) {
		share(inc, slug, "escalation")
		_, err := h.App.DB.Pool.Exec(ctx, `INSERT INTO escalations (id, incident_id, from_org_id, to_org_id, kind, state, reason,
			requested_by, requested_at) VALUES (gen_random_uuid(), $1, (SELECT id FROM organizations WHERE slug = 'region-north'),
			(SELECT id FROM organizations WHERE slug = $2), 'assist', 'accepted', 'write matrix', 'write matrix', now())`, inc.ID, slug)
		require.NoError(t, err)
	}
	for _, inc := range fx.incs {
		require.Equal(t, "region-north", inc.Coordinating)
		share(inc, "city-c", "share")
		share(inc, "partner", "share")
		escalate(inc, "region-south")
		if inc.TLP != incident.TLPGreen {
			escalate(inc, "partner-2")
		}
		for _, u := range fx.users["city-b"] {
			if inc.TLP == incident.TLPAmberStrict {
				break // city-b is outside the strict circle: its users cannot be named
			}
			_, err := h.App.Incidents.AddParticipant(ctx, access.System, inc.ID, u.Email)
			require.NoError(t, err)
			inc.participants[u.ID] = true
		}
		r, err := h.App.Runs.Start(ctx, access.System, inc.ID, "matrix")
		require.NoError(t, err)
		fx.runs[inc.TLP] = r.ID.String()
		tk, err := h.App.Tasks.Create(ctx, access.System, inc.ID, task.NewTask{Title: "write matrix task"})
		require.NoError(t, err)
		fx.tasks[inc.TLP] = tk.ID.String()
		o, _, err := h.App.Observables.Add(ctx, access.System, inc.ID, observable.NewObservable{Type: observable.IPv4, Value: matrixCorrelated})
		require.NoError(t, err)
		fx.obs[inc.TLP] = o.ID.String()
		c, _, err := h.App.Comments.Add(ctx, reporter.Principal(), inc.ID, "the reporter's", nil)
		require.NoError(t, err)
		fx.comments[inc.TLP] = c.ID.String()
	}

	// The GREEN incident's escalation to partner-2, accepted and returned:
	// partner-2 keeps the escalation's share (and so counts as shared
	// with), and no decision is left.
	green := fx.incs[slices.Index(secTLPs, incident.TLPGreen)]
	e, err := h.App.Escalations.Request(ctx, fx.users["region-north"][access.Coordinator].Principal(), green.ID, escalation.Ask{To: "partner-2", Kind: "assist", Reason: "write matrix"})
	require.NoError(t, err)
	green.shares["partner-2"] = "returned"
	decider := fx.users["partner-2"][access.Coordinator].Principal()
	_, err = h.App.Escalations.Accept(ctx, decider, e.ID.String(), "")
	require.NoError(t, err)
	_, err = h.App.Escalations.Return(ctx, decider, e.ID.String(), "write matrix")
	require.NoError(t, err)
	fx.esc.id, fx.esc.from, fx.esc.to = e.ID.String(), "region-north", "partner-2"
	return fx
}

// ---------------------------------------------------------------------------
// The API driver.

// apiWriteDriver performs calls through the JSON API.
type apiWriteDriver struct{ h *testapp.Harness }

func (apiWriteDriver) Name() string { return "api" }

func (d apiWriteDriver) Perform(a *writeAction, actor secUser, call writeCall) (writeOutcome, string) {
	method, pattern, _ := strings.Cut(a.Route, " ")
	var path []string
	for _, seg := range strings.Split(pattern, "/") {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			seg = call.Params[name]
			if name == "id" && call.Incident != "" {
				seg = call.Incident
			}
		}
		path = append(path, seg)
	}
	var body any
	var header []string
	switch {
	case call.File != nil:
		b, ct := multipartBody(filePart(call.File.Name, call.File.Content))
		body, header = b, []string{"Content-Type", ct}
	case call.Fields != nil:
		body = call.Fields
	}
	r := d.h.As(actor.Token).Request(method, strings.Join(path, "/"), body, header...)
	if a.Bulk && r.Status == http.StatusOK {
		var res struct {
			Results []struct {
				Status  int
				Problem map[string]any
			}
		}
		if err := json.Unmarshal(r.Body, &res); err != nil || len(res.Results) != 1 {
			return "malformed", secExcerpt(r.Body)
		}
		r = &testapp.Response{Status: res.Results[0].Status, Body: r.Body}
		if it := res.Results[0]; it.Status != http.StatusOK {
			b, _ := json.Marshal(it.Problem)
			r.Body, r.Header = b, http.Header{"Content-Type": {"application/problem+json"}}
		}
	}
	switch {
	case r.Status >= 200 && r.Status < 300:
		return wDone, ""
	case r.Status == http.StatusUnprocessableEntity:
		return wInvalid, isProblem(r)
	case r.Status == http.StatusConflict:
		return wConflict, isProblem(r)
	case r.Status == http.StatusForbidden:
		return wRefused, isProblem(r)
	case r.Status == http.StatusNotFound:
		return wHidden, isProblem(r)
	}
	return writeOutcome(fmt.Sprint(r.Status)), secExcerpt(r.Body)
}

// ---------------------------------------------------------------------------
// The test.

// writeCell is one call of the matrix and the outcome it must have.
type writeCell struct {
	action *writeAction
	actor  secUser
	target string // the TLP, or "escalation"
	rels   access.Relations
	call   writeCall
	want   writeOutcome
}

type writeMismatch struct {
	cell      writeCell
	got, note string
}

// TestWriteMatrix runs every write route × role × relation × TLP label
// against the write table, and fails when a write route has no entry in
// the table of actions (or in writeOutside).
func TestWriteMatrix(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	start := time.Now()
	h := testapp.New(t, testapp.Options{Playbooks: matrixPlaybooks(t)})
	actions := writeActions()

	// Every write route has an entry, and every entry is a route.
	byRoute := map[string]*writeAction{}
	for _, a := range actions {
		require.NotContains(t, byRoute, a.Route, "two actions of one route: make them variants of one entry")
		byRoute[a.Route] = a
		_, alsoOutside := writeOutside[a.Route]
		require.False(t, alsoOutside, "%s is both an incident write and outside the write table", a.Route)
	}
	registered := map[string]bool{}
	var missing []string
	for _, rt := range h.App.HTTP.Routes() {
		if secSkipRoute(rt) || !isWriteMethod(rt.Method) {
			continue
		}
		key := rt.Method + " " + rt.Path
		registered[key] = true
		if _, ok := byRoute[key]; !ok {
			if _, ok := writeOutside[key]; !ok {
				missing = append(missing, key)
			}
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "write routes without an entry in writeActions (say which access action decides them and how to call them) or writeOutside")
	for key := range byRoute {
		require.True(t, registered[key], "writeActions has %q, which is not a registered write route", key)
	}
	for key := range writeOutside {
		require.True(t, registered[key], "writeOutside has %q, which is not a registered write route", key)
	}

	checkUIRoutes(t, h, actions)

	fx := seedWriteFixture(t, h)
	var cells []writeCell
	for _, a := range actions {
		for _, actor := range fx.actors {
			if a.Target == targetEscalation {
				want, rels := fx.expect(a, actor, nil)
				cells = append(cells, writeCell{action: a, actor: actor, target: "escalation", rels: rels, call: a.Prepare(fx, actor, nil), want: want})
				continue
			}
			for _, inc := range fx.incs {
				want, rels := fx.expect(a, actor, inc)
				cells = append(cells, writeCell{action: a, actor: actor, target: string(inc.TLP), rels: rels, call: a.Prepare(fx, actor, inc), want: want})
			}
		}
	}

	// The world holds every relation on an incident its holder sees.
	relSets := map[access.Relations]bool{}
	for _, c := range cells {
		if c.action.Target == targetIncidents && c.want != wHidden {
			relSets[c.rels] = true
		}
	}
	for _, r := range access.AllRelations {
		held := false
		for rs := range relSets {
			held = held || rs.Has(r)
		}
		require.True(t, held, "no actor of the write matrix sees an incident as its %s", r)
	}

	ui := newUIWriteDriver(h)
	// The pages first, while the incidents are as seeded (the cells below
	// add comments, tasks and timeline entries to every page).
	uiReads := uiReadCells(t, ui, fx)
	drivers := []writeDriver{apiWriteDriver{h: h}, ui}
	performed := map[string]int{}
	for _, d := range drivers {
		var mine []writeCell
		for _, c := range cells {
			if s, ok := d.(interface{ Supports(*writeAction) bool }); !ok || s.Supports(c.action) {
				mine = append(mine, c)
			}
		}
		performed[d.Name()] = len(mine)
		mismatches := runWriteCells(d, mine, 8)
		byAction := map[string][]writeMismatch{}
		for _, m := range mismatches {
			byAction[m.cell.action.Name] = append(byAction[m.cell.action.Name], m)
		}
		for _, a := range actions {
			if s, ok := d.(interface{ Supports(*writeAction) bool }); ok && !s.Supports(a) {
				continue
			}
			t.Run(d.Name()+"/"+a.Name, func(t *testing.T) {
				if ms := byAction[a.Name]; len(ms) > 0 {
					t.Errorf("%d cells of %s (%s, decided by %s) ended wrongly:\n%s", len(ms), a.Name, a.Route, a.Action, writeMismatchTable(ms))
				}
			})
		}
	}
	t.Logf("web UI: %d write cells through its forms, %d incident page cells", performed[ui.Name()], uiReads)
	incidentWrites := 0
	for _, a := range actions {
		if a.Target == targetIncidents {
			incidentWrites++
		}
	}
	t.Logf("write matrix: %d cells = %d incident write routes × %d roles × %d organisations × %d TLP labels + %d escalation decisions × %d users; "+
		"%d distinct sets of relations to a visible incident; %d write routes outside the table; %s",
		len(cells), incidentWrites, len(secAllRoles), len(fx.orgs), len(fx.incs), len(actions)-incidentWrites, len(fx.actors),
		len(relSets), len(writeOutside), time.Since(start).Round(time.Millisecond))
}

// runWriteCells performs the cells, parallel at a time, and returns those
// that ended otherwise than expected.
func runWriteCells(d writeDriver, cells []writeCell, parallel int) []writeMismatch {
	var (
		mu  sync.Mutex
		out []writeMismatch
		wg  sync.WaitGroup
		sem = make(chan struct{}, parallel)
	)
	for _, c := range cells {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			got, note := d.Perform(c.action, c.actor, c.call)
			if got != c.want || note != "" {
				mu.Lock()
				out = append(out, writeMismatch{cell: c, got: string(got), note: note})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func writeMismatchTable(ms []writeMismatch) string {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i].cell, ms[j].cell
		if a.actor.OrgSlug != b.actor.OrgSlug {
			return a.actor.OrgSlug < b.actor.OrgSlug
		}
		if a.actor.Role != b.actor.Role {
			return a.actor.Role < b.actor.Role
		}
		return a.target < b.target
	})
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "org/role\ttarget\trelations\twant\tgot\tnote")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\n", m.cell.actor.OrgSlug, m.cell.actor.Role, m.cell.target, m.cell.rels, m.cell.want, m.got, m.note)
	}
	_ = tw.Flush()
	return b.String()
}
