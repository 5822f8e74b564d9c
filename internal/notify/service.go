package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Store is the persistence of the outbox.
type Store interface {
	// InNotifyTx runs fn in one database transaction.
	InNotifyTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Notifications returns a page of the notifications of incidents p may
	// see (of one incident when incidentID is set), newest first, and the
	// cursor of the next page ("" on the last page).
	Notifications(ctx context.Context, p access.Principal, incidentID *uuid.UUID, page incident.Page) ([]Notification, string, error)
}

// Tx is what the outbox does inside a transaction.
type Tx interface {
	// InsertNotification inserts n unless a notification of the same event
	// key for the same recipient and provider exists; false then.
	InsertNotification(ctx context.Context, n *Notification) (bool, error)
	// LockNotification reads a notification and locks it until the end of
	// the transaction; apperr.NotFound when there is none.
	LockNotification(ctx context.Context, id uuid.UUID) (*Notification, error)
	// UpdateNotification writes the delivery columns and the message of n.
	UpdateNotification(ctx context.Context, n *Notification) error
	// LockThread serialises the deliveries into one incident's thread in
	// one channel until the end of the transaction, and returns the thread's
	// ts ("" when no message was posted there yet).
	LockThread(ctx context.Context, incidentID uuid.UUID, channel string) (string, error)
	// InsertThread records the first message of an incident in a channel.
	InsertThread(ctx context.Context, incidentID uuid.UUID, channel, ts string) error
	// AppendEvent adds a timeline event.
	AppendEvent(ctx context.Context, ev *incident.Event) error
	// Enqueue queues a job that commits with the transaction.
	Enqueue(ctx context.Context, job incident.Job, opts *incident.JobOpts) error
	// LockIncident reads an incident p may see and locks it.
	LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
	// OrgCanSee reports whether the organisation as a whole sees the
	// incident now (the visibility rule for access.OrgOnly): the one
	// decision of whether anything about it may leave for that
	// organisation.
	OrgCanSee(ctx context.Context, orgID, incidentID uuid.UUID) (bool, error)
	// PendingNotifications returns the incident's notifications still
	// pending, locked until the end of the transaction, oldest first.
	PendingNotifications(ctx context.Context, incidentID uuid.UUID) ([]Notification, error)
}

// DeliverJob delivers one notification.
type DeliverJob struct {
	NotificationID uuid.UUID `json:"notification_id" river:"unique"`
}

// Kind implements incident.Job.
func (DeliverJob) Kind() string { return "notify.deliver" }

// Options configures NewService.
type Options struct {
	Store     Store
	Incidents *incident.Service
	// Notifier sends to Slack; nil: every notification is delivered by
	// the log provider (recorded and logged).
	Notifier Notifier
	// Webhooks posts to organisations' signed webhooks; nil: no webhook
	// notifications.
	Webhooks Poster
	// Directory authorises administrators' webhook changes
	// (ConfigureWebhook); nil: only the operator's SetWebhook.
	Directory Directory
	Logger    *slog.Logger
	BaseURL   string // certdesk's public URL, for links
	Now       func() time.Time
}

// Service holds the notification use cases.
type Service struct {
	store     Store
	incidents *incident.Service
	notifier  Notifier
	webhooks  Poster
	directory Directory
	log       *slog.Logger
	baseURL   string
	now       func() time.Time
}

// NewService returns a Service.
func NewService(o Options) (*Service, error) {
	if o.Store == nil || o.Incidents == nil {
		return nil, errors.New("notify: Store and Incidents are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: o.Store, incidents: o.Incidents, notifier: o.Notifier, webhooks: o.Webhooks, directory: o.Directory, log: o.Logger,
		baseURL: o.BaseURL, now: o.Now}, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// OnRouted is the incident Service's routing hook: inside the routing
// transaction it queues the notification of the coordinating organisation.
// The application no longer sets the hook: EventHandler notifies the
// "routed" event from the event bus, with the same event key, so wiring
// both still notifies once.
func (s *Service) OnRouted(ctx context.Context, tx incident.Tx, inc *incident.Incident, target org.Organization) error {
	ntx, ok := tx.(Tx)
	if !ok {
		return fmt.Errorf("notify: %T does not implement notify.Tx", tx)
	}
	_, err := s.Queue(ctx, ntx, inc, target, KindRouted+":"+inc.ID.String(), KindRouted, nil, "New incident to coordinate")
	return err
}

// Queue records a notification of an event about inc for recipient and
// queues its delivery, in tx. A second call for the same event key and
// recipient changes nothing and returns nil. The provider is Slack when
// Slack is configured and the recipient has a chat channel; otherwise log.
// Messages to a CERT about an unacknowledged incident carry the
// Acknowledge button.
func (s *Service) Queue(ctx context.Context, tx Tx, inc *incident.Incident, recipient org.Organization,
	eventKey, kind string, eventID *int64, headline string) (*Notification, error) {
	return s.QueueMessage(ctx, tx, inc, recipient, eventKey, kind, eventID, s.message(inc, recipient, headline))
}

// Notify records and queues a notification of an event about the incident
// idOrRef for recipient, in a transaction of its own.
func (s *Service) Notify(ctx context.Context, idOrRef string, recipient org.Organization, eventKey, kind, headline string) (*Notification, error) {
	var n *Notification
	err := s.store.InNotifyTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, access.System, idOrRef)
		if err != nil {
			return err
		}
		n, err = s.Queue(ctx, tx, inc, recipient, eventKey, kind, nil, headline)
		return err
	})
	return n, err
}

// List returns a page of the notifications p may see: of one incident
// (idOrRef, read through the visibility rule: invisible is not found), or
// of every incident p may see when idOrRef is empty.
func (s *Service) List(ctx context.Context, p access.Principal, idOrRef string, page incident.Page) ([]Notification, string, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, "", err
	}
	page.Limit = incident.ClampLimit(page.Limit)
	var id *uuid.UUID
	if idOrRef != "" {
		inc, err := s.incidents.Get(ctx, p, idOrRef)
		if err != nil {
			return nil, "", err
		}
		id = &inc.ID
	}
	return s.store.Notifications(ctx, p, id, page)
}

// Deliver sends one notification, once. complete is called in the
// transaction that records the outcome (the worker completes its job
// there). A notification already sent or failed is not sent again.
//
// The notification row stays locked while the provider is called, so two
// deliveries of the same notification never both send; the one window
// left is a crash after the provider accepted the message and before the
// commit, after which the message is sent again.
//
// Errors: a *RateLimitError or a *PermanentError from the notifier come
// back as they are (a permanent one after the notification was marked
// failed, with a timeline event); any other error is worth retrying.
func (s *Service) Deliver(ctx context.Context, id uuid.UUID, complete func(ctx context.Context, tx Tx) error) error {
	var sendErr error
	err := s.store.InNotifyTx(ctx, func(ctx context.Context, tx Tx) error {
		n, err := tx.LockNotification(ctx, id)
		if err != nil {
			return err
		}
		if n.State != Pending {
			return complete(ctx, tx)
		}
		// The message was decided and rendered when it was queued; a
		// delivery can wait hours for Slack, and the recipient may have
		// lost sight of the incident since, or the incident become
		// TLP:RED or TLP:AMBER+STRICT. What may leave is decided again
		// now, for the recipient organisation as it is now.
		inc, err := tx.LockIncident(ctx, access.System, n.IncidentID.String())
		if err != nil {
			return err
		}
		sees, err := tx.OrgCanSee(ctx, n.RecipientOrgID, n.IncidentID)
		if err != nil {
			return err
		}
		if !sees {
			if err := s.Withdraw(ctx, tx, n, incident.Actor{Name: access.System.Name()},
				n.RecipientOrgSlug+" no longer sees the incident"); err != nil {
				return err
			}
			return complete(ctx, tx)
		}
		n.Message = RestrictNow(inc, n.Message, s.baseURL)
		now := s.clock()
		n.Attempts++
		if n.Provider == Webhook {
			if err := s.sendWebhook(ctx, tx, n); err != nil {
				sendErr = err
				return err
			}
		} else if n.Provider == Slack && s.notifier != nil {
			thread, err := tx.LockThread(ctx, n.IncidentID, n.Channel)
			if err != nil {
				return err
			}
			ts, err := s.notifier.Send(ctx, n.Channel, thread, n.Message)
			if err != nil {
				sendErr = err
				return err
			}
			if thread == "" {
				if err := tx.InsertThread(ctx, n.IncidentID, n.Channel, ts); err != nil {
					return err
				}
			}
			n.ProviderMsgID, n.ThreadTS = ts, thread
		} else {
			n.Provider = Log
			s.log.Info("notification", "notification", n.ID, "incident", n.IncidentReference,
				"recipient", n.RecipientOrgSlug, "kind", n.EventKind, "header", n.Message.Header,
				"text", n.Message.Text, "link", n.Message.Link)
		}
		n.State, n.SentAt, n.LastError = Sent, &now, ""
		if err := tx.UpdateNotification(ctx, n); err != nil {
			return err
		}
		// Only a message that reached someone is on the timeline: the
		// timeline says who was told, and a log line told nobody.
		if n.Provider != Log {
			if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: n.IncidentID, Actor: access.System.Name(),
				Kind: EventNotified, Data: eventData(n), OccurredAt: now}); err != nil {
				return err
			}
		}
		return complete(ctx, tx)
	})
	if sendErr == nil {
		return err
	}
	if rerr := s.fail(ctx, id, sendErr.Error(), true, IsPermanent(sendErr)); rerr != nil {
		return errors.Join(sendErr, rerr)
	}
	return sendErr
}

// markFailed records that n will not be delivered: state failed and a
// notification_failed timeline event with its last error.
func (s *Service) markFailed(ctx context.Context, tx Tx, n *Notification) error {
	now := s.clock()
	n.State = Failed
	if err := tx.UpdateNotification(ctx, n); err != nil {
		return err
	}
	data := map[string]any{}
	_ = json.Unmarshal(eventData(n), &data)
	data["error"] = n.LastError
	b, _ := json.Marshal(data)
	s.log.Warn("notification failed for good", "notification", n.ID, "incident", n.IncidentReference,
		"recipient", n.RecipientOrgSlug, "err", n.LastError)
	return tx.AppendEvent(ctx, &incident.Event{IncidentID: n.IncidentID, Actor: access.System.Name(),
		Kind: EventNotificationFailed, Data: b, OccurredAt: now})
}

// Withdraw records, in tx, that the pending notification n will never be
// sent because its recipient no longer sees the incident: state withdrawn,
// reason as its last error, and a notification_withdrawn timeline event
// under by (who made the change that took the recipient's sight away, or
// certdesk when the delivery found out), so that the incident's
// coordinators see who was not told. A notification that is no longer
// pending is left as it is.
func (s *Service) Withdraw(ctx context.Context, tx Tx, n *Notification, by incident.Actor, reason string) error {
	if n.State != Pending {
		return nil
	}
	n.State, n.LastError = Withdrawn, truncate(reason, 1000)
	if err := tx.UpdateNotification(ctx, n); err != nil {
		return err
	}
	data := map[string]any{}
	_ = json.Unmarshal(eventData(n), &data)
	data["reason"] = reason
	b, _ := json.Marshal(data)
	s.log.Info("notification withdrawn", "notification", n.ID, "incident", n.IncidentReference,
		"recipient", n.RecipientOrgSlug, "reason", reason)
	return tx.AppendEvent(ctx, &incident.Event{IncidentID: n.IncidentID, ActorUserID: by.UserID, Actor: by.Name,
		Kind: EventNotificationWithdrawn, Data: b, OccurredAt: s.clock()})
}

func eventData(n *Notification) json.RawMessage {
	m := map[string]any{"notification_id": n.ID, "event_kind": n.EventKind, "recipient_org": n.RecipientOrgSlug,
		"provider": n.Provider}
	if n.Channel != "" && n.Provider == Slack {
		m["channel"] = n.Channel
	}
	if n.ProviderMsgID != "" {
		m["message_ts"] = n.ProviderMsgID
	}
	b, _ := json.Marshal(m)
	return b
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
