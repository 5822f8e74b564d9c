package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// ClaimLease is how long a delivery's claim on its notification holds by
// default (Options.ClaimLease; certdesk sets it to
// CERTDESK_JOB_RESCUE_AFTER). It is longer than a delivery job may run
// (the worker's JobTimeout, one minute), so that a delivery still talking
// to Slack is never overtaken by another, and short enough that the claim
// of a worker that died mid-call has lapsed by the time River rescues its
// job (two minutes) and retries it.
const ClaimLease = 2 * time.Minute

// RootWait is the longest a delivery into a thread waits before it looks
// again for the thread's first message, which another delivery is
// posting.
const RootWait = time.Second

// Recording the outcome of a call that reached Slack or the webhook is
// tried recordTries times within recordTimeout, whatever the job's own
// context says: what is not recorded is sent again.
const (
	recordTries   = 4
	recordTimeout = 20 * time.Second
)

// ClaimedError says that another delivery holds the notification's claim,
// or is posting the first message of its thread: look again after Wait.
// It is not a failure and uses no attempt.
//
// In a channel in trouble (gate.go) it also says that Earlier notifications
// of the channel created before this one are still pending: this one waits
// for them, so that the channel's backlog drains in order.
type ClaimedError struct {
	Until   time.Time     // when the other claim lapses at the latest
	Wait    time.Duration // how long to wait before looking again
	Earlier int           // earlier notifications of the channel still pending (strict order)
}

func (e *ClaimedError) Error() string {
	if e.Earlier > 0 {
		return fmt.Sprintf("%d earlier notifications of the channel are still pending", e.Earlier)
	}
	return fmt.Sprintf("claimed by another delivery until %s", e.Until.Format(time.RFC3339Nano))
}

// delivery is what a claim decided: the notification as it will be sent
// and where it goes.
type delivery struct {
	n      *Notification
	token  uuid.UUID
	thread string // Slack: the thread to reply into; "" for its first message
	root   bool   // Slack: this delivery posts the thread's first message
	// again: an earlier attempt was made whose message may have been
	// posted (it failed, or its claim lapsed unrecorded): look for it
	// before posting (Finder).
	again   bool
	version int64  // the incident's version the claim saw
	hookURL string // webhook: the recipient's URL and secret at claim time
	hookKey string
	mailTo  string // e-mail: the address at claim time
}

// Deliver sends one notification, once, in three steps, so that no row
// stays locked and no transaction open while Slack or the webhook is
// called (a slow Slack must not hold up writes to the incident):
//
//  1. claim, in a short transaction: a notification that is no longer
//     pending completes the job without sending; otherwise what may leave
//     for the recipient is decided now (withdrawn if it no longer sees
//     the incident, restricted if it became TLP:RED or TLP:AMBER+STRICT),
//     the thread is chosen, and the notification is claimed for
//     ClaimLease;
//  2. the call to Slack or the webhook, with nothing held;
//  3. record, in a second short transaction: sent, the thread's first
//     message, the notified timeline event and complete (the worker
//     completes its job there). A failed call instead releases the claim
//     and records the error. Attempts counts the calls whose outcome was
//     recorded.
//
// A notification whose claim another delivery holds is a *ClaimedError:
// the worker looks again once it lapses. The claim is what keeps two
// deliveries of one notification from both sending; a claim never
// recorded (the worker died during the call) lapses, and River's retry of
// the job, which runs it again, claims and sends it then. If the call
// succeeded but its outcome cannot be recorded (the database is gone for
// longer than recordTimeout), the message is sent again once the claim
// lapses: at least once, never lost. Notifications with provider log
// leave nothing outside certdesk and are delivered in the claim's
// transaction.
//
// A Slack channel that was answered 429 is not called again before its
// Retry-After has passed (a *RateLimitError before the claim, from what
// this process was told: gate.go), and while a channel is in trouble its
// notifications are delivered one at a time, oldest first (a *ClaimedError
// with Earlier set for the younger ones).
//
// Errors: a *RateLimitError or a *PermanentError from the notifier come
// back as they are (a permanent one after the notification was marked
// failed, with a timeline event); a *ClaimedError; any other error is
// worth retrying.
func (s *Service) Deliver(ctx context.Context, id uuid.UUID, complete func(ctx context.Context, tx Tx) error) error {
	d, err := s.claim(ctx, id, complete)
	if err != nil || d == nil {
		return err
	}
	var ts string
	switch d.n.Provider {
	case Webhook:
		err = s.postWebhook(ctx, d.hookURL, d.hookKey, d.n)
	case Email:
		err = s.sendEmail(ctx, d)
	default:
		ts, err = s.send(ctx, d)
		s.gate.observe(d.n.Channel, s.clock(), err)
	}
	if err != nil {
		// Recorded even when the job's context ended (a call that timed
		// out), so that the claim is released for the retry.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if rerr := s.fail(fctx, id, d.token, err.Error(), IsPermanent(err)); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return s.recordSent(ctx, d, ts, complete)
}

// send posts the claimed delivery d to Slack, unless an earlier attempt
// did already: before an attempt that is not the first, a notifier that
// can (Finder) looks for the message labelled with the notification's ID,
// and the ts of the one it finds is recorded instead of posting again.
// When looking is refused for good (a token without the history scopes),
// the message is posted, at least once as before, and that is logged.
func (s *Service) send(ctx context.Context, d *delivery) (string, error) {
	if f, ok := s.notifier.(Finder); ok && d.again {
		ts, err := f.Find(ctx, d.n.Channel, d.thread, d.n.Message.Key, d.n.CreatedAt)
		switch {
		case err != nil && IsPermanent(err):
			s.log.Warn("cannot look for the message of an earlier attempt; posting it, it may appear twice",
				"notification", d.n.ID, "channel", d.n.Channel, "err", err)
		case err != nil:
			return "", err
		case ts != "":
			s.log.Info("an earlier attempt had posted the message; recorded, not posted again",
				"notification", d.n.ID, "channel", d.n.Channel, "ts", ts)
			return ts, nil
		}
	}
	return s.notifier.Send(ctx, d.n.Channel, d.thread, d.n.Message)
}

// claim is the first step of Deliver. It returns nil when nothing is to
// be sent (the notification is done, withdrawn now, or delivered by the
// log provider), after complete ran in its transaction.
func (s *Service) claim(ctx context.Context, id uuid.UUID, complete func(ctx context.Context, tx Tx) error) (*delivery, error) {
	var out *delivery
	err := s.store.InNotifyTx(ctx, func(ctx context.Context, tx Tx) error {
		out = nil
		n, inc, err := tx.LockNotificationWithIncident(ctx, id)
		if err != nil {
			return err
		}
		if n.State != Pending {
			return complete(ctx, tx)
		}
		now := s.clock()
		if n.InFlight(now) {
			return &ClaimedError{Until: *n.ClaimedUntil, Wait: n.ClaimedUntil.Sub(now)}
		}
		// The message was decided and rendered when it was queued; a
		// delivery can wait hours for Slack, and the recipient may have
		// lost sight of the incident since, or the incident become
		// TLP:RED or TLP:AMBER+STRICT. What may leave is decided again
		// now, for the recipient organisation as it is now. A change
		// after this transaction does not stop the call it starts
		// (Withdraw leaves a claimed notification alone).
		sees, err := tx.OrgCanSee(ctx, n.RecipientOrgID, n.IncidentID)
		if err != nil {
			return err
		}
		if !sees {
			n.releaseClaim() // a lapsed claim
			if err := s.Withdraw(ctx, tx, n, incident.Actor{Name: access.System.Name()},
				n.RecipientOrgSlug+" no longer sees the incident"); err != nil {
				return err
			}
			return complete(ctx, tx)
		}
		n.Message = RestrictNow(inc, n.Message, s.baseURL)
		d := &delivery{n: n, token: uuid.New(), version: inc.Version}
		switch {
		case n.Provider == Webhook:
			if d.hookURL, d.hookKey, err = s.webhookTarget(ctx, tx, n); err != nil {
				return err
			}
		case n.Provider == Email && s.mailer != nil:
			if n.IncidentReference == "" {
				n.IncidentReference = inc.Reference
			}
			var why string
			if d.mailTo, why, err = s.emailTarget(ctx, tx, n, inc); err != nil {
				return err
			}
			if d.mailTo == "" {
				n.releaseClaim() // a lapsed claim
				if err := s.Withdraw(ctx, tx, n, incident.Actor{Name: access.System.Name()}, why); err != nil {
					return err
				}
				return complete(ctx, tx)
			}
		case n.Provider == Slack && s.notifier != nil:
			// The channel's Retry-After first: no call to it before then.
			// Then, while the channel is in trouble, strict order: the
			// oldest pending notification of the channel goes first.
			if err := s.gate.hold(n.Channel, now); err != nil {
				return err
			}
			if s.gate.inTrouble(n.Channel, now) {
				earlier, err := tx.EarlierPending(ctx, n, n.CreatedAt.Add(-OrderWindow))
				if err != nil {
					return err
				}
				if earlier > 0 {
					w := orderWait(earlier)
					return &ClaimedError{Until: now.Add(w), Wait: w, Earlier: earlier}
				}
			}
			if d.thread, err = tx.LockThread(ctx, n.IncidentID, n.Channel); err != nil {
				return err
			}
			if d.thread == "" {
				// The first message of the thread: one delivery posts it,
				// the others wait for its ts to reply into.
				until, err := tx.RootClaimUntil(ctx, n.IncidentID, n.Channel, n.ID, now)
				if err != nil {
					return err
				}
				if until != nil {
					return &ClaimedError{Until: *until, Wait: min(until.Sub(now), RootWait)}
				}
				d.root = true
			}
		default:
			// Nothing leaves certdesk: delivered here.
			n.Provider = Log
			s.log.Info("notification", "notification", n.ID, "incident", n.IncidentReference,
				"recipient", n.RecipientOrgSlug, "kind", n.EventKind, "header", n.Message.Header,
				"text", n.Message.Text, "link", n.Message.Link)
			n.releaseClaim()
			n.Attempts++
			n.State, n.SentAt, n.LastError = Sent, &now, ""
			if err := tx.UpdateNotification(ctx, n); err != nil {
				return err
			}
			// Only a message that reached someone is on the timeline: the
			// timeline says who was told, and a log line told nobody.
			return complete(ctx, tx)
		}
		d.again = n.Attempts > 0 || n.ClaimedUntil != nil // a lapsed claim: its call's outcome is unknown
		d.n.Message.Key = n.ID.String()
		until := now.Add(s.lease)
		n.ClaimedUntil, n.ClaimToken, n.ClaimRoot = &until, d.token, d.root
		if err := tx.UpdateNotification(ctx, n); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// recordSent is the last step of Deliver after a call that succeeded. It
// is tried again on errors, on a context of its own: the message has
// left, and what is not recorded is sent again.
func (s *Service) recordSent(ctx context.Context, d *delivery, ts string, complete func(ctx context.Context, tx Tx) error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var err error
	for try := range recordTries {
		if try > 0 {
			select {
			case <-rctx.Done():
				return errors.Join(err, rctx.Err())
			case <-time.After(100 * time.Millisecond << try):
			}
		}
		err = s.store.InNotifyTx(rctx, func(ctx context.Context, tx Tx) error { return s.record(ctx, tx, d, ts, complete) })
		if err == nil {
			return nil
		}
		s.log.Warn("notification sent, recording it failed", "notification", d.n.ID, "try", try+1, "err", err)
	}
	s.log.Error("notification sent but not recorded: it will be sent again once its claim lapses",
		"notification", d.n.ID, "incident", d.n.IncidentReference, "recipient", d.n.RecipientOrgSlug, "err", err)
	return fmt.Errorf("record notification %s as sent: %w", d.n.ID, err)
}

// record writes, in tx, that the claimed delivery d was sent as ts.
func (s *Service) record(ctx context.Context, tx Tx, d *delivery, ts string, complete func(ctx context.Context, tx Tx) error) error {
	n, err := tx.LockNotification(ctx, d.n.ID)
	if err != nil {
		return err
	}
	if n.State != Pending {
		// Another delivery sent and recorded it after this one's claim
		// lapsed (a call that outlasted ClaimLease), or it was given up.
		s.log.Warn("notification sent by a delivery whose claim had lapsed", "notification", n.ID,
			"incident", n.IncidentReference, "state", n.State, "ts", ts)
		return complete(ctx, tx)
	}
	now := s.clock()
	if d.root {
		if err := tx.InsertThread(ctx, n.IncidentID, n.Channel, ts); err != nil {
			return err
		}
	}
	n.Message = d.n.Message
	n.Attempts++ // an attempt counts once its outcome is known
	n.ProviderMsgID, n.ThreadTS = ts, d.thread
	n.State, n.SentAt, n.LastError = Sent, &now, ""
	n.releaseClaim()
	if err := tx.UpdateNotification(ctx, n); err != nil {
		return err
	}
	if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: n.IncidentID, Actor: access.System.Name(),
		Kind: EventNotified, Data: eventData(n), OccurredAt: now}); err != nil {
		return err
	}
	if d.root {
		if err := s.refreshNewRoot(ctx, tx, n, d.version); err != nil {
			return err
		}
	}
	return complete(ctx, tx)
}

// refreshNewRoot queues an update of a thread's first message just
// recorded when the incident changed during the call that posted it: the
// change found no thread to update (RootHandler), and the message shows
// the incident as it was at the claim.
func (s *Service) refreshNewRoot(ctx context.Context, tx Tx, n *Notification, claimed int64) error {
	if _, ok := s.notifier.(Updater); !ok {
		return nil
	}
	inc, err := tx.LockIncident(ctx, access.System, n.IncidentID.String())
	if err != nil {
		return err
	}
	if inc.Version == claimed {
		return nil
	}
	return tx.Enqueue(ctx, UpdateRootJob{IncidentID: n.IncidentID, Channel: n.Channel, Version: inc.Version}, nil)
}
