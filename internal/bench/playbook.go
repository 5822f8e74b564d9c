package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/playbook"
)

// The playbook phase: runs of a synthetic playbook, a chain of task.create
// steps, on many incidents at once.
const (
	benchRuns  = 40
	benchSteps = 25
)

// The most a playbook step may cost: the counts last measured
// (docs/performance.md), rounded up a little, so that they can only go
// down. Statements were 18.9 before a step locked only its run row and
// batched its writes (2026-12-04), 10.7 after; the write transactions,
// 1.41 to 1.48 in every run before and after, are the step's own one plus
// River's fetches and the reports' share, which that change did not touch.
const (
	maxStepStatements = 11.0
	maxStepWrites     = 1.5
)

// benchPlaybook is a chain of n task.create steps, started by the creation
// of an incident of category "test".
func benchPlaybook(n int) string {
	var b strings.Builder
	b.WriteString("id: bench\nname: Bench\nversion: 1\ntriggers:\n  - on: incident.created\n    when: category == \"test\"\nsteps:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  - id: s%d\n    action: task.create\n    with: { title: \"Step %d\" }\n", i, i)
		if i > 1 {
			fmt.Fprintf(&b, "    needs: [s%d]\n", i-1)
		}
	}
	return b.String()
}

// playbookSteps runs benchRuns runs of benchPlaybook(benchSteps) on real
// River workers with certdesk's settings, and reports steps per second
// against River's own no-op throughput measured in the same run.
func (e *env) playbookSteps(ctx context.Context, riverRate float64) error {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.DataDir, cfg.BlobDir = e.dir, e.dir+"/blobs-playbooks"
	cfg.JobPollInterval = e.opts.PollInterval
	cfg.WorkerConcurrency = e.opts.RiverWorkers
	a, url, closeDB, err := e.phaseApp(ctx, "playbooks", cfg, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer closeDB()
	pbs, err := playbook.LoadSources([]playbook.Source{{Name: "bench.yaml", Data: []byte(benchPlaybook(benchSteps))}})
	if err != nil {
		return err
	}
	a.Runs.SetPlaybooks(pbs)
	city := &org.Organization{Slug: "bench-city", Name: "City", Kind: org.LocalAuthority}
	if err := a.Store.CreateOrganization(ctx, city); err != nil {
		return err
	}
	p := access.Principal{Email: "bench@bench-city.example", Role: access.Reporter, OrgID: city.ID, OrgSlug: city.Slug, OrgKind: city.Kind}
	stopWorkers, err := runWorkers(ctx, a)
	if err != nil {
		return err
	}
	defer stopWorkers()
	// The idle app's own statements, to take off the count of the steps.
	idleFrom, from, err := e.idleWindow(ctx, "playbooks", 2*time.Second)
	if err != nil {
		return err
	}
	e.progress("playbooks: %d runs of %d task.create steps", benchRuns, benchSteps)
	began := time.Now()
	for i := 0; i < benchRuns; i++ {
		if _, _, err := a.Incidents.Create(ctx, p, incident.NewIncident{Title: fmt.Sprintf("Bench %d", i), Category: "test", Type: "test"}, nil); err != nil {
			return err
		}
	}
	// The runs get the caller's time (TestSmoke's on a loaded machine),
	// at most ten minutes: a figure, not a limit, is what this phase gives.
	deadline := began.Add(10 * time.Minute)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	for {
		var running, done int64
		if err := querySQL(ctx, url, `SELECT count(*) FILTER (WHERE state = 'running') FROM playbook_runs`, &running); err != nil {
			return err
		}
		if err := querySQL(ctx, url, `SELECT count(*) FILTER (WHERE state = 'succeeded') FROM playbook_runs`, &done); err != nil {
			return err
		}
		if running == 0 && done == benchRuns {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d runs finished in %s", done, benchRuns, time.Since(began).Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	took := time.Since(began)
	to, err := e.snap(ctx, "playbooks")
	if err != nil {
		return err
	}
	c := costPer(idleFrom, from, from, to, benchRuns*benchSteps)
	e.progress("per step: %.1f statements, %.2f write transactions; the most executed:\n%s", c.statements, c.writes, c.breakdown(40))
	var tasks int64
	if err := querySQL(ctx, url, `SELECT count(*) FROM incident_tasks`, &tasks); err != nil {
		return err
	}
	if tasks != benchRuns*benchSteps {
		return fmt.Errorf("the runs created %d tasks, want %d", tasks, benchRuns*benchSteps)
	}
	rate := float64(benchRuns*benchSteps) / took.Seconds()
	e.progress("playbooks: %.0f steps/s", rate)
	e.report.Rows = append(e.report.Rows, NewRow("playbook steps", "/s", rate, riverRate, Target{AtLeastRatio, 0.5},
		fmt.Sprintf("%d runs at once of a chain of %d task.create steps (%d steps, each its own River job: lock, effect, "+
			"status, timeline events, next job, completion in one transaction), on the app's River client (MaxWorkers %d, poll %s); "+
			"from the first report to the last run's end: %s",
			benchRuns, benchSteps, benchRuns*benchSteps, cfg.WorkerConcurrency, cfg.JobPollInterval, took.Round(time.Millisecond))),
		NewRow("SQL statements per playbook step", "", c.statements, 0, Target{AtMost, maxStepStatements},
			fmt.Sprintf("pg_stat_statements, BEGIN and COMMIT included, over the whole phase (its %d reports included) per step, less the idle app's own", benchRuns)),
		NewRow("write transactions per playbook step", "", c.writes, 0, Target{AtMost, maxStepWrites}, ""),
	)
	return nil
}
