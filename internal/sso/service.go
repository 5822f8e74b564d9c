package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/sealed"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
)

// StateTTL is how long a person has at their provider before the state
// of their sign-in expires.
const StateTTL = 10 * time.Minute

// Reason names why a sign-in through a provider was refused.
type Reason string

// The reasons of refusals; each has its own page (docs/ui.md).
const (
	ReasonUnreachable Reason = "provider_unreachable" // discovery or the token endpoint failed
	ReasonDenied      Reason = "provider_denied"      // the provider answered with an error
	ReasonState       Reason = "state"                // unknown, used, expired or from another browser
	ReasonAudience    Reason = "audience"             // the ID token was meant for another client
	ReasonExpired     Reason = "expired"              // the ID token has expired
	ReasonNonce       Reason = "nonce"                // the ID token's nonce is not this sign-in's
	ReasonToken       Reason = "token"                // the ID token failed another check (signature, issuer)
	ReasonNoEmail     Reason = "no_email"             // the token carries no (verified) e-mail
	ReasonOtherDomain Reason = "other_domain"         // the e-mail's domain is not one of the provider's
	ReasonUnknownUser Reason = "unknown_user"         // no certdesk user with that e-mail in that organisation, or disabled
)

// Refusal is a refused sign-in through a provider.
type Refusal struct {
	Reason Reason
	Err    error // the cause, for the log; never shown
}

func (r *Refusal) Error() string {
	if r.Err != nil {
		return "sso: sign-in refused (" + string(r.Reason) + "): " + r.Err.Error()
	}
	return "sso: sign-in refused (" + string(r.Reason) + ")"
}

func (r *Refusal) Unwrap() error { return r.Err }

// ReasonOf is the reason of a *Refusal in err's chain ("" for none).
func ReasonOf(err error) Reason {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return ""
}

// Options configure a Service.
type Options struct {
	Store   Store
	Secrets *sealed.Box
	// HTTP sends the requests to providers (discovery, keys, the token
	// endpoint): certdesk's outbound client.
	HTTP *http.Client
	// RedirectURL is <CERTDESK_BASE_URL>/signin/oidc/callback.
	RedirectURL string
	// Installation is the operator's provider; nil: none.
	Installation *Installation
	// Limiter bounds how many sign-ins through a provider one client
	// address may start (StartRule); nil: no bound.
	Limiter *throttle.Limiter
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// StartRule bounds the sign-ins through a provider that one client
// address may start: each start stores a state row and makes certdesk
// fetch the provider's discovery document, and the e-mail step needs no
// password, so without a bound anyone could fill the table or send
// certdesk at a provider in a loop. Twenty in ten minutes is more than a
// person who mistypes needs.
var StartRule = throttle.Rule{Scope: "signin.oidc_start", Limit: 20, Window: 10 * time.Minute}

// Service holds the single sign-on use cases.
type Service struct {
	o Options
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Secrets == nil || o.HTTP == nil || o.RedirectURL == "" {
		return nil, fmt.Errorf("sso: Store, Secrets, HTTP and RedirectURL are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if in := o.Installation; in != nil {
		in.Domains = ParseDomains(strings.Join(in.Domains, ","))
		if in.EmailClaim == "" {
			in.EmailClaim = "email"
		}
	}
	return &Service{o: o}, nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

func secretLabel(orgID uuid.UUID) string { return "oidc:" + orgID.String() }

// providerFor finds the provider of an e-mail's domain: an
// organisation's first, then the installation's. Not found:
// apperr.NotFound.
func (s *Service) providerFor(ctx context.Context, email string) (*Provider, error) {
	d := DomainOf(email)
	if d == "" {
		return nil, apperr.New(apperr.NotFound, "no provider")
	}
	p, err := s.o.Store.ProviderForDomain(ctx, d)
	if err == nil || !apperr.Is(err, apperr.NotFound) {
		return p, err
	}
	if in := s.o.Installation; in != nil && slices.Contains(in.Domains, d) {
		return &Provider{Issuer: in.Issuer, ClientID: in.ClientID, EmailClaim: in.EmailClaim, Domains: in.Domains}, nil
	}
	return nil, apperr.New(apperr.NotFound, "no provider")
}

// HasProvider reports whether people of the e-mail's domain sign in
// through a provider (it says nothing about the address itself).
func (s *Service) HasProvider(ctx context.Context, email string) (bool, error) {
	_, err := s.providerFor(ctx, email)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// oauth builds the provider's OAuth 2 configuration, fetching its
// discovery document. A provider that cannot be reached is a Refusal
// with ReasonUnreachable.
func (s *Service) oauth(ctx context.Context, p *Provider) (context.Context, *oidc.Provider, *oauth2.Config, error) {
	secret := ""
	if p.OrgID == uuid.Nil {
		secret = s.o.Installation.ClientSecret
	} else {
		plain, err := s.o.Secrets.Open(p.SecretSealed, secretLabel(p.OrgID))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sso: open the client secret: %w", err)
		}
		secret = string(plain)
	}
	ctx = oidc.ClientContext(ctx, s.o.HTTP)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.o.HTTP)
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		return nil, nil, nil, &Refusal{Reason: ReasonUnreachable, Err: err}
	}
	cfg := &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: s.o.RedirectURL,
		Scopes: Scopes}
	return ctx, op, cfg, nil
}

func random() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sso: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Begin starts a sign-in of email through its domain's provider and
// returns the URL to send the browser to. browser is a secret of the
// browser (its pre-session secret) that the callback must present again;
// returnTo is where the person was heading; remoteAddr is the client's
// address, which may start StartRule's number of sign-ins per window
// (then apperr.RateLimited). No provider for the domain: apperr.NotFound;
// the provider cannot be reached: a Refusal.
func (s *Service) Begin(ctx context.Context, email, browser, returnTo, remoteAddr string) (string, error) {
	p, err := s.providerFor(ctx, email)
	if err != nil {
		return "", err
	}
	if l := s.o.Limiter; l != nil {
		key := identity.AddressKey(remoteAddr)
		if err := l.Check(ctx, StartRule, key); err != nil {
			return "", err
		}
		if _, err := l.FailFor(ctx, StartRule, key, "sign-in started"); err != nil {
			return "", err
		}
	}
	_, _, cfg, err := s.oauth(ctx, p)
	if err != nil {
		return "", err
	}
	state, err := random()
	if err != nil {
		return "", err
	}
	nonce, err := random()
	if err != nil {
		return "", err
	}
	now := s.now()
	st := &State{BrowserHash: hash(browser), OrgID: p.OrgID, Email: strings.TrimSpace(email), Nonce: nonce,
		Verifier: oauth2.GenerateVerifier(), ReturnTo: returnTo, ExpiresAt: now.Add(StateTTL)}
	err = s.o.Store.InSSOTx(ctx, func(ctx context.Context, tx Tx) error {
		return tx.InsertState(ctx, hash(state), st, now)
	})
	if err != nil {
		return "", err
	}
	return cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(st.Verifier),
		oauth2.SetAuthURLParam("login_hint", st.Email)), nil
}

// Callback is what the provider sent back to the redirect URI.
type Callback struct {
	State, Code      string
	Error, ErrorDesc string // the provider's error parameter, if any
	Browser          string // the browser's secret given to Begin
	RemoteAddr       string
}

// Result is a checked sign-in: the certdesk user to open a session for.
type Result struct {
	UserID   uuid.UUID
	Email    string
	ReturnTo string
	Created  bool // the user was created at this sign-in
}

// Finish completes a sign-in: it takes the state (once), exchanges the
// code with PKCE, verifies the ID token and its nonce, and finds (or, if
// the provider says so, creates) the user of the token's e-mail in the
// provider's organisation. Every refusal is a *Refusal; those after a
// good state are audited (SignInFailed). The ReturnTo of a refusal after
// a good state is in the returned Result (with no user).
func (s *Service) Finish(ctx context.Context, cb Callback) (*Result, error) {
	if cb.State == "" {
		return nil, &Refusal{Reason: ReasonState, Err: errors.New("no state")}
	}
	now := s.now()
	var st *State
	err := s.o.Store.InSSOTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		st, err = tx.TakeState(ctx, hash(cb.State), now)
		return err
	})
	if apperr.Is(err, apperr.NotFound) {
		return nil, &Refusal{Reason: ReasonState, Err: errors.New("unknown, used or expired state")}
	} else if err != nil {
		return nil, err
	}
	res := &Result{ReturnTo: st.ReturnTo}
	if subtle.ConstantTimeCompare(st.BrowserHash, hash(cb.Browser)) != 1 {
		return res, &Refusal{Reason: ReasonState, Err: errors.New("the callback came to another browser")}
	}
	p, email, err := s.verify(ctx, st, cb)
	if err == nil {
		err = s.admit(ctx, p, email, cb.RemoteAddr, res)
	}
	if err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			s.o.Logger.Info("sso: sign-in refused", "reason", r.Reason, "err", r.Err)
			issuer := ""
			if p != nil {
				issuer = p.Issuer
			}
			if aerr := s.auditFailure(ctx, st, issuer, email, r.Reason, cb.RemoteAddr); aerr != nil {
				return res, errors.Join(err, aerr)
			}
		}
		return res, err
	}
	return res, nil
}

// verify exchanges the code and checks the ID token; it returns the
// provider and the token's e-mail.
func (s *Service) verify(ctx context.Context, st *State, cb Callback) (*Provider, string, error) {
	var p *Provider
	if st.OrgID == uuid.Nil {
		in := s.o.Installation
		if in == nil {
			return nil, "", &Refusal{Reason: ReasonState, Err: errors.New("the installation's provider is gone")}
		}
		p = &Provider{Issuer: in.Issuer, ClientID: in.ClientID, EmailClaim: in.EmailClaim, Domains: in.Domains}
	} else {
		var err error
		if p, err = s.o.Store.ProviderOf(ctx, st.OrgID); apperr.Is(err, apperr.NotFound) {
			return nil, "", &Refusal{Reason: ReasonState, Err: errors.New("the organisation's provider is gone")}
		} else if err != nil {
			return nil, "", err
		}
	}
	if cb.Error != "" {
		return p, "", &Refusal{Reason: ReasonDenied, Err: fmt.Errorf("provider error %q: %s", cb.Error, cb.ErrorDesc)}
	}
	if cb.Code == "" {
		return p, "", &Refusal{Reason: ReasonDenied, Err: errors.New("no code")}
	}
	octx, op, cfg, err := s.oauth(ctx, p)
	if err != nil {
		return p, "", err
	}
	tok, err := cfg.Exchange(octx, cb.Code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return p, "", &Refusal{Reason: ReasonUnreachable, Err: fmt.Errorf("token endpoint: %w", err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return p, "", &Refusal{Reason: ReasonToken, Err: errors.New("no id_token in the token response")}
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: p.ClientID, Now: s.o.Now}).Verify(octx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		switch {
		case errors.As(err, &exp):
			return p, "", &Refusal{Reason: ReasonExpired, Err: err}
		case strings.Contains(err.Error(), "expected audience"):
			return p, "", &Refusal{Reason: ReasonAudience, Err: err}
		default:
			return p, "", &Refusal{Reason: ReasonToken, Err: err}
		}
	}
	if idt.Nonce == "" || subtle.ConstantTimeCompare(hash(idt.Nonce), hash(st.Nonce)) != 1 {
		return p, "", &Refusal{Reason: ReasonNonce, Err: errors.New("the nonce does not match")}
	}
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return p, "", &Refusal{Reason: ReasonToken, Err: err}
	}
	var email string
	if err := json.Unmarshal(claims[p.EmailClaim], &email); err != nil || !strings.Contains(email, "@") {
		return p, "", &Refusal{Reason: ReasonNoEmail, Err: fmt.Errorf("claim %q holds no e-mail address", p.EmailClaim)}
	}
	if p.EmailClaim == "email" {
		// A provider that says the address is not verified is not
		// believed (a person could type someone else's).
		var verified *bool
		if v, ok := claims["email_verified"]; ok && json.Unmarshal(v, &verified) == nil && verified != nil && !*verified {
			return p, email, &Refusal{Reason: ReasonNoEmail, Err: errors.New("email_verified is false")}
		}
	}
	return p, strings.TrimSpace(email), nil
}

// admit finds the certdesk user of email in p's organisation, or creates
// one where p allows it.
func (s *Service) admit(ctx context.Context, p *Provider, email, remoteAddr string, res *Result) error {
	res.Email = email
	if !slices.Contains(p.Domains, DomainOf(email)) {
		return &Refusal{Reason: ReasonOtherDomain, Err: fmt.Errorf("%s is not a domain of the provider", DomainOf(email))}
	}
	u, err := s.o.Store.UserByEmail(ctx, email)
	switch {
	case apperr.Is(err, apperr.NotFound):
		if p.OrgID == uuid.Nil || !p.CreateUsers {
			return &Refusal{Reason: ReasonUnknownUser, Err: errors.New("no user with this e-mail")}
		}
		return s.create(ctx, p, email, remoteAddr, res)
	case err != nil:
		return err
	case p.OrgID != uuid.Nil && u.OrgID != p.OrgID:
		return &Refusal{Reason: ReasonUnknownUser, Err: errors.New("the user is of another organisation")}
	case u.DisabledAt != nil:
		return &Refusal{Reason: ReasonUnknownUser, Err: errors.New("the user is disabled")}
	}
	res.UserID = u.ID
	return nil
}

// create creates the user of a first sign-in, audited as the system's
// act on the provider's behalf.
func (s *Service) create(ctx context.Context, p *Provider, email, remoteAddr string, res *Result) error {
	in := identity.NewUser{OrgID: p.OrgID, Email: email, Name: strings.SplitN(email, "@", 2)[0], Role: p.DefaultRole}
	if err := in.Validate(); err != nil {
		return &Refusal{Reason: ReasonNoEmail, Err: err}
	}
	u := &identity.User{ID: uuid.New(), OrgID: p.OrgID, Email: email, Name: in.Name, Role: p.DefaultRole}
	err := s.o.Store.InSSOTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.InsertUser(ctx, u, ""); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{Actor: "certdesk", Action: audit.UserCreated, TargetType: "user", TargetID: u.ID.String(),
			RemoteAddr: remoteAddr, Data: jsonOf(map[string]any{"email": u.Email, "role": u.Role, "org_id": u.OrgID, "by": "oidc", "issuer": p.Issuer})})
	})
	if apperr.Is(err, apperr.Conflict) {
		return &Refusal{Reason: ReasonUnknownUser, Err: err}
	} else if err != nil {
		return err
	}
	res.UserID, res.Created = u.ID, true
	return nil
}

func (s *Service) auditFailure(ctx context.Context, st *State, issuer, email string, reason Reason, remoteAddr string) error {
	if email == "" {
		email = st.Email
	}
	target := ""
	if st.OrgID != uuid.Nil {
		target = st.OrgID.String()
	}
	return s.o.Store.InSSOTx(context.WithoutCancel(ctx), func(ctx context.Context, tx Tx) error {
		return tx.Audit(ctx, audit.Entry{Actor: clip(email, 254), Action: SignInFailed, TargetType: "organization", TargetID: target,
			RemoteAddr: remoteAddr, Data: jsonOf(map[string]any{"reason": reason, "issuer": issuer, "email": clip(email, 254)})})
	})
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > n {
		return s[:n]
	}
	return s
}

func jsonOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// Config is an organisation's provider as its administrator sees it:
// never the secret, only whether one is stored.
type Config struct {
	Configured  bool
	Issuer      string
	ClientID    string
	SecretSet   bool
	EmailClaim  string
	Domains     []string
	CreateUsers bool
	DefaultRole access.Role
	UpdatedAt   time.Time
	RedirectURL string
	// Scopes are the scopes certdesk asks for, separated by spaces.
	Scopes string
}

// Scopes are the scopes certdesk asks providers for.
var Scopes = []string{"openid", "email", "profile"}

// requireOwn checks that actor administers orgID's own organisation:
// a provider is configured by its organisation's administrators only.
func requireOwn(actor access.Principal, orgID uuid.UUID) error {
	if err := actor.Require(access.ManageUsers); err != nil {
		return err
	}
	if !actor.System && actor.OrgID != orgID {
		return apperr.New(apperr.Forbidden, "an organisation's identity provider is configured by its own administrators")
	}
	return nil
}

// ConfigOf returns the provider of orgID as its administrator sees it.
// Another organisation's: apperr.Forbidden.
func (s *Service) ConfigOf(ctx context.Context, actor access.Principal, orgID uuid.UUID) (*Config, error) {
	if err := requireOwn(actor, orgID); err != nil {
		return nil, err
	}
	c := &Config{EmailClaim: "email", DefaultRole: access.Reporter, RedirectURL: s.o.RedirectURL, Scopes: strings.Join(Scopes, " ")}
	p, err := s.o.Store.ProviderOf(ctx, orgID)
	if apperr.Is(err, apperr.NotFound) {
		return c, nil
	} else if err != nil {
		return nil, err
	}
	*c = Config{Configured: true, Issuer: p.Issuer, ClientID: p.ClientID, SecretSet: len(p.SecretSealed) > 0, EmailClaim: p.EmailClaim,
		Domains: p.Domains, CreateUsers: p.CreateUsers, DefaultRole: p.DefaultRole, UpdatedAt: p.UpdatedAt, RedirectURL: s.o.RedirectURL, Scopes: c.Scopes}
	return c, nil
}

// Save configures orgID's provider. An empty secret keeps the stored
// one. A domain another organisation uses (its provider's, or its users'
// e-mails) is refused (apperr.Invalid on "domains"). Audited.
func (s *Service) Save(ctx context.Context, actor access.Principal, orgID uuid.UUID, in Input) error {
	if err := requireOwn(actor, orgID); err != nil {
		return err
	}
	old, err := s.o.Store.ProviderOf(ctx, orgID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	// Every field's error at once, the domains other organisations use
	// among them.
	var fs apperr.Fields
	if verr := in.Validate(old != nil); verr != nil {
		e, ok := apperr.As(verr)
		if !ok {
			return verr
		}
		fs = append(fs, e.Fields...)
	}
	domains := ParseDomains(in.Domains)
	taken, err := s.o.Store.DomainsTaken(ctx, orgID, domains)
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		fs.Add("domains", "taken", "another organisation uses %s", strings.Join(taken, ", "))
	}
	if err := fs.Err(); err != nil {
		return err
	}
	p := &Provider{OrgID: orgID, Issuer: strings.TrimRight(strings.TrimSpace(in.Issuer), "/"), ClientID: strings.TrimSpace(in.ClientID),
		EmailClaim: strings.TrimSpace(in.EmailClaim), Domains: domains, CreateUsers: in.CreateUsers, DefaultRole: in.DefaultRole, UpdatedAt: s.now()}
	if p.EmailClaim == "" {
		p.EmailClaim = "email"
	}
	if !p.DefaultRole.Valid() {
		p.DefaultRole = access.Reporter
	}
	if in.ClientSecret != "" {
		if p.SecretSealed, err = s.o.Secrets.Seal([]byte(in.ClientSecret), secretLabel(orgID)); err != nil {
			return err
		}
	} else {
		p.SecretSealed = old.SecretSealed
	}
	return s.o.Store.InSSOTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.SaveProvider(ctx, p, actor.UserID); err != nil {
			return err
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: actorID(actor), Actor: actor.Email, Action: ProviderSaved, TargetType: "organization",
			TargetID: orgID.String(), RemoteAddr: actor.RemoteAddr, Data: jsonOf(map[string]any{"issuer": p.Issuer, "client_id": p.ClientID,
				"domains": p.Domains, "email_claim": p.EmailClaim, "create_users": p.CreateUsers, "default_role": p.DefaultRole,
				"secret_replaced": in.ClientSecret != ""})})
	})
}

// Remove removes orgID's provider: its people sign in with passwords
// again. Audited; none configured: apperr.NotFound.
func (s *Service) Remove(ctx context.Context, actor access.Principal, orgID uuid.UUID) error {
	if err := requireOwn(actor, orgID); err != nil {
		return err
	}
	return s.o.Store.InSSOTx(ctx, func(ctx context.Context, tx Tx) error {
		ok, err := tx.DeleteProvider(ctx, orgID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "no identity provider is configured")
		}
		return tx.Audit(ctx, audit.Entry{ActorUserID: actorID(actor), Actor: actor.Email, Action: ProviderRemoved, TargetType: "organization",
			TargetID: orgID.String(), RemoteAddr: actor.RemoteAddr})
	})
}

func actorID(p access.Principal) *uuid.UUID {
	if p.UserID == uuid.Nil {
		return nil
	}
	id := p.UserID
	return &id
}
