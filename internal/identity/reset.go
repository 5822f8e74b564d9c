package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/google/uuid"
)

// Password reset links: an administrator (or the operator at the CLI)
// issues a one-time link, the user opens it and sets a password. Nobody
// but the user ever chooses the password.

// ResetTokenPrefix starts the token of every reset link, so that secret
// scanners and people can recognise one.
const ResetTokenPrefix = "cdr_"

// ResetPath is the path of a reset link under the base URL; the token
// follows it.
const ResetPath = "/password-reset/"

// Reset link lifetimes: DefaultResetLinkLifetime unless configured
// (CERTDESK_RESET_LINK_LIFETIME), between MinResetLinkLifetime and
// MaxResetLinkLifetime.
const (
	DefaultResetLinkLifetime = 24 * time.Hour
	MinResetLinkLifetime     = 5 * time.Minute
	MaxResetLinkLifetime     = 7 * 24 * time.Hour
)

// ResetLink is a password reset link's metadata; its token is never
// stored, only the token's SHA-256.
type ResetLink struct {
	ID     uuid.UUID
	UserID uuid.UUID
	// IssuedBy names who issued it (an e-mail, or "certdesk" for the
	// operator); IssuedByID is their user, nil for the operator.
	IssuedBy   string
	IssuedByID *uuid.UUID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	// VoidedAt is set when the link stopped counting before its use: a
	// newer link was issued, the password was reset, or the user was
	// disabled.
	VoidedAt *time.Time
}

// ErrResetLinkInvalid is the one answer to a reset link that cannot be
// used, whatever the reason (unknown, used, void, expired, or its user
// disabled).
var ErrResetLinkInvalid = apperr.New(apperr.NotFound,
	"this password reset link is not valid: it is unknown, used or expired. Ask an administrator for a new one")

// SetResetLinks sets the base URL of reset links (CERTDESK_BASE_URL; ""
// leaves them relative) and how long they live (0: the default). It must
// be called before the Service is used.
func (s *Service) SetResetLinks(baseURL string, lifetime time.Duration) error {
	if lifetime == 0 {
		lifetime = DefaultResetLinkLifetime
	}
	if lifetime < MinResetLinkLifetime || lifetime > MaxResetLinkLifetime {
		return fmt.Errorf("identity: a reset link lives from %s to %s, not %s", MinResetLinkLifetime, MaxResetLinkLifetime, lifetime)
	}
	s.baseURL, s.resetLifetime = baseURL, lifetime
	return nil
}

// newResetToken returns a new reset token (256 random bits) and the hash
// that is stored.
func newResetToken() (plain string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("reset token: %w", err)
	}
	plain = ResetTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashToken(plain), nil
}

// IssueResetLink issues a one-time password reset link for a user and
// returns its URL (<base URL>/password-reset/<token>) once; only the
// token's hash is kept. The operator (access.System) may issue one for
// anyone; an administrator for the users they manage (403 without
// user.manage, 404 for a user outside their scope). A disabled user gets
// none (409): enable them first. Issuing voids the user's earlier unused
// links. The issue is audited (user.reset_link_issued), without the token.
// user is the user's ID as a transport received it: anything but a UUID
// names no user (404), once the actor is known to manage users.
func (s *Service) IssueResetLink(ctx context.Context, actor access.Principal, user string) (string, *ResetLink, error) {
	if err := actor.Require(access.ManageUsers); err != nil {
		return "", nil, err
	}
	userID, err := uuid.Parse(user)
	if err != nil {
		return "", nil, apperr.New(apperr.NotFound, "user %q not found", user)
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if err := s.inScope(ctx, actor, u.OrgID); err != nil {
		return "", nil, apperr.New(apperr.NotFound, "user %s not found", userID)
	}
	if u.DisabledAt != nil {
		return "", nil, apperr.New(apperr.Conflict, "%s is disabled: enable the user before issuing a reset link", u.Email)
	}
	plain, hash, err := newResetToken()
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC()
	l := &ResetLink{ID: uuid.New(), UserID: u.ID, IssuedBy: actor.Name(), IssuedByID: actor.UserIDPtr(),
		CreatedAt: now, ExpiresAt: now.Add(s.resetLifetime)}
	err = s.store.InIdentityTx(ctx, func(ctx context.Context, tx Tx) error {
		voided, err := tx.VoidResetLinks(ctx, u.ID, now)
		if err != nil {
			return err
		}
		if err := tx.InsertResetLink(ctx, l, hash); err != nil {
			return err
		}
		data := map[string]any{"link_id": l.ID, "email": u.Email, "expires_at": l.ExpiresAt}
		if voided > 0 {
			data["earlier_links_voided"] = voided
		}
		return tx.Audit(ctx, entry(actor, audit.ResetLinkIssued, "user", u.ID.String(), data))
	})
	if err != nil {
		return "", nil, err
	}
	return s.baseURL + ResetPath + plain, l, nil
}

// resetLink returns the usable link of a token and its user, or, after
// counting the failure under AddressRule, ErrResetLinkInvalid (or the
// RateLimited error once the address has too many failures).
func (s *Service) resetLink(ctx context.Context, token, remoteAddr string) (*ResetLink, *User, error) {
	l, u, err := s.store.ResetLinkByHash(ctx, HashToken(token))
	var reason string
	now := s.now()
	switch {
	case apperr.Is(err, apperr.NotFound):
		reason = "unknown reset link"
	case err != nil:
		return nil, nil, err
	case l.UsedAt != nil:
		reason = "used reset link"
	case l.VoidedAt != nil:
		reason = "void reset link"
	case !now.Before(l.ExpiresAt):
		reason = "expired reset link"
	case u.DisabledAt != nil:
		reason = "reset link of a disabled user"
	}
	if reason == "" {
		return l, u, nil
	}
	if l != nil {
		reason += " " + l.ID.String()
	}
	if err := s.Failed(ctx, remoteAddr, reason); err != nil {
		return nil, nil, err
	}
	return nil, nil, ErrResetLinkInvalid
}

// ResetLinkUser returns the user a reset link is for, so that the reset
// page can greet them and check the password policy, without using the
// link. An unusable link is ErrResetLinkInvalid; failures count as failed
// authentications of remoteAddr (AddressRule: an apperr.RateLimited error
// past the limit).
func (s *Service) ResetLinkUser(ctx context.Context, token, remoteAddr string) (*User, error) {
	_, u, err := s.resetLink(ctx, token, remoteAddr)
	return u, err
}

// ResetPassword uses a reset link: it sets the user's password, under the
// password policy (422 naming the rule, and the link stays usable), and
// in the same transaction uses the link up, voids the user's other links,
// ends the user's web sessions (SessionEnder) and audits the reset
// (user.password_reset, the user as actor). An unusable link is
// ErrResetLinkInvalid, counted like a failed authentication of remoteAddr
// (AddressRule; an apperr.RateLimited error past the limit). API tokens
// are left alone: they are the user's machines' credentials, not their
// password's.
func (s *Service) ResetPassword(ctx context.Context, token, password, remoteAddr string) error {
	l, u, err := s.resetLink(ctx, token, remoteAddr)
	if err != nil {
		return err
	}
	if err := CheckPassword(password, u.Email); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	return s.store.InIdentityTx(ctx, func(ctx context.Context, tx Tx) error {
		used, err := tx.UseResetLink(ctx, l.ID, now)
		if err != nil {
			return err
		}
		if !used { // used or voided a moment ago, by another request
			return ErrResetLinkInvalid
		}
		if err := tx.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.VoidResetLinks(ctx, u.ID, now); err != nil {
			return err
		}
		data := map[string]any{"link_id": l.ID, "issued_by": l.IssuedBy}
		ended, err := endSessions(ctx, tx, u.ID, nil)
		if err != nil {
			return err
		}
		if ended > 0 {
			data["sessions_ended"] = ended
		}
		p := u.Principal()
		p.RemoteAddr = remoteAddr
		return tx.Audit(ctx, entry(p, audit.PasswordReset, "user", u.ID.String(), data))
	})
}
