package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/google/uuid"
)

var _ notify.EventsTx = (*txn)(nil)

// UserOrgID implements notify.EventsTx.
func (t *txn) UserOrgID(ctx context.Context, userID uuid.UUID) (uuid.UUID, error) {
	var ids []uuid.UUID
	if err := t.db.WithContext(ctx).Raw(`SELECT org_id FROM users WHERE id = ?`, userID).Scan(&ids).Error; err != nil {
		return uuid.Nil, translate(err, "find the user's organisation")
	}
	if len(ids) == 0 {
		return uuid.Nil, apperr.New(apperr.NotFound, "user %s not found", userID)
	}
	return ids[0], nil
}
