package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// Main is cmd/certdesk-bench: it parses args, runs the benchmark, prints
// the table to stdout (progress to stderr), writes JSON when asked and
// returns the exit code: 0 when it ran (even with missed targets, unless
// -strict), 1 when targets were missed with -strict, 2 on errors.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	d := DefaultOptions()
	fs := flag.NewFlagSet("certdesk-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: certdesk-bench [flags]\n\nMeasures certdesk against baselines taken in the same run (raw PostgreSQL,\nRiver's own throughput) on a throwaway, durable PostgreSQL, and prints a table.\n\nFlags:")
		fs.PrintDefaults()
	}
	o := Options{}
	fs.DurationVar(&o.Duration, "duration", d.Duration, "length of each load phase (raw baseline, intake)")
	fs.IntVar(&o.Clients, "clients", d.Clients, "concurrent clients of each load phase")
	fs.DurationVar(&o.PollInterval, "poll-interval", d.PollInterval, "River's job poll interval (CERTDESK_JOB_POLL_INTERVAL)")
	fs.IntVar(&o.IdleProbes, "idle-probes", d.IdleProbes, "paced single reports for job pickup on an idle app")
	fs.IntVar(&o.RiverJobs, "river-jobs", d.RiverJobs, "no-op jobs of River's own baseline")
	fs.IntVar(&o.RiverWorkers, "river-workers", d.RiverWorkers, "River MaxWorkers of that baseline (default: CERTDESK_WORKER_CONCURRENCY's default)")
	fs.BoolVar(&o.Large, "large", false, "also seed -large-count incidents and time list and search pages (takes minutes)")
	fs.IntVar(&o.LargeCount, "large-count", d.LargeCount, "incidents seeded by -large")
	fs.BoolVar(&o.LargeOnly, "large-only", false, "run only the -large phase (list, search, the dashboard and the web UI's pages at -large-count incidents)")
	fs.BoolVar(&o.LargeSkipMetrics, "large-skip-metrics", false, "with -large, skip the metrics' backfill and the dashboard (about 15 minutes at 1,000,000 incidents): lists, search and pages only")
	fs.IntVar(&o.LargeRequests, "large-requests", d.LargeRequests, "requests per viewer and query with -large")
	fs.IntVar(&o.UIRequests, "ui-requests", d.UIRequests, "requests per page of the web UI (demo data, and with -large a city)")
	fs.IntVar(&o.TimelineEvents, "timeline-events", d.TimelineEvents, "events of the incident whose timeline's first page is timed")
	fs.IntVar(&o.TimelineRequests, "timeline-requests", d.TimelineRequests, "requests of that first page, over the API and as the web page")
	fs.IntVar(&o.ChatRate, "chat-rate", d.ChatRate, "reports per second, for -duration, of the report → Slack message phase")
	jsonPath := fs.String("json", "", "also write the report as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the intake phase (server and clients) to this file")
	strict := fs.Bool("strict", false, "exit with status 1 when a target is missed")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "certdesk-bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if o.Duration < 100*time.Millisecond || o.Duration > 10*time.Minute {
		fmt.Fprintln(stderr, "certdesk-bench: -duration must be between 100ms and 10m")
		return 2
	}
	if o.Clients < 1 || o.Clients > 150 {
		fmt.Fprintln(stderr, "certdesk-bench: -clients must be between 1 and 150")
		return 2
	}
	if o.PollInterval < 10*time.Millisecond || o.PollInterval > time.Minute {
		fmt.Fprintln(stderr, "certdesk-bench: -poll-interval must be between 10ms and 1m (as CERTDESK_JOB_POLL_INTERVAL)")
		return 2
	}
	if o.TimelineEvents < 1 || o.TimelineEvents > 10_000_000 || o.TimelineRequests < 1 || o.TimelineRequests > 100_000 {
		fmt.Fprintln(stderr, "certdesk-bench: -timeline-events must be between 1 and 10000000, -timeline-requests between 1 and 100000")
		return 2
	}
	if o.ChatRate < 1 || o.ChatRate > 1000 {
		fmt.Fprintln(stderr, "certdesk-bench: -chat-rate must be between 1 and 1000 reports per second")
		return 2
	}
	o.Progress = stderr
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "certdesk-bench:", err)
			return 2
		}
		defer f.Close()
		o.CPUProfile = f
	}
	r, err := Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "certdesk-bench:", err)
		return 2
	}
	if err := r.WriteTable(stdout); err != nil {
		fmt.Fprintln(stderr, "certdesk-bench:", err)
		return 2
	}
	if *jsonPath != "" {
		f, err := os.Create(*jsonPath)
		if err == nil {
			err = r.WriteJSON(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "certdesk-bench: write JSON:", err)
			return 2
		}
		fmt.Fprintln(stderr, "certdesk-bench: wrote", *jsonPath)
	}
	if *strict && r.Failed() > 0 {
		return 1
	}
	return 0
}
