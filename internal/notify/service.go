package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Store is the persistence of the outbox.
type Store interface {
	// InNotifyTx runs fn in one database transaction.
	InNotifyTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Notifications returns a page of the notifications of incidents p may
	// see that match f, newest first, and the cursor of the next page (""
	// on the last page).
	Notifications(ctx context.Context, p access.Principal, f Filter, page incident.Page) ([]Notification, string, error)
}

// Filter narrows a list of notifications; zero fields match all.
type Filter struct {
	IncidentID *uuid.UUID
	State      State
	Provider   Provider
}

// Tx is what the outbox does inside a transaction.
type Tx interface {
	// InsertNotification inserts n unless a notification of the same event
	// key for the same recipient and provider exists; false then.
	InsertNotification(ctx context.Context, n *Notification) (bool, error)
	// LockNotification reads a notification and locks it until the end of
	// the transaction; apperr.NotFound when there is none.
	LockNotification(ctx context.Context, id uuid.UUID) (*Notification, error)
	// LockNotificationWithIncident is LockNotification that also returns
	// the incident, read as the system (its lock and its read are one
	// statement).
	LockNotificationWithIncident(ctx context.Context, id uuid.UUID) (*Notification, *incident.Incident, error)
	// UpdateNotification writes the delivery columns and the message of n.
	UpdateNotification(ctx context.Context, n *Notification) error
	// LockThread serialises the claims of deliveries into one incident's
	// thread in one channel until the end of the transaction, and returns
	// the thread's ts ("" when no message was posted there yet).
	LockThread(ctx context.Context, incidentID uuid.UUID, channel string) (string, error)
	// RootClaimUntil returns when the claim of another pending
	// notification (not except) that is posting the first message of the
	// incident's thread in channel lapses, if one holds such a claim after
	// now; nil when none does.
	RootClaimUntil(ctx context.Context, incidentID uuid.UUID, channel string, except uuid.UUID, now time.Time) (*time.Time, error)
	// InsertThread records the first message of an incident in a channel.
	InsertThread(ctx context.Context, incidentID uuid.UUID, channel, ts string) error
	// AppendEvent adds a timeline event.
	AppendEvent(ctx context.Context, ev *incident.Event) error
	// Enqueue queues a job that commits with the transaction.
	Enqueue(ctx context.Context, job incident.Job, opts *incident.JobOpts) error
	// EnqueueJobs queues jobs with one insert (incident.Tx's).
	EnqueueJobs(ctx context.Context, jobs []incident.Job, opts []*incident.JobOpts) ([]int64, error)
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
	// EarlierPending counts, up to 100, the Slack notifications to n's
	// channel still pending that were created before n ((created_at, id)
	// before n's) and after since: the ones a delivery in strict order
	// waits for.
	EarlierPending(ctx context.Context, n *Notification, since time.Time) (int, error)
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
	// Mailer sends e-mail notifications through the relay; nil: none.
	Mailer Mailer
	// Directory authorises administrators' webhook changes
	// (ConfigureWebhook); nil: only the operator's SetWebhook.
	Directory Directory
	Logger    *slog.Logger
	BaseURL   string // certdesk's public URL, for links
	Now       func() time.Time
	// ClaimLease is how long a delivery's claim on its notification holds
	// (at least as long as a delivery job may run); zero: ClaimLease.
	ClaimLease time.Duration
}

// Service holds the notification use cases.
type Service struct {
	store     Store
	incidents *incident.Service
	notifier  Notifier
	webhooks  Poster
	mailer    Mailer
	directory Directory
	log       *slog.Logger
	baseURL   string
	now       func() time.Time
	lease     time.Duration
	// gate keeps each Slack channel's Retry-After and trouble in this
	// process (gate.go).
	gate *gate
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
	if o.ClaimLease <= 0 {
		o.ClaimLease = ClaimLease
	}
	return &Service{store: o.Store, incidents: o.Incidents, notifier: o.Notifier, webhooks: o.Webhooks, mailer: o.Mailer, directory: o.Directory, log: o.Logger,
		baseURL: o.BaseURL, now: o.Now, lease: o.ClaimLease, gate: newGate()}, nil
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
	return s.Deliveries(ctx, p, DeliveryQuery{Incident: idOrRef}, page)
}

// DeliveryQuery narrows the delivery log; zero fields match all.
type DeliveryQuery struct {
	// Incident is an incident's ID or reference.
	Incident string
	State    State
	Provider Provider
}

// Deliveries is the delivery log: a page of the notifications of the
// incidents p may see, newest first, narrowed by q. An incident p may not
// see is apperr.NotFound, like one that does not exist; an unknown state
// or provider is apperr.Invalid naming it.
func (s *Service) Deliveries(ctx context.Context, p access.Principal, q DeliveryQuery, page incident.Page) ([]Notification, string, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, "", err
	}
	var fs apperr.Fields
	switch q.State {
	case "", Pending, Sent, Failed, Withdrawn:
	default:
		fs.Add("state", "enum", "state must be one of: pending, sent, failed, withdrawn")
	}
	switch q.Provider {
	case "", Slack, Log, Webhook, Email:
	default:
		fs.Add("provider", "enum", "provider must be one of: slack, log, webhook, email")
	}
	if err := fs.Err(); err != nil {
		return nil, "", err
	}
	page.Limit = incident.ClampLimit(page.Limit)
	f := Filter{State: q.State, Provider: q.Provider}
	if q.Incident != "" {
		inc, err := s.incidents.Get(ctx, p, q.Incident)
		if err != nil {
			return nil, "", err
		}
		f.IncidentID = &inc.ID
	}
	return s.store.Notifications(ctx, p, f, page)
}

// markFailed records that n will not be delivered: state failed and a
// notification_failed timeline event with its last error.
func (s *Service) markFailed(ctx context.Context, tx Tx, n *Notification) error {
	now := s.clock()
	n.State = Failed
	n.releaseClaim()
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
	if n.State != Pending || n.InFlight(s.clock()) {
		// A claimed notification is being sent with what its claim
		// decided (Deliver); it is recorded as sent, or, if the call
		// fails, decided again at its next claim.
		return nil
	}
	n.State, n.LastError = Withdrawn, truncate(reason, 1000)
	n.releaseClaim()
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
	if n.RecipientUserID != nil {
		m["recipient_user_id"] = *n.RecipientUserID
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
