package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/sealed"
	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: what every authenticator app understands (RFC 6238's
// defaults): 30-second steps, six digits, HMAC-SHA1, a 160-bit key. A
// code of the step before or after the current one is accepted too (the
// phone's clock may be off), and each step's code only once.
const (
	totpPeriod = 30
	totpSkew   = 1
	// RecoveryCodeCount is how many recovery codes a person gets.
	RecoveryCodeCount = 10
	// totpIssuer names certdesk in the authenticator app.
	totpIssuer = "certdesk"
)

// TOTPRecord is a person's authenticator app as stored.
type TOTPRecord struct {
	UserID      uuid.UUID
	KeySealed   []byte
	CreatedAt   time.Time
	ConfirmedAt *time.Time
	LastStep    int64
}

// FactorTx is what second-factor changes may do in a transaction.
type FactorTx interface {
	Tx
	// TOTPForUpdate returns the user's app, locked. None: apperr.NotFound.
	TOTPForUpdate(ctx context.Context, userID uuid.UUID) (*TOTPRecord, error)
	// PutTOTP stores an app being set up, replacing one not yet confirmed.
	PutTOTP(ctx context.Context, r *TOTPRecord) error
	// SetTOTPStep records the step of an accepted code (and, with
	// confirmedAt, the confirmation).
	SetTOTPStep(ctx context.Context, userID uuid.UUID, step int64, confirmedAt *time.Time) error
	DeleteTOTP(ctx context.Context, userID uuid.UUID) (bool, error)
	// ReplaceRecoveryCodes removes the user's recovery codes and stores
	// these hashes.
	ReplaceRecoveryCodes(ctx context.Context, userID uuid.UUID, hashes [][]byte, at time.Time) error
	// UseRecoveryCode marks an unused code used; false when there is no
	// unused code with that hash.
	UseRecoveryCode(ctx context.Context, userID uuid.UUID, hash []byte, at time.Time) (bool, error)
	DeleteRecoveryCodes(ctx context.Context, userID uuid.UUID) (int, error)
	// DeletePasskeys removes the user's passkeys and says how many.
	DeletePasskeys(ctx context.Context, userID uuid.UUID) (int, error)
	// SavePolicy stores an organisation's sign-in policy, by actor.
	SavePolicy(ctx context.Context, p Policy, by *uuid.UUID, at time.Time) error
	// FactorResetTx is the links that reset a person's factors.
	FactorResetTx
}

// TOTPSetup is an authenticator app being set up: its key as text to type
// and the otpauth:// URL its QR code carries.
type TOTPSetup struct {
	Secret string // base32, as apps take it typed
	URL    string
}

// ErrWrongCode is the answer to a code that is not right (wrong, used, or
// too old), a field error on code.
var ErrWrongCode = wrongCode()

func wrongCode() error {
	var fs apperr.Fields
	fs.Add("code", "wrong", "the code is not right")
	return fs.Err()
}

// ErrTOTPUnreadable is the answer to a code when the person's
// authenticator app key does not open with this server's secrets key
// (restored without it, or the key changed): no code can be checked. A
// field error on code; recovery codes and passkeys still work, and the
// password removes the app.
var ErrTOTPUnreadable = unreadableKey()

func unreadableKey() error {
	var fs apperr.Fields
	fs.Add("code", "unreadable", "the authenticator app's key does not open with this server's secrets key: use a recovery code")
	return fs.Err()
}

func totpLabel(userID uuid.UUID) string { return "totp:" + userID.String() }

// openTOTP opens a person's sealed TOTP key; one that does not open is
// ErrTOTPUnreadable, logged for the operator.
func (s *Service) openTOTP(key []byte, userID uuid.UUID) (string, error) {
	secret, err := s.o.Secrets.Open(key, totpLabel(userID))
	if errors.Is(err, sealed.ErrOpen) {
		s.log().Error("an authenticator app key does not open with the secrets key (CERTDESK_SECRETS_KEY or the key file): was the database restored without it? (docs/operations.md)",
			"user", userID)
		return "", ErrTOTPUnreadable
	}
	return string(secret), err
}

func (s *Service) withFactors(ctx context.Context, fn func(ctx context.Context, tx FactorTx) error) error {
	return s.o.Store.InSessionTx(ctx, func(ctx context.Context, tx Tx) error {
		ftx, ok := tx.(FactorTx)
		if !ok {
			return fmt.Errorf("session: the store's transaction keeps no second factors")
		}
		return fn(ctx, ftx)
	})
}

// BeginTOTP returns the authenticator app the current person is setting
// up: the one begun before (so that the page and its QR code agree), or a
// new key. A person with a confirmed app is apperr.Conflict: remove it
// first.
//
// A person who has a factor already (a passkey) adds an app only from a
// session that gave a second factor within the step-up minutes
// (ErrStepUp): otherwise a password alone could add a factor and use it.
func (s *Service) BeginTOTP(ctx context.Context, cur *Current) (*TOTPSetup, error) {
	if _, err := s.mayAddFactor(ctx, cur); err != nil {
		return nil, err
	}
	var out *TOTPSetup
	err := s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
		r, err := tx.TOTPForUpdate(ctx, cur.Principal.UserID)
		switch {
		case err == nil && r.ConfirmedAt != nil:
			return apperr.New(apperr.Conflict, "an authenticator app is set up already: remove it first")
		case err == nil:
			secret, err := s.openTOTP(r.KeySealed, cur.Principal.UserID)
			if err == nil {
				out = s.totpSetup(cur, secret)
				return nil
			} // a key that no longer opens (a new secrets key): start again
		case !apperr.Is(err, apperr.NotFound):
			return err
		}
		b := make([]byte, 20)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("totp key: %w", err)
		}
		secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
		sealedKey, err := s.o.Secrets.Seal([]byte(secret), totpLabel(cur.Principal.UserID))
		if err != nil {
			return err
		}
		if err := tx.PutTOTP(ctx, &TOTPRecord{UserID: cur.Principal.UserID, KeySealed: sealedKey, CreatedAt: s.now()}); err != nil {
			return err
		}
		out = s.totpSetup(cur, secret)
		return nil
	})
	return out, err
}

func (s *Service) totpSetup(cur *Current, secret string) *TOTPSetup {
	label := totpIssuer + ":" + cur.Principal.Email
	q := url.Values{"secret": {secret}, "issuer": {totpIssuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + label, RawQuery: q.Encode()}
	return &TOTPSetup{Secret: secret, URL: u.String()}
}

// totpStep checks code against the key: the step it is good for among the
// current one and totpSkew either side that are after last, or 0.
func (s *Service) totpStep(secret, code string, last int64) int64 {
	code = strings.TrimSpace(strings.ReplaceAll(code, " ", ""))
	if len(code) != 6 {
		return 0
	}
	now := s.o.Now()
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	for d := -totpSkew; d <= totpSkew; d++ {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		step := t.Unix() / totpPeriod
		if step <= last {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, t, opts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// ConfirmTOTP checks a code from the app being set up: right, the app is
// the person's second factor from now, its ten recovery codes are made
// (and returned, the only time they are shown), the session of a person
// who had no factor counts as having given one now (no longer pending),
// and it is audited. A wrong code is ErrWrongCode and counts against the sign-in
// throttle like a failed sign-in.
func (s *Service) ConfirmTOTP(ctx context.Context, cur *Current, code string, c Client) ([]string, error) {
	hadFactor, err := s.mayAddFactor(ctx, cur)
	if err != nil {
		return nil, err
	}
	var codes []string
	err = s.throttled(ctx, cur, c, "wrong code setting up an app", func() (bool, error) {
		ok := false
		err := s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
			r, err := tx.TOTPForUpdate(ctx, cur.Principal.UserID)
			if apperr.Is(err, apperr.NotFound) {
				return apperr.New(apperr.Conflict, "no authenticator app is being set up")
			} else if err != nil {
				return err
			}
			if r.ConfirmedAt != nil {
				return apperr.New(apperr.Conflict, "the authenticator app is set up already")
			}
			secret, err := s.openTOTP(r.KeySealed, cur.Principal.UserID)
			if err != nil {
				return err
			}
			step := s.totpStep(secret, code, r.LastStep)
			if step == 0 {
				return nil
			}
			ok = true
			now := s.now()
			if err := tx.SetTOTPStep(ctx, cur.Principal.UserID, step, &now); err != nil {
				return err
			}
			var hashes [][]byte
			if codes, hashes, err = newRecoveryCodes(cur.Principal.UserID); err != nil {
				return err
			}
			if err := tx.ReplaceRecoveryCodes(ctx, cur.Principal.UserID, hashes, now); err != nil {
				return err
			}
			if !hadFactor { // the new app is the session's second factor
				if err := s.passInTx(ctx, tx, cur, FactorTOTP, now); err != nil {
					return err
				}
			}
			return tx.Audit(ctx, s.userEntry(cur, audit.SecondFactorAdded, cur.Principal.UserID, map[string]any{"factor": FactorTOTP}))
		})
		return ok, err
	})
	return codes, err
}

// mayAddFactor refuses (ErrStepUp) adding an app for a person who has a
// factor already, unless the session gave one within the step-up
// minutes; it reports whether they had one.
func (s *Service) mayAddFactor(ctx context.Context, cur *Current) (bool, error) {
	st, err := s.Factors(ctx, cur.Principal.UserID)
	if err != nil {
		return false, err
	}
	if st.HasFactor() && !s.RecentSecondFactor(cur, st.Policy.StepUpMinutes) {
		return true, ErrStepUp
	}
	return st.HasFactor(), nil
}

// passInTx records in tx that the session gave factor f at now, audited
// like PassSecondFactor, and updates cur.
func (s *Service) passInTx(ctx context.Context, tx FactorTx, cur *Current, f Factor, now time.Time) error {
	ok, err := tx.SetSessionFactor(ctx, cur.Session.ID, f, now, PendingNone)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoSession
	}
	if err := tx.Audit(ctx, audit.Entry{ActorUserID: cur.Principal.UserIDPtr(), Actor: cur.Principal.Name(),
		Action: audit.SecondFactorPassed, TargetType: "session", TargetID: cur.Session.ID.String(),
		RemoteAddr: cur.Principal.RemoteAddr, Data: jsonOf(map[string]any{"factor": f})}); err != nil {
		return err
	}
	cur.Session.SecondFactor, cur.Session.SecondFactorAt, cur.Session.Pending = f, &now, PendingNone
	return nil
}

func (s *Service) userEntry(cur *Current, a audit.Action, userID uuid.UUID, data map[string]any) audit.Entry {
	return audit.Entry{ActorUserID: cur.Principal.UserIDPtr(), Actor: cur.Principal.Name(), Action: a, TargetType: "user",
		TargetID: userID.String(), RemoteAddr: cur.Principal.RemoteAddr, Data: jsonOf(data)}
}

// throttled runs check, which reports whether the code was right, as one
// attempt against the sign-in throttle of the person's account and the
// client's address: over either limit it is apperr.RateLimited before
// anything is checked; a wrong code counts as a failed sign-in with
// reason (audited summarised, AuditSummary) and is ErrWrongCode.
func (s *Service) throttled(ctx context.Context, cur *Current, c Client, reason string, check func() (bool, error)) error {
	acctTry, err := s.o.Limiter.Begin(ctx, AccountRule, accountKey(cur.Principal.Email))
	if err != nil {
		return err
	}
	addrTry, err := s.o.Limiter.Begin(ctx, identity.AddressRule, identity.AddressKey(c.RemoteAddr))
	if err != nil {
		return errors.Join(err, acctTry.End(context.WithoutCancel(ctx), false, ""))
	}
	end := func(failed bool) error {
		ctx := context.WithoutCancel(ctx)
		r := ""
		if failed {
			r = reason
		}
		return errors.Join(acctTry.End(ctx, failed, r), addrTry.End(ctx, failed, r))
	}
	ok, err := check()
	if err != nil {
		return errors.Join(err, end(false))
	}
	if err := end(!ok); err != nil {
		return err
	}
	if !ok {
		return ErrWrongCode
	}
	return nil
}

// CheckSecondFactor checks a code a pending session (or one stepping up)
// gives as its second factor: six digits from the authenticator app
// (each step's code once, one step of skew), or an unused recovery code
// (used up by this). Right, the session has given its second factor now
// (PassSecondFactor) and the factor is returned. A wrong code is
// ErrWrongCode, counted against the sign-in throttle of the account and
// the address like a failed sign-in (apperr.RateLimited past it).
func (s *Service) CheckSecondFactor(ctx context.Context, cur *Current, code string, c Client) (Factor, error) {
	var f Factor
	err := s.throttled(ctx, cur, c, "wrong second factor code", func() (bool, error) {
		err := s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
			now := s.now()
			uid := cur.Principal.UserID
			if digits := strings.ReplaceAll(strings.TrimSpace(code), " ", ""); len(digits) == 6 && isDigits(digits) {
				r, err := tx.TOTPForUpdate(ctx, uid)
				if apperr.Is(err, apperr.NotFound) {
					return nil
				} else if err != nil {
					return err
				}
				if r.ConfirmedAt == nil {
					return nil
				}
				secret, err := s.openTOTP(r.KeySealed, uid)
				if err != nil {
					return err
				}
				step := s.totpStep(secret, digits, r.LastStep)
				if step == 0 {
					return nil
				}
				if err := tx.SetTOTPStep(ctx, uid, step, nil); err != nil {
					return err
				}
				f = FactorTOTP
				return s.passInTx(ctx, tx, cur, f, now)
			}
			norm := normalRecoveryCode(code)
			if len(norm) != recoveryLen {
				return nil
			}
			ok, err := tx.UseRecoveryCode(ctx, uid, recoveryHash(uid, norm), now)
			if err != nil || !ok {
				return err
			}
			f = FactorRecovery
			return s.passInTx(ctx, tx, cur, f, now)
		})
		return f != "", err
	})
	return f, err
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// RemoveTOTP removes the current person's authenticator app and its
// recovery codes, after a current code from the app or their password
// (either wrong: ErrWrongCode, or a field error on password, counted like
// a failed sign-in). Audited. Where their organisation requires a second
// factor, their next sign-in sets one up again.
func (s *Service) RemoveTOTP(ctx context.Context, cur *Current, code, password string, c Client) error {
	uid := cur.Principal.UserID
	return s.throttled(ctx, cur, c, "wrong code or password removing an app", func() (bool, error) {
		ok := false
		if code == "" {
			acct, err := s.o.Store.AccountByID(ctx, uid)
			if err != nil {
				return false, err
			}
			hash := acct.PasswordHash
			if hash == "" {
				hash = s.dummy
			}
			good, verr := identity.VerifyPassword(hash, password)
			if verr != nil || !good || acct.PasswordHash == "" {
				return false, nil
			}
			ok = true
		}
		err := s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
			r, err := tx.TOTPForUpdate(ctx, uid)
			if apperr.Is(err, apperr.NotFound) {
				return apperr.New(apperr.NotFound, "no authenticator app is set up")
			} else if err != nil {
				return err
			}
			if !ok {
				secret, err := s.openTOTP(r.KeySealed, uid)
				if err != nil {
					return err
				}
				if s.totpStep(secret, code, r.LastStep) == 0 {
					return nil
				}
				ok = true
			}
			if _, err := tx.DeleteTOTP(ctx, uid); err != nil {
				return err
			}
			if _, err := tx.DeleteRecoveryCodes(ctx, uid); err != nil {
				return err
			}
			return tx.Audit(ctx, s.userEntry(cur, audit.SecondFactorRemoved, uid, map[string]any{"factor": FactorTOTP}))
		})
		return ok, err
	})
}

// RecentSecondFactor reports whether the session gave a second factor
// within the last minutes.
func (s *Service) RecentSecondFactor(cur *Current, minutes int) bool {
	at := cur.Session.SecondFactorAt
	return at != nil && s.now().Sub(*at) < time.Duration(minutes)*time.Minute
}

// ErrStepUp asks for a second factor again: the action needs a recent one.
var ErrStepUp = apperr.New(apperr.Precondition, "confirm with your second factor first")

// RenewRecoveryCodes makes ten new recovery codes for the current person
// (the old ones stop counting) and returns them, the only time they are
// shown. It needs an authenticator app and a second factor given within
// the organisation's step-up minutes (ErrStepUp). Audited.
func (s *Service) RenewRecoveryCodes(ctx context.Context, cur *Current) ([]string, error) {
	st, err := s.Factors(ctx, cur.Principal.UserID)
	if err != nil {
		return nil, err
	}
	if !st.TOTP {
		return nil, apperr.New(apperr.Conflict, "recovery codes come with an authenticator app: set one up first")
	}
	if !s.RecentSecondFactor(cur, st.Policy.StepUpMinutes) {
		return nil, ErrStepUp
	}
	codes, hashes, err := newRecoveryCodes(cur.Principal.UserID)
	if err != nil {
		return nil, err
	}
	err = s.withFactors(ctx, func(ctx context.Context, tx FactorTx) error {
		if err := tx.ReplaceRecoveryCodes(ctx, cur.Principal.UserID, hashes, s.now()); err != nil {
			return err
		}
		return tx.Audit(ctx, s.userEntry(cur, audit.RecoveryCodesRenewed, cur.Principal.UserID, map[string]any{"count": len(codes)}))
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// NeedsStepUp reports whether a sensitive action of the current person
// must first ask for their second factor again: their organisation
// requires one of them and the session has not given one within its
// step-up minutes.
func (s *Service) NeedsStepUp(ctx context.Context, cur *Current) (bool, error) {
	st, err := s.Factors(ctx, cur.Principal.UserID)
	if err != nil {
		return false, err
	}
	return st.Required() && !s.RecentSecondFactor(cur, st.Policy.StepUpMinutes), nil
}

// Recovery codes: 12 characters of Crockford's base32 alphabet (60
// random bits), shown as xxxx-xxxx-xxxx. Stored as SHA-256 of the user's
// ID and the code: 60 random bits need no slow hash (docs/security.md).
const (
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryLen      = 12
)

func newRecoveryCodes(userID uuid.UUID) (codes []string, hashes [][]byte, err error) {
	for range RecoveryCodeCount {
		b := make([]byte, recoveryLen)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, fmt.Errorf("recovery code: %w", err)
		}
		raw := make([]byte, recoveryLen)
		for i, x := range b {
			raw[i] = recoveryAlphabet[x&31]
		}
		r := string(raw)
		codes = append(codes, r[:4]+"-"+r[4:8]+"-"+r[8:])
		hashes = append(hashes, recoveryHash(userID, r))
	}
	return codes, hashes, nil
}

// normalRecoveryCode is a code as typed without separators, in lower case,
// with the letters people confuse with digits read as those digits.
func normalRecoveryCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '-' || r == ' ':
		case r == 'o':
			b.WriteByte('0')
		case r == 'i' || r == 'l':
			b.WriteByte('1')
		case r < 128 && strings.ContainsRune(recoveryAlphabet, r):
			b.WriteRune(r)
		default:
			return ""
		}
	}
	return b.String()
}

func recoveryHash(userID uuid.UUID, code string) []byte {
	h := sha256.Sum256([]byte(userID.String() + ":" + code))
	return h[:]
}
