package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/google/uuid"
)

var _ observable.Store = (*Store)(nil)

// observableRow is a row of incident_observables, with the creator's
// e-mail and, for correlation searches, the incident's reference, title and
// TLP. Tags are read as a JSON array. TLP is the effective label on reads
// and the stored one in a transaction (see observableTLP).
type observableRow struct {
	ID         uuid.UUID
	IncidentID uuid.UUID
	Type       string
	Value      string
	TLP        string `gorm:"column:tlp"`
	PAP        string `gorm:"column:pap"`
	Sighted    bool
	Tags       string
	Note       string
	CreatedBy  *uuid.UUID
	Creator    *string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	IncRef     string `gorm:"column:inc_ref"`
	IncTitle   string `gorm:"column:inc_title"`
	IncTLP     string `gorm:"column:inc_tlp"`
	// Visible is whether the principal of a transaction's read may see
	// the observable.
	Visible bool
}

func (r *observableRow) domain() (observable.Observable, error) {
	o := observable.Observable{ID: r.ID, IncidentID: r.IncidentID, Type: observable.Type(r.Type), Value: r.Value,
		TLP: incident.TLP(r.TLP), PAP: incident.PAP(r.PAP), Sighted: r.Sighted, Note: r.Note, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Tags: []string{}}
	if r.Creator != nil {
		o.Creator = *r.Creator
	}
	if err := json.Unmarshal([]byte(r.Tags), &o.Tags); err != nil {
		return o, apperr.Wrap(err, "read observable tags")
	}
	return o, nil
}

// observableColumns selects an observable, but its label, with its
// creator; the query joins users u.
const observableColumns = `o.id, o.incident_id, o.type, o.value, o.pap, o.sighted, to_jsonb(o.tags)::text AS tags,
	o.note, o.created_by, u.email AS creator, o.created_at, o.updated_at`

// observableTLP is an observable's effective label, the one reads show:
// the stricter of its own and its incident's (i). An observable added
// before its incident's label was raised keeps its own label in the
// table, and shows it again when the incident's is lowered.
var observableTLP = stricterTLP("i.tlp", "o.tlp")

// observableVisibleTo returns the condition, over incident_observables o
// joined to incidents i, that holds for the observables p may see: the
// visibility rule evaluated with the observable's effective label
// (visibleUnder with observableLabel). The incident's own rule comes
// first: for an observable no stricter than its incident it is the whole
// answer, and it keeps the shape that is fast for lists
// (docs/performance.md); the rule under the observable's label runs only
// for stricter observables.
func observableVisibleTo(p access.Principal) (string, []any) {
	inc, args := visibleTo(p)
	obs, obsArgs := visibleUnder(p, observableLabel)
	return "(" + inc + " AND (" + observableTLP + " = i.tlp OR " + obs + "))", append(args, obsArgs...)
}

// tagsArray turns a JSON array parameter into a text[].
const tagsArray = `ARRAY(SELECT jsonb_array_elements_text(?::jsonb))`

func tagsJSON(tags []string) string {
	if tags == nil {
		tags = []string{}
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// observableCursor is the keyset position after the last observable of a page.
type observableCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// InObservableTx implements observable.Store.
func (s *Store) InObservableTx(ctx context.Context, fn func(ctx context.Context, tx observable.Tx) error) error {
	return inTx(ctx, s, fn)
}

// IncidentObservables implements observable.Store: oldest first, only
// the observables p may see, each with its effective label.
func (s *Store) IncidentObservables(ctx context.Context, p access.Principal, incidentID uuid.UUID, page observable.Page) ([]observable.Observable, string, error) {
	vis, args := observableVisibleTo(p)
	q := `SELECT ` + observableColumns + `, ` + observableTLP + ` AS tlp
		FROM incident_observables o JOIN incidents i ON i.id = o.incident_id LEFT JOIN users u ON u.id = o.created_by
		WHERE o.incident_id = ? AND ` + vis
	args = append([]any{incidentID}, args...)
	if page.After != "" {
		var c observableCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q += " AND (o.created_at, o.id) > (?, ?)"
		args = append(args, c.At, c.ID)
	}
	q += " ORDER BY o.created_at, o.id LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []observableRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list observables")
	}
	rows, next := trimPage(rows, page.Limit, func(last observableRow) any { return observableCursor{At: last.CreatedAt, ID: last.ID} })
	out := make([]observable.Observable, len(rows))
	for i := range rows {
		o, err := rows[i].domain()
		if err != nil {
			return nil, "", err
		}
		out[i] = o
	}
	return out, next, nil
}

// FindObservables implements observable.Store: newest first, only the
// observables p may see. The visibility condition is part of the query,
// so an observable p may not see adds nothing, not even to the page size.
func (s *Store) FindObservables(ctx context.Context, p access.Principal, cs []observable.Candidate, page observable.Page) ([]observable.Match, string, error) {
	if len(cs) == 0 {
		return nil, "", nil
	}
	vis, visArgs := observableVisibleTo(p)
	keys, args := candidateKeys(cs)
	q := `SELECT ` + observableColumns + `, ` + observableTLP + ` AS tlp, i.reference AS inc_ref, i.title AS inc_title, i.tlp AS inc_tlp
		FROM incident_observables o JOIN incidents i ON i.id = o.incident_id LEFT JOIN users u ON u.id = o.created_by
		WHERE (o.type, o.value) IN (` + keys + `) AND ` + vis
	args = append(args, visArgs...)
	if page.After != "" {
		var c observableCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q += " AND (o.created_at, o.id) < (?, ?)"
		args = append(args, c.At, c.ID)
	}
	q += " ORDER BY o.created_at DESC, o.id DESC LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []observableRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "find observables")
	}
	rows, next := trimPage(rows, page.Limit, func(last observableRow) any { return observableCursor{At: last.CreatedAt, ID: last.ID} })
	out := make([]observable.Match, len(rows))
	for i := range rows {
		o, err := rows[i].domain()
		if err != nil {
			return nil, "", err
		}
		out[i] = observable.Match{Observable: o, Incident: observable.IncidentRef{ID: rows[i].IncidentID,
			Reference: rows[i].IncRef, Title: rows[i].IncTitle, TLP: incident.TLP(rows[i].IncTLP)}}
	}
	return out, next, nil
}

// candidateKeys is the list of (type, value) pairs of cs for an IN, with
// its arguments.
func candidateKeys(cs []observable.Candidate) (string, []any) {
	keys := make([]string, len(cs))
	args := make([]any, 0, 2*len(cs))
	for i, c := range cs {
		keys[i] = "(?, ?)"
		args = append(args, string(c.Type), c.Value)
	}
	return strings.Join(keys, ", "), args
}

// Correlations implements observable.Store: the matches of every
// candidate, numbered per (type, value) newest first and cut at per.
func (s *Store) Correlations(ctx context.Context, p access.Principal, incidentID uuid.UUID, cs []observable.Candidate, per int) ([]observable.Match, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	vis, visArgs := observableVisibleTo(p)
	keys, args := candidateKeys(cs)
	args = append(append(args, incidentID), visArgs...)
	q := `SELECT * FROM (SELECT ` + observableColumns + `, ` + observableTLP + ` AS tlp, i.reference AS inc_ref, i.title AS inc_title,
			i.tlp AS inc_tlp, row_number() OVER (PARTITION BY o.type, o.value ORDER BY o.created_at DESC, o.id DESC) AS nth
		FROM incident_observables o JOIN incidents i ON i.id = o.incident_id LEFT JOIN users u ON u.id = o.created_by
		WHERE (o.type, o.value) IN (` + keys + `) AND o.incident_id <> ? AND ` + vis + `) m
		WHERE m.nth <= ? ORDER BY m.type, m.value, m.nth`
	var rows []observableRow
	if err := s.db.WithContext(ctx).Raw(q, append(args, per)...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "find correlations")
	}
	out := make([]observable.Match, len(rows))
	for i := range rows {
		o, err := rows[i].domain()
		if err != nil {
			return nil, err
		}
		out[i] = observable.Match{Observable: o, Incident: observable.IncidentRef{ID: rows[i].IncidentID,
			Reference: rows[i].IncRef, Title: rows[i].IncTitle, TLP: incident.TLP(rows[i].IncTLP)}}
	}
	return out, nil
}

// oneObservable reads one observable of an incident with its stored
// label, locks it, and says whether p may see it.
func (t *txn) oneObservable(ctx context.Context, p access.Principal, where string, args ...any) (*observable.Observable, bool, error) {
	vis, visArgs := observableVisibleTo(p)
	var rows []observableRow
	q := `SELECT ` + observableColumns + `, o.tlp, ` + vis + ` AS visible
		FROM incident_observables o JOIN incidents i ON i.id = o.incident_id LEFT JOIN users u ON u.id = o.created_by
		WHERE ` + where + ` FOR UPDATE OF o`
	if err := t.db.WithContext(ctx).Raw(q, append(visArgs, args...)...).Scan(&rows).Error; err != nil {
		return nil, false, translate(err, "load observable")
	}
	if len(rows) == 0 {
		return nil, false, apperr.New(apperr.NotFound, "the incident has no such observable")
	}
	o, err := rows[0].domain()
	return &o, rows[0].Visible, err
}

// ObservableByKey implements observable.Tx. An observable p may not see is
// a conflict that names nothing of it: its value is already taken.
func (t *txn) ObservableByKey(ctx context.Context, p access.Principal, incidentID uuid.UUID, typ observable.Type, value string) (*observable.Observable, error) {
	o, visible, err := t.oneObservable(ctx, p, "o.incident_id = ? AND o.type = ? AND o.value = ?", incidentID, string(typ), value)
	if err == nil && !visible {
		return nil, apperr.New(apperr.Conflict, "the incident already has this observable")
	}
	return o, err
}

// ObservableByID implements observable.Tx: an observable p may not see is
// not found.
func (t *txn) ObservableByID(ctx context.Context, p access.Principal, incidentID, id uuid.UUID) (*observable.Observable, error) {
	o, visible, err := t.oneObservable(ctx, p, "o.incident_id = ? AND o.id = ?", incidentID, id)
	if err == nil && !visible {
		return nil, apperr.New(apperr.NotFound, "the incident has no such observable")
	}
	return o, err
}

func (t *txn) InsertObservable(ctx context.Context, o *observable.Observable) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO incident_observables
		(id, incident_id, type, value, tlp, pap, sighted, tags, note, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, `+tagsArray+`, ?, ?, ?, ?)`,
		o.ID, o.IncidentID, string(o.Type), o.Value, string(o.TLP), observablePAP(o.PAP), o.Sighted, tagsJSON(o.Tags), o.Note, o.CreatedBy,
		o.CreatedAt, o.UpdatedAt).Error
	if isConstraint(err, "incident_observables_key") {
		return &apperr.Error{Code: apperr.Conflict, Message: "the incident already has this observable", Err: err}
	}
	return translate(err, "insert observable")
}

func (t *txn) UpdateObservable(ctx context.Context, o *observable.Observable) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE incident_observables SET tlp = ?, pap = ?, sighted = ?, tags = `+tagsArray+`,
		note = ?, updated_at = ? WHERE id = ?`,
		string(o.TLP), observablePAP(o.PAP), o.Sighted, tagsJSON(o.Tags), o.Note, o.UpdatedAt, o.ID).Error
	return translate(err, "update observable")
}

// observablePAP is the PAP label to store for an observable.
func observablePAP(p incident.PAP) string { return papOrDefault(p) }

func (t *txn) DeleteObservable(ctx context.Context, id uuid.UUID) error {
	return translate(t.db.WithContext(ctx).Exec(`DELETE FROM incident_observables WHERE id = ?`, id).Error, "delete observable")
}
