package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var _ identity.Store = (*Store)(nil)

// userRow is a users row joined with its organisation.
type userRow struct {
	ID           uuid.UUID
	OrgID        uuid.UUID
	Email        string
	Name         string
	Role         string
	PasswordHash *string
	DisabledAt   *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	OrgSlug      string `gorm:"->"`
	OrgKind      string `gorm:"->"`
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() identity.User {
	return identity.User{ID: r.ID, OrgID: r.OrgID, OrgSlug: r.OrgSlug, OrgKind: org.Kind(r.OrgKind), Email: r.Email,
		Name: r.Name, Role: access.Role(r.Role), DisabledAt: utcp(r.DisabledAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

const userSelect = `SELECT u.*, o.slug AS org_slug, o.kind AS org_kind FROM users u JOIN organizations o ON o.id = u.org_id`

type tokenRow struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	Name       string
	Prefix     string
	Hash       []byte
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

func (tokenRow) TableName() string { return "api_tokens" }

func (r tokenRow) domain() identity.Token {
	return identity.Token{ID: r.ID, UserID: r.UserID, Name: r.Name, Prefix: r.Prefix, ExpiresAt: utcp(r.ExpiresAt),
		LastUsedAt: utcp(r.LastUsedAt), RevokedAt: utcp(r.RevokedAt), CreatedAt: r.CreatedAt.UTC()}
}

// InIdentityTx implements identity.Store.
func (s *Store) InIdentityTx(ctx context.Context, fn func(ctx context.Context, tx identity.Tx) error) error {
	return inTx(ctx, s, fn)
}

// User implements identity.Store.
func (s *Store) User(ctx context.Context, id uuid.UUID) (*identity.User, error) {
	return s.oneUser(ctx, "u.id = ?", id)
}

// UserByEmail implements identity.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (*identity.User, error) {
	return s.oneUser(ctx, "lower(u.email) = lower(?)", strings.TrimSpace(email))
}

func (s *Store) oneUser(ctx context.Context, where string, arg any) (*identity.User, error) {
	var rows []userRow
	if err := s.db.WithContext(ctx).Raw(userSelect+" WHERE "+where, arg).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load user")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "user %v not found", arg)
	}
	u := rows[0].domain()
	return &u, nil
}

// Users implements identity.Store.
func (s *Store) Users(ctx context.Context, orgIDs []uuid.UUID) ([]identity.User, error) {
	var rows []userRow
	if err := s.db.WithContext(ctx).Raw(userSelect+" WHERE u.org_id IN ? ORDER BY lower(u.email)", orgIDs).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list users")
	}
	out := make([]identity.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// PasswordHash returns a user's password hash ("" when none is set).
func (s *Store) PasswordHash(ctx context.Context, userID uuid.UUID) (string, error) {
	var h *string
	err := s.db.WithContext(ctx).Raw("SELECT password_hash FROM users WHERE id = ?", userID).Scan(&h).Error
	if err != nil || h == nil {
		return "", translate(err, "load password")
	}
	return *h, nil
}

// TokenByHash implements identity.Store.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*identity.Token, *identity.User, error) {
	var rows []tokenRow
	if err := s.db.WithContext(ctx).Where("hash = ?", hash).Limit(1).Find(&rows).Error; err != nil {
		return nil, nil, translate(err, "load token")
	}
	if len(rows) == 0 {
		return nil, nil, apperr.New(apperr.NotFound, "token not found")
	}
	t := rows[0].domain()
	u, err := s.User(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	return &t, u, nil
}

// Tokens implements identity.Store.
func (s *Store) Tokens(ctx context.Context, userID uuid.UUID) ([]identity.Token, error) {
	var rows []tokenRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "list tokens")
	}
	out := make([]identity.Token, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// TouchToken implements identity.Store.
func (s *Store) TouchToken(ctx context.Context, id uuid.UUID, now time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?
		AND (last_used_at IS NULL OR last_used_at < ?)`, now, id, now.Add(-time.Minute)).Error
	return translate(err, "touch token")
}

// Scope implements identity.Store.
func (s *Store) Scope(ctx context.Context, orgID uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Raw(`SELECT descendant_id FROM org_closure WHERE ancestor_id = ?
		UNION SELECT id FROM organizations WHERE kind = 'partner'
		  AND EXISTS (SELECT 1 FROM organizations n WHERE n.id = ? AND n.kind = 'national_cert')`, orgID, orgID).Scan(&ids).Error
	return ids, translate(err, "load scope")
}

func (t *txn) InsertUser(ctx context.Context, u *identity.User, passwordHash string) error {
	var ph *string
	if passwordHash != "" {
		ph = &passwordHash
	}
	row := userRow{ID: u.ID, OrgID: u.OrgID, Email: u.Email, Name: u.Name, Role: string(u.Role), PasswordHash: ph}
	err := t.db.WithContext(ctx).Omit("OrgSlug", "OrgKind", "CreatedAt", "UpdatedAt", "DisabledAt").Create(&row).Error
	if isConstraint(err, "users_email_key") {
		return &apperr.Error{Code: apperr.Conflict, Message: "a user with this e-mail exists",
			Fields: []apperr.FieldError{{Field: "email", Rule: "unique", Message: "a user with this e-mail exists"}}, Err: err}
	}
	if isConstraint(err, "users_org_id_fkey") {
		return &apperr.Error{Code: apperr.Invalid, Message: "the organisation does not exist",
			Fields: []apperr.FieldError{{Field: "org", Rule: "exists", Message: "no such organisation"}}, Err: err}
	}
	return translate(err, "insert user")
}

func (t *txn) UpdateUser(ctx context.Context, u *identity.User, passwordHash *string) error {
	cols := map[string]any{"name": u.Name, "role": string(u.Role), "disabled_at": u.DisabledAt, "updated_at": gorm.Expr("now()")}
	if passwordHash != nil {
		cols["password_hash"] = *passwordHash
	}
	err := t.db.WithContext(ctx).Table("users").Where("id = ?", u.ID).Updates(cols).Error
	return translate(err, "update user")
}

func (t *txn) InsertToken(ctx context.Context, tok *identity.Token, hash []byte) error {
	row := tokenRow{ID: tok.ID, UserID: tok.UserID, Name: tok.Name, Prefix: tok.Prefix, Hash: hash, ExpiresAt: tok.ExpiresAt, CreatedAt: tok.CreatedAt}
	return translate(t.db.WithContext(ctx).Omit("LastUsedAt", "RevokedAt").Create(&row).Error, "insert token")
}

func (t *txn) RevokeToken(ctx context.Context, id uuid.UUID, now time.Time) error {
	err := t.db.WithContext(ctx).Exec("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", now, id).Error
	return translate(err, "revoke token")
}

func (t *txn) RevokeUserTokens(ctx context.Context, userID uuid.UUID, now time.Time) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL
		RETURNING id`, now, userID).Scan(&ids).Error
	return ids, translate(err, "revoke the user's tokens")
}

func (t *txn) SetPasswordHash(ctx context.Context, userID uuid.UUID, passwordHash string) error {
	err := t.db.WithContext(ctx).Exec("UPDATE users SET password_hash = ?, updated_at = now() WHERE id = ?", passwordHash, userID).Error
	return translate(err, "set password")
}

// resetRow is the password_resets table.
type resetRow struct {
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

func (resetRow) TableName() string { return "password_resets" }

func (r resetRow) domain() identity.ResetLink {
	return identity.ResetLink{ID: r.ID, UserID: r.UserID, IssuedBy: r.IssuedBy, IssuedByID: r.IssuedByID,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), UsedAt: utcp(r.UsedAt), VoidedAt: utcp(r.VoidedAt)}
}

// ResetLinkByHash implements identity.Store.
func (s *Store) ResetLinkByHash(ctx context.Context, hash []byte) (*identity.ResetLink, *identity.User, error) {
	var rows []resetRow
	if err := s.db.WithContext(ctx).Where("hash = ?", hash).Limit(1).Find(&rows).Error; err != nil {
		return nil, nil, translate(err, "load reset link")
	}
	if len(rows) == 0 {
		return nil, nil, apperr.New(apperr.NotFound, "reset link not found")
	}
	l := rows[0].domain()
	u, err := s.User(ctx, l.UserID)
	if err != nil {
		return nil, nil, err
	}
	return &l, u, nil
}

func (t *txn) InsertResetLink(ctx context.Context, l *identity.ResetLink, hash []byte) error {
	row := resetRow{ID: l.ID, UserID: l.UserID, Hash: hash, IssuedBy: l.IssuedBy, IssuedByID: l.IssuedByID,
		CreatedAt: l.CreatedAt, ExpiresAt: l.ExpiresAt}
	return translate(t.db.WithContext(ctx).Omit("UsedAt", "VoidedAt").Create(&row).Error, "insert reset link")
}

func (t *txn) UseResetLink(ctx context.Context, id uuid.UUID, now time.Time) (bool, error) {
	return t.useLink(ctx, "password_resets", id, now)
}

func (t *txn) VoidResetLinks(ctx context.Context, userID uuid.UUID, now time.Time) (int, error) {
	return t.voidLinks(ctx, "password_resets", userID, now)
}

// useLink marks a one-time link of table (password_resets,
// factor_resets: the same columns) used, unless it is used, voided or
// expired already; false then.
func (t *txn) useLink(ctx context.Context, table string, id uuid.UUID, now time.Time) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`UPDATE `+table+` SET used_at = ? WHERE id = ?
		AND used_at IS NULL AND voided_at IS NULL AND expires_at > ?`, now, id, now)
	return res.RowsAffected == 1, translate(res.Error, "use the link")
}

// voidLinks voids a user's unused links of table and returns how many.
func (t *txn) voidLinks(ctx context.Context, table string, userID uuid.UUID, now time.Time) (int, error) {
	res := t.db.WithContext(ctx).Exec(`UPDATE `+table+` SET voided_at = ? WHERE user_id = ?
		AND used_at IS NULL AND voided_at IS NULL`, now, userID)
	return int(res.RowsAffected), translate(res.Error, "void links")
}

func (t *txn) Audit(ctx context.Context, e audit.Entry) error { return insertAudit(ctx, t.db, e) }

// AppendAudit implements audit.Store: one entry, in a transaction of its
// own.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry) error {
	return insertAudit(ctx, s.db, e)
}

func insertAudit(ctx context.Context, db *gorm.DB, e audit.Entry) error {
	data := e.Data
	if len(data) == 0 {
		data = []byte("{}")
	}
	err := db.WithContext(ctx).Exec(`INSERT INTO audit_log (actor_user_id, actor, action, target_type, target_id, remote_addr, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, e.ActorUserID, e.Actor, string(e.Action), e.TargetType, e.TargetID, e.RemoteAddr, string(data)).Error
	return translate(err, "write audit log")
}

// auditRow is the audit_log table.
type auditRow struct {
	ID          int64
	At          time.Time
	ActorUserID *uuid.UUID
	Actor       string
	Action      string
	TargetType  string
	TargetID    string
	RemoteAddr  string
	Data        []byte
}

func (auditRow) TableName() string { return "audit_log" }

// AuditLog implements audit.Store: a page of the entries matching q,
// newest first, after the cursor q.After ("" for the first page), and the
// next page's cursor.
func (s *Store) AuditLog(ctx context.Context, q audit.Query) ([]audit.Entry, string, error) {
	db := s.db.WithContext(ctx)
	if q.After != "" {
		var c timelineCursor
		if err := decodeCursor(q.After, &c); err != nil {
			return nil, "", err
		}
		db = db.Where("(at, id) < (?, ?)", c.At, c.ID)
	}
	if q.Actor != "" {
		db = db.Where("lower(actor) = lower(?)", q.Actor)
	}
	if q.Action != "" {
		db = db.Where("action = ?", string(q.Action))
	}
	if q.TargetType != "" {
		db = db.Where("target_type = ?", q.TargetType)
	}
	if q.TargetID != "" {
		db = db.Where("target_id = ?", q.TargetID)
	}
	if q.Since != nil {
		db = db.Where("at >= ?", *q.Since)
	}
	if q.Until != nil {
		db = db.Where("at < ?", *q.Until)
	}
	var rows []auditRow
	if err := db.Order("at DESC, id DESC").Limit(q.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", translate(err, "read audit log")
	}
	rows, next := trimPage(rows, q.Limit, func(last auditRow) any { return timelineCursor{At: last.At, ID: last.ID} })
	out := make([]audit.Entry, len(rows))
	for i, r := range rows {
		out[i] = audit.Entry{ID: r.ID, At: r.At.UTC(), ActorUserID: r.ActorUserID, Actor: r.Actor, Action: audit.Action(r.Action),
			TargetType: r.TargetType, TargetID: r.TargetID, RemoteAddr: r.RemoteAddr, Data: r.Data}
	}
	return out, next, nil
}
