package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/riverqueue/river"
)

// deadlineWorker fires one deadline timer: a reminder, or the record of a
// miss. The timer re-checks itself in its transaction, so a stale job
// completes without effect.
type deadlineWorker struct {
	river.WorkerDefaults[deadline.TimerJob]
	w *Workers
}

func (dw *deadlineWorker) Work(ctx context.Context, job *river.Job[deadline.TimerJob]) error {
	complete := completeTx[deadline.Tx](job)
	err := dw.w.Deadlines.Fire(ctx, job.Args, job.ID, complete)
	var early *deadline.EarlyError
	if errors.As(err, &early) {
		return river.JobSnooze(early.Wait)
	}
	err = cancelPermanent(err)
	if err != nil && job.Attempt >= job.MaxAttempts && !errors.Is(err, river.JobCancel(nil)) {
		// River discards a job after its last attempt: say so on the
		// timeline instead of losing the reminder or the miss silently.
		if gerr := dw.w.Deadlines.GiveUp(ctx, job.Args, job.ID, job.Attempt, err); gerr != nil {
			return errors.Join(err, gerr)
		}
		return river.JobCancel(fmt.Errorf("deadline timer %s %s: %w", job.Args.Deadline, job.Args.Point, err))
	}
	return err
}
