package worker

import (
	"context"

	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/riverqueue/river"
)

// policyWorker runs one escalation policy timer: it escalates or notifies
// if the incident is still unacknowledged, and completes its job in the
// same transaction.
type policyWorker struct {
	river.WorkerDefaults[escalation.TimerJob]
	w *Workers
}

func (pw *policyWorker) Work(ctx context.Context, job *river.Job[escalation.TimerJob]) error {
	return cancelPermanent(pw.w.Escalations.Fire(ctx, job.Args.TimerID, completeWith(job)))
}
