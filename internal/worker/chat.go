package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// updateRootWorker keeps the first message of an incident's thread in a
// channel showing the incident's current state.
type updateRootWorker struct {
	river.WorkerDefaults[notify.UpdateRootJob]
	w *Workers
}

func (uw *updateRootWorker) Work(ctx context.Context, job *river.Job[notify.UpdateRootJob]) error {
	complete := func(ctx context.Context, tx notify.Tx) error {
		stx, err := sqlTxOf(tx)
		if err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, stx, job)
		return err
	}
	err := uw.w.Notify.UpdateRoot(ctx, job.Args.IncidentID, job.Args.Channel, complete)
	var rl *notify.RateLimitError
	if errors.As(err, &rl) {
		return river.JobSnooze(max(rl.RetryAfter, time.Second))
	}
	return cancelPermanent(err)
}

// respondAttempts bounds the retries of a reply: Slack accepts a
// response_url for 30 minutes only.
const respondAttempts = 5

// respondWorker posts a reply to a Slack response_url.
type respondWorker struct {
	river.WorkerDefaults[notify.RespondJob]
	w *Workers
}

func (rw *respondWorker) Work(ctx context.Context, job *river.Job[notify.RespondJob]) error {
	err := rw.w.Notify.Respond(ctx, job.Args)
	if err == nil {
		return nil
	}
	if notify.IsPermanent(err) || job.Attempt >= respondAttempts {
		return river.JobCancel(fmt.Errorf("slack reply: %w", err))
	}
	return err
}
