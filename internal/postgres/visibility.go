package postgres

import (
	"github.com/certdesk/certdesk/internal/access"
	"github.com/google/uuid"
)

// visibleTo returns the SQL condition, over an incidents row aliased "i",
// that holds exactly for the incidents principal p may see, and its
// arguments. It is the one implementation of the visibility rule
// (docs/security.md): every query that reads incidents — one incident,
// lists, search, counts, timelines, exports, notifications — includes it,
// and so does every decision of what may leave certdesk for an
// organisation (txn.OrgCanSee, with an access.OrgOnly principal).
//
//  1. Named participants see the incident, whatever its TLP. An
//     organisation-only principal (no user) has no participants.
//  2. TLP:AMBER+STRICT: also the reporting and the coordinating
//     organisation, and the organisations that joined its circle (a share
//     marked strict_circle: an escalation the requester confirmed).
//  3. TLP:AMBER, GREEN, CLEAR: also every CERT whose constituency holds the
//     reporting organisation, and the organisations it was shared with or
//     escalated to. A partner sees GREEN and CLEAR incidents shared or
//     escalated to it, and AMBER ones only when shared explicitly (or when
//     it joined the AMBER+STRICT circle).
//  4. TLP:RED: named participants only.
//
// The rule has two shapes with the same meaning, chosen by what is fast
// (docs/performance.md): a CERT sees a large share of all incidents, so its
// condition is a filter applied while PostgreSQL walks an ordered index; an
// organisation without a constituency sees few, so its condition is the
// exact set of visible IDs, collected from indexed lookups, each branch
// with its own TLP condition.
func visibleTo(p access.Principal) (string, []any) {
	if p.System {
		return "TRUE", nil
	}
	orgOnly := p.UserID == uuid.Nil
	if p.OrgKind.IsCERT() {
		part, args := `FALSE`, []any{}
		if !orgOnly {
			part, args = `EXISTS (SELECT 1 FROM incident_participants vp WHERE vp.incident_id = i.id AND vp.user_id = ?)`, []any{p.UserID}
		}
		return `(` + part + `
		OR (i.tlp = 'TLP:AMBER+STRICT' AND (i.reporting_org_id = ? OR i.coordinating_org_id = ?
			OR EXISTS (SELECT 1 FROM incident_shares vj WHERE vj.incident_id = i.id AND vj.org_id = ? AND vj.strict_circle)))
		OR (i.tlp IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') AND (i.coordinating_org_id = ?
			OR i.reporting_org_id IN (SELECT vc.descendant_id FROM org_closure vc WHERE vc.ancestor_id = ?)
			OR EXISTS (SELECT 1 FROM incident_shares vs WHERE vs.incident_id = i.id AND vs.org_id = ?))))`,
			append(args, p.OrgID, p.OrgID, p.OrgID, p.OrgID, p.OrgID, p.OrgID)
	}
	// A local authority, an operator or a partner: no constituency. A
	// partner's shares open GREEN and CLEAR, and AMBER only when shared
	// explicitly (kind 'share') or in the strict circle; anyone else's
	// open AMBER, GREEN and CLEAR. A share in the strict circle also opens
	// AMBER+STRICT.
	shared := `(x.tlp IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') OR (x.tlp = 'TLP:AMBER+STRICT' AND vs.strict_circle))`
	if p.OrgKind == "partner" {
		shared = `(x.tlp IN ('TLP:GREEN', 'TLP:CLEAR') OR (x.tlp = 'TLP:AMBER' AND (vs.kind = 'share' OR vs.strict_circle))
			OR (x.tlp = 'TLP:AMBER+STRICT' AND vs.strict_circle))`
	}
	part, args := ``, []any{}
	if !orgOnly {
		part, args = `SELECT vp.incident_id FROM incident_participants vp WHERE vp.user_id = ?
		UNION ALL `, []any{p.UserID}
	}
	return `i.id IN (
		` + part + `SELECT x.id FROM incidents x WHERE x.reporting_org_id = ? AND x.tlp <> 'TLP:RED'
		UNION ALL SELECT x.id FROM incidents x WHERE x.coordinating_org_id = ? AND x.tlp <> 'TLP:RED'
		UNION ALL SELECT vs.incident_id FROM incident_shares vs JOIN incidents x ON x.id = vs.incident_id
			WHERE vs.org_id = ? AND ` + shared + `)`,
		append(args, p.OrgID, p.OrgID, p.OrgID)
}
