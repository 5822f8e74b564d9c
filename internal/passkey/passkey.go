// Package passkey lets people sign in with passkeys (WebAuthn): register
// several, name, rename and remove them, sign in with a passkey alone
// where their organisation allows it, and use one as the second factor of
// a session that a password or OpenID Connect opened. It is the only
// package that imports go-webauthn (internal/arch).
//
// The relying party is the service's base URL (CERTDESK_BASE_URL): its
// host name is the RP ID, the URL itself the only origin accepted.
// Passkeys are registered as discoverable credentials (resident keys
// required) with user verification required, so that a passkey alone is
// both factors (possession and a PIN or biometric check on the device).
// certdesk keeps each passkey's public key and go-webauthn's record of it
// (signature counter, flags, transports) in webauthn_credentials; the
// private key never leaves the authenticator.
//
// A ceremony's challenge is kept server-side (webauthn_ceremonies), bound
// to the browser that began it (the SHA-256 of its session or
// pre-session secret), one at a time per kind, good for CeremonyLifetime
// and taken when the answer comes, whatever the answer.
package passkey

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"
)

// The audited actions of passkeys.
const (
	// Added is a passkey registered by its person.
	Added audit.Action = "passkey.added"
	// Removed is a passkey removed by its person.
	Removed audit.Action = "passkey.removed"
	// CloneRefused is an assertion refused because the passkey's
	// signature counter went backwards: a copy of it may exist.
	CloneRefused audit.Action = "passkey.clone_refused"
)

// CeremonyLifetime is how long a browser has to answer a challenge.
const CeremonyLifetime = 5 * time.Minute

// MaxName is the longest name of a passkey, in characters.
const MaxName = 100

// Passkey is one registered passkey of a person.
type Passkey struct {
	ID         []byte // the credential ID the authenticator chose
	UserID     uuid.UUID
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// Credential is go-webauthn's record of the credential as JSON: the
	// public key, the signature counter, flags and transports.
	Credential json.RawMessage
}

// Key is the passkey's ID as it appears in URLs (unpadded base64url).
func (p Passkey) Key() string { return base64.RawURLEncoding.EncodeToString(p.ID) }

// ParseKey reads a Key; anything else is apperr.NotFound.
func ParseKey(s string) ([]byte, error) {
	id, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(id) == 0 || len(id) > 1023 {
		return nil, apperr.New(apperr.NotFound, "passkey not found")
	}
	return id, nil
}

// Kind is what a ceremony is for.
type Kind string

// The ceremonies.
const (
	KindRegister     Kind = "register"      // a signed-in person adds a passkey
	KindSignIn       Kind = "signin"        // a passkey alone signs someone in
	KindSecondFactor Kind = "second_factor" // a passkey as a session's second factor
)

// Ceremony is a challenge waiting for its answer.
type Ceremony struct {
	Binding   []byte // the SHA-256 of the browser's (pre-)session secret
	Kind      Kind
	UserID    *uuid.UUID // the person, for registration and second factors
	Data      json.RawMessage
	ExpiresAt time.Time
}

// Person is who registers a passkey: their ID is the user handle the
// authenticator keeps; e-mail and name are shown by the browser.
type Person struct {
	ID    uuid.UUID
	Email string
	Name  string
}

// Store is the persistence of passkeys.
type Store interface {
	InPasskeyTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Passkeys lists a person's passkeys, oldest first.
	Passkeys(ctx context.Context, userID uuid.UUID) ([]Passkey, error)
	// PasskeyAlone reports whether the organisation of userID lets a
	// passkey alone sign its people in (true without a policy row).
	PasskeyAlone(ctx context.Context, userID uuid.UUID) (bool, error)
}

// Tx is what passkey changes may do inside a transaction.
type Tx interface {
	// PutCeremony removes ceremonies expired before now and stores c,
	// replacing the browser's ceremony of the same kind.
	PutCeremony(ctx context.Context, c Ceremony, now time.Time) error
	// TakeCeremony removes and returns the browser's ceremony of kind;
	// apperr.NotFound when there is none or it expired before now.
	TakeCeremony(ctx context.Context, binding []byte, kind Kind, now time.Time) (*Ceremony, error)
	// LockPasskeys lists a person's passkeys, locked until the
	// transaction ends (their counters are about to change).
	LockPasskeys(ctx context.Context, userID uuid.UUID) ([]Passkey, error)
	InsertPasskey(ctx context.Context, p *Passkey) error
	// RenamePasskey renames userID's passkey id; false when userID has no
	// such passkey.
	RenamePasskey(ctx context.Context, id []byte, userID uuid.UUID, name string) (bool, error)
	// DeletePasskey removes userID's passkey id and returns its name;
	// false when userID has no such passkey.
	DeletePasskey(ctx context.Context, id []byte, userID uuid.UUID) (string, bool, error)
	// UsePasskey records a use of passkey id: its updated record (the
	// counter) and when.
	UsePasskey(ctx context.Context, id []byte, credential json.RawMessage, at time.Time) error
	Audit(ctx context.Context, e audit.Entry) error
}

// Options configure a Service.
type Options struct {
	Store Store
	// Limiter counts failed passkey sign-ins against the client address
	// (identity.AddressRule), with every other failed authentication.
	Limiter *throttle.Limiter
	// BaseURL is the service's public URL: the origin, and its host the
	// relying party ID. WebAuthn refuses IP addresses as RP IDs.
	BaseURL string
	// Name is the relying party's name the browser shows ("certdesk").
	Name string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service holds the passkey use cases.
type Service struct {
	o  Options
	wa *webauthn.WebAuthn
}

// The refusals. ErrRefused is the one answer to an assertion that does
// not check out, whatever was wrong (an unknown passkey, a bad
// signature, an expired challenge, a counter that went backwards).
var (
	ErrRefused = apperr.New(apperr.Unauthorized, "the passkey was not accepted")
	// ErrNotAllowed: the person's organisation does not let a passkey
	// alone sign in; they sign in with their password (or provider) and
	// may use the passkey as the second factor.
	ErrNotAllowed = apperr.New(apperr.Forbidden, "your organisation does not allow signing in with a passkey alone")
	// ErrUnavailable: the base URL cannot be a relying party (an IP
	// address); passkeys are off.
	ErrUnavailable = apperr.New(apperr.Unavailable, "passkeys need certdesk to be reached by a host name")
)

// New returns a Service. A base URL whose host is an IP address (or
// missing, as in the default "http://:8080") gives a Service on which every
// ceremony is ErrUnavailable (WebAuthn allows no IP addresses), so that
// such an installation still starts.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Limiter == nil {
		return nil, fmt.Errorf("passkey: Store and Limiter are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Name == "" {
		o.Name = "certdesk"
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("passkey: BaseURL: %w", err)
	}
	s := &Service{o: o}
	if u.Hostname() == "" || protocol.ValidateRPID(u.Hostname()) != nil {
		return s, nil
	}
	s.wa, err = webauthn.New(&webauthn.Config{
		RPID: u.Hostname(), RPDisplayName: o.Name, RPOrigins: []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{ResidentKey: protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(), UserVerification: protocol.VerificationRequired},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: CeremonyLifetime, TimeoutUVD: CeremonyLifetime},
			Registration: webauthn.TimeoutConfig{Timeout: CeremonyLifetime, TimeoutUVD: CeremonyLifetime},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return s, nil
}

// Available reports whether passkeys can be used (the base URL has a host
// name).
func (s *Service) Available() bool { return s.wa != nil }

// RPID is the relying party ID ("" when passkeys are unavailable).
func (s *Service) RPID() string {
	if s.wa == nil {
		return ""
	}
	return s.wa.Config.RPID
}

func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// user is a person as go-webauthn sees them.
type user struct {
	p     Person
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { b, _ := u.p.ID.MarshalBinary(); return b }
func (u *user) WebAuthnName() string                       { return u.p.Email }
func (u *user) WebAuthnDisplayName() string                { return firstOf(u.p.Name, u.p.Email) }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func firstOf(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

func credentials(ps []Passkey) ([]webauthn.Credential, error) {
	out := make([]webauthn.Credential, 0, len(ps))
	for _, p := range ps {
		var c webauthn.Credential
		if err := json.Unmarshal(p.Credential, &c); err != nil {
			return nil, fmt.Errorf("passkey: read credential: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// CheckName checks a passkey's name: 1 to MaxName characters once
// trimmed. It returns the trimmed name or a field error on "name".
func CheckName(name string) (string, error) {
	name = strings.TrimSpace(name)
	var fs apperr.Fields
	switch {
	case name == "":
		fs.Add("name", "required", "the passkey needs a name")
	case fs.Text("name", name, MaxName):
	}
	if err := fs.Err(); err != nil {
		return "", err
	}
	return name, nil
}

// List returns the person's own passkeys, oldest first.
func (s *Service) List(ctx context.Context, p access.Principal) ([]Passkey, error) {
	return s.o.Store.Passkeys(ctx, p.UserID)
}

// Has reports whether the person has at least one passkey.
func (s *Service) Has(ctx context.Context, userID uuid.UUID) (bool, error) {
	ps, err := s.o.Store.Passkeys(ctx, userID)
	return len(ps) > 0, err
}

// begin stores a ceremony and returns the options for the browser.
func (s *Service) begin(ctx context.Context, binding []byte, kind Kind, userID *uuid.UUID, options any, data *webauthn.SessionData) (json.RawMessage, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	now := s.now()
	c := Ceremony{Binding: binding, Kind: kind, UserID: userID, Data: raw, ExpiresAt: now.Add(CeremonyLifetime)}
	if err := s.o.Store.InPasskeyTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutCeremony(ctx, c, now) }); err != nil {
		return nil, err
	}
	out, err := json.Marshal(options)
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return out, nil
}

// take removes the browser's ceremony of kind and returns its session
// data; a missing or expired one is ErrRefused.
func (s *Service) take(ctx context.Context, binding []byte, kind Kind) (*Ceremony, *webauthn.SessionData, error) {
	var c *Ceremony
	err := s.o.Store.InPasskeyTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		c, err = tx.TakeCeremony(ctx, binding, kind, s.now())
		return err
	})
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, ErrRefused
	} else if err != nil {
		return nil, nil, err
	}
	var data webauthn.SessionData
	if err := json.Unmarshal(c.Data, &data); err != nil {
		return nil, nil, fmt.Errorf("passkey: read ceremony: %w", err)
	}
	return c, &data, nil
}

// BeginRegistration starts adding a passkey for the signed-in person and
// returns the options for navigator.credentials.create (JSON). The
// person's passkeys are excluded, so that one authenticator does not
// register twice.
func (s *Service) BeginRegistration(ctx context.Context, who Person, binding []byte) (json.RawMessage, error) {
	if s.wa == nil {
		return nil, ErrUnavailable
	}
	ps, err := s.o.Store.Passkeys(ctx, who.ID)
	if err != nil {
		return nil, err
	}
	creds, err := credentials(ps)
	if err != nil {
		return nil, err
	}
	u := &user{p: who, creds: creds}
	opts, data, err := s.wa.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(creds).CredentialDescriptors()),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	return s.begin(ctx, binding, KindRegister, &who.ID, opts, data)
}

// FinishRegistration checks the browser's answer to BeginRegistration
// and keeps the new passkey under name (CheckName). Audited as
// passkey.added. An answer that does not check out is an apperr.Invalid
// error on "credential".
func (s *Service) FinishRegistration(ctx context.Context, p access.Principal, who Person, binding []byte, name string, answer []byte) (*Passkey, error) {
	if s.wa == nil {
		return nil, ErrUnavailable
	}
	name, err := CheckName(name)
	if err != nil {
		return nil, err
	}
	c, data, err := s.take(ctx, binding, KindRegister)
	if err != nil || c.UserID == nil || *c.UserID != who.ID {
		return nil, refusedRegistration(err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return nil, refusedRegistration(nil)
	}
	cred, err := s.wa.CreateCredential(&user{p: who}, *data, parsed)
	if err != nil {
		return nil, refusedRegistration(nil)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	pk := &Passkey{ID: cred.ID, UserID: who.ID, Name: name, CreatedAt: s.now(), Credential: raw}
	err = s.o.Store.InPasskeyTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertPasskey(ctx, pk); err != nil {
			return err
		}
		return tx.Audit(ctx, entry(p, Added, pk, nil))
	})
	if err != nil {
		return nil, err
	}
	return pk, nil
}

func refusedRegistration(err error) error {
	if err != nil && !errors.Is(err, ErrRefused) {
		return err
	}
	var fs apperr.Fields
	fs.Add("credential", "refused", "the new passkey was not accepted; try again")
	return fs.Err()
}

// Rename renames one of the person's own passkeys; another's is
// apperr.NotFound.
func (s *Service) Rename(ctx context.Context, p access.Principal, id []byte, name string) error {
	name, err := CheckName(name)
	if err != nil {
		return err
	}
	return s.o.Store.InPasskeyTx(ctx, func(ctx context.Context, tx Tx) error {
		ok, err := tx.RenamePasskey(ctx, id, p.UserID, name)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "passkey not found")
		}
		return nil
	})
}

// Remove removes one of the person's own passkeys (another's is
// apperr.NotFound). Audited as passkey.removed.
func (s *Service) Remove(ctx context.Context, p access.Principal, id []byte) error {
	return s.o.Store.InPasskeyTx(ctx, func(ctx context.Context, tx Tx) error {
		name, ok, err := tx.DeletePasskey(ctx, id, p.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "passkey not found")
		}
		return tx.Audit(ctx, entry(p, Removed, &Passkey{ID: id, Name: name}, nil))
	})
}

// BeginSignIn starts a sign-in with a passkey alone (a discoverable
// credential: the browser offers the person's passkeys for this site)
// and returns the options for navigator.credentials.get (JSON).
func (s *Service) BeginSignIn(ctx context.Context, binding []byte) (json.RawMessage, error) {
	if s.wa == nil {
		return nil, ErrUnavailable
	}
	opts, data, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin sign-in: %w", err)
	}
	return s.begin(ctx, binding, KindSignIn, nil, opts, data)
}

// FinishSignIn checks the browser's answer to BeginSignIn and returns
// the person it signs in (the caller opens the session). Over the
// address's limit of failed authentications the answer is
// apperr.RateLimited before anything is checked; any answer that does
// not check out is ErrRefused and counts as a failure; a person whose
// organisation does not allow a passkey alone is ErrNotAllowed (counted
// too: the passkey was right, but it must not open a session).
func (s *Service) FinishSignIn(ctx context.Context, binding []byte, answer []byte, remoteAddr string) (uuid.UUID, error) {
	if s.wa == nil {
		return uuid.Nil, ErrUnavailable
	}
	addr := identity.AddressKey(remoteAddr)
	if err := s.o.Limiter.Check(ctx, identity.AddressRule, addr); err != nil {
		return uuid.Nil, err
	}
	userID, reason, err := s.finishSignIn(ctx, binding, answer, remoteAddr)
	if reason != "" {
		if _, ferr := s.o.Limiter.FailFor(context.WithoutCancel(ctx), identity.AddressRule, addr, reason); ferr != nil {
			return uuid.Nil, ferr
		}
	}
	return userID, err
}

func (s *Service) finishSignIn(ctx context.Context, binding, answer []byte, remoteAddr string) (uuid.UUID, string, error) {
	_, data, err := s.take(ctx, binding, KindSignIn)
	if err != nil {
		return uuid.Nil, "passkey: no challenge", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return uuid.Nil, "passkey: unreadable answer", ErrRefused
	}
	userID, err := uuid.FromBytes(parsed.Response.UserHandle)
	if err != nil {
		return uuid.Nil, "passkey: unknown passkey", ErrRefused
	}
	reason, err := s.assert(ctx, userID, data, parsed, remoteAddr, func(wa *webauthn.WebAuthn, u *user) (*webauthn.Credential, error) {
		_, c, err := wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return u, nil }, *data, parsed)
		return c, err
	})
	if err != nil {
		return uuid.Nil, reason, err
	}
	alone, err := s.o.Store.PasskeyAlone(ctx, userID)
	if err != nil {
		return uuid.Nil, "", err
	}
	if !alone {
		return uuid.Nil, "passkey: alone not allowed", ErrNotAllowed
	}
	return userID, "", nil
}

// BeginSecondFactor starts the check of a passkey as the second factor
// of the person's session: only their own passkeys are allowed. A person
// without a passkey is apperr.NotFound.
func (s *Service) BeginSecondFactor(ctx context.Context, userID uuid.UUID, binding []byte) (json.RawMessage, error) {
	if s.wa == nil {
		return nil, ErrUnavailable
	}
	ps, err := s.o.Store.Passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, apperr.New(apperr.NotFound, "no passkey")
	}
	creds, err := credentials(ps)
	if err != nil {
		return nil, err
	}
	opts, data, err := s.wa.BeginLogin(&user{p: Person{ID: userID}, creds: creds}, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("passkey: begin second factor: %w", err)
	}
	return s.begin(ctx, binding, KindSecondFactor, &userID, opts, data)
}

// FinishSecondFactor checks the browser's answer to BeginSecondFactor
// for the person userID: a passkey of anyone else is ErrRefused. Failures
// count against the address like FinishSignIn's.
func (s *Service) FinishSecondFactor(ctx context.Context, userID uuid.UUID, binding, answer []byte, remoteAddr string) error {
	if s.wa == nil {
		return ErrUnavailable
	}
	addr := identity.AddressKey(remoteAddr)
	if err := s.o.Limiter.Check(ctx, identity.AddressRule, addr); err != nil {
		return err
	}
	reason, err := s.finishSecondFactor(ctx, userID, binding, answer, remoteAddr)
	if reason != "" {
		if _, ferr := s.o.Limiter.FailFor(context.WithoutCancel(ctx), identity.AddressRule, addr, reason); ferr != nil {
			return ferr
		}
	}
	return err
}

func (s *Service) finishSecondFactor(ctx context.Context, userID uuid.UUID, binding, answer []byte, remoteAddr string) (string, error) {
	c, data, err := s.take(ctx, binding, KindSecondFactor)
	if err != nil {
		return "passkey: no challenge", err
	}
	if c.UserID == nil || *c.UserID != userID {
		return "passkey: another person's challenge", ErrRefused
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return "passkey: unreadable answer", ErrRefused
	}
	return s.assert(ctx, userID, data, parsed, remoteAddr, func(wa *webauthn.WebAuthn, u *user) (*webauthn.Credential, error) {
		return wa.ValidateLogin(u, *data, parsed)
	})
}

// assert validates an assertion against userID's passkeys, locked for the
// transaction, refuses a counter that went backwards (audited), and
// records the use: the new counter and last_used_at. It returns the
// throttle's reason with every refusal.
func (s *Service) assert(ctx context.Context, userID uuid.UUID, data *webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData,
	remoteAddr string, validate func(*webauthn.WebAuthn, *user) (*webauthn.Credential, error)) (string, error) {
	var reason string
	var cloned *Passkey
	err := s.o.Store.InPasskeyTx(ctx, func(ctx context.Context, tx Tx) error {
		ps, err := tx.LockPasskeys(ctx, userID)
		if err != nil {
			return err
		}
		var used *Passkey
		for i := range ps {
			if bytes.Equal(ps[i].ID, parsed.RawID) {
				used = &ps[i]
			}
		}
		if used == nil {
			reason = "passkey: unknown passkey"
			return ErrRefused
		}
		creds, err := credentials(ps)
		if err != nil {
			return err
		}
		cred, err := validate(s.wa, &user{p: Person{ID: userID}, creds: creds})
		if err != nil {
			reason = "passkey: assertion refused"
			return ErrRefused
		}
		if cred.Authenticator.CloneWarning {
			reason, cloned = "passkey: counter went backwards", used
			return ErrRefused
		}
		raw, err := json.Marshal(cred)
		if err != nil {
			return fmt.Errorf("passkey: %w", err)
		}
		return tx.UsePasskey(ctx, cred.ID, raw, s.now())
	})
	if cloned != nil {
		// The refusal is recorded outside the refused transaction.
		p := access.Principal{UserID: userID, RemoteAddr: remoteAddr}
		if aerr := s.o.Store.InPasskeyTx(ctx, func(ctx context.Context, tx Tx) error {
			return tx.Audit(ctx, entry(p, CloneRefused, cloned, map[string]any{"user_id": userID}))
		}); aerr != nil {
			return reason, aerr
		}
	}
	return reason, err
}

func entry(p access.Principal, action audit.Action, pk *Passkey, extra map[string]any) audit.Entry {
	data := map[string]any{"name": pk.Name}
	for k, v := range extra {
		data[k] = v
	}
	raw, _ := json.Marshal(data)
	actor := p.Name()
	if actor == "" || !utf8.ValidString(actor) {
		actor = p.UserID.String()
	}
	return audit.Entry{ActorUserID: p.UserIDPtr(), Actor: actor, Action: action, TargetType: "passkey",
		TargetID: pk.Key(), RemoteAddr: p.RemoteAddr, Data: raw}
}
