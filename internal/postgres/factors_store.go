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

var _ session.FactorTx = (*txn)(nil)

// Policy implements session.FactorStore.
func (s *Store) Policy(ctx context.Context, orgID uuid.UUID) (session.Policy, error) {
	var rows []policyRow
	err := s.db.WithContext(ctx).Raw(`SELECT `+policyCols+` FROM org_sign_in_policies p WHERE p.org_id = ?`, orgID).Scan(&rows).Error
	if err != nil {
		return session.Policy{}, translate(err, "load sign-in policy")
	}
	if len(rows) == 0 {
		return session.DefaultPolicy(orgID), nil
	}
	return rows[0].domain(orgID), nil
}

func (t *txn) SavePolicy(ctx context.Context, p session.Policy, by *uuid.UUID, at time.Time) error {
	roles := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = string(r)
	}
	err := t.db.WithContext(ctx).Exec(`INSERT INTO org_sign_in_policies
			(org_id, second_factor, second_factor_roles, passkey_alone, step_up_minutes, updated_at, updated_by)
		VALUES (?, ?, string_to_array(?, ','), ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET second_factor = EXCLUDED.second_factor,
			second_factor_roles = EXCLUDED.second_factor_roles, passkey_alone = EXCLUDED.passkey_alone,
			step_up_minutes = EXCLUDED.step_up_minutes, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
		p.OrgID, string(p.SecondFactor), strings.Join(roles, ","), p.PasskeyAlone, p.StepUpMinutes, at, by).Error
	return translate(err, "save sign-in policy")
}

type totpRow struct {
	UserID      uuid.UUID
	KeySealed   []byte
	CreatedAt   time.Time
	ConfirmedAt *time.Time
	LastStep    int64
}

func (totpRow) TableName() string { return "user_totp" }

func (t *txn) TOTPForUpdate(ctx context.Context, userID uuid.UUID) (*session.TOTPRecord, error) {
	var rows []totpRow
	err := t.db.WithContext(ctx).Raw(`SELECT user_id, key_sealed, created_at, confirmed_at, last_step FROM user_totp
		WHERE user_id = ? FOR UPDATE`, userID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load authenticator app")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "no authenticator app")
	}
	r := rows[0]
	return &session.TOTPRecord{UserID: r.UserID, KeySealed: r.KeySealed, CreatedAt: r.CreatedAt.UTC(),
		ConfirmedAt: utcPtr(r.ConfirmedAt), LastStep: r.LastStep}, nil
}

func (t *txn) PutTOTP(ctx context.Context, r *session.TOTPRecord) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO user_totp (user_id, key_sealed, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET key_sealed = EXCLUDED.key_sealed, created_at = EXCLUDED.created_at, last_step = 0
		WHERE user_totp.confirmed_at IS NULL`, r.UserID, r.KeySealed, r.CreatedAt).Error
	return translate(err, "store authenticator app")
}

func (t *txn) SetTOTPStep(ctx context.Context, userID uuid.UUID, step int64, confirmedAt *time.Time) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE user_totp SET last_step = ?, confirmed_at = coalesce(confirmed_at, ?)
		WHERE user_id = ? AND last_step < ?`, step, confirmedAt, userID, step).Error
	return translate(err, "record code")
}

func (t *txn) DeleteTOTP(ctx context.Context, userID uuid.UUID) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`DELETE FROM user_totp WHERE user_id = ?`, userID)
	return res.RowsAffected > 0, translate(res.Error, "remove authenticator app")
}

func (t *txn) ReplaceRecoveryCodes(ctx context.Context, userID uuid.UUID, hashes [][]byte, at time.Time) error {
	if err := t.db.WithContext(ctx).Exec(`DELETE FROM user_recovery_codes WHERE user_id = ?`, userID).Error; err != nil {
		return translate(err, "remove recovery codes")
	}
	for _, h := range hashes {
		if err := t.db.WithContext(ctx).Exec(`INSERT INTO user_recovery_codes (user_id, code_hash, created_at) VALUES (?, ?, ?)`,
			userID, h, at).Error; err != nil {
			return translate(err, "store recovery codes")
		}
	}
	return nil
}

func (t *txn) UseRecoveryCode(ctx context.Context, userID uuid.UUID, hash []byte, at time.Time) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`UPDATE user_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
		at, userID, hash)
	return res.RowsAffected == 1, translate(res.Error, "use recovery code")
}

func (t *txn) DeleteRecoveryCodes(ctx context.Context, userID uuid.UUID) (int, error) {
	res := t.db.WithContext(ctx).Exec(`DELETE FROM user_recovery_codes WHERE user_id = ?`, userID)
	return int(res.RowsAffected), translate(res.Error, "remove recovery codes")
}

func (t *txn) DeletePasskeys(ctx context.Context, userID uuid.UUID) (int, error) {
	res := t.db.WithContext(ctx).Exec(`DELETE FROM webauthn_credentials WHERE user_id = ?`, userID)
	return int(res.RowsAffected), translate(res.Error, "remove passkeys")
}

type factorResetRow struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	Hash       []byte
	IssuedBy   string
	IssuedByID *uuid.UUID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	VoidedAt   *time.Time
}

func (factorResetRow) TableName() string { return "factor_resets" }

// FactorResetByHash implements session.FactorStore.
func (s *Store) FactorResetByHash(ctx context.Context, hash []byte) (*session.FactorReset, error) {
	var rows []factorResetRow
	if err := s.db.WithContext(ctx).Where("hash = ?", hash).Limit(1).Find(&rows).Error; err != nil {
		return nil, translate(err, "load factor reset link")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "factor reset link not found")
	}
	r := rows[0]
	return &session.FactorReset{ID: r.ID, UserID: r.UserID, IssuedBy: r.IssuedBy, IssuedByID: r.IssuedByID,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), UsedAt: utcPtr(r.UsedAt), VoidedAt: utcPtr(r.VoidedAt)}, nil
}

func (t *txn) InsertFactorReset(ctx context.Context, l *session.FactorReset, hash []byte) error {
	row := factorResetRow{ID: l.ID, UserID: l.UserID, Hash: hash, IssuedBy: l.IssuedBy, IssuedByID: l.IssuedByID,
		CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt}
	return translate(t.db.WithContext(ctx).Omit("UsedAt", "VoidedAt").Create(&row).Error, "insert factor reset link")
}

func (t *txn) UseFactorReset(ctx context.Context, id uuid.UUID, now time.Time) (bool, error) {
	return t.useLink(ctx, "factor_resets", id, now)
}

func (t *txn) VoidFactorResets(ctx context.Context, userID uuid.UUID, now time.Time) (int, error) {
	return t.voidLinks(ctx, "factor_resets", userID, now)
}
