package runbook

import (
	"context"
	"errors"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
)

// actionError is a step's action failing: its attempt is recorded (in a
// transaction of its own, the effect's one having rolled back) and retried
// or settled by on_failure. A permanent one is not retried.
type actionError struct {
	err       error
	permanent bool
}

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// Work acts on one step job. jobID is the River job's ID; complete
// completes that job inside the transaction that records what the job did,
// so that its effect happens exactly once. A job that is not the step's
// current job, or finds the step in another state than it expects,
// completes doing nothing.
func (s *Service) Work(ctx context.Context, jobID int64, job StepJob, complete func(ctx context.Context, tx incident.Tx) error) error {
	hook, err := s.webhook(ctx, jobID, job)
	if err != nil {
		return err
	}
	err = s.store.InRunTx(ctx, func(ctx context.Context, tx Tx) error {
		e, st, ok, err := s.claim(ctx, tx, jobID, job)
		if err != nil || !ok {
			if err == nil {
				err = complete(ctx, tx)
			}
			return err
		}
		e.hook = hook
		switch job.Purpose {
		case PurposeRun:
			st.Attempts++
			if err := e.act(ctx, st); err != nil {
				return err
			}
		case PurposeWake:
			if err := e.succeed(ctx, st, map[string]any{"waited": st.WaitingFor}, nil); err != nil {
				return err
			}
		case PurposeTimeout:
			if err := e.fail(ctx, st, "timed out waiting for "+st.WaitingFor, true); err != nil {
				return err
			}
		}
		if err := e.flush(ctx); err != nil {
			return err
		}
		return complete(ctx, tx)
	})
	var ae *actionError
	if !errors.As(err, &ae) {
		return err
	}
	// The attempt failed and its effect rolled back: record it.
	return s.store.InRunTx(ctx, func(ctx context.Context, tx Tx) error {
		e, st, ok, err := s.claim(ctx, tx, jobID, job)
		if err != nil || !ok {
			if err == nil {
				err = complete(ctx, tx)
			}
			return err
		}
		st.Attempts++
		st.LastError = truncate(ae.err.Error(), 2000)
		d := e.def(st)
		if st.Attempts < d.Retry.Attempts && !ae.permanent {
			backoff := d.Retry.Backoff
			for i := 1; i < st.Attempts; i++ {
				backoff *= 2
			}
			at := e.now.Add(backoff)
			if err := e.queue(ctx, st, PurposeRun, st.Attempts+1, at); err != nil {
				return err
			}
			if err := e.stepEvent(ctx, st, map[string]any{"retry_at": at}); err != nil {
				return err
			}
		} else if err := e.fail(ctx, st, st.LastError, false); err != nil {
			return err
		}
		if err := e.flush(ctx); err != nil {
			return err
		}
		return complete(ctx, tx)
	})
}

// claim locks the job's incident, then its run, and reports whether the
// job may act: the run is running, the step is in the state the job's
// purpose expects, and the job is the step's current job.
func (s *Service) claim(ctx context.Context, tx Tx, jobID int64, job StepJob) (*exec, *Step, bool, error) {
	inc, err := tx.LockRunIncident(ctx, job.RunID)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, false, nil
	} else if err != nil {
		return nil, nil, false, err
	}
	e, err := s.load(ctx, tx, inc, job.RunID)
	if err != nil {
		return nil, nil, false, err
	}
	st := e.byID[job.StepID]
	if e.run.State != RunRunning || st == nil || st.JobID == nil || *st.JobID != jobID {
		return nil, nil, false, nil
	}
	want := Running
	if job.Purpose != PurposeRun {
		want = Waiting
	}
	if st.Status != want || (job.Purpose == PurposeRun && job.Attempt != st.Attempts+1) {
		return nil, nil, false, nil
	}
	st.JobID, st.dirty = nil, true // this job is completed with what it does
	return e, st, true, nil
}

// wait makes a step wait for what, until timeout (0: none) — then its
// on_timeout applies.
func (e *exec) wait(ctx context.Context, st *Step, what string, timeout time.Duration, prompt map[string]any) error {
	st.Status, st.WaitingFor = Waiting, what
	extra := map[string]any{"waiting_for": what}
	for k, v := range prompt {
		extra[k] = v
	}
	if timeout > 0 {
		at := e.now.Add(timeout)
		if err := e.queue(ctx, st, PurposeTimeout, st.Attempts, at); err != nil {
			return err
		}
		extra["timeout_at"] = at
	}
	return e.stepEvent(ctx, st, extra)
}

// sleep makes a step wait for a duration: a wake-up job scheduled then.
func (e *exec) sleep(ctx context.Context, st *Step, d time.Duration, what string) error {
	st.Status, st.WaitingFor = Waiting, what
	at := e.now.Add(d)
	if err := e.queue(ctx, st, PurposeWake, st.Attempts, at); err != nil {
		return err
	}
	return e.stepEvent(ctx, st, map[string]any{"waiting_for": what, "until": at})
}
