package session

import (
	"context"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// Second factors (docs/security.md, "Signing in: second factors"): an
// authenticator app (TOTP) with ten one-time recovery codes, and passkeys
// (internal/passkey). Which sessions must give one is decided when they
// open (Decide), from the person's factors and their organisation's
// sign-in policy.

// Requirement is what an organisation's policy asks of its people.
type Requirement string

// The requirements of a sign-in policy.
const (
	RequireOptional Requirement = "optional" // nobody must have a second factor
	RequireRoles    Requirement = "roles"    // the policy's roles must
	RequireAll      Requirement = "all"      // everyone must
)

// Policy is an organisation's sign-in policy (org_sign_in_policies). An
// organisation without one has DefaultPolicy.
type Policy struct {
	OrgID        uuid.UUID
	SecondFactor Requirement
	// Roles must have a second factor when SecondFactor is RequireRoles.
	Roles []access.Role
	// PasskeyAlone lets a passkey sign the organisation's people in
	// without a password.
	PasskeyAlone bool
	// StepUpMinutes is how recent a second factor must be for a sensitive
	// action, for the people who must have one.
	StepUpMinutes int
	UpdatedAt     *time.Time // nil: never saved (the defaults)
	UpdatedBy     string     // who saved it last
}

// DefaultPolicy is the policy of an organisation that has not saved one.
func DefaultPolicy(orgID uuid.UUID) Policy {
	return Policy{OrgID: orgID, SecondFactor: RequireOptional, PasskeyAlone: true, StepUpMinutes: 15}
}

// Requires reports whether the policy requires a second factor of a
// person in role r.
func (p Policy) Requires(r access.Role) bool {
	switch p.SecondFactor {
	case RequireAll:
		return true
	case RequireRoles:
		return slices.Contains(p.Roles, r)
	}
	return false
}

// Validate checks a policy: a known requirement, at least one known role
// for RequireRoles, and step-up minutes from 1 to 1440 (field errors on
// second_factor, roles, step_up_minutes).
func (p Policy) Validate() error {
	var fs apperr.Fields
	switch p.SecondFactor {
	case RequireOptional, RequireAll:
	case RequireRoles:
		if len(p.Roles) == 0 {
			fs.Add("roles", "required", "choose at least one role that must have a second factor")
		}
	default:
		fs.Add("second_factor", "invalid", "choose optional, all or roles")
	}
	for _, r := range p.Roles {
		if !r.Valid() {
			fs.Add("roles", "invalid", "unknown role %q", r)
			break
		}
	}
	if p.StepUpMinutes < 1 || p.StepUpMinutes > 1440 {
		fs.Add("step_up_minutes", "range", "from 1 to 1440 minutes")
	}
	return fs.Err()
}

// FactorState is what signing in needs to know of a person's second
// factors: whether they have confirmed an authenticator app, how many
// passkeys and unused recovery codes they have, and their organisation's
// policy.
type FactorState struct {
	UserID       uuid.UUID
	Role         access.Role
	TOTP         bool       // a confirmed authenticator app
	TOTPSince    *time.Time // when it was confirmed
	Passkeys     int
	RecoveryLeft int // unused recovery codes
	Policy       Policy
}

// HasFactor reports whether the person has a second factor set up (an
// authenticator app or a passkey).
func (st FactorState) HasFactor() bool { return st.TOTP || st.Passkeys > 0 }

// Required reports whether their organisation requires a second factor of
// them.
func (st FactorState) Required() bool { return st.Policy.Requires(st.Role) }

// Decide is what a new session established with method must still do. A
// passkey session has checked both factors. A person with a second factor
// is always asked for it, whatever the policy (that is what having one
// means); a person without one sets one up when their organisation
// requires it; anyone else is done.
func Decide(st FactorState, method Method) Pending {
	switch {
	case method == MethodPasskey:
		return PendingNone
	case st.HasFactor():
		return PendingSecondFactor
	case st.Required():
		return PendingSetup
	}
	return PendingNone
}

// FactorStore is the persistence of second factors and sign-in policies.
type FactorStore interface {
	// FactorState reads a user's factors and their organisation's policy
	// in one query. Unknown user: apperr.NotFound.
	FactorState(ctx context.Context, userID uuid.UUID) (*FactorState, error)
	// Policy reads an organisation's sign-in policy (DefaultPolicy when it
	// has none).
	Policy(ctx context.Context, orgID uuid.UUID) (Policy, error)
	// Scope lists the organisations an administrator of orgID manages:
	// it and those below it.
	Scope(ctx context.Context, orgID uuid.UUID) ([]uuid.UUID, error)
	// FactorResetByHash returns the factor reset link of a token's hash.
	// Not found: apperr.NotFound.
	FactorResetByHash(ctx context.Context, hash []byte) (*FactorReset, error)
}

// Factors returns the second factors of a user and their organisation's
// policy.
func (s *Service) Factors(ctx context.Context, userID uuid.UUID) (*FactorState, error) {
	return s.o.Factors.FactorState(ctx, userID)
}
