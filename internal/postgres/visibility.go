package postgres

import (
	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
)

// visibleTo returns the SQL condition, over an incidents row aliased "i",
// that holds exactly for the incidents principal p may see, and its
// arguments. It is the one implementation of the visibility rule
// (docs/security.md): every query that reads incidents — one incident,
// lists, search, counts, timelines, exports, notifications — includes it.
//
//  1. Named participants see the incident, whatever its TLP.
//  2. TLP:AMBER+STRICT: also the reporting and the coordinating organisation.
//  3. TLP:AMBER, GREEN, CLEAR: also every CERT whose constituency holds the
//     reporting organisation, and the organisations it was shared with or
//     escalated to. A partner sees GREEN and CLEAR incidents shared or
//     escalated to it, and AMBER ones only when shared explicitly.
//  4. TLP:RED: named participants only.
func visibleTo(p access.Principal) (string, []any) {
	if p.System {
		return "TRUE", nil
	}
	participant := `EXISTS (SELECT 1 FROM incident_participants vp WHERE vp.incident_id = i.id AND vp.user_id = ?)`
	ownOrg := `(i.reporting_org_id = ? OR i.coordinating_org_id = ?)`
	var wide string
	var wideArgs []any
	if p.OrgKind == org.Partner {
		wide = `(i.tlp IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') AND (` + ownOrg + `
			OR EXISTS (SELECT 1 FROM incident_shares vs WHERE vs.incident_id = i.id AND vs.org_id = ?
				AND (vs.kind = 'share' OR i.tlp <> 'TLP:AMBER'))))`
		wideArgs = []any{p.OrgID, p.OrgID, p.OrgID}
	} else {
		wide = `(i.tlp IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') AND (` + ownOrg + `
			OR i.reporting_org_id IN (SELECT vc.descendant_id FROM org_closure vc WHERE vc.ancestor_id = ?)
			OR EXISTS (SELECT 1 FROM incident_shares vs WHERE vs.incident_id = i.id AND vs.org_id = ?)))`
		wideArgs = []any{p.OrgID, p.OrgID, p.OrgID, p.OrgID}
	}
	cond := "(" + participant + `
		OR (i.tlp = 'TLP:AMBER+STRICT' AND ` + ownOrg + `)
		OR ` + wide + ")"
	args := append([]any{p.UserID, p.OrgID, p.OrgID}, wideArgs...)
	return cond, args
}
