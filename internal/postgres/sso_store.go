package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/google/uuid"
)

var (
	_ sso.Store = (*Store)(nil)
	_ sso.Tx    = (*txn)(nil)
)

// InSSOTx implements sso.Store.
func (s *Store) InSSOTx(ctx context.Context, fn func(ctx context.Context, tx sso.Tx) error) error {
	return inTx(ctx, s, fn)
}

type ssoProviderRow struct {
	OrgID        uuid.UUID
	Issuer       string
	ClientID     string
	SecretSealed []byte
	EmailClaim   string
	CreateUsers  bool
	DefaultRole  string
	UpdatedAt    time.Time
	Domains      string // separated by commas (domains hold none)
}

const ssoProviderSelect = `SELECT p.org_id, p.issuer, p.client_id, p.secret_sealed, p.email_claim, p.create_users, p.default_role, p.updated_at,
	coalesce((SELECT string_agg(d.domain, ',' ORDER BY d.domain) FROM sso_domains d WHERE d.org_id = p.org_id), '') AS domains
	FROM sso_providers p`

func (s *Store) oneProvider(ctx context.Context, where string, arg any) (*sso.Provider, error) {
	var rows []ssoProviderRow
	if err := s.db.WithContext(ctx).Raw(ssoProviderSelect+" WHERE "+where, arg).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load identity provider")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "no identity provider")
	}
	r := rows[0]
	return &sso.Provider{OrgID: r.OrgID, Issuer: r.Issuer, ClientID: r.ClientID, SecretSealed: r.SecretSealed, EmailClaim: r.EmailClaim,
		Domains: sso.ParseDomains(r.Domains), CreateUsers: r.CreateUsers, DefaultRole: access.Role(r.DefaultRole), UpdatedAt: r.UpdatedAt}, nil
}

// ProviderOf implements sso.Store.
func (s *Store) ProviderOf(ctx context.Context, orgID uuid.UUID) (*sso.Provider, error) {
	return s.oneProvider(ctx, "p.org_id = ?", orgID)
}

// ProviderForDomain implements sso.Store.
func (s *Store) ProviderForDomain(ctx context.Context, domain string) (*sso.Provider, error) {
	return s.oneProvider(ctx, "p.org_id = (SELECT org_id FROM sso_domains WHERE domain = lower(?))", domain)
}

// DomainsTaken implements sso.Store: the domains claimed by another
// organisation's provider or found in the e-mail of another
// organisation's user.
func (s *Store) DomainsTaken(ctx context.Context, orgID uuid.UUID, domains []string) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Raw(`SELECT x.d FROM unnest(CAST(? AS text[])) AS x(d)
		WHERE EXISTS (SELECT 1 FROM sso_domains sd WHERE sd.domain = x.d AND sd.org_id <> ?)
		   OR EXISTS (SELECT 1 FROM users u WHERE lower(split_part(u.email, '@', 2)) = x.d AND u.org_id <> ?)
		ORDER BY x.d`, textArray(domains), orgID, orgID).Scan(&out).Error
	return out, translate(err, "check domains")
}

// SaveProvider implements sso.Tx.
func (t *txn) SaveProvider(ctx context.Context, p *sso.Provider, by uuid.UUID) error {
	var byArg any
	if by != uuid.Nil {
		byArg = by
	}
	db := t.db.WithContext(ctx)
	err := db.Exec(`INSERT INTO sso_providers (org_id, issuer, client_id, secret_sealed, email_claim, create_users, default_role, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, secret_sealed = excluded.secret_sealed,
			email_claim = excluded.email_claim, create_users = excluded.create_users, default_role = excluded.default_role,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		p.OrgID, p.Issuer, p.ClientID, p.SecretSealed, p.EmailClaim, p.CreateUsers, string(p.DefaultRole), p.UpdatedAt, byArg).Error
	if err != nil {
		return translate(err, "save identity provider")
	}
	if err := db.Exec(`DELETE FROM sso_domains WHERE org_id = ?`, p.OrgID).Error; err != nil {
		return translate(err, "save identity provider domains")
	}
	err = db.Exec(`INSERT INTO sso_domains (domain, org_id) SELECT d, ? FROM unnest(CAST(? AS text[])) AS x(d)`, p.OrgID, textArray(p.Domains)).Error
	return translate(err, "save identity provider domains")
}

// DeleteProvider implements sso.Tx.
func (t *txn) DeleteProvider(ctx context.Context, orgID uuid.UUID) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`DELETE FROM sso_providers WHERE org_id = ?`, orgID)
	return res.RowsAffected > 0, translate(res.Error, "remove identity provider")
}

// InsertState implements sso.Tx.
func (t *txn) InsertState(ctx context.Context, stateHash []byte, st *sso.State, now time.Time) error {
	db := t.db.WithContext(ctx)
	if err := db.Exec(`DELETE FROM sso_states WHERE expires_at < ?`, now).Error; err != nil {
		return translate(err, "remove expired sign-in states")
	}
	var org any
	if st.OrgID != uuid.Nil {
		org = st.OrgID
	}
	// "( ?": GORM would spread a []byte that follows a parenthesis.
	err := db.Exec(`INSERT INTO sso_states (state_hash, browser_hash, org_id, email, nonce, verifier, return_to, expires_at)
		VALUES ( ?, ?, ?, ?, ?, ?, ?, ?)`, stateHash, st.BrowserHash, org, st.Email, st.Nonce, st.Verifier, st.ReturnTo, st.ExpiresAt).Error
	return translate(err, "record sign-in state")
}

type ssoStateRow struct {
	BrowserHash []byte
	OrgID       *uuid.UUID
	Email       string
	Nonce       string
	Verifier    string
	ReturnTo    string
	ExpiresAt   time.Time
}

// TakeState implements sso.Tx.
func (t *txn) TakeState(ctx context.Context, stateHash []byte, now time.Time) (*sso.State, error) {
	var rows []ssoStateRow
	err := t.db.WithContext(ctx).Raw(`DELETE FROM sso_states WHERE state_hash = ?
		RETURNING browser_hash, org_id, email, nonce, verifier, return_to, expires_at`, stateHash).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "take sign-in state")
	}
	if len(rows) == 0 || !rows[0].ExpiresAt.After(now) {
		return nil, apperr.New(apperr.NotFound, "no sign-in under way with this state")
	}
	r := rows[0]
	st := &sso.State{BrowserHash: r.BrowserHash, Email: r.Email, Nonce: r.Nonce, Verifier: r.Verifier, ReturnTo: r.ReturnTo, ExpiresAt: r.ExpiresAt}
	if r.OrgID != nil {
		st.OrgID = *r.OrgID
	}
	return st, nil
}
