package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var (
	_ escalation.Store = (*Store)(nil)
	_ escalation.Tx    = (*txn)(nil)
)

// escalationRow is the escalations table with what reads join to it.
type escalationRow struct {
	ID                        uuid.UUID
	IncidentID                uuid.UUID
	FromOrgID                 uuid.UUID
	ToOrgID                   uuid.UUID
	Kind                      string
	State                     string
	Reason                    string
	RequestedByUserID         *uuid.UUID
	RequestedBy               string
	RequestedAt               time.Time
	DecidedByUserID           *uuid.UUID
	DecidedBy                 string
	DecidedAt                 *time.Time
	DecisionReason            string
	ReturnedByUserID          *uuid.UUID
	ReturnedBy                string
	ReturnedAt                *time.Time
	ReturnReason              string
	PreviousCoordinatingOrgID *uuid.UUID
	// read-only, from joins
	IncidentReference string  `gorm:"->"`
	IncidentTitle     *string `gorm:"->"`
	FromOrgSlug       string  `gorm:"->"`
	ToOrgSlug         string  `gorm:"->"`
}

func (r *escalationRow) domain() escalation.Escalation {
	return escalation.Escalation{
		ID: r.ID, IncidentID: r.IncidentID, FromOrgID: r.FromOrgID, ToOrgID: r.ToOrgID, Kind: escalation.Kind(r.Kind),
		State: escalation.State(r.State), Reason: r.Reason, RequestedByUserID: r.RequestedByUserID, RequestedBy: r.RequestedBy,
		RequestedAt: r.RequestedAt.UTC(), DecidedByUserID: r.DecidedByUserID, DecidedBy: r.DecidedBy, DecidedAt: utcp(r.DecidedAt),
		DecisionReason: r.DecisionReason, ReturnedByUserID: r.ReturnedByUserID, ReturnedBy: r.ReturnedBy,
		ReturnedAt: utcp(r.ReturnedAt), ReturnReason: r.ReturnReason, PreviousCoordOrgID: r.PreviousCoordinatingOrgID,
		IncidentReference: r.IncidentReference, IncidentTitle: r.IncidentTitle, FromOrgSlug: r.FromOrgSlug, ToOrgSlug: r.ToOrgSlug,
	}
}

// escalationSelect reads escalations with the incident's reference, the
// organisations' slugs and, through the visibility rule of the reader
// (the first argument: a condition over "i"), the incident's title: the
// title is NULL where the reader may not see the incident.
func escalationSelect(vis string) string {
	return `SELECT e.*, ir.reference AS incident_reference, i.title AS incident_title,
	fo.slug AS from_org_slug, tor.slug AS to_org_slug
FROM escalations e
JOIN incidents ir ON ir.id = e.incident_id
LEFT JOIN incidents i ON i.id = e.incident_id AND (` + vis + `)
JOIN organizations fo ON fo.id = e.from_org_id
JOIN organizations tor ON tor.id = e.to_org_id`
}

// InEscalationTx implements escalation.Store.
func (s *Store) InEscalationTx(ctx context.Context, fn func(ctx context.Context, tx escalation.Tx) error) error {
	return inTx(ctx, s, fn)
}

// escalationCursor is the keyset position after the last escalation of a page.
type escalationCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// Escalations implements escalation.Store: the escalations to or from p's
// organisation (an organisation sees only its own inbox and outbox).
func (s *Store) Escalations(ctx context.Context, p access.Principal, f escalation.Filter, page incident.Page) ([]escalation.Escalation, string, error) {
	vis, args := visibleTo(p)
	q := escalationSelect(vis) + " WHERE "
	switch f.Direction {
	case "inbox":
		q += "e.to_org_id = ?"
		args = append(args, p.OrgID)
	case "outbox":
		q += "e.from_org_id = ?"
		args = append(args, p.OrgID)
	default:
		q += "(e.to_org_id = ? OR e.from_org_id = ?)"
		args = append(args, p.OrgID, p.OrgID)
	}
	if f.State != "" {
		q += " AND e.state = ?"
		args = append(args, string(f.State))
	}
	if f.IncidentID != nil {
		q += " AND e.incident_id = ?"
		args = append(args, *f.IncidentID)
	}
	if page.After != "" {
		var c escalationCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q += " AND (e.requested_at, e.id) < (?, ?)"
		args = append(args, c.At, c.ID)
	}
	q += " ORDER BY e.requested_at DESC, e.id DESC LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []escalationRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list escalations")
	}
	rows, next := trimPage(rows, page.Limit, func(last escalationRow) any { return escalationCursor{At: last.RequestedAt, ID: last.ID} })
	out := make([]escalation.Escalation, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// Escalation implements escalation.Store.
func (s *Store) Escalation(ctx context.Context, p access.Principal, id uuid.UUID) (*escalation.Escalation, error) {
	vis, args := visibleTo(p)
	q := escalationSelect(vis) + " WHERE e.id = ?"
	args = append(args, id)
	if !p.System {
		q += " AND (e.to_org_id = ? OR e.from_org_id = ?)"
		args = append(args, p.OrgID, p.OrgID)
	}
	var rows []escalationRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load escalation")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "escalation %q not found", id)
	}
	e := rows[0].domain()
	return &e, nil
}

// InsertEscalation implements escalation.Tx.
func (t *txn) InsertEscalation(ctx context.Context, e *escalation.Escalation) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO escalations (id, incident_id, from_org_id, to_org_id, kind, state, reason,
		requested_by_user_id, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.IncidentID, e.FromOrgID, e.ToOrgID, string(e.Kind), string(e.State), e.Reason,
		e.RequestedByUserID, e.RequestedBy, e.RequestedAt).Error
	if isConstraint(err, "escalations_open_key") {
		return &apperr.Error{Code: apperr.Conflict, Message: "an escalation of this incident to " + e.ToOrgSlug + " is already open",
			Fields: []apperr.FieldError{{Field: "to", Rule: "unique", Message: "an open escalation to this organisation exists"}}, Err: err}
	}
	return translate(err, "insert escalation")
}

// lockIncidentOf locks the incident a row of table (escalations,
// escalation_timers or notifications) belongs to. Locking the incident before the row keeps
// the order every change of an incident takes (the incident first, then
// what hangs off it: an acknowledgement cancels timers with the incident
// locked), so that two such transactions never wait on each other in a
// cycle.
func (t *txn) lockIncidentOf(ctx context.Context, table string, id uuid.UUID) error {
	err := t.db.WithContext(ctx).Exec(`SELECT 1 FROM incidents WHERE id = (SELECT incident_id FROM `+table+` WHERE id = ?) FOR UPDATE`, id).Error
	return translate(err, "lock incident")
}

// LockEscalation implements escalation.Tx; it locks the escalation's
// incident first (lockIncidentOf).
func (t *txn) LockEscalation(ctx context.Context, id uuid.UUID) (*escalation.Escalation, error) {
	if err := t.lockIncidentOf(ctx, "escalations", id); err != nil {
		return nil, err
	}
	var rows []escalationRow
	if err := t.db.WithContext(ctx).Raw(escalationSelect("TRUE")+" WHERE e.id = ? FOR UPDATE OF e", id).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load escalation")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "escalation %q not found", id)
	}
	e := rows[0].domain()
	return &e, nil
}

// UpdateEscalation implements escalation.Tx.
func (t *txn) UpdateEscalation(ctx context.Context, e *escalation.Escalation) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE escalations SET state = ?, decided_by_user_id = ?, decided_by = ?, decided_at = ?,
		decision_reason = ?, returned_by_user_id = ?, returned_by = ?, returned_at = ?, return_reason = ?,
		previous_coordinating_org_id = ? WHERE id = ?`,
		string(e.State), e.DecidedByUserID, e.DecidedBy, e.DecidedAt, e.DecisionReason, e.ReturnedByUserID, e.ReturnedBy,
		e.ReturnedAt, e.ReturnReason, e.PreviousCoordOrgID, e.ID).Error
	return translate(err, "update escalation")
}

// OpenEscalationTo implements escalation.Tx.
func (t *txn) OpenEscalationTo(ctx context.Context, incidentID, orgID uuid.UUID) (bool, error) {
	var ok bool
	err := t.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM escalations WHERE incident_id = ? AND to_org_id = ? AND state = 'requested')`,
		incidentID, orgID).Scan(&ok).Error
	return ok, translate(err, "check open escalations")
}

// OrgByID implements escalation.Tx.
func (t *txn) OrgByID(ctx context.Context, id uuid.UUID) (*org.Organization, error) {
	var rows []orgRow
	if err := t.db.WithContext(ctx).Raw(orgSelect+" WHERE o.id = ?", id).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load organisation")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "organisation %s not found", id)
	}
	o := rows[0].domain()
	return &o, nil
}

// NationalCERT implements escalation.Tx.
func (t *txn) NationalCERT(ctx context.Context) (*org.Organization, error) {
	return nationalCERT(ctx, t.db)
}

// nationalCERT returns the national CERT (the oldest, if there were
// several); apperr.NotFound when there is none.
func nationalCERT(ctx context.Context, db *gorm.DB) (*org.Organization, error) {
	var rows []orgRow
	if err := db.WithContext(ctx).Raw(orgSelect + " WHERE o.kind = 'national_cert' ORDER BY o.created_at LIMIT 1").Scan(&rows).Error; err != nil {
		return nil, translate(err, "load national CERT")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "there is no national CERT")
	}
	o := rows[0].domain()
	return &o, nil
}

// ShareKind implements escalation.Tx.
func (t *txn) ShareKind(ctx context.Context, incidentID, orgID uuid.UUID) (string, error) {
	var kinds []string
	err := t.db.WithContext(ctx).Raw(`SELECT kind FROM incident_shares WHERE incident_id = ? AND org_id = ?`, incidentID, orgID).Scan(&kinds).Error
	if err != nil || len(kinds) == 0 {
		return "", translate(err, "load share")
	}
	return kinds[0], nil
}

// DropEscalationShare implements escalation.Tx: unless another escalation
// to the organisation is still requested or accepted, its share of kind
// escalation goes, and a share of kind share leaves the strict circle.
func (t *txn) DropEscalationShare(ctx context.Context, incidentID, orgID uuid.UUID) error {
	const noOther = ` AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.incident_id = s.incident_id AND e.to_org_id = s.org_id
			AND e.state IN ('requested', 'accepted'))`
	err := t.db.WithContext(ctx).Exec(`DELETE FROM incident_shares s WHERE s.incident_id = ? AND s.org_id = ? AND s.kind = 'escalation'`+noOther,
		incidentID, orgID).Error
	if err != nil {
		return translate(err, "remove escalation share")
	}
	err = t.db.WithContext(ctx).Exec(`UPDATE incident_shares s SET strict_circle = false WHERE s.incident_id = ? AND s.org_id = ? AND s.strict_circle`+noOther,
		incidentID, orgID).Error
	return translate(err, "leave the strict circle")
}

// IsBelow implements escalation.Tx.
func (t *txn) IsBelow(ctx context.Context, ancestor, id uuid.UUID) (bool, error) {
	var ok bool
	err := t.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM org_closure WHERE ancestor_id = ? AND descendant_id = ?)`, ancestor, id).Scan(&ok).Error
	return ok, translate(err, "check constituency")
}

// Policy implements escalation.Tx. The stored document was validated when
// it was written; it is validated again on the way out, so that a row
// edited by hand cannot smuggle in what the API refuses.
func (t *txn) Policy(ctx context.Context, orgID uuid.UUID) (*escalation.Policy, error) {
	var rows []struct {
		Rules     []byte
		UpdatedAt time.Time
		UpdatedBy string
	}
	if err := t.db.WithContext(ctx).Raw(`SELECT rules, updated_at, updated_by FROM escalation_policies WHERE org_id = ?`, orgID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load escalation policy")
	}
	if len(rows) == 0 {
		return &escalation.Policy{Rules: []escalation.Rule{}}, nil
	}
	p, err := escalation.DecodePolicy(rows[0].Rules)
	if err != nil {
		return nil, fmt.Errorf("escalation policy of %s: %w", orgID, err)
	}
	p.UpdatedAt, p.UpdatedBy = rows[0].UpdatedAt.UTC(), rows[0].UpdatedBy
	return p, nil
}

// GoverningPolicy implements escalation.Tx with one indexed walk up
// org_closure: most incidents are created where no policy applies, and
// this runs in every intake transaction.
func (t *txn) GoverningPolicy(ctx context.Context, orgID uuid.UUID) (*org.Organization, *escalation.Policy, error) {
	var rows []struct {
		OrgID uuid.UUID
	}
	err := t.db.WithContext(ctx).Raw(`SELECT p.org_id FROM org_closure c JOIN escalation_policies p ON p.org_id = c.ancestor_id
		WHERE c.descendant_id = ? AND jsonb_array_length(p.rules -> 'rules') > 0 ORDER BY c.depth LIMIT 1`, orgID).Scan(&rows).Error
	if err != nil {
		return nil, nil, translate(err, "find the governing escalation policy")
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	o, err := t.OrgByID(ctx, rows[0].OrgID)
	if err != nil {
		return nil, nil, err
	}
	p, err := t.Policy(ctx, o.ID)
	if err != nil {
		return nil, nil, err
	}
	return o, p, nil
}

// PutPolicy implements escalation.Tx.
func (t *txn) PutPolicy(ctx context.Context, orgID uuid.UUID, p *escalation.Policy) error {
	b, err := json.Marshal(p.Document())
	if err != nil {
		return fmt.Errorf("encode escalation policy: %w", err)
	}
	err = t.db.WithContext(ctx).Exec(`INSERT INTO escalation_policies (org_id, rules, updated_at, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET rules = EXCLUDED.rules, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		orgID, string(b), p.UpdatedAt, p.UpdatedBy).Error
	return translate(err, "store escalation policy")
}

// timerRow is the escalation_timers table.
type timerRow struct {
	ID          uuid.UUID
	IncidentID  uuid.UUID
	PolicyOrgID uuid.UUID
	RuleName    string
	Level       int
	FromOrgID   uuid.UUID
	TargetOrgID uuid.UUID
	JobID       int64
	DueAt       time.Time
	State       string
	Note        string
	CreatedAt   time.Time
}

func (r *timerRow) domain() escalation.Timer {
	return escalation.Timer{ID: r.ID, IncidentID: r.IncidentID, PolicyOrgID: r.PolicyOrgID, RuleName: r.RuleName, Level: r.Level,
		FromOrgID: r.FromOrgID, TargetOrgID: r.TargetOrgID, JobID: r.JobID, DueAt: r.DueAt.UTC(),
		State: escalation.TimerState(r.State), Note: r.Note, CreatedAt: r.CreatedAt.UTC()}
}

// InsertTimer implements escalation.Tx.
func (t *txn) InsertTimer(ctx context.Context, tm *escalation.Timer) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO escalation_timers (id, incident_id, policy_org_id, rule_name, level, from_org_id,
		target_org_id, job_id, due_at, state, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tm.ID, tm.IncidentID, tm.PolicyOrgID, tm.RuleName, tm.Level, tm.FromOrgID, tm.TargetOrgID, tm.JobID, tm.DueAt,
		string(tm.State), tm.Note, tm.CreatedAt).Error
	if err != nil {
		return translate(err, "insert escalation timer")
	}
	return t.refreshNextDeadline(ctx, tm.IncidentID)
}

// LockTimer implements escalation.Tx; it locks the timer's incident first
// (lockIncidentOf).
func (t *txn) LockTimer(ctx context.Context, id uuid.UUID) (*escalation.Timer, error) {
	if err := t.lockIncidentOf(ctx, "escalation_timers", id); err != nil {
		return nil, err
	}
	var rows []timerRow
	if err := t.db.WithContext(ctx).Raw(`SELECT * FROM escalation_timers WHERE id = ? FOR UPDATE`, id).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load escalation timer")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "escalation timer %s not found", id)
	}
	tm := rows[0].domain()
	return &tm, nil
}

// SetTimerState implements escalation.Tx.
func (t *txn) SetTimerState(ctx context.Context, id uuid.UUID, state escalation.TimerState, note string) error {
	var incidentIDs []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`UPDATE escalation_timers SET state = ?, note = ? WHERE id = ? RETURNING incident_id`,
		string(state), note, id).Scan(&incidentIDs).Error
	if err != nil {
		return translate(err, "update escalation timer")
	}
	for _, incID := range incidentIDs {
		if err := t.refreshNextDeadline(ctx, incID); err != nil {
			return err
		}
	}
	return nil
}

// Timers implements escalation.Tx.
func (t *txn) Timers(ctx context.Context, incidentID uuid.UUID, states ...escalation.TimerState) ([]escalation.Timer, error) {
	q, args := `SELECT * FROM escalation_timers WHERE incident_id = ?`, []any{incidentID}
	if len(states) > 0 {
		ss := make([]string, len(states))
		for i, s := range states {
			ss[i] = string(s)
		}
		q += " AND state IN ?"
		args = append(args, ss)
	}
	var rows []timerRow
	if err := t.db.WithContext(ctx).Raw(q+" ORDER BY created_at, id", args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list escalation timers")
	}
	out := make([]escalation.Timer, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}
