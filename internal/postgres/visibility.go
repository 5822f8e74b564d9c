package postgres

import (
	"fmt"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
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
	return visibleUnder(p, incidentLabel)
}

// labelOf gives the SQL expression of the TLP label the visibility rule is
// evaluated with, over the incidents row with the given alias.
type labelOf func(incidentAlias string) string

// incidentLabel is the incident's own label: the rule for incidents.
func incidentLabel(alias string) string { return alias + ".tlp" }

// observableLabel is an observable's effective label: the stricter of its
// own (incident_observables aliased "o") and its incident's. The rule
// evaluated with it decides who sees the observable (docs/security.md).
func observableLabel(alias string) string { return stricterTLP(alias+".tlp", "o.tlp") }

// visibleUnder is visibleTo with the TLP label given as an expression:
// the same relations between the principal and the incident, judged
// against that label instead of the incident's. For a label at least as
// strict as the incident's it grants a subset of what visibleTo grants.
func visibleUnder(p access.Principal, label labelOf) (string, []any) {
	if p.System {
		return "TRUE", nil
	}
	orgOnly := p.UserID == uuid.Nil
	if p.OrgKind.IsCERT() {
		tlp := label("i")
		part, args := `FALSE`, []any{}
		if !orgOnly {
			part, args = `EXISTS (SELECT 1 FROM incident_participants vp WHERE vp.incident_id = i.id AND vp.user_id = ?)`, []any{p.UserID}
		}
		return `(` + part + `
		OR (` + tlp + ` = 'TLP:AMBER+STRICT' AND (i.reporting_org_id = ? OR i.coordinating_org_id = ?
			OR EXISTS (SELECT 1 FROM incident_shares vj WHERE vj.incident_id = i.id AND vj.org_id = ? AND vj.strict_circle)))
		OR (` + tlp + ` IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') AND (i.coordinating_org_id = ?
			OR i.reporting_org_id IN (SELECT vc.descendant_id FROM org_closure vc WHERE vc.ancestor_id = ?)
			OR EXISTS (SELECT 1 FROM incident_shares vs WHERE vs.incident_id = i.id AND vs.org_id = ?))))`,
			append(args, p.OrgID, p.OrgID, p.OrgID, p.OrgID, p.OrgID, p.OrgID)
	}
	// A local authority, an operator or a partner: no constituency. A
	// partner's shares open GREEN and CLEAR, and AMBER only when shared
	// explicitly (kind 'share') or in the strict circle; anyone else's
	// open AMBER, GREEN and CLEAR. A share in the strict circle also opens
	// AMBER+STRICT.
	tlp := label("x")
	shared := `(` + tlp + ` IN ('TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR') OR (` + tlp + ` = 'TLP:AMBER+STRICT' AND vs.strict_circle))`
	if p.OrgKind == "partner" {
		shared = `(` + tlp + ` IN ('TLP:GREEN', 'TLP:CLEAR') OR (` + tlp + ` = 'TLP:AMBER' AND (vs.kind = 'share' OR vs.strict_circle))
			OR (` + tlp + ` = 'TLP:AMBER+STRICT' AND vs.strict_circle))`
	}
	part, args := ``, []any{}
	if !orgOnly {
		part, args = `SELECT vp.incident_id FROM incident_participants vp WHERE vp.user_id = ?
		UNION ALL `, []any{p.UserID}
	}
	return `i.id IN (
		` + part + `SELECT x.id FROM incidents x WHERE x.reporting_org_id = ? AND ` + tlp + ` <> 'TLP:RED'
		UNION ALL SELECT x.id FROM incidents x WHERE x.coordinating_org_id = ? AND ` + tlp + ` <> 'TLP:RED'
		UNION ALL SELECT vs.incident_id FROM incident_shares vs JOIN incidents x ON x.id = vs.incident_id
			WHERE vs.org_id = ? AND ` + shared + `)`,
		append(args, p.OrgID, p.OrgID, p.OrgID)
}

// relationsOf returns an SQL expression, over an incidents row aliased
// "i", whose value is the set of p's relations to the incident
// (access.Relations as an integer), and its arguments. The relations are
// the rows of the visibility rule that visibleTo decides, computed the same
// way but without the TLP:
//
//   - the reporting and the coordinating organisation;
//   - a CERT whose constituency holds the reporting organisation (org_closure,
//     as in visibleTo's CERT branch);
//   - escalated to: an escalation to the organisation that is requested or
//     accepted and asks it to act, coordinate or assist (also when the
//     organisation had been shared the incident explicitly before, as a
//     TLP:AMBER partner must); an escalation that only informs it leaves
//     it shared with;
//   - shared with: any other incident_shares row of the organisation — a
//     share of kind "share", or the share an escalation left after it was
//     returned — so that every share that opens the incident is one
//     relation;
//   - named participant: the user.
//
// It is read together with the incident by the single reads and the locked
// read every write begins with (oneIncident), so the write table
// (access.MayWrite) is asked about exactly the incident that was locked.
func relationsOf(p access.Principal) (string, []any) {
	if p.System {
		return "0", nil
	}
	bit := func(r access.Relation) string { return fmt.Sprint(uint8(r)) }
	certAbove := "0"
	var certArgs []any
	if p.OrgKind.IsCERT() {
		certAbove = `CASE WHEN i.reporting_org_id <> ? AND EXISTS (SELECT 1 FROM org_closure rc
			WHERE rc.ancestor_id = ? AND rc.descendant_id = i.reporting_org_id) THEN ` + bit(access.CERTAbove) + ` ELSE 0 END`
		certArgs = []any{p.OrgID, p.OrgID}
	}
	sql := `(CASE WHEN i.reporting_org_id = ? THEN ` + bit(access.Reporting) + ` ELSE 0 END
		| CASE WHEN i.coordinating_org_id IS NOT NULL AND i.coordinating_org_id = ? THEN ` + bit(access.Coordinating) + ` ELSE 0 END
		| ` + certAbove + `
		| CASE WHEN EXISTS (SELECT 1 FROM escalations re WHERE re.incident_id = i.id AND re.to_org_id = ? AND re.state IN ('requested', 'accepted')
				AND re.kind <> 'inform')
			THEN ` + bit(access.EscalatedTo) + `
			WHEN EXISTS (SELECT 1 FROM incident_shares rs WHERE rs.incident_id = i.id AND rs.org_id = ?)
			THEN ` + bit(access.SharedWith) + ` ELSE 0 END
		| CASE WHEN EXISTS (SELECT 1 FROM incident_participants rp WHERE rp.incident_id = i.id AND rp.user_id = ?)
			THEN ` + bit(access.Participant) + ` ELSE 0 END)`
	args := []any{p.OrgID, p.OrgID}
	args = append(args, certArgs...)
	args = append(args, p.OrgID, p.OrgID, p.UserID)
	return sql, args
}

// stricterTLP returns the SQL expression of the more restrictive of two
// TLP labels (incident.StricterTLP); a value that is no label counts as
// TLP:RED.
func stricterTLP(a, b string) string {
	var sb strings.Builder
	sb.WriteString("(CASE")
	for _, t := range incident.TLPs[:len(incident.TLPs)-1] {
		sb.WriteString(" WHEN '" + string(t) + "' IN (" + a + ", " + b + ") THEN '" + string(t) + "'")
	}
	loosest := string(incident.TLPClear)
	sb.WriteString(" WHEN " + a + " = '" + loosest + "' AND " + b + " = '" + loosest + "' THEN '" + loosest + "' ELSE 'TLP:RED' END)")
	return sb.String()
}
