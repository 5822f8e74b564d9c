package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSmoke runs the whole harness with tiny figures, -large included, and
// checks that every figure is positive and that the JSON parses. It asserts
// nothing about speed.
func TestSmoke(t *testing.T) {
	t.Parallel()
	// The deadline only stops a harness that hangs: on a loaded two-core
	// machine the whole run (four migrated databases, 40 playbook runs, the
	// -large seed and its dashboard phase) takes minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"-duration", "300ms", "-clients", "2", "-poll-interval", "20ms", "-idle-probes", "3",
		"-river-jobs", "100", "-large", "-large-count", "3000", "-large-requests", "2", "-ui-requests", "3",
		"-timeline-events", "500", "-timeline-requests", "2", "-chat-rate", "20", "-json", out}, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())

	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var r Report
	require.NoError(t, json.Unmarshal(b, &r))
	require.Positive(t, r.Took)
	whats := map[string]bool{}
	for _, row := range r.Rows {
		whats[row.What] = true
		require.Positive(t, row.Figure, row.What)
		if row.Baseline > 0 {
			require.Positive(t, row.Ratio, row.What)
		}
		if row.Target.Op != "" {
			require.NotNil(t, row.OK, row.What)
		}
	}
	for _, want := range []string{
		"raw PostgreSQL: incident + event + job, one transaction",
		"raw PostgreSQL: every row of a report, its two commits",
		"intake over REST vs three rows",
		"intake over REST, authenticated",
		"intake latency p99",
		"job pickup after commit, under the intake load, p99",
		"job pickup after commit, idle app, p99",
		"resident memory after the intake load (VmRSS)",
		"River no-op jobs (baseline for playbook steps)",
		"playbook steps",
		"SQL statements per report, with its jobs",
		"write transactions per report, with its jobs",
		"SQL statements per playbook step",
		"write transactions per playbook step",
		"list first page at 3000 incidents, national CERT, p99",
		"search 'ransomware' at 3000 incidents, city, p99",
		"UI /incidents/:ref, demo data, server time p99",
		"UI /incidents/:ref weight without scripts",
		"UI /signin, demo data, server time p99",
		"UI /password-reset/:token, demo data, server time p99",
		"UI /incidents/:ref, at 3000 incidents, city, server time p99",
		"UI /incidents, at 3000 incidents, city, server time p99",
		"timeline first page over the API, 500 events, server time p99",
		"UI /incidents/:ref with a long timeline, 500 events, server time p99",
		"report → Slack message, p50",
		"report → Slack message, p99",
	} {
		require.True(t, whats[want], "missing row %q in %v", want, whats)
	}
	for _, row := range r.Rows {
		if row.What == "playbook steps" {
			require.Equal(t, "River no-op jobs (baseline for playbook steps)", r.Rows[slices.IndexFunc(r.Rows, func(x Row) bool {
				return x.Figure == row.Baseline
			})].What, "playbook steps are compared with River's no-op rate of the same run")
		}
	}
	intake := r.Rows[1]
	require.Equal(t, "raw PostgreSQL: every row of a report, its two commits", r.Rows[0].What)
	require.Equal(t, r.Rows[0].Figure, intake.Baseline, "intake is compared with the raw rate of the same rows in the same run")
	require.Equal(t, 0.75, intake.Target.Value)

	table := stdout.String()
	require.True(t, strings.HasPrefix(table, "what "), table)
	require.Contains(t, table, "job poll interval (CERTDESK_JOB_POLL_INTERVAL): 20ms")
	require.Contains(t, table, "intake over REST, authenticated")
}

func TestMainRefusesBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-duration", "1ms"},
		{"-clients", "0"},
		{"-poll-interval", "1ms"},
		{"-timeline-events", "0"},
		{"-chat-rate", "0"},
		{"extra"},
		{"-nosuchflag"},
	} {
		var stdout, stderr bytes.Buffer
		require.Equal(t, 2, Main(context.Background(), args, &stdout, &stderr), "%v", args)
		require.Empty(t, stdout.String())
		require.NotEmpty(t, stderr.String())
	}
}
