package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRatio(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		figure, baseline float64
		want             float64
	}{
		{"three quarters", 1500, 2000, 0.75},
		{"rounded to three decimals", 1, 3, 0.333},
		{"above the baseline", 300, 200, 1.5},
		{"no baseline", 100, 0, 0},
		{"negative baseline", 100, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Ratio(tc.figure, tc.baseline))
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		target        Target
		figure, ratio float64
		want          *bool
	}{
		{"no target", Target{}, 5, 0, nil},
		{"ratio met exactly", Target{AtLeastRatio, 0.75}, 0, 0.75, ptr(true)},
		{"ratio missed", Target{AtLeastRatio, 0.75}, 0, 0.749, ptr(false)},
		{"ratio without baseline is missed", Target{AtLeastRatio, 0}, 10, 0, ptr(false)},
		{"at most, equal", Target{AtMost, 100}, 100, 0, ptr(true)},
		{"at most, above", Target{AtMost, 100}, 100.1, 0, ptr(false)},
		{"below, equal is missed", Target{Below, 150}, 150, 0, ptr(false)},
		{"below, under", Target{Below, 150}, 149.9, 0, ptr(true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, Check(tc.target, tc.figure, tc.ratio))
		})
	}
}

func ptr(b bool) *bool { return &b }

func TestPercentile(t *testing.T) {
	t.Parallel()
	require.Zero(t, Percentile(nil, 99))
	var ds []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, 50*time.Millisecond, Percentile(ds, 50))
	require.Equal(t, 99*time.Millisecond, Percentile(ds, 99))
	require.Equal(t, 100*time.Millisecond, Percentile(ds, 100))
	require.Equal(t, time.Millisecond, Percentile(ds, 0.1))
	require.Equal(t, 7*time.Millisecond, Percentile([]time.Duration{7 * time.Millisecond}, 99))
}

func sampleReport() *Report {
	return &Report{
		Started: time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC), Took: Seconds(42500 * time.Millisecond), Machine: "test, 2 CPUs",
		Settings: []string{"poll 100ms"},
		Rows: []Row{
			NewRow("raw PostgreSQL", "/s", 2000, 0, Target{}, "the baseline"),
			NewRow("intake over REST", "/s", 1400, 2000, Target{AtLeastRatio, 0.75}, ""),
			NewRow("intake latency p99", "ms", 42.25, 12, Target{AtMost, 100}, ""),
			NewRow("memory", "MB", 151, 0, Target{Below, 150}, "VmHWM"),
		},
		Notes: []string{"large not measured"},
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	var b bytes.Buffer
	require.NoError(t, r.WriteTable(&b))
	out := b.String()
	lines := strings.Split(out, "\n")
	require.Regexp(t, `^what\s+figure\s+baseline\s+ratio\s+target\s+ok\?`, lines[0])
	require.Regexp(t, `^raw PostgreSQL\s+2000/s\s+-`, lines[2])
	require.Regexp(t, `^intake over REST\s+1400/s\s+2000/s\s+0\.7\s+≥ 0\.75 × baseline\s+NO`, lines[3])
	require.Regexp(t, `^intake latency p99\s+42\.2 ms\s+12\.0 ms\s+3\.521\s+≤ 100\.0 ms\s+yes`, lines[4])
	require.Regexp(t, `^memory\s+151\.0 MB\s+< 150\.0 MB\s+NO`, lines[5])
	require.Contains(t, out, "note (raw PostgreSQL): the baseline\n")
	require.Contains(t, out, "note: large not measured\n")
	require.Contains(t, out, "setting: poll 100ms\n")
	require.Contains(t, out, "run took 42.5s")
	require.Contains(t, out, "2 target(s) missed")
	require.Equal(t, 2, r.Failed())
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	r := sampleReport()
	var b bytes.Buffer
	require.NoError(t, r.WriteJSON(&b))
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &raw))
	require.InDelta(t, 42.5, raw["took_s"], 1e-9)
	rows := raw["rows"].([]any)
	require.Len(t, rows, 4)
	first := rows[0].(map[string]any)
	require.NotContains(t, first, "ok", "a row without a target has no verdict")
	require.NotContains(t, first, "ratio")
	second := rows[1].(map[string]any)
	require.Equal(t, false, second["ok"])
	require.InDelta(t, 0.7, second["ratio"], 1e-9)
	require.Equal(t, map[string]any{"op": "ratio>=", "value": 0.75}, second["target"])

	var back Report
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	require.Equal(t, r.Rows, back.Rows)
	require.Equal(t, r.Took, back.Took)
}
