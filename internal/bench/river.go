package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/worker"
	"github.com/riverqueue/river"
)

// noopArgs is the job of River's own baseline.
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench.noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// riverBaseline inserts RiverJobs no-op jobs with InsertMany, then works
// them with a River client on the same driver and settings as certdesk's
// (worker.Driver: riverdatabasesql, listening through the pgx pool) and
// reports jobs per second: the baseline that playbook steps will be
// compared with.
func (e *env) riverBaseline(ctx context.Context) (float64, error) {
	db, _, err := e.database(ctx, "river", 40)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	cooldown := min(e.opts.PollInterval, worker.FetchCooldown) // as worker.New
	workers := river.NewWorkers()
	river.AddWorker(workers, noopWorker{})
	rc, err := river.NewClient(worker.Driver(db.SQL, db.Pool), &river.Config{
		Logger:            e.log,
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: e.opts.RiverWorkers}},
		FetchPollInterval: e.opts.PollInterval,
		FetchCooldown:     cooldown,
	})
	if err != nil {
		return 0, err
	}
	n := e.opts.RiverJobs
	e.progress("River no-op baseline: inserting %d jobs", n)
	const batch = 1000
	for i := 0; i < n; i += batch {
		params := make([]river.InsertManyParams, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			params = append(params, river.InsertManyParams{Args: noopArgs{N: j}})
		}
		if _, err := rc.InsertMany(ctx, params); err != nil {
			return 0, err
		}
	}
	done, cancelSub := rc.Subscribe(river.EventKindJobCompleted)
	defer cancelSub()
	began := time.Now()
	if err := rc.Start(context.WithoutCancel(ctx)); err != nil {
		return 0, err
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = rc.Stop(stop)
	}()
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	worked := 0
	for worked < n {
		select {
		case <-done:
			worked++
		case <-timeout.C:
			return 0, fmt.Errorf("only %d of %d no-op jobs worked in 60 s", worked, n)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	took := time.Since(began)
	rate := float64(n) / took.Seconds()
	e.progress("River: %.0f no-op jobs/s", rate)
	e.report.Rows = append(e.report.Rows, NewRow("River no-op jobs (baseline for playbook steps)", "/s", rate, 0, Target{},
		fmt.Sprintf("%d jobs inserted with InsertMany, then worked in %s with certdesk's River settings: riverdatabasesql listening through pgx, MaxWorkers %d, poll %s, FetchCooldown %s; "+
			"River fetches at most MaxWorkers jobs per FetchCooldown, so these settings cap any job rate near %.0f/s",
			n, took.Round(time.Millisecond), e.opts.RiverWorkers, e.opts.PollInterval, cooldown,
			float64(e.opts.RiverWorkers)/cooldown.Seconds())))
	return rate, nil
}
