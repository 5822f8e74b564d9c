package notify

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/outbound"
)

// Checker asks the guard against internal addresses about a URL before it
// is saved; *outbound.Client is one.
type Checker interface {
	Check(ctx context.Context, rawURL string) outbound.Verdict
}

// Directory tells which organisations an administrator manages;
// *org.Service is one.
type Directory interface {
	// Managed returns the organisation slug when the actor administers
	// it: apperr.NotFound when it does not exist or is hidden,
	// apperr.Forbidden when the actor does not manage it.
	Managed(ctx context.Context, a org.Actor, slug string) (*org.Organization, error)
}

// ActorWebhookStore sets a webhook on behalf of an administrator, with the
// audit entry naming them.
type ActorWebhookStore interface {
	SetOrgWebhookAs(ctx context.Context, a org.Actor, slug, rawURL, secret string) error
}

// OrgWebhook is an organisation's webhook as its administrators see it:
// where it goes, never its secret. The URL's path and query are left out,
// as they often hold a token.
type OrgWebhook struct {
	Org org.Organization
	// Set is true when the organisation has a webhook.
	Set bool
	// Origin is the webhook URL's scheme and host ("https://hooks.example").
	Origin string
}

// WebhookChange is the outcome of ConfigureWebhook.
type WebhookChange struct {
	OrgWebhook
	// Secret is the new signing secret, shown this once ("" when the
	// webhook was removed or nothing was saved).
	Secret string
	// Verdict is the guard's answer about the URL (nil when removing, or
	// when webhooks are not configured).
	Verdict *outbound.Verdict
}

// Webhook returns the webhook of the organisation slug. Administrators of
// the organisation and of the CERTs above it may read it (Directory's
// errors).
func (s *Service) Webhook(ctx context.Context, p access.Principal, slug string) (*OrgWebhook, error) {
	if s.directory == nil {
		return nil, fmt.Errorf("notify: no Directory to authorise webhooks")
	}
	o, err := s.directory.Managed(ctx, p.OrgActor(), slug)
	if err != nil {
		return nil, err
	}
	var raw string
	err = s.store.InNotifyTx(ctx, func(ctx context.Context, tx Tx) error {
		wtx, ok := tx.(WebhookTx)
		if !ok {
			return fmt.Errorf("notify: %T cannot read webhooks", tx)
		}
		raw, _, err = wtx.OrgWebhook(ctx, o.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &OrgWebhook{Org: *o, Set: raw != "", Origin: origin(raw)}, nil
}

// ConfigureWebhook sets (rawURL "": removes) the webhook of the
// organisation slug as the administrator p: the URL must have the shape
// SetWebhook requires, and the guard against internal addresses must
// allow it now (its verdict comes back either way). A new signing secret
// is made each time and returned once. The change is audited under p.
// Errors: Directory's (NotFound, Forbidden); apperr.Invalid naming "url"
// with the rules of SetWebhook, "refused" (an address the guard refuses)
// or "unresolved" (the host does not resolve).
func (s *Service) ConfigureWebhook(ctx context.Context, p access.Principal, slug, rawURL string) (*WebhookChange, error) {
	if s.directory == nil {
		return nil, fmt.Errorf("notify: no Directory to authorise webhooks")
	}
	ws, ok := s.store.(ActorWebhookStore)
	if !ok {
		return nil, fmt.Errorf("notify: %T cannot store webhooks", s.store)
	}
	o, err := s.directory.Managed(ctx, p.OrgActor(), slug)
	if err != nil {
		return nil, err
	}
	out := &WebhookChange{OrgWebhook: OrgWebhook{Org: *o}}
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return out, ws.SetOrgWebhookAs(ctx, p.OrgActor(), o.Slug, "", "")
	}
	if err := checkWebhookURL(rawURL); err != nil {
		return out, err
	}
	if c, ok := s.webhooks.(Checker); ok {
		v := c.Check(ctx, rawURL)
		out.Verdict = &v
		switch {
		case v.Refused != nil:
			return out, apperr.Fields{{Field: "url", Rule: "refused", Message: v.Refused.Error()}}.Err()
		case v.Err != nil:
			return out, apperr.Fields{{Field: "url", Rule: "unresolved", Message: "the host does not resolve: " + v.Err.Error()}}.Err()
		}
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return out, err
	}
	if err := ws.SetOrgWebhookAs(ctx, p.OrgActor(), o.Slug, rawURL, secret); err != nil {
		return out, err
	}
	out.Set, out.Origin, out.Secret = true, origin(rawURL), secret
	return out, nil
}

// origin is a URL's scheme and host.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
