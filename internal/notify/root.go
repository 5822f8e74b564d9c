package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Updater changes a message already posted (Slack: chat.update). The Slack
// notifier is one; its errors are those of Notifier.Send.
type Updater interface {
	Update(ctx context.Context, channel, ts string, m Message) error
}

// RootTx is what keeping thread roots current needs inside a transaction,
// besides Tx.
type RootTx interface {
	Tx
	// ThreadsBehind returns the channels of the incident's threads whose
	// root shows a version older than version.
	ThreadsBehind(ctx context.Context, incidentID uuid.UUID, version int64) ([]string, error)
	// Threads returns the channels of all the incident's threads.
	Threads(ctx context.Context, incidentID uuid.UUID) ([]string, error)
	// LockRoot locks the thread of the incident in channel until the end of
	// the transaction and returns its root: ts, the incident version the
	// root shows (0: the message as first posted), and whether it was
	// withdrawn (replaced by the neutral text). found is false when there
	// is no thread.
	LockRoot(ctx context.Context, incidentID uuid.UUID, channel string) (root Root, found bool, err error)
	// SetRootShown records the incident version the root now shows and
	// whether it is withdrawn.
	SetRootShown(ctx context.Context, incidentID uuid.UUID, channel string, version int64, withdrawn bool) error
	// ChannelHasCERT reports whether a CERT's chat channel is channel.
	ChannelHasCERT(ctx context.Context, channel string) (bool, error)
	// ChannelSees reports whether everyone who reads channel may see the
	// incident: at least one organisation has it as its chat channel, and
	// every organisation that has it sees the incident as a whole
	// (OrgCanSee).
	ChannelSees(ctx context.Context, channel string, incidentID uuid.UUID) (bool, error)
}

// Root is the first message of an incident's thread in a channel.
type Root struct {
	TS string
	// Shown is the incident version the root shows (0: as first posted).
	Shown int64
	// Withdrawn: the root was replaced by WithdrawnRoot because the
	// channel's organisation lost sight of the incident.
	Withdrawn bool
}

// WithdrawnRoot is what the first message of an incident's thread in a
// channel becomes, once, when the channel's organisation no longer sees the
// incident: the reference (which the channel had) and a sentence that the
// incident is no longer shared with it. No title, no field, no link, no
// button: nothing the channel did not have, and nothing that tells how
// the incident changed (docs/slack.md, "When an organisation loses sight").
func WithdrawnRoot(reference string) Message {
	return Message{Header: reference, Text: "This incident is no longer shared with this channel's organisation."}
}

// UpdateRootJob brings the first message of an incident's thread in a
// channel up to the incident's version (or later). One job is queued per
// (incident, channel, version); a job that finds the root already showing
// the current version does nothing, so a burst of changes costs one update.
type UpdateRootJob struct {
	IncidentID uuid.UUID `json:"incident_id" river:"unique"`
	Channel    string    `json:"channel" river:"unique"`
	Version    int64     `json:"version" river:"unique"`
}

// Kind implements incident.Job.
func (UpdateRootJob) Kind() string { return "notify.update_root" }

// RootKinds are the timeline events that change what a thread root shows
// (Card): the incident's fields, stage, status, acknowledgement and
// coordinator. All of them are appended by transactions that lock the
// incident first, as the bus does before calling a handler; a kind
// appended without that lock (a delivery's "notified") must not be added,
// or two such transactions deadlock on the upgrade.
var RootKinds = []incident.EventKind{incident.EventFieldChanged, incident.EventStageChanged, incident.EventClosed,
	incident.EventReopened, incident.EventAcknowledged, incident.EventRouted}

// RootHandler is the event bus handler that keeps thread roots current:
// after a change of an incident (RootKinds, and the extra kinds, such as
// an accepted escalation that moves the coordinator) it queues an
// UpdateRootJob for each of the incident's threads whose root is behind.
// Without Slack it does nothing.
func (s *Service) RootHandler(extra ...incident.EventKind) incident.Handler {
	kinds := append(append([]incident.EventKind(nil), RootKinds...), extra...)
	return incident.Handler{Name: "notify.roots", Kinds: kinds, Handle: func(ctx context.Context, tx incident.Tx, inc *incident.Incident, _ []incident.Event) error {
		if _, ok := s.notifier.(Updater); !ok {
			return nil
		}
		rtx, ok := tx.(RootTx)
		if !ok {
			return fmt.Errorf("notify: %T does not implement notify.RootTx", tx)
		}
		channels, err := rtx.ThreadsBehind(ctx, inc.ID, inc.Version)
		if err != nil {
			return err
		}
		for _, ch := range channels {
			if err := rtx.Enqueue(ctx, UpdateRootJob{IncidentID: inc.ID, Channel: ch, Version: inc.Version}, nil); err != nil {
				return err
			}
		}
		return nil
	}}
}

// UpdateRoot brings the root of the incident's thread in channel up to
// the incident's current state: Card, with the Acknowledge button while a
// CERT's channel may still acknowledge it. complete is called in the
// transaction that records the shown version. A root already current is
// left alone. The thread stays locked during the call to Slack, so two
// updates of one root never overlap.
//
// What the channel may see is decided now, by the visibility rule for the
// organisations whose channel it is (ChannelSees), not by the principal
// the job runs as: a channel whose organisation lost sight of the
// incident gets its root replaced, once, by WithdrawnRoot, and nothing
// after that; a channel that sees the incident again gets the card back
// at the next update.
//
// Errors: a *RateLimitError comes back as it is; a *PermanentError (the
// message is gone or can no longer be edited) is logged, the version is
// recorded as shown and the job completes; other errors are worth
// retrying.
func (s *Service) UpdateRoot(ctx context.Context, incidentID uuid.UUID, channel string, complete func(ctx context.Context, tx Tx) error) error {
	up, ok := s.notifier.(Updater)
	if !ok {
		return complete0(ctx, s, complete)
	}
	return s.store.InNotifyTx(ctx, func(ctx context.Context, tx Tx) error {
		rtx, ok := tx.(RootTx)
		if !ok {
			return fmt.Errorf("notify: %T does not implement notify.RootTx", tx)
		}
		root, found, err := rtx.LockRoot(ctx, incidentID, channel)
		if err != nil {
			return err
		}
		if !found {
			return complete(ctx, tx)
		}
		inc, err := s.incidents.Get(ctx, access.System, incidentID.String())
		if err != nil {
			return err
		}
		sees, err := rtx.ChannelSees(ctx, channel, incidentID)
		if err != nil {
			return err
		}
		var m Message
		switch {
		case !sees && root.Withdrawn:
			return complete(ctx, tx)
		case !sees:
			m = WithdrawnRoot(inc.Reference)
		case inc.Version <= root.Shown && !root.Withdrawn:
			return complete(ctx, tx)
		default:
			ackBy, err := AcknowledgedBy(ctx, s.incidents, access.System, inc)
			if err != nil {
				return err
			}
			m = Card(inc, ackBy, s.baseURL)
			cert, err := rtx.ChannelHasCERT(ctx, channel)
			if err != nil {
				return err
			}
			if cert && unacknowledged(inc) {
				m.Actions = append(m.Actions, AcknowledgeAction(inc.ID))
			}
		}
		if err := s.gate.hold(channel, s.clock()); err != nil {
			return err
		}
		err = up.Update(ctx, channel, root.TS, m)
		s.gate.observe(channel, s.clock(), err)
		if err != nil {
			var rl *RateLimitError
			if errors.As(err, &rl) || !IsPermanent(err) {
				return err
			}
			s.log.Warn("thread root can no longer be updated", "incident", inc.Reference, "channel", channel, "err", err)
		}
		if err := rtx.SetRootShown(ctx, incidentID, channel, inc.Version, !sees); err != nil {
			return err
		}
		return complete(ctx, tx)
	})
}

// RefreshRoots queues, in tx, an update of the root of every thread of the
// incident, whatever version it shows: after a change that takes an
// organisation's sight away without changing the incident itself (a share
// that ends), so that its channel's root is withdrawn. Each job is a new
// one (not unique): an earlier job of the same version may have run before
// the change. Without Slack it does nothing.
func (s *Service) RefreshRoots(ctx context.Context, tx incident.Tx, incidentID uuid.UUID, version int64) error {
	if _, ok := s.notifier.(Updater); !ok {
		return nil
	}
	rtx, ok := tx.(RootTx)
	if !ok {
		return fmt.Errorf("notify: %T does not implement notify.RootTx", tx)
	}
	channels, err := rtx.Threads(ctx, incidentID)
	if err != nil {
		return err
	}
	for _, ch := range channels {
		if err := tx.Enqueue(ctx, UpdateRootJob{IncidentID: incidentID, Channel: ch, Version: version},
			&incident.JobOpts{NotUnique: true}); err != nil {
			return err
		}
	}
	return nil
}

// complete0 completes a job in a transaction of its own.
func complete0(ctx context.Context, s *Service, complete func(ctx context.Context, tx Tx) error) error {
	return s.store.InNotifyTx(ctx, complete)
}

// AcknowledgedBy returns who first acknowledged inc ("" when nobody has),
// read from its timeline as p.
func AcknowledgedBy(ctx context.Context, incidents *incident.Service, p access.Principal, inc *incident.Incident) (string, error) {
	if inc.AcknowledgedAt == nil {
		return "", nil
	}
	_, evs, _, err := incidents.Timeline(ctx, p, inc.ID.String(), []incident.EventKind{incident.EventAcknowledged}, incident.Page{Limit: 1})
	if err != nil || len(evs) == 0 {
		return "", err
	}
	return evs[0].Actor, nil
}
