// Package notify is the notification outbox: every message certdesk sends
// to an organisation's chat channel is first a row (written in the same
// transaction as the change it reports) and a job that delivers it, retried
// on errors, delayed on rate limits, and never sent twice for one event.
package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Provider is how a notification is delivered.
type Provider string

// The providers.
const (
	// Slack posts into the recipient organisation's Slack channel.
	Slack Provider = "slack"
	// Log records the notification and writes it to the log: used when
	// Slack is not configured or the organisation has no channel.
	Log Provider = "log"
	// Webhook POSTs a signed JSON document to the recipient's webhook URL.
	Webhook Provider = "webhook"
	// Email sends a plain-text e-mail through the relay to the
	// recipient organisation's contact address, or to one of its people
	// who chose e-mail (RecipientUserID); never for TLP:RED (email.go).
	Email Provider = "email"
)

// State is where a notification is in its delivery.
type State string

// The states.
const (
	Pending State = "pending"
	Sent    State = "sent"
	Failed  State = "failed"
	// Withdrawn is a notification never sent because its recipient no
	// longer saw the incident when it was due (Withdraw).
	Withdrawn State = "withdrawn"
)

// Timeline event kinds written by deliveries.
const (
	EventNotified              incident.EventKind = "notified"
	EventNotificationFailed    incident.EventKind = "notification_failed"
	EventNotificationWithdrawn incident.EventKind = "notification_withdrawn"
)

// Event kinds a notification can report.
const (
	KindRouted = "incident.routed"
)

// Notification is one message to one organisation about one event.
type Notification struct {
	ID         uuid.UUID
	IncidentID uuid.UUID
	// EventKey identifies the event notified: with RecipientOrgID it is
	// unique, so that one event is notified once per recipient.
	EventKey       string
	EventID        *int64 // the timeline event, when there is one
	EventKind      string
	RecipientOrgID uuid.UUID
	// RecipientUserID names the person an e-mail notification is for;
	// nil for a message to the organisation (its channel, webhook or
	// contact address). One event is notified once per (EventKey,
	// RecipientOrgID, Provider, RecipientUserID), and a person's
	// RecipientOrgID is their organisation: its sight of the incident
	// decides whether they are told.
	RecipientUserID *uuid.UUID
	Channel         string // the recipient's chat channel; empty with provider log
	Provider        Provider
	Message         Message
	State           State
	Attempts        int
	LastError       string
	ProviderMsgID   string // Slack: the message's ts
	ThreadTS        string // Slack: the thread the message went into ("" for the first)
	CreatedAt       time.Time
	SentAt          *time.Time
	// ClaimedUntil is when the claim of a delivery under way lapses (nil:
	// no claim); ClaimToken names that delivery, and ClaimRoot says it is
	// posting the first message of the incident's thread in Channel.
	ClaimedUntil *time.Time
	ClaimToken   uuid.UUID
	ClaimRoot    bool

	// filled on reads
	IncidentReference string
	RecipientOrgSlug  string
}

// InFlight reports whether a delivery claimed n and its claim has not
// lapsed at now: it may be talking to Slack or the webhook right now.
func (n *Notification) InFlight(now time.Time) bool {
	return n.ClaimedUntil != nil && now.Before(*n.ClaimedUntil)
}

// releaseClaim clears the claim of n.
func (n *Notification) releaseClaim() {
	n.ClaimedUntil, n.ClaimToken, n.ClaimRoot = nil, uuid.Nil, false
}

// Field is one labelled value of a message.
type Field struct {
	Label string
	Value string
}

// Message is a rendered notification, independent of the provider.
type Message struct {
	Header string
	Fields []Field
	Text   string // the body; also the plain-text fallback
	Link   string // the incident's page
	// Actions are buttons, for providers that have them (Slack).
	Actions []Action
	// Key names the delivery (the notification's ID), for a provider that
	// can label a message with it (Slack: the message's metadata), so that
	// a later attempt finds the message an earlier one posted (Finder).
	// Set at each delivery; not stored with the notification.
	Key string `json:"-"`
}

// Restricted reports whether an incident of this TLP may show only its
// reference, severity and link outside certdesk (design.md §4).
func Restricted(tlp incident.TLP) bool {
	return tlp == incident.TLPRed || tlp == incident.TLPAmberStrict
}

// RestrictedHeadline is the headline of a message about a TLP:RED or
// TLP:AMBER+STRICT incident whose event or template would tell what kind
// of incident it is (a legal deadline, an advisory), and of a message
// that was rendered in full but is delivered after the incident became
// restricted.
const RestrictedHeadline = "Incident update"

// RestrictNow returns m as it may leave certdesk for inc as inc is now: m
// itself when inc is not restricted or m was rendered restricted already
// (Render gives only a restricted message no TLP field), else the
// restricted rendering under RestrictedHeadline, so that a message
// queued before the incident became TLP:RED or TLP:AMBER+STRICT does not
// carry its title.
func RestrictNow(inc *incident.Incident, m Message, baseURL string) Message {
	if !Restricted(inc.TLP) || !slices.ContainsFunc(m.Fields, func(f Field) bool { return f.Label == "TLP" }) {
		return m
	}
	return Render(inc, RestrictedHeadline, baseURL)
}

// Render builds the message of an event about inc for a chat channel.
// headline says what happened ("New incident to coordinate"). For TLP:RED
// and TLP:AMBER+STRICT only the reference, severity and link leave the
// system: no title, no description, no stage, no TLP-neutral detail.
func Render(inc *incident.Incident, headline, baseURL string) Message {
	link := strings.TrimRight(baseURL, "/") + "/incidents/" + inc.Reference
	if Restricted(inc.TLP) {
		return Message{
			Header: headline + ": " + inc.Reference,
			Fields: []Field{{"Reference", inc.Reference}, {"Severity", string(inc.Severity)}},
			Text:   fmt.Sprintf("%s: %s (severity %s). Details in certdesk only.", headline, inc.Reference, inc.Severity),
			Link:   link,
		}
	}
	text := inc.Title
	if d := firstLine(inc.Description, 300); d != "" {
		text += "\n" + d
	}
	return Message{
		Header: headline + ": " + inc.Reference,
		Fields: []Field{
			{"Reference", inc.Reference}, {"Severity", string(inc.Severity)},
			{"Stage", string(inc.Stage)}, {"TLP", string(inc.TLP)},
		},
		Text: text,
		Link: link,
	}
}

// firstLine returns the first non-empty line of s, cut to at most n runes.
func firstLine(s string, n int) string {
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if r := []rune(line); len(r) > n {
			return string(r[:n]) + "…"
		}
		return line
	}
	return ""
}

// Notifier sends a message to a channel, into the thread threadTS when it
// is not empty, and returns the provider's message ID (Slack's ts).
type Notifier interface {
	Send(ctx context.Context, channel, threadTS string, m Message) (ts string, err error)
}

// Finder is a Notifier that can find a message it posted with a Key
// (Message.Key): in channel, or in the thread threadTS when it is not
// empty, posted at or after since; "" when there is none. Deliver asks
// before every attempt but the first, so that a message whose post
// succeeded but whose outcome was never recorded (the process died during
// the call, or its answer was lost) is recorded, not posted twice.
type Finder interface {
	Find(ctx context.Context, channel, threadTS, key string, since time.Time) (ts string, err error)
}

// RateLimitError says: try again after RetryAfter. It uses no attempt.
type RateLimitError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.RetryAfter, e.Err)
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// PermanentError is a failure another attempt cannot fix (the channel does
// not exist, the token is invalid).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}
