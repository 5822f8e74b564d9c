package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/readmark"
	"github.com/google/uuid"
)

var _ readmark.Store = (*Store)(nil)

// MarkRead implements readmark.Store.
func (s *Store) MarkRead(ctx context.Context, userID, incidentID uuid.UUID) error {
	err := s.db.WithContext(ctx).Exec(`INSERT INTO incident_reads (user_id, incident_id, read_at) VALUES (?, ?, clock_timestamp())
		ON CONFLICT (user_id, incident_id) DO UPDATE SET read_at = greatest(incident_reads.read_at, excluded.read_at)`,
		userID, incidentID).Error
	return translate(err, "mark incident read")
}

// Unread implements readmark.Store: for each incident, whether its
// timeline has an entry by another person recorded after the read mark
// (incident_events_recorded_idx).
func (s *Store) Unread(ctx context.Context, userID uuid.UUID, incidentIDs []uuid.UUID) (map[uuid.UUID]bool, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Raw(`SELECT x.id FROM unnest(CAST(? AS uuid[])) AS x(id)
		LEFT JOIN incident_reads r ON r.user_id = ? AND r.incident_id = x.id
		WHERE EXISTS (SELECT 1 FROM incident_events e WHERE e.incident_id = x.id
			AND e.recorded_at > coalesce(r.read_at, '-infinity'::timestamptz)
			AND e.actor_user_id IS NOT NULL AND e.actor_user_id <> ?)`, idArray(incidentIDs), userID, userID).Scan(&ids).Error
	if err != nil {
		return nil, translate(err, "read unread marks")
	}
	out := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// idArray passes UUIDs as a PostgreSQL array literal (cast to uuid[] in
// the query).
func idArray(ids []uuid.UUID) textArray {
	out := make(textArray, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
