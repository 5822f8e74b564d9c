package worker

import (
	"context"
	"errors"

	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
)

// deadlineWorker fires one deadline timer: a reminder, or the record of a
// miss. The timer re-checks itself in its transaction, so a stale job
// completes without effect.
type deadlineWorker struct {
	river.WorkerDefaults[deadline.TimerJob]
	w *Workers
}

func (dw *deadlineWorker) Work(ctx context.Context, job *river.Job[deadline.TimerJob]) error {
	complete := func(ctx context.Context, tx deadline.Tx) error {
		stx, err := postgres.SQLTxOfAny(tx)
		if err != nil {
			return err
		}
		_, err = river.JobCompleteTx[*riverdatabasesql.Driver](ctx, stx, job)
		return err
	}
	err := dw.w.Deadlines.Fire(ctx, job.Args, job.ID, complete)
	var early *deadline.EarlyError
	if errors.As(err, &early) {
		return river.JobSnooze(early.Wait)
	}
	return cancelPermanent(err)
}
