package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

var _ incident.RedTx = (*txn)(nil)

// orgUserRow is a user as TLP:RED routing reads it.
type orgUserRow struct {
	ID         uuid.UUID
	OrgID      uuid.UUID
	Email      string
	Name       string
	Role       string
	IsDisabled bool
}

func orgUsers(rows []orgUserRow) []incident.OrgUser {
	out := make([]incident.OrgUser, len(rows))
	for i, r := range rows {
		out[i] = incident.OrgUser{ID: r.ID, OrgID: r.OrgID, Email: r.Email, Name: r.Name, Role: access.Role(r.Role), Disabled: r.IsDisabled}
	}
	return out
}

const orgUserSelect = `SELECT u.id, u.org_id, u.email, u.name, u.role, u.disabled_at IS NOT NULL AS is_disabled FROM users u`

// RedRecipients implements incident.RedTx.
func (t *txn) RedRecipients(ctx context.Context, orgID uuid.UUID) ([]incident.OrgUser, error) {
	var rows []orgUserRow
	err := t.db.WithContext(ctx).Raw(orgUserSelect+` JOIN org_red_recipients r ON r.user_id = u.id
		WHERE r.org_id = ? ORDER BY lower(u.email)`, orgID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load TLP:RED recipients")
	}
	return orgUsers(rows), nil
}

// OrgUsersWithRole implements incident.RedTx.
func (t *txn) OrgUsersWithRole(ctx context.Context, orgID uuid.UUID, role access.Role) ([]incident.OrgUser, error) {
	var rows []orgUserRow
	err := t.db.WithContext(ctx).Raw(orgUserSelect+` WHERE u.org_id = ? AND u.role = ? AND u.disabled_at IS NULL
		ORDER BY lower(u.email)`, orgID, string(role)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load users by role")
	}
	return orgUsers(rows), nil
}

// OrgUserByEmail implements incident.RedTx.
func (t *txn) OrgUserByEmail(ctx context.Context, email string) (*incident.OrgUser, error) {
	var rows []orgUserRow
	if err := t.db.WithContext(ctx).Raw(orgUserSelect+` WHERE lower(u.email) = lower(?)`, email).Scan(&rows).Error; err != nil {
		return nil, translate(err, "find user")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "user %q not found", email)
	}
	u := orgUsers(rows)[0]
	return &u, nil
}

// SetRedRecipients implements incident.RedTx.
func (t *txn) SetRedRecipients(ctx context.Context, orgID uuid.UUID, userIDs []uuid.UUID, by *uuid.UUID) error {
	db := t.db.WithContext(ctx)
	q, args := `DELETE FROM org_red_recipients WHERE org_id = ?`, []any{orgID}
	if len(userIDs) > 0 {
		q, args = q+` AND user_id NOT IN ?`, append(args, userIDs)
	}
	if err := db.Exec(q, args...).Error; err != nil {
		return translate(err, "set TLP:RED recipients")
	}
	for _, id := range userIDs {
		if err := db.Exec(`INSERT INTO org_red_recipients (org_id, user_id, added_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			orgID, id, by).Error; err != nil {
			return translate(err, "set TLP:RED recipients")
		}
	}
	return nil
}
