package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/triage"
	"github.com/google/uuid"
)

var _ triage.ViewStore = (*Store)(nil)

// SavedViews implements triage.ViewStore.
func (s *Store) SavedViews(ctx context.Context, userID uuid.UUID) ([]triage.SavedView, error) {
	var rows []struct {
		ID        uuid.UUID
		Name      string
		Query     string
		CreatedAt time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT id, name, query, created_at FROM saved_views WHERE user_id = ?
		ORDER BY lower(name), id`, userID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list saved views")
	}
	out := make([]triage.SavedView, len(rows))
	for i, r := range rows {
		out[i] = triage.SavedView{ID: r.ID, Name: r.Name, Query: r.Query, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// SaveView implements triage.ViewStore: one transaction that replaces a
// view of the same name, or adds the view while the user has fewer than
// triage.MaxViews (the user's row is locked, so that two saves at once
// cannot pass the limit together).
func (s *Store) SaveView(ctx context.Context, userID uuid.UUID, v *triage.SavedView) (bool, error) {
	full := false
	err := inTx(ctx, s, func(ctx context.Context, t *txn) error {
		db := t.db.WithContext(ctx)
		if err := db.Exec(`SELECT 1 FROM users WHERE id = ? FOR UPDATE`, userID).Error; err != nil {
			return translate(err, "lock user")
		}
		var ids []uuid.UUID
		if err := db.Raw(`UPDATE saved_views SET name = ?, query = ? WHERE user_id = ? AND lower(name) = lower(?) RETURNING id`,
			v.Name, v.Query, userID, v.Name).Scan(&ids).Error; err != nil {
			return translate(err, "save view")
		}
		if len(ids) == 1 {
			v.ID = ids[0]
			return nil
		}
		var n int
		if err := db.Raw(`SELECT count(*) FROM saved_views WHERE user_id = ?`, userID).Scan(&n).Error; err != nil {
			return translate(err, "count saved views")
		}
		if n >= triage.MaxViews {
			full = true
			return nil
		}
		return translate(db.Exec(`INSERT INTO saved_views (id, user_id, name, query, created_at) VALUES (?, ?, ?, ?, ?)`,
			v.ID, userID, v.Name, v.Query, v.CreatedAt).Error, "save view")
	})
	return full, err
}

// DeleteView implements triage.ViewStore.
func (s *Store) DeleteView(ctx context.Context, userID, id uuid.UUID) (bool, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM saved_views WHERE user_id = ? AND id = ?`, userID, id)
	return res.RowsAffected == 1, translate(res.Error, "delete saved view")
}
