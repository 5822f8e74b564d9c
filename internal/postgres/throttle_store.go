package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/throttle"
)

var _ throttle.Store = (*Store)(nil)

// ThrottleCount implements throttle.Store.
func (s *Store) ThrottleCount(ctx context.Context, scope, key string, start time.Time) (int, error) {
	var n int
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE((SELECT failures FROM auth_throttle
		WHERE scope = ? AND key = ? AND window_start = ?), 0)`, scope, key, start).Scan(&n).Error
	return n, translate(err, "count failed attempts")
}

// ThrottleAdd implements throttle.Store: one upsert, so that concurrent
// failures on any replica are all counted.
func (s *Store) ThrottleAdd(ctx context.Context, scope, key string, start time.Time) (int, error) {
	var n int
	err := s.db.WithContext(ctx).Raw(`INSERT INTO auth_throttle (scope, key, window_start, failures) VALUES (?, ?, ?, 1)
		ON CONFLICT (scope, key, window_start) DO UPDATE SET failures = auth_throttle.failures + 1
		RETURNING failures`, scope, key, start).Scan(&n).Error
	return n, translate(err, "record a failed attempt")
}
