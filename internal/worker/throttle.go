package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// sweepWorker summarises ended throttle windows into the audit log and
// removes old ones (throttle.Sweeper). The sweep is idempotent: a window
// is summarised once however often, and wherever, it runs.
type sweepWorker struct {
	river.WorkerDefaults[throttle.SweepJob]
	w *Workers
}

// Timeout bounds one sweep; the next period starts another.
func (sw *sweepWorker) Timeout(*river.Job[throttle.SweepJob]) time.Duration {
	return throttle.SweepInterval
}

func (sw *sweepWorker) Work(ctx context.Context, _ *river.Job[throttle.SweepJob]) error {
	if sw.w.Throttle == nil {
		return river.JobCancel(errors.New("no throttle sweeper is wired"))
	}
	_, err := sw.w.Throttle.Sweep(ctx)
	return err
}

// periodicJobs are the jobs River's leader inserts on a schedule: the
// throttle sweep every throttle.SweepInterval, the compaction of the
// metrics' roll-ups every stats.CompactInterval and the audit chain's
// verification every audit.WatchInterval. One of each at a time is
// enough, so none is queued while another of its kind waits or runs.
func periodicJobs() []*river.PeriodicJob {
	once := river.UniqueOpts{ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
		rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(throttle.SweepInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return throttle.SweepJob{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: once}
			}, nil),
		river.NewPeriodicJob(river.PeriodicInterval(stats.CompactInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return stats.CompactJob{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: once}
			}, nil),
		river.NewPeriodicJob(river.PeriodicInterval(audit.WatchInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				return audit.WatchJob{}, &river.InsertOpts{MaxAttempts: 3, UniqueOpts: once}
			}, nil),
	}
}

// compactWorker folds the metrics' roll-up deltas into their totals
// (stats.Maintainer.Compact); folding is idempotent.
type compactWorker struct {
	river.WorkerDefaults[stats.CompactJob]
	w *Workers
}

// Timeout bounds one compaction; the next period starts another.
func (cw *compactWorker) Timeout(*river.Job[stats.CompactJob]) time.Duration { return time.Minute }

func (cw *compactWorker) Work(ctx context.Context, _ *river.Job[stats.CompactJob]) error {
	if cw.w.Stats == nil {
		return river.JobCancel(errors.New("no stats maintainer is wired"))
	}
	_, err := cw.w.Stats.Compact(ctx)
	return err
}

// auditWatchWorker verifies the audit log's hash chain (audit.Watcher):
// a broken chain is an alert to the national CERT's administrators, once
// per break, not an error of the job; failing to read the chain or to
// send the alert is, and is retried.
type auditWatchWorker struct {
	river.WorkerDefaults[audit.WatchJob]
	w *Workers
}

// Timeout bounds one walk of the whole chain, which grows with the log.
func (aw *auditWatchWorker) Timeout(*river.Job[audit.WatchJob]) time.Duration {
	return 30 * time.Minute
}

func (aw *auditWatchWorker) Work(ctx context.Context, _ *river.Job[audit.WatchJob]) error {
	if aw.w.AuditWatch == nil {
		return river.JobCancel(errors.New("no audit chain watcher is wired"))
	}
	if _, err := aw.w.AuditWatch.Check(ctx); err != nil {
		return fmt.Errorf("audit chain: %w", err)
	}
	return nil
}
