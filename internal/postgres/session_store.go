package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/google/uuid"
)

var (
	_ session.Store  = (*Store)(nil)
	_ session.Tx     = (*txn)(nil)
	_ settings.Store = (*Store)(nil)
	// Identity changes (disabling a user, a password change or reset)
	// end the user's web sessions in their own transaction through this.
	_ identity.SessionEnder = (*txn)(nil)
)

// InSessionTx implements session.Store.
func (s *Store) InSessionTx(ctx context.Context, fn func(ctx context.Context, tx session.Tx) error) error {
	return inTx(ctx, s, fn)
}

func (s *Store) oneAccount(ctx context.Context, where string, arg any) (*session.Account, error) {
	var rows []userRow
	if err := s.db.WithContext(ctx).Raw(userSelect+" WHERE "+where, arg).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load account")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "account not found")
	}
	a := &session.Account{User: rows[0].domain()}
	if rows[0].PasswordHash != nil {
		a.PasswordHash = *rows[0].PasswordHash
	}
	return a, nil
}

// SignInAccount implements session.Store.
func (s *Store) SignInAccount(ctx context.Context, email string) (*session.Account, error) {
	return s.oneAccount(ctx, "lower(u.email) = lower(?)", strings.TrimSpace(email))
}

// AccountByID implements session.Store.
func (s *Store) AccountByID(ctx context.Context, userID uuid.UUID) (*session.Account, error) {
	return s.oneAccount(ctx, "u.id = ?", userID)
}

// sessionRow is the web_sessions table.
type sessionRow struct {
	ID             uuid.UUID
	SecretHash     []byte
	UserID         uuid.UUID
	CreatedAt      time.Time
	LastSeenAt     time.Time
	ExpiresAt      time.Time
	RemoteAddr     string
	UserAgent      string
	Method         string
	SecondFactor   string
	SecondFactorAt *time.Time
	Pending        string
}

func (sessionRow) TableName() string { return "web_sessions" }

func (r sessionRow) domain() session.Session {
	return session.Session{ID: r.ID, UserID: r.UserID, CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(),
		ExpiresAt: r.ExpiresAt.UTC(), RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent, Method: session.Method(r.Method),
		SecondFactor: session.Factor(r.SecondFactor), SecondFactorAt: utcPtr(r.SecondFactorAt), Pending: session.Pending(r.Pending)}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// currentRow is a session with its person, organisation and settings.
type currentRow struct {
	ID             uuid.UUID
	UserID         uuid.UUID
	CreatedAt      time.Time
	LastSeenAt     time.Time
	ExpiresAt      time.Time
	RemoteAddr     string
	UserAgent      string
	Method         string
	SecondFactor   string
	SecondFactorAt *time.Time
	Pending        string
	Email          string
	Name           string
	Role           string
	DisabledAt     *time.Time
	OrgID          uuid.UUID
	OrgSlug        string
	OrgKind        string
	OrgName        string
	OrgTZ          string `gorm:"column:org_tz"`
	SetLanguage    *string
	SetTimeZone    *string
	SetTheme       *string
	SetKeys        *string
	SetEmail       *bool
}

// SessionBySecret implements session.Store: one query for everything a
// page needs to know about who is asking.
func (s *Store) SessionBySecret(ctx context.Context, secretHash []byte) (*session.Current, error) {
	var rows []currentRow
	err := s.db.WithContext(ctx).Raw(`SELECT s.id, s.user_id, s.created_at, s.last_seen_at, s.expires_at, s.remote_addr,
			s.user_agent, s.method, s.second_factor, s.second_factor_at, s.pending, u.email, u.name, u.role, u.disabled_at, u.org_id,
			o.slug AS org_slug, o.kind AS org_kind, o.name AS org_name, o.time_zone AS org_tz,
			st.language AS set_language, st.time_zone AS set_time_zone, st.theme AS set_theme,
			st.shortcuts AS set_keys, st.email_notifications AS set_email
		FROM web_sessions s
		JOIN users u ON u.id = s.user_id
		JOIN organizations o ON o.id = u.org_id
		LEFT JOIN user_settings st ON st.user_id = u.id
		WHERE s.secret_hash = ?`, secretHash).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load session")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "session not found")
	}
	r := rows[0]
	se := sessionRow{ID: r.ID, UserID: r.UserID, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt,
		RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent, Method: r.Method, SecondFactor: r.SecondFactor,
		SecondFactorAt: r.SecondFactorAt, Pending: r.Pending}
	cur := &session.Current{Session: se.domain(), UserName: r.Name, OrgName: r.OrgName, OrgTimeZone: r.OrgTZ,
		Settings: settings.Settings{Theme: settings.System}}
	if r.DisabledAt == nil { // a disabled user's session is no one's: Authenticate ends it
		cur.Principal = access.Principal{UserID: r.UserID, Email: r.Email, Role: access.Role(r.Role), OrgID: r.OrgID,
			OrgSlug: r.OrgSlug, OrgKind: org.Kind(r.OrgKind)}
	}
	if r.SetLanguage != nil {
		cur.Settings.Language = *r.SetLanguage
	}
	if r.SetTimeZone != nil {
		cur.Settings.TimeZone = *r.SetTimeZone
	}
	if r.SetTheme != nil {
		cur.Settings.Theme = settings.Theme(*r.SetTheme)
	}
	if r.SetKeys != nil {
		cur.Settings.Shortcuts = settings.Shortcuts(*r.SetKeys)
	}
	if r.SetEmail != nil {
		cur.Settings.Email = *r.SetEmail
	}
	return cur, nil
}

// Sessions implements session.Store.
func (s *Store) Sessions(ctx context.Context, userID uuid.UUID) ([]session.Session, error) {
	var rows []sessionRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at DESC, id").Find(&rows).Error; err != nil {
		return nil, translate(err, "list sessions")
	}
	out := make([]session.Session, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// TouchSession implements session.Store.
func (s *Store) TouchSession(ctx context.Context, id uuid.UUID, at time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE web_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, at, id, at).Error
	return translate(err, "touch session")
}

func (t *txn) InsertSession(ctx context.Context, se *session.Session, secretHash []byte) error {
	row := sessionRow{ID: se.ID, SecretHash: secretHash, UserID: se.UserID, CreatedAt: se.CreatedAt, LastSeenAt: se.LastSeenAt,
		ExpiresAt: se.ExpiresAt, RemoteAddr: se.RemoteAddr, UserAgent: se.UserAgent, Method: string(se.Method),
		SecondFactor: string(se.SecondFactor), SecondFactorAt: se.SecondFactorAt, Pending: string(se.Pending)}
	if row.Method == "" {
		row.Method = string(session.MethodPassword)
	}
	return translate(t.db.WithContext(ctx).Create(&row).Error, "insert session")
}

func (t *txn) DeleteSession(ctx context.Context, id, userID uuid.UUID) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`DELETE FROM web_sessions WHERE id = ? AND user_id = ?`, id, userID)
	if res.Error != nil {
		return false, translate(res.Error, "end session")
	}
	return res.RowsAffected > 0, nil
}

// EndUserSessions implements session.Tx: it ends every session of a user
// (but except) inside whatever transaction t is, so that disabling a user
// or resetting a password ends the sessions in the same commit.
func (t *txn) EndUserSessions(ctx context.Context, userID uuid.UUID, except *uuid.UUID) (int, error) {
	q := t.db.WithContext(ctx).Where("user_id = ?", userID)
	if except != nil {
		q = q.Where("id <> ?", *except)
	}
	res := q.Delete(&sessionRow{})
	if res.Error != nil {
		return 0, translate(res.Error, "end sessions")
	}
	return int(res.RowsAffected), nil
}

func (t *txn) SetSessionFactor(ctx context.Context, id uuid.UUID, f session.Factor, at time.Time, pending session.Pending) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`UPDATE web_sessions SET second_factor = ?, second_factor_at = ?, pending = ? WHERE id = ?`,
		string(f), at, string(pending), id)
	if res.Error != nil {
		return false, translate(res.Error, "record second factor")
	}
	return res.RowsAffected > 0, nil
}

func (t *txn) DeleteExpiredSessions(ctx context.Context, before time.Time) error {
	err := t.db.WithContext(ctx).Exec(`DELETE FROM web_sessions WHERE expires_at < ?`, before).Error
	return translate(err, "remove expired sessions")
}

// Settings implements settings.Store.
func (s *Store) Settings(ctx context.Context, userID uuid.UUID) (settings.Settings, error) {
	var rows []struct {
		Language string
		TimeZone string
		Theme    string
		Keys     string
		Email    bool
	}
	err := s.db.WithContext(ctx).Raw(`SELECT language, time_zone, theme, shortcuts AS keys, email_notifications AS email
		FROM user_settings WHERE user_id = ?`,
		userID).Scan(&rows).Error
	if err != nil {
		return settings.Settings{}, translate(err, "load settings")
	}
	if len(rows) == 0 {
		return settings.Settings{Theme: settings.System}, nil
	}
	return settings.Settings{Language: rows[0].Language, TimeZone: rows[0].TimeZone, Theme: settings.Theme(rows[0].Theme),
		Shortcuts: settings.Shortcuts(rows[0].Keys), Email: rows[0].Email}, nil
}

// SaveSettings implements settings.Store.
func (s *Store) SaveSettings(ctx context.Context, userID uuid.UUID, st settings.Settings) error {
	err := s.db.WithContext(ctx).Exec(`INSERT INTO user_settings (user_id, language, time_zone, theme, shortcuts,
			email_notifications, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, now())
		ON CONFLICT (user_id) DO UPDATE SET language = EXCLUDED.language, time_zone = EXCLUDED.time_zone,
			theme = EXCLUDED.theme, shortcuts = EXCLUDED.shortcuts, email_notifications = EXCLUDED.email_notifications,
			updated_at = now()`,
		userID, st.Language, st.TimeZone, string(st.Theme), string(st.Shortcuts), st.Email).Error
	return translate(err, "save settings")
}
