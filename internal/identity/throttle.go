package identity

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/throttle"
)

// The limits on failed authentication (security review, finding 9).
var (
	// AddressRule counts every failed authentication from one client
	// address, whatever was presented: a bearer token, a Slack signature,
	// a password reset link. Its windows are summarised into one
	// auth.failed audit entry per address and minute (AuditSummaries).
	AddressRule = throttle.Rule{Scope: "auth.addr", Limit: 20, Window: time.Minute}
	// TokenPrefixRule counts the failures of bearer tokens by their first
	// characters (TokenPrefix and six more), from any address: one token
	// replayed from many addresses.
	TokenPrefixRule = throttle.Rule{Scope: "auth.token_prefix", Limit: 20, Window: time.Minute}
)

// AuditSummaries are the throttle windows that become audit entries:
// those of AddressRule, as auth.failed.
var AuditSummaries = []throttle.Summary{{Rule: AddressRule, Action: audit.AuthFailed}}

// AddressKey is the key of a client address in AddressRule: the address
// itself for IPv4 (and IPv4-mapped IPv6), its /64 for IPv6, because one
// IPv6 client usually holds a whole /64 and could otherwise spread its
// failures over as many addresses as it likes. Anything that is not an IP
// address is kept as it is, at most 64 characters; "" is "unknown".
func AddressKey(addr string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	switch {
	case err == nil && (a.Is4() || a.Is4In6()):
		return a.Unmap().String()
	case err == nil:
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	case addr == "":
		return "unknown"
	case len(addr) > 64:
		return addr[:64]
	}
	return addr
}

// tokenPrefixLength is the length of a token's prefix shown in listings
// and counted by TokenPrefixRule: "cdt_" and six characters.
const tokenPrefixLength = len(TokenPrefix) + 6

// PrefixKey is the key of a presented bearer token in TokenPrefixRule:
// its first characters when it looks like a certdesk token, else "other"
// (nothing that is not a certdesk token can ever authenticate).
func PrefixKey(token string) string {
	if len(token) < tokenPrefixLength || !strings.HasPrefix(token, TokenPrefix) {
		return "other"
	}
	for _, c := range token[len(TokenPrefix):tokenPrefixLength] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "other"
		}
	}
	return token[:tokenPrefixLength]
}

// Failed records a failed authentication from remoteAddr that is not a
// bearer token (a Slack request with a bad signature, for one) under
// AddressRule, with its reason. It returns nil while the address is
// within the limit, else the apperr.RateLimited error to answer instead of
// the caller's own refusal. The failure reaches the audit log with the
// address's other failures of the minute (AuditSummaries), not on its own.
func (s *Service) Failed(ctx context.Context, remoteAddr, reason string) error {
	return s.limiter.Refuse(ctx, AddressRule, AddressKey(remoteAddr), reason)
}

// refuse records a failed bearer-token authentication under AddressRule
// and TokenPrefixRule and returns ErrUnauthenticated, or the RateLimited
// error of whichever rule is over its limit (the later of the two ends
// when both are).
func (s *Service) refuse(ctx context.Context, remoteAddr, token, reason string) error {
	var limited *apperr.Error
	for _, f := range []struct {
		rule throttle.Rule
		key  string
	}{{AddressRule, AddressKey(remoteAddr)}, {TokenPrefixRule, PrefixKey(token)}} {
		err := s.limiter.Refuse(ctx, f.rule, f.key, reason)
		if err == nil {
			continue
		}
		ae, ok := apperr.As(err)
		if !ok || ae.Code != apperr.RateLimited {
			return err
		}
		if limited == nil || ae.RetryAfter > limited.RetryAfter {
			limited = ae
		}
	}
	if limited != nil {
		return limited
	}
	return ErrUnauthenticated
}
