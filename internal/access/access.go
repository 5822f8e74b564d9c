// Package access decides who may do what: the role × action matrix, the
// write table (which role in which relation to an incident may do which
// write), and the principal every request acts as. Which incidents a
// principal may see is the visibility rule of docs/security.md; it is
// applied as one query condition by the store (postgres.visibleTo), so
// that every read of incidents — single fetch, list, search, count,
// timeline, export, notification — uses the same rule. A write first reads
// the incident through that rule (an invisible incident is "not found"),
// together with the principal's relations to it (postgres.relationsOf),
// then asks the write table here (an allowed read but a refused write is
// "forbidden"). Services never check roles for incident writes
// themselves.
package access

import (
	"slices"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Role is a user's role in their organisation.
type Role string

// The roles.
const (
	Reporter    Role = "reporter"    // reports incidents and adds facts to their organisation's reports
	Responder   Role = "responder"   // works incidents: triage, tasks, transitions, escalation
	Coordinator Role = "coordinator" // a responder who also accepts or declines escalations
	Viewer      Role = "viewer"      // leadership: reads, changes nothing
	Admin       Role = "admin"       // everything a coordinator does, plus organisations, users and tokens
)

// Roles lists every role.
var Roles = []Role{Reporter, Responder, Coordinator, Viewer, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Action is something a principal may try to do.
type Action string

// The actions that concern no particular incident (the role matrix).
const (
	CreateIncident Action = "incident.create"
	ReadIncident   Action = "incident.read"
	ManageOrgs     Action = "org.manage"
	ManageUsers    Action = "user.manage"
	ReadAudit      Action = "audit.read"
	// ManageTeams creates, renames and deletes the teams of the caller's
	// own organisation and changes their members; only CERTs have teams.
	ManageTeams Action = "team.manage"
	// OperateJobs is River's web UI of the background jobs (queues,
	// retries, stuck and discarded jobs; retry, cancel, delete, pause):
	// the national CERT's administrators, who run the installation.
	OperateJobs Action = "jobs.operate"
)

// matrix is the role × action table of the actions that concern no
// particular incident (docs/security.md shows it). Writes to an incident
// are decided by the write table (writes).
var matrix = map[Action][]Role{
	CreateIncident: {Reporter, Responder, Coordinator, Admin},
	ReadIncident:   {Reporter, Responder, Coordinator, Viewer, Admin},
	ManageOrgs:     {Admin},
	ManageUsers:    {Admin},
	ReadAudit:      {Admin},
	ManageTeams:    {Coordinator, Admin},
	OperateJobs:    {Admin},
}

// Actions lists every action: those of the role matrix and the writes.
func Actions() []Action {
	out := make([]Action, 0, len(matrix)+len(writes))
	for a := range matrix {
		out = append(out, a)
	}
	for a := range writes {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Principal is who a request or a job acts as.
type Principal struct {
	UserID  uuid.UUID
	Email   string
	Role    Role
	OrgID   uuid.UUID
	OrgSlug string
	OrgKind org.Kind
	// System is certdesk itself (jobs, policies, the CLI run by an
	// operator): it sees every incident. No HTTP request acts as System.
	System bool
	// RemoteAddr is the client's address, for the audit log.
	RemoteAddr string
	// Via names the channel a person acts through when it is not the API
	// or the web UI ("slack"); the timeline events they cause record it.
	Via string
}

// System is the principal of background work.
var System = Principal{System: true, Email: "certdesk"}

// Name is how the principal appears on the timeline and in the audit log.
func (p Principal) Name() string {
	if p.System {
		return "certdesk"
	}
	return p.Email
}

// UserIDPtr returns the user's ID, or nil for System.
func (p Principal) UserIDPtr() *uuid.UUID {
	if p.System || p.UserID == uuid.Nil {
		return nil
	}
	id := p.UserID
	return &id
}

// OrgActor is the principal as the directory (org.Service) sees it.
func (p Principal) OrgActor() org.Actor {
	return org.Actor{UserID: p.UserIDPtr(), Name: p.Name(), OrgID: p.OrgID, OrgKind: p.OrgKind,
		Admin: p.Can(ManageOrgs), System: p.System, RemoteAddr: p.RemoteAddr}
}

// Can reports whether the principal's role allows the action. It does not
// look at any incident: visibility is the store's job. For a write to an
// incident it reports whether the role may do it in some relation to some
// incident; whether it may on a given incident is MayWrite's question.
func (p Principal) Can(a Action) bool {
	if p.System {
		return true
	}
	if (a == ReadAudit || a == OperateJobs) && p.OrgKind != org.NationalCERT {
		return false // the audit log and the job queue are the national CERT's administrators'
	}
	if a == ManageTeams && !p.OrgKind.IsCERT() {
		return false // teams group a CERT's responders
	}
	if cols, ok := writes[a]; ok {
		for _, roles := range cols {
			if slices.Contains(roles, p.Role) {
				return true
			}
		}
		return false
	}
	return slices.Contains(matrix[a], p.Role)
}

// Require returns apperr.Forbidden unless the principal may do a.
func (p Principal) Require(a Action) error {
	if p.Can(a) {
		return nil
	}
	return apperr.New(apperr.Forbidden, "your role (%s) may not do %s", p.Role, a)
}

// OrgOnly is the principal of an organisation as a whole, with no user:
// what may leave certdesk for an organisation (a message in its channel,
// its webhook, a decision it takes as an organisation) is decided by the
// visibility rule for this principal. Without a user, named participants
// count for nothing, so a TLP:RED incident never reaches an organisation
// as a whole. It may do nothing (it has no role); it is for reads only.
func OrgOnly(orgID uuid.UUID, kind org.Kind) Principal {
	return Principal{OrgID: orgID, OrgKind: kind}
}
