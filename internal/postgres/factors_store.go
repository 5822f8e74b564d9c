package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/google/uuid"
)

var (
	_ session.FactorStore = (*Store)(nil)
)

// policyCols are an org_sign_in_policies row's columns as policyRow reads
// them (p is the table's alias).
const policyCols = `p.second_factor AS pol_mode, array_to_string(p.second_factor_roles, ',') AS pol_roles,
	p.passkey_alone AS pol_passkey_alone, p.step_up_minutes AS pol_step_up, p.updated_at AS pol_updated_at,
	(SELECT coalesce(nullif(b.name, ''), b.email) FROM users b WHERE b.id = p.updated_by) AS pol_updated_by`

// policyRow is a policy as policyCols reads it; all NULL without a row.
type policyRow struct {
	PolMode         *string
	PolRoles        *string
	PolPasskeyAlone *bool
	PolStepUp       *int
	PolUpdatedAt    *time.Time
	PolUpdatedBy    *string
}

func (r policyRow) domain(orgID uuid.UUID) session.Policy {
	p := session.DefaultPolicy(orgID)
	if r.PolMode == nil {
		return p
	}
	p.SecondFactor = session.Requirement(*r.PolMode)
	if r.PolRoles != nil && *r.PolRoles != "" {
		for _, x := range strings.Split(*r.PolRoles, ",") {
			p.Roles = append(p.Roles, access.Role(x))
		}
	}
	if r.PolPasskeyAlone != nil {
		p.PasskeyAlone = *r.PolPasskeyAlone
	}
	if r.PolStepUp != nil {
		p.StepUpMinutes = *r.PolStepUp
	}
	p.UpdatedAt = utcPtr(r.PolUpdatedAt)
	if r.PolUpdatedBy != nil {
		p.UpdatedBy = *r.PolUpdatedBy
	}
	return p
}

// FactorState implements session.FactorStore: the user's factors and
// their organisation's policy in one query.
func (s *Store) FactorState(ctx context.Context, userID uuid.UUID) (*session.FactorState, error) {
	var rows []struct {
		Role         string
		OrgID        uuid.UUID
		ConfirmedAt  *time.Time
		Passkeys     int
		RecoveryLeft int
		Pol          policyRow `gorm:"embedded"`
	}
	err := s.db.WithContext(ctx).Raw(`SELECT u.role, u.org_id, t.confirmed_at,
			(SELECT count(*) FROM webauthn_credentials w WHERE w.user_id = u.id) AS passkeys,
			(SELECT count(*) FROM user_recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS recovery_left,
			`+policyCols+`
		FROM users u
		LEFT JOIN user_totp t ON t.user_id = u.id
		LEFT JOIN org_sign_in_policies p ON p.org_id = u.org_id
		WHERE u.id = ?`, userID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load second factors")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "user %s not found", userID)
	}
	r := rows[0]
	return &session.FactorState{UserID: userID, Role: access.Role(r.Role), TOTP: r.ConfirmedAt != nil, TOTPSince: utcPtr(r.ConfirmedAt),
		Passkeys: r.Passkeys, RecoveryLeft: r.RecoveryLeft, Policy: r.Pol.domain(r.OrgID)}, nil
}
