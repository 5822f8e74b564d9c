package postgres

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/google/uuid"
)

var (
	_ linking.Store = (*Store)(nil)
	_ linking.Tx    = (*txn)(nil)
)

// InLinkTx implements linking.Store.
func (s *Store) InLinkTx(ctx context.Context, fn func(ctx context.Context, tx linking.Tx) error) error {
	return inTx(ctx, s, fn)
}

// linkRow is a link with the incident at its other end (aliased i).
type linkRow struct {
	ID        uuid.UUID
	FromID    uuid.UUID
	ToID      uuid.UUID
	Kind      string
	CreatedBy *string
	CreatedAt time.Time
	OtherID   uuid.UUID
	Reference string
	Title     string
	Stage     string
	Status    string
	TLP       string
}

// Links implements linking.Store: the links of the incident whose other
// end p sees (the visibility rule over the other incident; the caller has
// read the incident itself through it).
func (s *Store) Links(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]linking.Link, error) {
	vis, visArgs := visibleTo(p)
	var rows []linkRow
	q := `SELECT l.id, l.from_id, l.to_id, l.kind, u.email AS created_by, l.created_at,
			i.id AS other_id, i.reference, i.title, i.stage, i.status, i.tlp
		FROM incident_links l
		JOIN incidents i ON i.id = CASE WHEN l.from_id = ? THEN l.to_id ELSE l.from_id END
		LEFT JOIN users u ON u.id = l.created_by
		WHERE (l.from_id = ? OR l.to_id = ?) AND ` + vis + `
		ORDER BY l.created_at DESC, l.id`
	args := append([]any{incidentID, incidentID, incidentID}, visArgs...)
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list links")
	}
	out := make([]linking.Link, len(rows))
	for n, r := range rows {
		l := linking.Link{ID: r.ID, FromID: r.FromID, ToID: r.ToID, Kind: linking.Kind(r.Kind), Direction: linking.Outgoing,
			CreatedAt: r.CreatedAt.UTC(),
			Other: linking.Other{ID: r.OtherID, Reference: r.Reference, Title: r.Title, Stage: incident.Stage(r.Stage),
				Status: incident.Status(r.Status), TLP: incident.TLP(r.TLP)}}
		if r.ToID == incidentID {
			l.Direction = linking.Incoming
		}
		if r.CreatedBy != nil {
			l.CreatedBy = *r.CreatedBy
		}
		out[n] = l
	}
	return out, nil
}

// MergeInForce implements linking.Store. The survivor's reference, stage
// and status are read whether or not p sees it: the caller sees the
// duplicate, and that is what a duplicate's audience is owed (the rule of
// docs/security.md, "Links and merges"). SurvivorVisible is the
// visibility rule over the survivor.
func (s *Store) MergeInForce(ctx context.Context, p access.Principal, duplicateID uuid.UUID) (*linking.MergeStatus, error) {
	vis, visArgs := visibleTo(p)
	var rows []struct {
		ID        uuid.UUID
		MergedAt  time.Time
		SurvID    uuid.UUID
		Reference string
		Stage     string
		Status    string
		Visible   bool
	}
	q := `SELECT m.id, m.merged_at, i.id AS surv_id, i.reference, i.stage, i.status, (` + vis + `) AS visible
		FROM incident_merges m JOIN incidents i ON i.id = m.survivor_id
		WHERE m.duplicate_id = ? AND m.undone_at IS NULL`
	if err := s.db.WithContext(ctx).Raw(q, append(visArgs, duplicateID)...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "read merge")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &linking.MergeStatus{MergeID: r.ID, MergedAt: r.MergedAt.UTC(), SurvivorID: r.SurvID, SurvivorRef: r.Reference,
		SurvivorStage: incident.Stage(r.Stage), SurvivorStatus: incident.Status(r.Status), SurvivorVisible: r.Visible}, nil
}

// InsertLink implements linking.Tx.
func (t *txn) InsertLink(ctx context.Context, l *linking.Link) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO incident_links (id, from_id, to_id, kind, created_by, created_at)
		VALUES (?, ?, ?, ?, (SELECT id FROM users WHERE email = ?), ?) ON CONFLICT (from_id, to_id, kind) DO NOTHING`,
		l.ID, l.FromID, l.ToID, string(l.Kind), l.CreatedBy, l.CreatedAt)
	if res.Error != nil {
		return false, translate(res.Error, "insert link")
	}
	return res.RowsAffected == 1, nil
}

// DeleteLink implements linking.Tx.
func (t *txn) DeleteLink(ctx context.Context, incidentID, linkID uuid.UUID) (*linking.Link, error) {
	var rows []struct {
		ID     uuid.UUID
		FromID uuid.UUID
		ToID   uuid.UUID
		Kind   string
	}
	err := t.db.WithContext(ctx).Raw(`DELETE FROM incident_links WHERE id = ? AND (from_id = ? OR to_id = ?)
		RETURNING id, from_id, to_id, kind`, linkID, incidentID, incidentID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "delete link")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "link %q not found", linkID)
	}
	r := rows[0]
	return &linking.Link{ID: r.ID, FromID: r.FromID, ToID: r.ToID, Kind: linking.Kind(r.Kind)}, nil
}

// CopyObservables implements linking.Tx. A copy keeps the stricter of the
// observable's effective label on the duplicate and the survivor's own
// label, and the observable's PAP; its note says where it came from.
func (t *txn) CopyObservables(ctx context.Context, duplicateID, survivorID uuid.UUID, by *uuid.UUID, now time.Time) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`INSERT INTO incident_observables (id, incident_id, type, value, tlp, pap, sighted, tags, note,
			created_by, created_at, updated_at)
		SELECT gen_random_uuid(), s.id, o.type, o.value, `+stricterTLP(stricterTLP("i.tlp", "o.tlp"), "s.tlp")+`, o.pap, o.sighted, o.tags,
			CASE WHEN o.note = '' THEN 'from ' || i.reference ELSE o.note || ' (from ' || i.reference || ')' END, ?, ?, ?
		FROM incident_observables o JOIN incidents i ON i.id = o.incident_id JOIN incidents s ON s.id = ?
		WHERE o.incident_id = ?
		ON CONFLICT ON CONSTRAINT incident_observables_key DO NOTHING
		RETURNING id`, by, now, now, survivorID, duplicateID).Scan(&ids).Error
	if err != nil {
		return nil, translate(err, "copy observables")
	}
	return ids, nil
}

// DeleteObservables implements linking.Tx.
func (t *txn) DeleteObservables(ctx context.Context, incidentID uuid.UUID, ids []uuid.UUID) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res := t.db.WithContext(ctx).Exec(`DELETE FROM incident_observables WHERE incident_id = ? AND id = ANY(ARRAY(SELECT jsonb_array_elements_text(?::jsonb))::uuid[])`,
		incidentID, uuidsJSON(ids))
	if res.Error != nil {
		return 0, translate(res.Error, "delete merged observables")
	}
	return int(res.RowsAffected), nil
}

// uuidsJSON is a JSON array of ids, a parameter that
// ARRAY(SELECT jsonb_array_elements_text(?::jsonb))::uuid[] reads.
func uuidsJSON(ids []uuid.UUID) string {
	if ids == nil {
		ids = []uuid.UUID{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// InsertMerge implements linking.Tx.
func (t *txn) InsertMerge(ctx context.Context, m *linking.Merge) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO incident_merges (id, duplicate_id, survivor_id, merged_by, merged_at,
			copied_observables, link_id, previous_resolution) VALUES (?, ?, ?, ?, ?, ARRAY(SELECT jsonb_array_elements_text(?::jsonb))::uuid[], ?, ?)`,
		m.ID, m.DuplicateID, m.SurvivorID, m.MergedBy, m.MergedAt, uuidsJSON(m.CopiedObservables), m.LinkID,
		m.PreviousResolution).Error
	if err != nil && strings.Contains(err.Error(), "incident_merges_in_force_idx") {
		return apperr.New(apperr.Conflict, "the incident is merged already")
	}
	return translate(err, "insert merge")
}

// LockMergeInForce implements linking.Tx.
func (t *txn) LockMergeInForce(ctx context.Context, duplicateID uuid.UUID) (*linking.Merge, error) {
	var rows []struct {
		ID                 uuid.UUID
		DuplicateID        uuid.UUID
		SurvivorID         uuid.UUID
		MergedAt           time.Time
		Copied             string
		LinkID             *uuid.UUID
		PreviousResolution string
	}
	err := t.db.WithContext(ctx).Raw(`SELECT id, duplicate_id, survivor_id, merged_at, array_to_json(copied_observables)::text AS copied,
			link_id, previous_resolution
		FROM incident_merges WHERE duplicate_id = ? AND undone_at IS NULL FOR UPDATE`, duplicateID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "lock merge")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "the incident is not merged into another incident")
	}
	r := rows[0]
	m := &linking.Merge{ID: r.ID, DuplicateID: r.DuplicateID, SurvivorID: r.SurvivorID, MergedAt: r.MergedAt.UTC(),
		LinkID: r.LinkID, PreviousResolution: r.PreviousResolution}
	if err := json.Unmarshal([]byte(r.Copied), &m.CopiedObservables); err != nil {
		return nil, translate(err, "lock merge")
	}
	return m, nil
}

// MarkMergeUndone implements linking.Tx.
func (t *txn) MarkMergeUndone(ctx context.Context, mergeID uuid.UUID, by *uuid.UUID, at time.Time) error {
	return translate(t.db.WithContext(ctx).Exec(`UPDATE incident_merges SET undone_at = ?, undone_by = ? WHERE id = ?`,
		at, by, mergeID).Error, "undo merge")
}

// MergedInto implements linking.Tx.
func (t *txn) MergedInto(ctx context.Context, incidentID uuid.UUID) (bool, bool, error) {
	var out struct {
		SurvivorOf  bool
		DuplicateOf bool
	}
	err := t.db.WithContext(ctx).Raw(`SELECT
		EXISTS (SELECT 1 FROM incident_merges WHERE survivor_id = ? AND undone_at IS NULL) AS survivor_of,
		EXISTS (SELECT 1 FROM incident_merges WHERE duplicate_id = ? AND undone_at IS NULL) AS duplicate_of`,
		incidentID, incidentID).Scan(&out).Error
	if err != nil {
		return false, false, translate(err, "read merges")
	}
	return out.SurvivorOf, out.DuplicateOf, nil
}
