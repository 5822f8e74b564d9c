package worker

import (
	"context"
	"errors"
	"fmt"
	"github.com/certdesk/certdesk/internal/mail"
	"github.com/certdesk/certdesk/internal/mailin"
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

// mailConfirmAttempts bounds the attempts to mail a confirm link: the
// draft waits under "Report an incident" whatever becomes of the mail.
const mailConfirmAttempts = 8

// mailConfirmWorker mails the confirm link of a report sent by e-mail
// (mailin.ConfirmJob), retried on the relay's temporary errors.
type mailConfirmWorker struct {
	river.WorkerDefaults[mailin.ConfirmJob]
	w *Workers
}

func (mw *mailConfirmWorker) Work(ctx context.Context, job *river.Job[mailin.ConfirmJob]) error {
	if mw.w.Mail == nil {
		return river.JobCancel(errors.New("mailin: the inbound mail service is not configured in this process"))
	}
	err := mw.w.Mail.SendConfirm(ctx, job.Args)
	if err == nil {
		return nil
	}
	if mail.IsPermanent(err) || job.Attempt >= mailConfirmAttempts {
		return river.JobCancel(fmt.Errorf("mail the confirm link: %w", err))
	}
	return err
}
