package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/riverqueue/river"
)

// notifyWorker delivers one notification of the outbox.
type notifyWorker struct {
	river.WorkerDefaults[notify.DeliverJob]
	w *Workers
}

func (nw *notifyWorker) Work(ctx context.Context, job *river.Job[notify.DeliverJob]) error {
	complete := completeTx[notify.Tx](job)
	err := nw.w.Notify.Deliver(ctx, job.Args.NotificationID, complete)
	if err == nil {
		return nil
	}
	var claimed *notify.ClaimedError
	if errors.As(err, &claimed) {
		// Another delivery holds the notification (or is posting the
		// first message of its thread): look again when that is over.
		// A snooze uses no attempt.
		return river.JobSnooze(max(claimed.Wait, 100*time.Millisecond))
	}
	var rl *notify.RateLimitError
	if errors.As(err, &rl) {
		// Slack asked us to wait: a snooze uses no attempt.
		return river.JobSnooze(max(rl.RetryAfter, time.Second))
	}
	if notify.IsPermanent(err) {
		return river.JobCancel(fmt.Errorf("notification %s: %w", job.Args.NotificationID, err))
	}
	err = cancelPermanent(err)
	if job.Attempt >= job.MaxAttempts && !errors.Is(err, river.JobCancel(nil)) {
		// River discards a job after its last attempt: say so on the
		// notification and the timeline instead of leaving it pending.
		if gerr := nw.w.Notify.GiveUp(ctx, job.Args.NotificationID, job.Attempt, err); gerr != nil {
			return errors.Join(err, gerr)
		}
		return river.JobCancel(fmt.Errorf("notification %s: %w", job.Args.NotificationID, err))
	}
	return err
}

// NextRetry spaces the retries of a failed delivery by notify.RetryDelay
// (2 s doubling, at most 10 minutes) instead of River's attempt⁴ seconds,
// so that a Slack outage delays messages by minutes, not hours, once it is
// over; up to a tenth is added at random, so that what failed together
// does not retry together.
func (nw *notifyWorker) NextRetry(job *river.Job[notify.DeliverJob]) time.Time {
	d := notify.RetryDelay(job.Attempt)
	return time.Now().Add(d + rand.N(d/10+1))
}
