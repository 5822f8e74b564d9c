package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/google/uuid"
)

var _ notify.EmailTx = (*txn)(nil)

// EmailRecipients implements notify.EmailTx: the organisation's contact
// address, then its active people who chose e-mail, in one statement.
func (t *txn) EmailRecipients(ctx context.Context, orgID uuid.UUID) ([]notify.EmailRecipient, error) {
	var rows []struct {
		UserID  *uuid.UUID
		Address string
	}
	err := t.db.WithContext(ctx).Raw(`SELECT NULL::uuid AS user_id, contact_email AS address
		FROM organizations WHERE id = ? AND contact_email <> ''
		UNION ALL
		SELECT u.id, u.email FROM users u JOIN user_settings s ON s.user_id = u.id
		WHERE u.org_id = ? AND u.disabled_at IS NULL AND s.email_notifications AND u.email <> ''
		ORDER BY 1 NULLS FIRST`, orgID, orgID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "e-mail recipients")
	}
	out := make([]notify.EmailRecipient, len(rows))
	for i, r := range rows {
		out[i] = notify.EmailRecipient{UserID: r.UserID, Address: r.Address}
	}
	return out, nil
}

// EmailAddress implements notify.EmailTx.
func (t *txn) EmailAddress(ctx context.Context, orgID uuid.UUID, userID *uuid.UUID) (string, error) {
	var rows []string
	var err error
	if userID == nil {
		err = t.db.WithContext(ctx).Raw(`SELECT contact_email FROM organizations WHERE id = ?`, orgID).Scan(&rows).Error
	} else {
		err = t.db.WithContext(ctx).Raw(`SELECT u.email FROM users u JOIN user_settings s ON s.user_id = u.id
			WHERE u.id = ? AND u.org_id = ? AND u.disabled_at IS NULL AND s.email_notifications`, *userID, orgID).Scan(&rows).Error
	}
	if err != nil {
		return "", translate(err, "e-mail address")
	}
	if len(rows) == 0 {
		return "", nil
	}
	return rows[0], nil
}
