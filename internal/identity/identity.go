// Package identity holds users, their passwords and their API tokens, and
// authenticates requests. Roles and what they allow live in access.
package identity

import (
	"context"
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/google/uuid"
)

// User is a person (or a machine client's owner) in one organisation.
type User struct {
	ID         uuid.UUID
	OrgID      uuid.UUID
	OrgSlug    string
	OrgKind    org.Kind
	Email      string
	Name       string
	Role       access.Role
	DisabledAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Principal returns who the user acts as.
func (u *User) Principal() access.Principal {
	return access.Principal{UserID: u.ID, Email: u.Email, Role: u.Role, OrgID: u.OrgID, OrgSlug: u.OrgSlug, OrgKind: u.OrgKind}
}

// Token is an API token's metadata; the token itself is never stored.
type Token struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	Name       string
	Prefix     string
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// NewUser is the input of CreateUser.
type NewUser struct {
	OrgID    uuid.UUID
	Email    string
	Name     string
	Role     access.Role
	Password string // optional: users without one sign in with tokens only
}

// UserPatch changes a user; nil fields stay as they are.
type UserPatch struct {
	Name     *string
	Role     *access.Role
	Disabled *bool
	Password *string
	// KeepSession, on a user's own password change made through the web
	// UI, is the session it was made from: every other session of the
	// user ends, that one stays.
	KeepSession *uuid.UUID
}

// Store is the persistence identity needs. It counts failed
// authentications too (throttle.Store).
type Store interface {
	throttle.Store
	InIdentityTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// User returns a user with their organisation. Not found: apperr.NotFound.
	User(ctx context.Context, id uuid.UUID) (*User, error)
	// UserByEmail finds a user by e-mail, ignoring case.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Users lists the users of the organisations in scope, by e-mail.
	Users(ctx context.Context, orgIDs []uuid.UUID) ([]User, error)
	// TokenByHash returns a token and its user for authentication, whatever
	// their state. Not found: apperr.NotFound.
	TokenByHash(ctx context.Context, hash []byte) (*Token, *User, error)
	// Tokens lists a user's tokens, newest first.
	Tokens(ctx context.Context, userID uuid.UUID) ([]Token, error)
	// TouchToken records a use of the token, at most once a minute.
	TouchToken(ctx context.Context, id uuid.UUID, now time.Time) error
	// ResetLinkByHash returns a password reset link and its user, whatever
	// their state. Not found: apperr.NotFound.
	ResetLinkByHash(ctx context.Context, hash []byte) (*ResetLink, *User, error)
	// Scope returns the organisations an administrator of orgID manages:
	// the organisation and its constituency, plus every partner for the
	// national CERT.
	Scope(ctx context.Context, orgID uuid.UUID) ([]uuid.UUID, error)
	// Org returns one organisation by slug. Not found: apperr.NotFound.
	Org(ctx context.Context, slug string) (*org.Organization, error)
}

// Tx is what identity changes may do inside a transaction.
type Tx interface {
	InsertUser(ctx context.Context, u *User, passwordHash string) error
	UpdateUser(ctx context.Context, u *User, passwordHash *string) error
	// SetPasswordHash sets a user's password hash and nothing else.
	SetPasswordHash(ctx context.Context, userID uuid.UUID, passwordHash string) error
	InsertToken(ctx context.Context, t *Token, hash []byte) error
	RevokeToken(ctx context.Context, id uuid.UUID, now time.Time) error
	// RevokeUserTokens revokes every token of the user not revoked yet
	// and returns their IDs.
	RevokeUserTokens(ctx context.Context, userID uuid.UUID, now time.Time) ([]uuid.UUID, error)
	InsertResetLink(ctx context.Context, l *ResetLink, hash []byte) error
	// UseResetLink marks the link used at now if it is still unused, not
	// void and not expired, and reports whether it did: of two uses at
	// once, one gets true.
	UseResetLink(ctx context.Context, id uuid.UUID, now time.Time) (bool, error)
	// VoidResetLinks voids the user's unused links and returns how many.
	VoidResetLinks(ctx context.Context, userID uuid.UUID, now time.Time) (int, error)
	Audit(ctx context.Context, e audit.Entry) error
}

// SessionEnder is the hook that ends a user's web sessions. The web
// interface's session store implements it on its transaction (the same
// *txn that implements Tx): whenever the Tx of an identity change
// implements SessionEnder, disabling a user, a user changing their own
// password and a password reset end every web session of that user in
// the transaction of the change. Until a store implements it there are no
// sessions to end.
type SessionEnder interface {
	// EndUserSessions ends every session of the user but except (nil:
	// all) and returns how many it ended.
	EndUserSessions(ctx context.Context, userID uuid.UUID, except *uuid.UUID) (int, error)
}

// endSessions ends the user's web sessions when tx can (SessionEnder).
func endSessions(ctx context.Context, tx Tx, userID uuid.UUID, except *uuid.UUID) (int, error) {
	se, ok := tx.(SessionEnder)
	if !ok {
		return 0, nil
	}
	return se.EndUserSessions(ctx, userID, except)
}

// Service holds the identity use cases.
type Service struct {
	store   Store
	now     func() time.Time
	limiter *throttle.Limiter
	// baseURL and resetLifetime make password reset links (SetResetLinks).
	baseURL       string
	resetLifetime time.Duration
}

// NewService returns a Service; now nil means time.Now. Failed
// authentications are counted in store (AddressRule, TokenPrefixRule);
// reset links are relative and live DefaultResetLinkLifetime until
// SetResetLinks says otherwise.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, limiter: throttle.New(store, now), resetLifetime: DefaultResetLinkLifetime}
}

// ErrUnauthenticated is the one answer to every failed authentication, so
// that a caller cannot tell a wrong token from an expired, revoked or
// disabled one.
var ErrUnauthenticated = apperr.New(apperr.Unauthorized, "a valid API token is required (Authorization: Bearer <token>)")

// Authenticate returns the principal of a bearer token. Every failure is
// ErrUnauthenticated, or an apperr.RateLimited error once the client's
// address (AddressRule) or the token's prefix (TokenPrefixRule) has had
// too many failures in the current minute. A valid token is never
// refused: 256 random bits cannot be guessed, and refusing it would let
// anyone sharing its owner's address lock the owner out. Failures are
// counted with their reason and reach the audit log as one auth.failed
// entry per address and minute (AuditSummaries).
func (s *Service) Authenticate(ctx context.Context, token, remoteAddr string) (access.Principal, error) {
	now := s.now()
	var reason string
	tok, user, err := s.store.TokenByHash(ctx, HashToken(token))
	switch {
	case apperr.Is(err, apperr.NotFound):
		reason = "unknown token"
	case err != nil:
		return access.Principal{}, err
	case tok.RevokedAt != nil:
		reason = "revoked token"
	case tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt):
		reason = "expired token"
	case user.DisabledAt != nil:
		reason = "disabled user"
	}
	if reason != "" {
		if tok != nil {
			reason += " " + tok.ID.String()
		}
		return access.Principal{}, s.refuse(ctx, remoteAddr, token, reason)
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		if err := s.store.TouchToken(ctx, tok.ID, now); err != nil {
			return access.Principal{}, err
		}
	}
	p := user.Principal()
	p.RemoteAddr = remoteAddr
	return p, nil
}

// Validate checks a new user and names every field that breaks a rule.
func (n *NewUser) Validate() error {
	var fs apperr.Fields
	n.Email = strings.TrimSpace(n.Email)
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
		fs.Add("email", "email", "email must be a plain e-mail address such as ana@city.example")
	}
	if utf8.RuneCountInString(n.Name) > 200 {
		fs.Add("name", "max_length", "name must be at most 200 characters")
	}
	if !n.Role.Valid() {
		fs.Add("role", "enum", "role must be one of: reporter, responder, coordinator, viewer, admin")
	}
	if n.Password != "" {
		if err := CheckPassword(n.Password, n.Email); err != nil {
			e, _ := apperr.As(err)
			fs = append(fs, e.Fields...)
		}
	}
	if n.OrgID == uuid.Nil {
		fs.Add("org", "required", "organisation is required")
	}
	return fs.Err()
}

// inScope checks that the actor administers target's organisation.
func (s *Service) inScope(ctx context.Context, actor access.Principal, orgID uuid.UUID) error {
	if err := actor.Require(access.ManageUsers); err != nil {
		return err
	}
	if actor.System {
		return nil
	}
	scope, err := s.store.Scope(ctx, actor.OrgID)
	if err != nil {
		return err
	}
	for _, id := range scope {
		if id == orgID {
			return nil
		}
	}
	return apperr.New(apperr.Forbidden, "you may manage users of your organisation and its constituency only")
}

// ErrNotYourPassword refuses a password chosen for another user: only the
// user sets their password. An administrator who chose one could sign in
// as that user (security review, finding 6); they issue a reset link
// instead, and the operator may set a first password at the CLI.
var ErrNotYourPassword = apperr.New(apperr.Forbidden,
	"only the user sets their own password: issue a one-time reset link instead (POST /api/v1/users/{id}/reset-link)")

// CreateUser creates a user in an organisation the actor administers.
// Only the operator (access.System) may give the new user a password;
// an administrator creates the user without one and issues a reset link
// (ErrNotYourPassword).
func (s *Service) CreateUser(ctx context.Context, actor access.Principal, in NewUser) (*User, error) {
	if in.Password != "" && !actor.System {
		return nil, ErrNotYourPassword
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.inScope(ctx, actor, in.OrgID); err != nil {
		return nil, err
	}
	hash := ""
	if in.Password != "" {
		var err error
		if hash, err = HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	u := &User{ID: uuid.New(), OrgID: in.OrgID, Email: in.Email, Name: strings.TrimSpace(in.Name), Role: in.Role}
	err := s.store.InIdentityTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertUser(ctx, u, hash); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(actor, audit.UserCreated, "user", u.ID.String(), map[string]any{"email": u.Email, "role": u.Role, "org_id": u.OrgID}))
	})
	if err != nil {
		return nil, err
	}
	return s.store.User(ctx, u.ID)
}

// CreateUserIn is user creation as the API and the web interface offer
// it: a user in the organisation orgSlug ("": the actor's own), which the
// actor administers. An actor who may not manage users is refused first
// (apperr.Forbidden); an organisation that does not exist, or that the
// actor does not see in the directory (org.Actor.Sees), is a field error
// on org (rule exists); then as CreateUser.
func (s *Service) CreateUserIn(ctx context.Context, actor access.Principal, orgSlug string, in NewUser) (*User, error) {
	if err := actor.Require(access.ManageUsers); err != nil {
		return nil, err
	}
	if orgSlug == "" {
		orgSlug = actor.OrgSlug
	}
	o, err := s.store.Org(ctx, orgSlug)
	if err == nil && !actor.OrgActor().Sees(o) {
		err = apperr.New(apperr.NotFound, "organisation %q not found", orgSlug)
	}
	if apperr.Is(err, apperr.NotFound) {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "the request body is invalid",
			Fields: []apperr.FieldError{{Field: "org", Rule: "exists", Message: "no organisation has this slug"}}}
	} else if err != nil {
		return nil, err
	}
	in.OrgID = o.ID
	return s.CreateUser(ctx, actor, in)
}

// UpdateUser changes a user the actor administers. Users may change their
// own name and password; role changes and disabling need an administrator,
// and administrators may not disable themselves or lower their own role.
// Nobody sets another user's password (ErrNotYourPassword), not even the
// operator. Disabling a user revokes every token of theirs, voids their
// reset links and ends their web sessions (SessionEnder), in the
// transaction that disables them, so that enabling them again revives
// nothing; a password change ends their web sessions too.
func (s *Service) UpdateUser(ctx context.Context, actor access.Principal, id uuid.UUID, p UserPatch) (*User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return nil, err
	}
	self := !actor.System && actor.UserID == id
	if !self || p.Role != nil || p.Disabled != nil {
		if err := s.inScope(ctx, actor, u.OrgID); err != nil {
			if self {
				return nil, err
			}
			return nil, apperr.New(apperr.NotFound, "user %s not found", id)
		}
	}
	if self && ((p.Disabled != nil && *p.Disabled) || (p.Role != nil && *p.Role != u.Role)) {
		return nil, apperr.New(apperr.Conflict, "you may not disable yourself or change your own role")
	}
	if p.Password != nil && !self {
		return nil, ErrNotYourPassword
	}
	var fs apperr.Fields
	changes := map[string]any{}
	if p.Name != nil {
		if utf8.RuneCountInString(*p.Name) > 200 {
			fs.Add("name", "max_length", "name must be at most 200 characters")
		}
		u.Name = strings.TrimSpace(*p.Name)
		changes["name"] = u.Name
	}
	if p.Role != nil {
		if !p.Role.Valid() {
			fs.Add("role", "enum", "role must be one of: reporter, responder, coordinator, viewer, admin")
		}
		changes["role"] = map[string]any{"from": u.Role, "to": *p.Role}
		u.Role = *p.Role
	}
	now := s.now().UTC()
	disabling := p.Disabled != nil && *p.Disabled && u.DisabledAt == nil
	if p.Disabled != nil {
		if disabling {
			u.DisabledAt = &now
		} else if !*p.Disabled {
			u.DisabledAt = nil
		}
		changes["disabled"] = *p.Disabled
	}
	var hash *string
	if p.Password != nil {
		if err := CheckPassword(*p.Password, u.Email); err != nil {
			e, _ := apperr.As(err)
			fs = append(fs, e.Fields...)
		} else {
			h, err := HashPassword(*p.Password)
			if err != nil {
				return nil, err
			}
			hash = &h
			changes["password"] = "changed"
		}
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	err = s.store.InIdentityTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.UpdateUser(ctx, u, hash); err != nil {
			return err
		}
		if disabling {
			revoked, err := tx.RevokeUserTokens(ctx, u.ID, now)
			if err != nil {
				return err
			}
			for _, id := range revoked {
				if err := tx.Audit(ctx, entry(actor, audit.TokenRevoked, "token", id.String(),
					map[string]any{"user_id": u.ID, "reason": "user disabled"})); err != nil {
					return err
				}
			}
			changes["tokens_revoked"] = len(revoked)
			voided, err := tx.VoidResetLinks(ctx, u.ID, now)
			if err != nil {
				return err
			}
			if voided > 0 {
				changes["reset_links_voided"] = voided
			}
		}
		if disabling || hash != nil {
			keep := p.KeepSession
			if disabling {
				keep = nil
			}
			ended, err := endSessions(ctx, tx, u.ID, keep)
			if err != nil {
				return err
			}
			if ended > 0 {
				changes["sessions_ended"] = ended
			}
		}
		return tx.Audit(ctx, entry(actor, audit.UserChanged, "user", u.ID.String(), changes))
	})
	if err != nil {
		return nil, err
	}
	return s.store.User(ctx, id)
}

// Users lists the users the actor administers.
func (s *Service) Users(ctx context.Context, actor access.Principal) ([]User, error) {
	if err := actor.Require(access.ManageUsers); err != nil {
		return nil, err
	}
	scope, err := s.store.Scope(ctx, actor.OrgID)
	if err != nil {
		return nil, err
	}
	return s.store.Users(ctx, scope)
}

// UserByEmail returns a user the actor administers, or the actor.
// Anyone else is not found.
func (s *Service) UserByEmail(ctx context.Context, actor access.Principal, email string) (*User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if actor.System || u.ID == actor.UserID {
		return u, nil
	}
	if err := s.inScope(ctx, actor, u.OrgID); err != nil {
		return nil, apperr.New(apperr.NotFound, "user %q not found", email)
	}
	return u, nil
}

// Me returns the actor's own user.
func (s *Service) Me(ctx context.Context, actor access.Principal) (*User, error) {
	return s.store.User(ctx, actor.UserID)
}

// MaxTokenLifetime bounds a token's expiry; DefaultTokenLifetime applies
// when none is given.
const (
	MaxTokenLifetime     = 366 * 24 * time.Hour
	DefaultTokenLifetime = 90 * 24 * time.Hour
)

// CreateToken creates an API token for a user: the actor's own, or, for the
// operator (access.System, the CLI), anyone's. An administrator cannot mint
// tokens for other users: that would let them act as those users. It
// returns the token once; only its hash is kept.
func (s *Service) CreateToken(ctx context.Context, actor access.Principal, userID uuid.UUID, name string, expiresAt *time.Time) (string, *Token, error) {
	now := s.now().UTC()
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if !actor.System && actor.UserID != userID {
		return "", nil, apperr.New(apperr.NotFound, "user %s not found", userID)
	}
	var fs apperr.Fields
	name = strings.TrimSpace(name)
	if name == "" {
		name = "api"
	}
	if utf8.RuneCountInString(name) > 100 {
		fs.Add("name", "max_length", "name must be at most 100 characters")
	}
	if expiresAt == nil {
		t := now.Add(DefaultTokenLifetime)
		expiresAt = &t
	}
	if !expiresAt.After(now) {
		fs.Add("expires_at", "future", "expires_at must be in the future")
	} else if expiresAt.Sub(now) > MaxTokenLifetime {
		fs.Add("expires_at", "max", "a token may live at most 366 days")
	}
	if u.DisabledAt != nil {
		fs.Add("user", "enabled", "the user is disabled")
	}
	if err := fs.Err(); err != nil {
		return "", nil, err
	}
	plain, prefix, hash, err := NewToken()
	if err != nil {
		return "", nil, err
	}
	t := &Token{ID: uuid.New(), UserID: userID, Name: name, Prefix: prefix, ExpiresAt: expiresAt, CreatedAt: now}
	err = s.store.InIdentityTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertToken(ctx, t, hash); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(actor, audit.TokenCreated, "token", t.ID.String(), map[string]any{"user_id": userID, "name": name, "expires_at": expiresAt}))
	})
	if err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// Tokens lists the actor's own tokens.
func (s *Service) Tokens(ctx context.Context, actor access.Principal) ([]Token, error) {
	return s.store.Tokens(ctx, actor.UserID)
}

// RevokeToken revokes one of the actor's own tokens. Another user's token
// is not found.
func (s *Service) RevokeToken(ctx context.Context, actor access.Principal, id uuid.UUID) error {
	toks, err := s.store.Tokens(ctx, actor.UserID)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.ID != id {
			continue
		}
		if t.RevokedAt != nil {
			return nil
		}
		return s.store.InIdentityTx(ctx, func(ctx context.Context, tx Tx) error {
			if err := tx.RevokeToken(ctx, id, s.now().UTC()); err != nil {
				return err
			}
			return tx.Audit(ctx, entry(actor, audit.TokenRevoked, "token", id.String(), nil))
		})
	}
	return apperr.New(apperr.NotFound, "token %s not found", id)
}

func entry(actor access.Principal, a audit.Action, targetType, targetID string, data any) audit.Entry {
	return audit.Entry{ActorUserID: actor.UserIDPtr(), Actor: actor.Name(), Action: a, TargetType: targetType,
		TargetID: targetID, RemoteAddr: actor.RemoteAddr, Data: jsonOf(data)}
}

func jsonOf(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}
