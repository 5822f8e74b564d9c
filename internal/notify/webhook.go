package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/outbound"
	"github.com/google/uuid"
)

// Poster sends a signed JSON body to a URL a user configured, refusing
// private destinations, with key as its Idempotency-Key header (the same
// for every attempt to deliver one thing); *outbound.Client is one. Its errors are
// outbound's (IsPermanent, RetryAfter).
type Poster interface {
	PostJSON(ctx context.Context, rawURL string, body []byte, secret, key string) (*outbound.Response, error)
}

// WebhookTx is what webhook notifications need inside a transaction,
// besides Tx.
type WebhookTx interface {
	Tx
	// OrgWebhook returns an organisation's webhook URL and secret ("" and ""
	// when it has none).
	OrgWebhook(ctx context.Context, orgID uuid.UUID) (rawURL, secret string, err error)
}

// WebhookStore sets organisations' webhooks.
type WebhookStore interface {
	// SetOrgWebhook sets (or, with rawURL "", clears) the webhook of the
	// organisation slug; apperr.NotFound when there is none.
	SetOrgWebhook(ctx context.Context, slug, rawURL, secret string) error
}

// WebhookSecretPrefix starts every webhook secret certdesk generates.
const WebhookSecretPrefix = "whsec_"

// SetWebhook gives the organisation slug a webhook: notifications to it
// are POSTed to rawURL (absolute http or https, without user:password) as
// JSON signed with a new secret, which is returned here and never shown
// again. rawURL "" removes the webhook. It is an operator's action (the
// CLI). Errors: apperr.Invalid naming the field "url"; apperr.NotFound.
func (s *Service) SetWebhook(ctx context.Context, slug, rawURL string) (string, error) {
	ws, ok := s.store.(WebhookStore)
	if !ok {
		return "", fmt.Errorf("notify: %T cannot store webhooks", s.store)
	}
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return "", ws.SetOrgWebhook(ctx, slug, "", "")
	}
	if err := checkWebhookURL(rawURL); err != nil {
		return "", err
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return "", err
	}
	if err := ws.SetOrgWebhook(ctx, slug, rawURL, secret); err != nil {
		return "", err
	}
	return secret, nil
}

// checkWebhookURL is the shape a webhook URL must have; errors name the
// field "url".
func checkWebhookURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return apperr.Fields{{Field: "url", Rule: "url", Message: "url must be an absolute http or https URL"}}.Err()
	case u.User != nil:
		return apperr.Fields{{Field: "url", Rule: "no_credentials", Message: "url must not carry user:password (the signature authenticates certdesk)"}}.Err()
	case len(rawURL) > 2000:
		return apperr.Fields{{Field: "url", Rule: "max_length", Message: "url must be at most 2000 characters"}}.Err()
	}
	return nil
}

// newWebhookSecret makes a signing secret.
func newWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return WebhookSecretPrefix + hex.EncodeToString(b), nil
}

// hasWebhook reports whether a recipient gets webhook notifications.
func (s *Service) hasWebhook(ctx context.Context, tx Tx, orgID uuid.UUID) (bool, error) {
	wtx, ok := tx.(WebhookTx)
	if s.webhooks == nil || !ok {
		return false, nil
	}
	u, _, err := wtx.OrgWebhook(ctx, orgID)
	return u != "", err
}

// WebhookDocument is the JSON body of a webhook notification. It is made
// only of the notification as rendered when it was queued, so the TLP
// rule of Render governs it: for TLP:RED and TLP:AMBER+STRICT incidents
// the incident object has only the reference and the severity, and text
// names no title.
type WebhookDocument struct {
	// ID is the notification's ID: receivers deduplicate on it (a delivery
	// whose answer was lost is sent again).
	ID       string          `json:"id"`
	Event    string          `json:"event"`
	EventKey string          `json:"event_key"`
	Incident WebhookIncident `json:"incident"`
	Headline string          `json:"headline"`
	Text     string          `json:"text"`
	Link     string          `json:"link"`
	Created  time.Time       `json:"created_at"`
}

// WebhookIncident is the incident in a WebhookDocument: the fields of the
// rendered message.
type WebhookIncident struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Severity  string `json:"severity"`
	Stage     string `json:"stage,omitempty"`
	TLP       string `json:"tlp,omitempty"`
}

// webhookDocument builds the body of a webhook notification.
func webhookDocument(n *Notification) WebhookDocument {
	d := WebhookDocument{ID: n.ID.String(), Event: n.EventKind, EventKey: n.EventKey, Headline: n.Message.Header,
		Text: n.Message.Text, Link: n.Message.Link, Created: n.CreatedAt,
		Incident: WebhookIncident{ID: n.IncidentID.String()}}
	for _, f := range n.Message.Fields {
		switch f.Label {
		case "Reference":
			d.Incident.Reference = f.Value
		case "Severity":
			d.Incident.Severity = f.Value
		case "Stage":
			d.Incident.Stage = f.Value
		case "TLP":
			d.Incident.TLP = f.Value
		}
	}
	return d
}

// webhookTarget reads, in the claim's transaction, where the webhook
// notification n goes: its recipient's URL and secret. A recipient
// without a webhook (removed since) gets "" and "": postWebhook then
// fails for good.
func (s *Service) webhookTarget(ctx context.Context, tx Tx, n *Notification) (rawURL, secret string, err error) {
	wtx, ok := tx.(WebhookTx)
	if !ok || s.webhooks == nil {
		return "", "", nil
	}
	return wtx.OrgWebhook(ctx, n.RecipientOrgID)
}

// postWebhook POSTs a notification to its recipient's webhook, with no
// transaction open, and maps outbound's errors to the outbox's: a 429 or
// 503 with Retry-After is a *RateLimitError, a refused destination, a
// redirect or another 4xx is a *PermanentError (as is a recipient whose
// webhook was removed), anything else (5xx, timeouts, network errors) is
// worth retrying.
func (s *Service) postWebhook(ctx context.Context, rawURL, secret string, n *Notification) error {
	if s.webhooks == nil {
		return &PermanentError{Err: errors.New("webhooks are not configured")}
	}
	if rawURL == "" {
		return &PermanentError{Err: errors.New("the organisation no longer has a webhook")}
	}
	body, err := json.Marshal(webhookDocument(n))
	if err != nil {
		return &PermanentError{Err: err}
	}
	// The notification's ID is the key: one per (event, recipient,
	// provider), the same on every attempt, and the body's "id".
	_, err = s.webhooks.PostJSON(ctx, rawURL, body, secret, n.ID.String())
	if err == nil {
		return nil
	}
	if d, ok := outbound.RetryAfter(err); ok {
		return &RateLimitError{RetryAfter: d, Err: err}
	}
	if outbound.IsPermanent(err) {
		return &PermanentError{Err: err}
	}
	return err
}
