package worker

import (
	"context"

	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/riverqueue/river"
)

// playbookWorker acts on one step of a playbook run: an attempt at its
// action, the end of a wait, or a timeout. The engine completes the job in
// the transaction of what it did.
type playbookWorker struct {
	river.WorkerDefaults[runbook.StepJob]
	w *Workers
}

func (pw *playbookWorker) Work(ctx context.Context, job *river.Job[runbook.StepJob]) error {
	return cancelPermanent(pw.w.Runs.Work(ctx, job.ID, job.Args, completeWith(job)))
}
