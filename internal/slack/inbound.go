package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	slackapi "github.com/slack-go/slack"
)

// MaxSkew is how far the timestamp of a request from Slack may be off
// certdesk's clock: older requests are replays, and are refused.
const MaxSkew = 5 * time.Minute

// Errors of Verify. Both are apperr.Unauthorized (401).
var (
	ErrBadSignature = apperr.New(apperr.Unauthorized, "the request does not carry a valid Slack signature (X-Slack-Signature)")
	ErrStaleRequest = apperr.New(apperr.Unauthorized, "the request's Slack timestamp (X-Slack-Request-Timestamp) is missing or more than five minutes off")
)

// Verify checks that body was sent by Slack: X-Slack-Signature must be
// "v0=" and the hex HMAC-SHA256, keyed with the signing secret, of
// "v0:{X-Slack-Request-Timestamp}:{body}" (compared in constant time), and
// the timestamp must be within MaxSkew of now.
func Verify(h http.Header, body []byte, secret string, now time.Time) error {
	ts := h.Get("X-Slack-Request-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStaleRequest
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStaleRequest
	}
	got, ok := strings.CutPrefix(h.Get("X-Slack-Signature"), "v0=")
	if !ok {
		return ErrBadSignature
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(gotMAC, Sign(secret, ts, body)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the HMAC-SHA256 Slack puts (hex-encoded, after "v0=") in
// X-Slack-Signature for a body sent at timestamp ts.
func Sign(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// UserEmail returns the e-mail address of a Slack user (users.info; needs
// the users:read and users:read.email scopes). A deleted user, or one
// without an address, has none: "" then.
func (c *Client) UserEmail(ctx context.Context, userID string) (string, error) {
	u, err := c.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		var se slackapi.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "user_not_found" || se.Err == "user_not_visible") {
			return "", nil
		}
		return "", fmt.Errorf("slack users.info: %w", err)
	}
	if u.Deleted {
		return "", nil
	}
	return u.Profile.Email, nil
}

// ErrResponseURL is the error of a response_url that is not Slack's.
var ErrResponseURL = errors.New("slack: the response_url is neither https://hooks.slack.com/ nor on SLACK_API_URL's host")

// allowedResponseURL reports whether u may receive a reply: Slack's hooks
// host, or the host of the Web API certdesk talks to (a local fake, a relay).
func (c *Client) allowedResponseURL(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.User != nil {
		return false
	}
	if pu.Scheme == "https" && pu.Host == "hooks.slack.com" {
		return true
	}
	api, err := url.Parse(c.apiURL)
	return err == nil && pu.Scheme == api.Scheme && pu.Host == api.Host
}

// Respond posts an ephemeral reply to the user who pressed a button or ran
// a command, to the response_url of their request. It refuses URLs that
// are not Slack's (ErrResponseURL, permanent); HTTP 4xx answers are
// permanent too, anything else may be retried.
func (c *Client) Respond(ctx context.Context, responseURL, text string) error {
	if !c.allowedResponseURL(responseURL) {
		return &notify.PermanentError{Err: ErrResponseURL}
	}
	err := slackapi.PostWebhookCustomHTTPContext(ctx, responseURL, c.hc,
		&slackapi.WebhookMessage{Text: text, ResponseType: slackapi.ResponseTypeEphemeral})
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) && sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusTooManyRequests {
		return &notify.PermanentError{Err: fmt.Errorf("slack response_url: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("slack response_url: %w", err)
	}
	return nil
}

// Users finds certdesk users by e-mail.
type Users interface {
	// UserByEmail finds a user by e-mail, ignoring case; apperr.NotFound
	// when there is none.
	UserByEmail(ctx context.Context, email string) (*identity.User, error)
}

// Decider accepts (accept true) or declines an escalation as p, with a
// reason. It is the escalation service's.
type Decider func(ctx context.Context, p access.Principal, escalationID string, accept bool, reason string) error

// InboundOptions configures NewInbound.
type InboundOptions struct {
	SigningSecret string
	Client        *Client // users.info and the replies
	Users         Users
	Incidents     *incident.Service
	// Decide accepts or declines escalations; nil: the Accept and Decline
	// buttons answer that escalations are not available.
	Decide Decider
	// Enqueue queues a job in a transaction of its own (the replies).
	Enqueue func(ctx context.Context, job incident.Job) error
	// Failed counts a request refused for its signature or timestamp as a
	// failed authentication of the client address, with its reason
	// (identity.Service.Failed): it returns an apperr.RateLimited error
	// (429) once the address has too many failures, and the failures
	// reach the audit log as one auth.failed entry per address and minute.
	Failed  func(ctx context.Context, remoteAddr, reason string) error
	BaseURL string
	Now     func() time.Time
	Logger  *slog.Logger
}

// Inbound handles the requests Slack sends certdesk: button presses on
// messages (interactivity) and the /incident slash command. Every request
// is verified with the signing secret; the Slack user acts as the certdesk
// user with the same e-mail address, with that user's role and the
// visibility rule.
type Inbound struct {
	o      InboundOptions
	decide atomic.Pointer[Decider] // nil: escalations are not available
}

// NewInbound returns an Inbound; every option but Decide is required.
func NewInbound(o InboundOptions) (*Inbound, error) {
	switch {
	case o.SigningSecret == "":
		return nil, errors.New("slack inbound: SigningSecret is required")
	case o.Client == nil || o.Users == nil || o.Incidents == nil || o.Enqueue == nil || o.Failed == nil:
		return nil, errors.New("slack inbound: Client, Users, Incidents, Enqueue and Failed are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	in := &Inbound{o: o}
	if o.Decide != nil {
		in.SetDecide(o.Decide)
	}
	return in, nil
}

// SetDecide sets how Accept and Decline buttons decide escalations, for
// wiring done after NewInbound (the escalation service may be built
// later). It is safe to call while requests are served.
func (in *Inbound) SetDecide(d Decider) { in.decide.Store(&d) }

// verify checks a request's signature and counts a refusal as a failed
// authentication of the client address (InboundOptions.Failed), like a
// bad token: past the limit the answer is 429 instead of 401.
func (in *Inbound) verify(ctx context.Context, h http.Header, body []byte, remoteAddr string) error {
	err := Verify(h, body, in.o.SigningSecret, in.o.Now())
	if err == nil {
		return nil
	}
	reason := "bad slack signature"
	if errors.Is(err, ErrStaleRequest) {
		reason = "stale or missing slack timestamp"
	}
	if ferr := in.o.Failed(ctx, remoteAddr, reason); ferr != nil {
		return ferr
	}
	return err
}

// notLinked is the answer to a Slack user no active certdesk user matches.
const notLinked = "Your Slack account is not linked to a certdesk user: no active certdesk user has the e-mail address of your Slack profile. Nothing was done."

// principal maps a Slack user to the certdesk user with their e-mail
// address. ok is false when there is none, or they are disabled.
func (in *Inbound) principal(ctx context.Context, slackUserID, remoteAddr string) (p access.Principal, ok bool, err error) {
	if slackUserID == "" {
		return p, false, nil
	}
	email, err := in.o.Client.UserEmail(ctx, slackUserID)
	if err != nil || email == "" {
		return p, false, err
	}
	u, err := in.o.Users.UserByEmail(ctx, email)
	if apperr.Is(err, apperr.NotFound) {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	if u.DisabledAt != nil {
		return p, false, nil
	}
	p = u.Principal()
	p.Via, p.RemoteAddr = "slack", remoteAddr
	return p, true, nil
}

// Interaction handles a button press (form field "payload", a block_actions
// interaction). It does what the button says as the pressing user and
// queues the answer to their response_url; Slack gets an empty 200. A
// request that fails verification is an apperr.Unauthorized error.
func (in *Inbound) Interaction(ctx context.Context, h http.Header, body []byte, remoteAddr string) error {
	if err := in.verify(ctx, h, body, remoteAddr); err != nil {
		return err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return apperr.Fields{{Field: "payload", Rule: "form", Message: "the body must be a form with a payload field"}}.Err()
	}
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		return apperr.Fields{{Field: "payload", Rule: "json", Message: "payload must be Slack's interaction JSON"}}.Err()
	}
	if cb.Type != slackapi.InteractionTypeBlockActions {
		return nil // nothing certdesk offers; Slack only needs the 200
	}
	var act *slackapi.BlockAction
	for _, a := range cb.ActionCallback.BlockActions {
		if a.BlockID == ActionsBlockID {
			act = a
			break
		}
	}
	if act == nil {
		return nil
	}
	text, err := in.act(ctx, cb.User.ID, remoteAddr, notify.ActionKind(act.ActionID), act.Value)
	if err != nil {
		return err
	}
	if cb.ResponseURL == "" {
		return nil
	}
	return in.o.Enqueue(ctx, notify.RespondJob{ResponseURL: cb.ResponseURL, Text: text})
}

// act does a button's action as the Slack user and returns the answer.
// Refusals (not linked, not visible, not allowed) are answers, not errors.
func (in *Inbound) act(ctx context.Context, slackUserID, remoteAddr string, kind notify.ActionKind, value string) (string, error) {
	if !kind.Valid() {
		return "certdesk does not know this button.", nil
	}
	p, ok, err := in.principal(ctx, slackUserID, remoteAddr)
	if err != nil {
		return "", err
	}
	if !ok {
		return notLinked, nil
	}
	switch kind {
	case notify.ActionAcknowledge:
		before, err := in.o.Incidents.Get(ctx, p, value)
		if err != nil {
			return refusal(err)
		}
		inc, err := in.o.Incidents.Acknowledge(ctx, p, value)
		if err != nil {
			return refusal(err)
		}
		if before.AcknowledgedAt != nil {
			return fmt.Sprintf("%s was already acknowledged (%s).", inc.Reference, before.AcknowledgedAt.UTC().Format(time.RFC3339)), nil
		}
		return fmt.Sprintf("You acknowledged %s.", inc.Reference), nil
	default:
		decide := in.decide.Load()
		if decide == nil || *decide == nil {
			return "Escalations are not available in this certdesk yet: accept or decline it in certdesk.", nil
		}
		accept := kind == notify.ActionAcceptEscalation
		if err := (*decide)(ctx, p, value, accept, "via Slack"); err != nil {
			return refusal(err)
		}
		if accept {
			return "You accepted the escalation.", nil
		}
		return "You declined the escalation.", nil
	}
}

// refusal turns a use case's refusal into an answer for the user; other
// errors stay errors.
func refusal(err error) (string, error) {
	ae, ok := apperr.As(err)
	if !ok {
		return "", err
	}
	switch ae.Code {
	case apperr.NotFound:
		return "Not found: it does not exist, or you may not see it.", nil
	case apperr.Forbidden:
		return "Not allowed: " + escape(ae.Message) + ".", nil
	case apperr.Invalid, apperr.Conflict, apperr.Precondition:
		msgs := []string{ae.Message}
		if len(ae.Fields) > 0 {
			msgs = msgs[:0]
			for _, f := range ae.Fields {
				msgs = append(msgs, f.Message)
			}
		}
		return "Not done: " + escape(strings.Join(msgs, "; ")) + ".", nil
	}
	return "", err
}

// commandUsage is the answer to an /incident command certdesk does not
// understand.
const commandUsage = "Usage: `/incident INC-2026-000042` shows an incident's status; `/incident declare <title>` opens a report."

// Command handles the /incident slash command (a form) and returns the
// ephemeral answer. A request that fails verification is an
// apperr.Unauthorized error.
func (in *Inbound) Command(ctx context.Context, h http.Header, body []byte, remoteAddr string) (string, error) {
	if err := in.verify(ctx, h, body, remoteAddr); err != nil {
		return "", err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", apperr.Fields{{Field: "text", Rule: "form", Message: "the body must be a form"}}.Err()
	}
	verb, rest, _ := strings.Cut(strings.TrimSpace(form.Get("text")), " ")
	rest = strings.TrimSpace(rest)
	switch {
	case verb == "" || verb == "help":
		return commandUsage, nil
	case verb == "declare" && rest == "":
		return "`/incident declare` needs a title. " + commandUsage, nil
	case verb != "declare" && rest != "":
		return commandUsage, nil
	}
	p, ok, err := in.principal(ctx, form.Get("user_id"), remoteAddr)
	if err != nil {
		return "", err
	}
	if !ok {
		return notLinked, nil
	}
	if verb == "declare" {
		return in.declare(ctx, p, form, rest)
	}
	inc, err := in.o.Incidents.Get(ctx, p, verb)
	if err != nil {
		return refusal(err)
	}
	ack, err := notify.AcknowledgedBy(ctx, in.o.Incidents, p, inc)
	if err != nil {
		return "", err
	}
	return cardText(notify.Card(inc, ack, in.o.BaseURL)), nil
}

// cardText renders a card as mrkdwn lines: the header, each field, the
// link.
func cardText(m notify.Message) string {
	var b strings.Builder
	b.WriteString("*" + escape(m.Header) + "*\n")
	for _, f := range m.Fields {
		b.WriteString(escape(f.Label) + ": " + escape(f.Value) + "\n")
	}
	b.WriteString("<" + m.Link + "|Open in certdesk>")
	return b.String()
}

// declare opens a report as p. Slack retries a command it got no answer
// to; the trigger_id (else the whole request) is the idempotency key, so
// a retry answers with the same incident.
func (in *Inbound) declare(ctx context.Context, p access.Principal, form url.Values, title string) (string, error) {
	key := form.Get("trigger_id")
	if key == "" {
		sum := sha256.Sum256([]byte(form.Encode()))
		key = hex.EncodeToString(sum[:])
	}
	hash := sha256.Sum256([]byte(title))
	inc, _, err := in.o.Incidents.Create(ctx, p, incident.NewIncident{Title: title},
		&incident.IdempotencyKey{Caller: "slack:" + p.UserID.String(), Key: "slack-command:" + key, RequestHash: hex.EncodeToString(hash[:])})
	if err != nil {
		return refusal(err)
	}
	return escape(fmt.Sprintf("Opened %s (severity %s, %s): %s/incidents/%s", inc.Reference, inc.Severity, inc.TLP,
		in.o.BaseURL, inc.Reference)), nil
}
