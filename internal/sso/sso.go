// Package sso is single sign-on through an organisation's OpenID Connect
// provider (docs/security.md, "Signing in: your organisation's identity
// provider").
//
// An organisation's administrator configures its provider: the issuer,
// the client ID and secret (sealed with internal/sealed, label
// "oidc:<org id>", never shown back), the e-mail domains whose people
// sign in there, the claim that carries the e-mail, and whether people
// without a certdesk user get one at their first sign-in (with a default
// role). The operator may configure one provider for the whole
// installation (CERTDESK_OIDC_*); an organisation's own provider takes
// its domains first.
//
// Signing in: Begin finds the provider of the e-mail's domain
// (home-realm discovery) and returns the provider's authorisation URL for
// the authorisation code flow with PKCE (S256), a state and a nonce. The
// state is kept server-side (its SHA-256), bound to the browser that
// left, for ten minutes, and is taken by the callback: it works once.
// Finish exchanges the code, verifies the ID token (signature, issuer,
// audience, expiry; github.com/coreos/go-oidc/v3) and its nonce, and
// returns the certdesk user of the e-mail in the provider's organisation.
// Every refusal is a *Refusal with its reason; every refusal after a good
// state and every created user is audited.
//
// This package is the only importer of go-oidc and golang.org/x/oauth2
// (internal/arch). Requests to providers go through the HTTP client it is
// given: certdesk's outbound client (internal/outbound), which refuses
// private addresses unless the operator allows them.
package sso

import (
	"context"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/google/uuid"
)

// The audited actions of single sign-on. A successful sign-in is the
// session's signin entry with method "oidc".
const (
	// SignInFailed: a sign-in through a provider was refused after the
	// person came back with a good state (Data: reason, issuer, e-mail).
	SignInFailed audit.Action = "signin.oidc_failed"
	// ProviderSaved and ProviderRemoved: an administrator configured or
	// removed their organisation's provider (never the secret).
	ProviderSaved   audit.Action = "sso.provider_saved"
	ProviderRemoved audit.Action = "sso.provider_removed"
)

// Provider is an organisation's OpenID Connect provider.
type Provider struct {
	// OrgID is the organisation's; uuid.Nil is the installation's
	// provider, configured by the operator.
	OrgID    uuid.UUID
	Issuer   string
	ClientID string
	// SecretSealed is the client secret sealed with label "oidc:<org id>"
	// (empty for the installation's provider, whose secret is in
	// Options.Installation).
	SecretSealed []byte
	// EmailClaim is the ID token's claim that carries the e-mail address.
	EmailClaim string
	// Domains are the e-mail domains (lower case) whose people sign in here.
	Domains []string
	// CreateUsers creates a user with DefaultRole at a first sign-in.
	CreateUsers bool
	DefaultRole access.Role
	UpdatedAt   time.Time
}

// Installation is the provider the operator configures for the whole
// installation: no user is created through it.
type Installation struct {
	Issuer, ClientID, ClientSecret string
	EmailClaim                     string
	Domains                        []string
}

// Input is what an administrator saves. An empty ClientSecret keeps the
// stored one.
type Input struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	EmailClaim   string
	Domains      string // separated by commas, spaces or new lines
	CreateUsers  bool
	DefaultRole  access.Role
}

// ParseDomains splits a list of domains on commas and white space, in
// lower case, without an "@" in front, sorted and without duplicates.
func ParseDomains(s string) []string {
	var out []string
	for _, d := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		d = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "@")
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// DomainOf is the lower-case domain of an e-mail address ("" without one).
func DomainOf(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 || i == len(email)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(email[i+1:]))
}

// validDomain is a host name of at least two labels, letters, digits and
// hyphens.
func validDomain(d string) bool {
	if len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Validate checks an administrator's input; keepSecret says a secret is
// stored already, so an empty one keeps it.
func (in Input) Validate(keepSecret bool) error {
	var fs apperr.Fields
	u, err := url.Parse(strings.TrimSpace(in.Issuer))
	switch {
	case strings.TrimSpace(in.Issuer) == "":
		fs.Add("issuer", "required", "the issuer URL is required")
	case err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) || u.RawQuery != "" || u.Fragment != "":
		fs.Add("issuer", "invalid", "the issuer must be an https URL without query")
	}
	if strings.TrimSpace(in.ClientID) == "" {
		fs.Add("client_id", "required", "the client ID is required")
	} else if len(in.ClientID) > 255 {
		fs.Add("client_id", "too_long", "the client ID is too long")
	}
	if in.ClientSecret == "" && !keepSecret {
		fs.Add("client_secret", "required", "the client secret is required")
	} else if len(in.ClientSecret) > 1024 {
		fs.Add("client_secret", "too_long", "the client secret is too long")
	}
	if c := strings.TrimSpace(in.EmailClaim); c != "" && (len(c) > 100 || strings.ContainsAny(c, " \t\n")) {
		fs.Add("email_claim", "invalid", "the claim is a name without spaces")
	}
	ds := ParseDomains(in.Domains)
	if len(ds) == 0 {
		fs.Add("domains", "required", "at least one e-mail domain is required")
	}
	for _, d := range ds {
		if !validDomain(d) {
			fs.Add("domains", "invalid", "not an e-mail domain: %s", d)
			break
		}
	}
	if in.CreateUsers && !in.DefaultRole.Valid() {
		fs.Add("default_role", "invalid", "choose the role of users created at their first sign-in")
	}
	return fs.Err()
}

// State is a sign-in under way, between Begin and Finish.
type State struct {
	BrowserHash []byte
	OrgID       uuid.UUID // uuid.Nil: the installation's provider
	Email       string
	Nonce       string
	Verifier    string
	ReturnTo    string
	ExpiresAt   time.Time
}

// Store is the persistence of providers and sign-ins under way.
type Store interface {
	InSSOTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// ProviderOf returns an organisation's provider. Not found:
	// apperr.NotFound.
	ProviderOf(ctx context.Context, orgID uuid.UUID) (*Provider, error)
	// ProviderForDomain returns the provider that claims an e-mail
	// domain. Not found: apperr.NotFound.
	ProviderForDomain(ctx context.Context, domain string) (*Provider, error)
	// DomainsTaken returns those of domains that another organisation
	// than orgID uses: claimed by its provider or in its users' e-mails.
	DomainsTaken(ctx context.Context, orgID uuid.UUID, domains []string) ([]string, error)
	// UserByEmail finds a user by e-mail, ignoring case. Not found:
	// apperr.NotFound.
	UserByEmail(ctx context.Context, email string) (*identity.User, error)
}

// Tx is what single sign-on changes in a transaction.
type Tx interface {
	// SaveProvider inserts or replaces an organisation's provider and its
	// domains.
	SaveProvider(ctx context.Context, p *Provider, by uuid.UUID) error
	// DeleteProvider removes an organisation's provider; false when it had none.
	DeleteProvider(ctx context.Context, orgID uuid.UUID) (bool, error)
	// InsertState records a sign-in under way and removes those expired
	// before now.
	InsertState(ctx context.Context, stateHash []byte, st *State, now time.Time) error
	// TakeState deletes and returns the sign-in under way of this state
	// hash, if it has not expired at now. Not found or expired:
	// apperr.NotFound.
	TakeState(ctx context.Context, stateHash []byte, now time.Time) (*State, error)
	InsertUser(ctx context.Context, u *identity.User, passwordHash string) error
	Audit(ctx context.Context, e audit.Entry) error
}

// loopback reports whether host is this machine (plain http is allowed
// there only: a provider in a test or on the same host).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
