package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/passkey"
	"github.com/google/uuid"
)

var (
	_ passkey.Store = (*Store)(nil)
	_ passkey.Tx    = (*txn)(nil)
)

// InPasskeyTx implements passkey.Store.
func (s *Store) InPasskeyTx(ctx context.Context, fn func(ctx context.Context, tx passkey.Tx) error) error {
	return inTx(ctx, s, fn)
}

// passkeyRow is the webauthn_credentials table.
type passkeyRow struct {
	ID         []byte
	UserID     uuid.UUID
	Name       string
	Credential string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func (r passkeyRow) domain() passkey.Passkey {
	return passkey.Passkey{ID: r.ID, UserID: r.UserID, Name: r.Name, CreatedAt: r.CreatedAt.UTC(), LastUsedAt: utcPtr(r.LastUsedAt),
		Credential: json.RawMessage(r.Credential)}
}

const passkeySelect = `SELECT id, user_id, name, credential::text AS credential, created_at, last_used_at FROM webauthn_credentials
	WHERE user_id = ? ORDER BY created_at, id`

func passkeys(rows []passkeyRow) []passkey.Passkey {
	out := make([]passkey.Passkey, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out
}

// Passkeys implements passkey.Store.
func (s *Store) Passkeys(ctx context.Context, userID uuid.UUID) ([]passkey.Passkey, error) {
	var rows []passkeyRow
	if err := s.db.WithContext(ctx).Raw(passkeySelect, userID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load passkeys")
	}
	return passkeys(rows), nil
}

// PasskeyAlone implements passkey.Store: the policy of the person's
// organisation, true without a row.
func (s *Store) PasskeyAlone(ctx context.Context, userID uuid.UUID) (bool, error) {
	var alone []bool
	err := s.db.WithContext(ctx).Raw(`SELECT coalesce(p.passkey_alone, true) FROM users u
		LEFT JOIN org_sign_in_policies p ON p.org_id = u.org_id WHERE u.id = ?`, userID).Scan(&alone).Error
	if err != nil {
		return false, translate(err, "load sign-in policy")
	}
	if len(alone) == 0 {
		return false, apperr.New(apperr.NotFound, "user not found")
	}
	return alone[0], nil
}

// PutCeremony implements passkey.Tx.
func (t *txn) PutCeremony(ctx context.Context, c passkey.Ceremony, now time.Time) error {
	if err := t.db.WithContext(ctx).Exec(`DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, now).Error; err != nil {
		return translate(err, "remove expired passkey ceremonies")
	}
	// No byte slice directly after "(": GORM would expand it as a list.
	err := t.db.WithContext(ctx).Exec(`INSERT INTO webauthn_ceremonies (kind, binding, user_id, data, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (binding, kind) DO UPDATE SET user_id = EXCLUDED.user_id, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
		string(c.Kind), c.Binding, c.UserID, string(c.Data), c.ExpiresAt).Error
	return translate(err, "store passkey ceremony")
}

// ceremonyRow is the webauthn_ceremonies table.
type ceremonyRow struct {
	UserID    *uuid.UUID
	Data      string
	ExpiresAt time.Time
}

// TakeCeremony implements passkey.Tx.
func (t *txn) TakeCeremony(ctx context.Context, binding []byte, kind passkey.Kind, now time.Time) (*passkey.Ceremony, error) {
	var rows []ceremonyRow
	err := t.db.WithContext(ctx).Raw(`DELETE FROM webauthn_ceremonies WHERE binding = ? AND kind = ?
		RETURNING user_id, data::text AS data, expires_at`, binding, string(kind)).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "take passkey ceremony")
	}
	if len(rows) == 0 || !now.Before(rows[0].ExpiresAt) {
		return nil, apperr.New(apperr.NotFound, "no passkey ceremony")
	}
	r := rows[0]
	return &passkey.Ceremony{Binding: binding, Kind: kind, UserID: r.UserID, Data: json.RawMessage(r.Data), ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// LockPasskeys implements passkey.Tx.
func (t *txn) LockPasskeys(ctx context.Context, userID uuid.UUID) ([]passkey.Passkey, error) {
	var rows []passkeyRow
	if err := t.db.WithContext(ctx).Raw(passkeySelect+" FOR UPDATE", userID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "lock passkeys")
	}
	return passkeys(rows), nil
}

// InsertPasskey implements passkey.Tx. A credential ID registered before
// (by anyone) is a conflict.
func (t *txn) InsertPasskey(ctx context.Context, p *passkey.Passkey) error {
	// No byte slice directly after "(": GORM would expand it as a list.
	err := t.db.WithContext(ctx).Exec(`INSERT INTO webauthn_credentials (user_id, id, name, credential, created_at) VALUES (?, ?, ?, ?, ?)`,
		p.UserID, p.ID, p.Name, string(p.Credential), p.CreatedAt).Error
	return translate(err, "add passkey")
}

// RenamePasskey implements passkey.Tx.
func (t *txn) RenamePasskey(ctx context.Context, id []byte, userID uuid.UUID, name string) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`UPDATE webauthn_credentials SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	if res.Error != nil {
		return false, translate(res.Error, "rename passkey")
	}
	return res.RowsAffected == 1, nil
}

// DeletePasskey implements passkey.Tx.
func (t *txn) DeletePasskey(ctx context.Context, id []byte, userID uuid.UUID) (string, bool, error) {
	var names []string
	err := t.db.WithContext(ctx).Raw(`DELETE FROM webauthn_credentials WHERE id = ? AND user_id = ? RETURNING name`, id, userID).Scan(&names).Error
	if err != nil {
		return "", false, translate(err, "remove passkey")
	}
	if len(names) == 0 {
		return "", false, nil
	}
	return names[0], true, nil
}

// UsePasskey implements passkey.Tx.
func (t *txn) UsePasskey(ctx context.Context, id []byte, credential json.RawMessage, at time.Time) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE webauthn_credentials SET credential = ?, last_used_at = ? WHERE id = ?`,
		string(credential), at, id).Error
	return translate(err, "record passkey use")
}
