package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// notifyWorker delivers one notification of the outbox.
type notifyWorker struct {
	river.WorkerDefaults[notify.DeliverJob]
	w *Workers
}

func (nw *notifyWorker) Work(ctx context.Context, job *river.Job[notify.DeliverJob]) error {
	complete := func(ctx context.Context, tx notify.Tx) error {
		stx, err := postgres.SQLTxOfAny(tx)
		if err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, stx, job)
		return err
	}
	err := nw.w.Notify.Deliver(ctx, job.Args.NotificationID, complete)
	if err == nil {
		return nil
	}
	var rl *notify.RateLimitError
	if errors.As(err, &rl) {
		// Slack asked us to wait: a snooze uses no attempt.
		return river.JobSnooze(max(rl.RetryAfter, time.Second))
	}
	if notify.IsPermanent(err) {
		return river.JobCancel(fmt.Errorf("notification %s: %w", job.Args.NotificationID, err))
	}
	return cancelPermanent(err)
}
