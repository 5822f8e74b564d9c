package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/stats"
)

// dashboard computes the metrics' facts of the seeded incidents (the
// backfill every upgrade runs), then times the whole dashboard's use case
// (every figure: roll-ups, the incidents seen beyond them, today's
// deadlines, the oldest open incidents, the escalation matrix) for a city,
// a regional CERT and the national CERT, in the process (server time), and
// the same over HTTP for the national CERT, and the monthly briefing as
// PDF. Target: p99 <= 200 ms server time (issue 13).
func (e *env) dashboard(ctx context.Context, a *app.App, viewers map[string]access.Principal,
	get func(path, token string) (time.Duration, error), tokens map[string]string) error {
	began := time.Now()
	e.progress("large: computing the metrics' facts of %d incidents (backfill)", e.opts.LargeCount)
	n, err := a.StatsMaintainer.Backfill(ctx)
	if err != nil {
		return err
	}
	if _, err := a.StatsMaintainer.Compact(ctx); err != nil {
		return err
	}
	backfill := time.Since(began)
	// As autovacuum would after the backfill: the folded deltas are dead
	// rows of stats_delta, which no read should have to step over.
	for _, table := range []string{"stats_facts", "stats_rollup", "stats_delta", "stats_unmet_deadlines"} {
		// One statement each: VACUUM cannot run in the implicit
		// transaction of a multi-statement query.
		if _, err := a.DB.Pool.Exec(ctx, "VACUUM ANALYZE "+table); err != nil {
			return err
		}
	}
	e.progress("large: backfilled %d incidents in %s", n, backfill.Round(time.Second))
	e.report.Rows = append(e.report.Rows, NewRow(fmt.Sprintf("metrics backfill of %d incidents", n), "s", backfill.Seconds(), 0, Target{},
		fmt.Sprintf("%.0f incidents/s, batches of 1,000 in one transaction each (stats.Maintainer.Backfill)", float64(n)/backfill.Seconds())))

	for _, q := range []struct {
		what   string
		query  stats.Query
		target bool
	}{
		{"dashboard (last 30 days vs the 30 before)", stats.Query{Period: stats.PeriodInput{Period: "P30D"}}, true},
		{"dashboard (last month vs the month before)", stats.Query{Period: stats.PeriodInput{Month: time.Now().AddDate(0, -1, 0).Format("2006-01")}}, true},
		{"dashboard (last 12 months vs the 12 before)", stats.Query{Period: stats.PeriodInput{Period: "P1Y"}, Group: "month"}, false},
	} {
		for _, name := range []string{"city", "regional CERT", "national CERT"} {
			p := viewers[name]
			if _, err := a.Stats.Dashboard(ctx, p, q.query); err != nil { // warm-up
				return err
			}
			var lat []time.Duration
			var d *stats.Dashboard
			for range e.opts.LargeRequests {
				t := time.Now()
				if d, err = a.Stats.Dashboard(ctx, p, q.query); err != nil {
					return err
				}
				lat = append(lat, time.Since(t))
			}
			target := Target{}
			if q.target {
				target = Target{AtMost, 200}
			}
			e.report.Rows = append(e.report.Rows, NewRow(fmt.Sprintf("%s at %d incidents, %s, server p99", q.what, e.opts.LargeCount, name),
				"ms", Ms(Percentile(lat, 99)), 0, target,
				fmt.Sprintf("p50 %.1f ms of %d calls of stats.Service.Dashboard after one warm-up; it counted %d new incidents, %d open",
					Ms(Percentile(lat, 50)), len(lat), d.Totals.New, d.Totals.Open)))
		}
	}
	path := "/api/v1/stats/dashboard?period=P30D"
	if _, err := get(path, tokens["national CERT"]); err != nil {
		return err
	}
	var lat []time.Duration
	for range e.opts.LargeRequests {
		d, err := get(path, tokens["national CERT"])
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	e.report.Rows = append(e.report.Rows, NewRow(fmt.Sprintf("GET %s at %d incidents, national CERT, p99", path, e.opts.LargeCount),
		"ms", Ms(Percentile(lat, 99)), 0, Target{}, fmt.Sprintf("p50 %.1f ms over HTTP (JSON of every section)", Ms(Percentile(lat, 50)))))
	month := time.Now().AddDate(0, -1, 0).Format("2006-01")
	t := time.Now()
	doc, err := a.Reports.Briefing(ctx, viewers["national CERT"], month)
	if err != nil {
		return err
	}
	e.report.Rows = append(e.report.Rows, NewRow(fmt.Sprintf("monthly briefing PDF at %d incidents, national CERT", e.opts.LargeCount),
		"ms", Ms(time.Since(t)), 0, Target{}, fmt.Sprintf("one call, %d bytes", len(doc.PDF))))
	return nil
}
