package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/throttle"
)

var (
	_ throttle.Store      = (*Store)(nil)
	_ throttle.SweepStore = (*Store)(nil)
	_ throttle.SweepTx    = (*txn)(nil)
)

// ThrottleCount implements throttle.Store.
func (s *Store) ThrottleCount(ctx context.Context, scope, key string, start time.Time) (int, error) {
	var n int
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE((SELECT failures FROM auth_throttle
		WHERE scope = ? AND key = ? AND window_start = ?), 0)`, scope, key, start).Scan(&n).Error
	return n, translate(err, "count failed attempts")
}

// ThrottleAdd implements throttle.Store: one upsert, so that concurrent
// failures on any replica are all counted, reasons included.
func (s *Store) ThrottleAdd(ctx context.Context, scope, key string, start time.Time, reason string) (int, error) {
	return s.ThrottleAdjust(ctx, scope, key, start, 1, reason)
}

// ThrottleAdjust implements throttle.Store: one upsert, so that
// concurrent changes on any replica are all counted; the count never goes
// below zero. (GORM ends a named parameter at a space, a comma or a
// parenthesis, not at "::": hence CAST.)
func (s *Store) ThrottleAdjust(ctx context.Context, scope, key string, start time.Time, delta int, reason string) (int, error) {
	var n int
	err := s.db.WithContext(ctx).Raw(`INSERT INTO auth_throttle AS t (scope, key, window_start, failures, reasons)
		VALUES (@scope, @key, @start, GREATEST(@delta, 0), CASE WHEN @reason = '' THEN '{}'::jsonb ELSE jsonb_build_object(CAST(@reason AS text), 1) END)
		ON CONFLICT (scope, key, window_start) DO UPDATE SET failures = GREATEST(t.failures + @delta, 0),
		  reasons = CASE
		    WHEN @reason = '' THEN t.reasons
		    WHEN jsonb_exists(t.reasons, @reason) OR (SELECT count(*) FROM jsonb_object_keys(t.reasons)) < @max
		      THEN jsonb_set(t.reasons, ARRAY[CAST(@reason AS text)], to_jsonb(COALESCE((t.reasons ->> @reason)::int, 0) + 1))
		    ELSE jsonb_set(t.reasons, ARRAY[CAST(@other AS text)], to_jsonb(COALESCE((t.reasons ->> @other)::int, 0) + 1))
		  END
		RETURNING failures`,
		map[string]any{"scope": scope, "key": key, "start": start, "delta": delta, "reason": reason, "max": throttle.MaxReasons,
			"other": throttle.OtherReason}).Scan(&n).Error
	return n, translate(err, "record a failed attempt")
}

// InThrottleTx implements throttle.SweepStore.
func (s *Store) InThrottleTx(ctx context.Context, fn func(ctx context.Context, tx throttle.SweepTx) error) error {
	return inTx(ctx, s, fn)
}

// ThrottlePurge implements throttle.SweepStore.
func (s *Store) ThrottlePurge(ctx context.Context, before time.Time, keep []string) (int, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM auth_throttle WHERE window_start < ?
		AND (audited_at IS NOT NULL OR scope <> ALL (?::text[]))`, before, textArray(keep))
	return int(res.RowsAffected), translate(res.Error, "remove old throttle windows")
}

type throttleRow struct {
	Scope       string
	Key         string
	WindowStart time.Time
	Failures    int
	Reasons     []byte
}

// EndedWindows implements throttle.SweepTx.
func (t *txn) EndedWindows(ctx context.Context, scope string, before time.Time, limit int) ([]throttle.Window, error) {
	var rows []throttleRow
	err := t.db.WithContext(ctx).Raw(`SELECT scope, key, window_start, failures, reasons FROM auth_throttle
		WHERE scope = ? AND window_start < ? AND audited_at IS NULL
		ORDER BY window_start, key LIMIT ? FOR UPDATE SKIP LOCKED`, scope, before, limit).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load ended throttle windows")
	}
	out := make([]throttle.Window, len(rows))
	for i, r := range rows {
		w := throttle.Window{Scope: r.Scope, Key: r.Key, Start: r.WindowStart.UTC(), Failures: r.Failures}
		if err := json.Unmarshal(r.Reasons, &w.Reasons); err != nil {
			return nil, fmt.Errorf("throttle window reasons: %w", err)
		}
		out[i] = w
	}
	return out, nil
}

// MarkAudited implements throttle.SweepTx, in one statement.
func (t *txn) MarkAudited(ctx context.Context, ws []throttle.Window, at time.Time) error {
	if len(ws) == 0 {
		return nil
	}
	scopes, keys, starts := make(textArray, len(ws)), make(textArray, len(ws)), make(textArray, len(ws))
	for i, w := range ws {
		scopes[i], keys[i], starts[i] = w.Scope, w.Key, w.Start.UTC().Format(time.RFC3339Nano)
	}
	err := t.db.WithContext(ctx).Exec(`UPDATE auth_throttle t SET audited_at = ?
		FROM unnest(?::text[], ?::text[], ?::text[]::timestamptz[]) AS w(scope, key, window_start)
		WHERE t.scope = w.scope AND t.key = w.key AND t.window_start = w.window_start`, at, scopes, keys, starts).Error
	return translate(err, "mark throttle windows audited")
}
