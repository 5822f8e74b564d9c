package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/google/uuid"
)

// The administration of second factors: an organisation's sign-in policy,
// and the links that reset a person's factors when they lost them. Both
// are for administrators of the organisation, or of one above it (the
// same scope as managing its users and settings: its CERT, the national
// CERT); another organisation's administrator finds nothing (404).

// FactorReset is a link that resets a person's second factors; its token
// is never stored, only the token's SHA-256.
type FactorReset struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	IssuedBy   string
	IssuedByID *uuid.UUID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	VoidedAt   *time.Time
}

// FactorResetTx keeps the factor reset links.
type FactorResetTx interface {
	InsertFactorReset(ctx context.Context, l *FactorReset, hash []byte) error
	// UseFactorReset marks a usable link used; false when it was not.
	UseFactorReset(ctx context.Context, id uuid.UUID, now time.Time) (bool, error)
	VoidFactorResets(ctx context.Context, userID uuid.UUID, now time.Time) (int, error)
}

// FactorResetPrefix starts every factor reset link's token; FactorResetPath
// is the link's path under the base URL.
const (
	FactorResetPrefix = "cdf_"
	FactorResetPath   = "/factor-reset/"
	factorResetLife   = 24 * time.Hour
)

// ErrFactorResetInvalid is the one answer to a factor reset link that
// cannot be used (unknown, used, void, expired, or its user disabled).
var ErrFactorResetInvalid = apperr.New(apperr.NotFound,
	"this link is not valid: it is unknown, used or expired. Ask an administrator for a new one")

// inScope checks that actor administers the organisation orgID (or one
// above it); else apperr.NotFound, as if it did not exist.
func (s *Service) inScope(ctx context.Context, actor access.Principal, a access.Action, orgID uuid.UUID) error {
	if err := actor.Require(a); err != nil {
		return err
	}
	if actor.System {
		return nil
	}
	scope, err := s.o.Factors.Scope(ctx, actor.OrgID)
	if err != nil {
		return err
	}
	if !slices.Contains(scope, orgID) {
		return apperr.New(apperr.NotFound, "organisation not found")
	}
	return nil
}

// PolicyOf returns the sign-in policy of an organisation the actor
// administers.
func (s *Service) PolicyOf(ctx context.Context, actor access.Principal, orgID uuid.UUID) (Policy, error) {
	if err := s.inScope(ctx, actor, access.ManageOrgs, orgID); err != nil {
		return Policy{}, err
	}
	return s.o.Factors.Policy(ctx, orgID)
}

// SavePolicy stores the sign-in policy of an organisation the actor
// administers, after Validate, audited (org.sign_in_policy_changed) with
// the old and new values. It counts for sessions opened from now; the
// step-up applies at once.
func (s *Service) SavePolicy(ctx context.Context, actor access.Principal, p Policy) error {
	if err := s.inScope(ctx, actor, access.ManageOrgs, p.OrgID); err != nil {
		return err
	}
	if p.SecondFactor != RequireRoles {
		p.Roles = nil
	}
	if err := p.Validate(); err != nil {
		return err
	}
	old, err := s.o.Factors.Policy(ctx, p.OrgID)
	if err != nil {
		return err
	}
	return s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
		if err := tx.SavePolicy(ctx, p, actor.UserIDPtr(), s.now()); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: actor.UserIDPtr(), Actor: actor.Name(), Action: audit.SignInPolicyChanged,
			TargetType: "organization", TargetID: p.OrgID.String(), RemoteAddr: actor.RemoteAddr, Data: jsonOf(map[string]any{
				"second_factor": p.SecondFactor, "roles": p.Roles, "passkey_alone": p.PasskeyAlone, "step_up_minutes": p.StepUpMinutes,
				"before": map[string]any{"second_factor": old.SecondFactor, "roles": old.Roles, "passkey_alone": old.PasskeyAlone,
					"step_up_minutes": old.StepUpMinutes}})})
	})
}

func hashFactorToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IssueFactorReset issues a one-time link (<baseURL>/factor-reset/<token>,
// returned once) that removes the user's second factors when they use
// it; earlier unused links become void. For administrators of the user's
// organisation (user.manage; another organisation's user is not found).
// Audited (user.factor_reset_issued), without the token.
func (s *Service) IssueFactorReset(ctx context.Context, actor access.Principal, userID uuid.UUID, baseURL string) (string, *FactorReset, error) {
	if err := actor.Require(access.ManageUsers); err != nil {
		return "", nil, err
	}
	acct, err := s.o.Store.AccountByID(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if err := s.inScope(ctx, actor, access.ManageUsers, acct.User.OrgID); err != nil {
		return "", nil, apperr.New(apperr.NotFound, "user %s not found", userID)
	}
	if acct.User.DisabledAt != nil {
		return "", nil, apperr.New(apperr.Conflict, "%s is disabled: enable the user first", acct.User.Email)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("factor reset token: %w", err)
	}
	token := FactorResetPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	l := &FactorReset{ID: uuid.New(), UserID: userID, IssuedBy: actor.Name(), IssuedByID: actor.UserIDPtr(), CreatedAt: now,
		ExpiresAt: now.Add(factorResetLife)}
	err = s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
		voided, err := tx.VoidFactorResets(ctx, userID, now)
		if err != nil {
			return err
		}
		if err := tx.InsertFactorReset(ctx, l, hashFactorToken(token)); err != nil {
			return err
		}
		data := map[string]any{"link_id": l.ID, "email": acct.User.Email, "expires_at": l.ExpiresAt}
		if voided > 0 {
			data["earlier_links_voided"] = voided
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: actor.UserIDPtr(), Actor: actor.Name(), Action: audit.FactorResetIssued,
			TargetType: "user", TargetID: userID.String(), RemoteAddr: actor.RemoteAddr, Data: jsonOf(data)})
	})
	if err != nil {
		return "", nil, err
	}
	return baseURL + FactorResetPath + token, l, nil
}

// factorReset returns the usable link of a token and its user, or, after
// counting the failure against the address (identity.AddressRule),
// ErrFactorResetInvalid.
func (s *Service) factorReset(ctx context.Context, token, remoteAddr string) (*FactorReset, *Account, error) {
	l, err := s.o.Factors.FactorResetByHash(ctx, hashFactorToken(token))
	reason, now := "", s.now()
	var acct *Account
	switch {
	case apperr.Is(err, apperr.NotFound):
		reason = "unknown factor reset link"
	case err != nil:
		return nil, nil, err
	case l.UsedAt != nil || l.VoidedAt != nil || !now.Before(l.ExpiresAt):
		reason = "used, void or expired factor reset link " + l.ID.String()
	default:
		if acct, err = s.o.Store.AccountByID(ctx, l.UserID); err != nil {
			return nil, nil, err
		}
		if acct.User.DisabledAt != nil {
			reason = "factor reset link of a disabled user"
		}
	}
	if reason == "" {
		return l, acct, nil
	}
	if err := s.o.Limiter.Check(ctx, identity.AddressRule, identity.AddressKey(remoteAddr)); err != nil {
		return nil, nil, err
	}
	if _, err := s.o.Limiter.FailFor(ctx, identity.AddressRule, identity.AddressKey(remoteAddr), reason); err != nil {
		return nil, nil, err
	}
	return nil, nil, ErrFactorResetInvalid
}

// FactorResetUser returns the e-mail address of the person a usable link
// is for, without using it.
func (s *Service) FactorResetUser(ctx context.Context, token, remoteAddr string) (string, error) {
	_, acct, err := s.factorReset(ctx, token, remoteAddr)
	if err != nil {
		return "", err
	}
	return acct.User.Email, nil
}

// UseFactorReset uses a factor reset link: in one transaction it removes
// the person's authenticator app, recovery codes and passkeys, uses up
// the link, ends all their sessions and audits it (user.factors_reset, the
// person as actor). Their next sign-in sets a factor up again where their
// organisation requires one.
func (s *Service) UseFactorReset(ctx context.Context, token, remoteAddr string) error {
	l, acct, err := s.factorReset(ctx, token, remoteAddr)
	if err != nil {
		return err
	}
	now := s.now()
	u := acct.User
	return s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
		ok, err := tx.UseFactorReset(ctx, l.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrFactorResetInvalid
		}
		app, err := tx.DeleteTOTP(ctx, u.ID)
		if err != nil {
			return err
		}
		codes, err := tx.DeleteRecoveryCodes(ctx, u.ID)
		if err != nil {
			return err
		}
		keys, err := tx.DeletePasskeys(ctx, u.ID)
		if err != nil {
			return err
		}
		ended, err := tx.EndUserSessions(ctx, u.ID, nil)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: &u.ID, Actor: u.Email, Action: audit.FactorsReset, TargetType: "user",
			TargetID: u.ID.String(), RemoteAddr: remoteAddr, Data: jsonOf(map[string]any{"link_id": l.ID, "issued_by": l.IssuedBy,
				"app_removed": app, "recovery_codes_removed": codes, "passkeys_removed": keys, "sessions_ended": ended})})
	})
}
