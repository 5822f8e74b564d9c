// Package bench measures certdesk against baselines taken in the same run
// (raw PostgreSQL, River's own throughput), as the design's section 8 asks:
// absolute figures drift with the machine's load, ratios much less. It is
// the engine of `make bench` (cmd/certdesk-bench). Nothing here is used by
// the service itself, and no unit test asserts on time.
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Op is how a figure is compared with its target.
type Op string

const (
	// AtLeastRatio: figure / baseline must be at least the target's value.
	AtLeastRatio Op = "ratio>="
	// AtMost: the figure must be at most the target's value.
	AtMost Op = "<="
	// Below: the figure must be less than the target's value.
	Below Op = "<"
)

// Target is the goal of one row. The zero Target means "no target": the
// row is a baseline or for information only.
type Target struct {
	Op    Op      `json:"op"`
	Value float64 `json:"value"`
}

// String renders the target for the table, in the row's unit.
func (t Target) String(unit string) string {
	switch t.Op {
	case AtLeastRatio:
		return fmt.Sprintf("≥ %s × baseline", trimFloat(t.Value))
	case AtMost:
		return "≤ " + formatValue(t.Value, unit)
	case Below:
		return "< " + formatValue(t.Value, unit)
	}
	return ""
}

// Row is one line of the report.
type Row struct {
	What     string  `json:"what"`
	Unit     string  `json:"unit"`               // "/s", "ms", "MB"
	Figure   float64 `json:"figure"`             // the measured value
	Baseline float64 `json:"baseline,omitempty"` // 0: none
	// Ratio is Figure / Baseline, or 0 when there is no baseline.
	Ratio  float64 `json:"ratio,omitempty"`
	Target Target  `json:"target"`
	// OK is nil when the row has no target.
	OK   *bool  `json:"ok,omitempty"`
	Note string `json:"note,omitempty"`
}

// NewRow builds a row and computes its ratio and verdict.
func NewRow(what, unit string, figure, baseline float64, target Target, note string) Row {
	r := Row{What: what, Unit: unit, Figure: figure, Baseline: baseline, Target: target, Note: note}
	r.Ratio = Ratio(figure, baseline)
	r.OK = Check(target, figure, r.Ratio)
	return r
}

// Ratio is figure / baseline, rounded to three decimals; 0 when there is no
// (positive) baseline.
func Ratio(figure, baseline float64) float64 {
	if baseline <= 0 || math.IsNaN(baseline) || math.IsInf(baseline, 0) {
		return 0
	}
	return math.Round(figure/baseline*1000) / 1000
}

// Check says whether figure (and its ratio) meets target; nil when there is
// no target.
func Check(t Target, figure, ratio float64) *bool {
	var ok bool
	switch t.Op {
	case AtLeastRatio:
		ok = ratio > 0 && ratio >= t.Value
	case AtMost:
		ok = figure <= t.Value
	case Below:
		ok = figure < t.Value
	default:
		return nil
	}
	return &ok
}

// Report is the outcome of one run.
type Report struct {
	Started  time.Time `json:"started"`
	Took     Seconds   `json:"took_s"`
	Machine  string    `json:"machine"`
	Settings []string  `json:"settings"`
	Rows     []Row     `json:"rows"`
	Notes    []string  `json:"notes"`
}

// Seconds is a duration written to JSON as seconds.
type Seconds time.Duration

// MarshalJSON writes s as a number of seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(math.Round(time.Duration(s).Seconds()*1000) / 1000)
}

// UnmarshalJSON reads a number of seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}

// Failed counts the rows whose target was missed.
func (r *Report) Failed() int {
	n := 0
	for _, row := range r.Rows {
		if row.OK != nil && !*row.OK {
			n++
		}
	}
	return n
}

// WriteTable prints the report as an aligned table, then its settings and
// notes.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "what\tfigure\tbaseline\tratio\ttarget\tok?")
	fmt.Fprintln(tw, "----\t------\t--------\t-----\t------\t---")
	for _, row := range r.Rows {
		base, ratio := "", ""
		if row.Baseline > 0 {
			base = formatValue(row.Baseline, row.Unit)
		}
		if row.Ratio > 0 {
			ratio = trimFloat(row.Ratio)
		}
		ok := ""
		switch {
		case row.OK == nil:
			ok = "-"
		case *row.OK:
			ok = "yes"
		default:
			ok = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", row.What, formatValue(row.Figure, row.Unit), base, ratio,
			row.Target.String(row.Unit), ok)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nmachine: %s; run took %s\n", r.Machine, time.Duration(r.Took).Round(100*time.Millisecond))
	for _, s := range r.Settings {
		fmt.Fprintf(&b, "setting: %s\n", s)
	}
	for _, row := range r.Rows {
		if row.Note != "" {
			fmt.Fprintf(&b, "note (%s): %s\n", row.What, row.Note)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if n := r.Failed(); n > 0 {
		fmt.Fprintf(&b, "%d target(s) missed\n", n)
	} else {
		fmt.Fprintln(&b, "every target met")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// formatValue renders v in unit with a precision that suits its size.
func formatValue(v float64, unit string) string {
	switch unit {
	case "/s":
		return fmt.Sprintf("%.0f/s", v)
	case "ms":
		if v < 10 {
			return fmt.Sprintf("%.2f ms", v)
		}
		return fmt.Sprintf("%.1f ms", v)
	case "MB":
		return fmt.Sprintf("%.1f MB", v)
	case "":
		return trimFloat(v)
	}
	return trimFloat(v) + " " + unit
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of ds by the
// nearest-rank method; 0 for no samples. ds is sorted in place.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(math.Ceil(p / 100 * float64(len(ds))))
	rank = max(1, min(rank, len(ds)))
	return ds[rank-1]
}

// Ms is d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
