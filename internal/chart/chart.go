// Package chart draws the leadership charts as SVG on the server: bars
// (grouped or stacked), lines (median and p90), a matrix (heat table) and
// tiles. It is pure: a chart is data in, bytes out, the same bytes for the
// same data (golden files in testdata).
//
// What the page's Content-Security-Policy and its readers need:
//
//   - no style attributes and no scripts: colours come from CSS classes
//     (cd-s0 … cd-s7 for series, cd-sev-low … cd-sev-critical, cd-heat-0 …
//     cd-heat-4), which Stylesheet defines for light and dark themes with
//     custom properties; geometry uses SVG presentation attributes;
//   - role="img" with <title> and <desc> (aria-labelledby), a <title> on
//     every bar, point and cell, and the numbers written on the chart and
//     in the legend, so that nothing is said by colour alone;
//   - every chart also gives its data as a Table ("show as table", CSV);
//   - a bar, point, cell or tile may carry a link the page passes in (the
//     triage queue filtered to what it counts).
package chart

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart is a chart that draws itself as SVG and lists its data as a table.
type Chart interface {
	// SVG is the chart as an <svg> element (deterministic).
	SVG() []byte
	// Table is the same data as a table.
	Table() Table
}

// Unit says how values read.
type Unit int

// The units.
const (
	Count    Unit = iota // whole numbers
	Duration             // seconds, written as "3 h 20 min"
	Percent              // 0–100
)

// Format writes a value in the unit.
func (u Unit) Format(v float64) string {
	switch u {
	case Duration:
		return FormatDuration(time.Duration(v) * time.Second)
	case Percent:
		return strconv.FormatFloat(v, 'f', 0, 64) + " %"
	}
	return FormatCount(v)
}

// FormatCount writes a whole number with thin spaces between thousands
// (12 345), as leadership reports do in many languages.
func FormatCount(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatDuration writes a duration for people: "45 s", "12 min",
// "3 h 20 min", "2 d 4 h".
func FormatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min", (s+30)/60)
	case s < 48*3600:
		m := (s + 30) / 60
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	h := (s + 1800) / 3600
	if h%24 == 0 {
		return fmt.Sprintf("%d d", h/24)
	}
	return fmt.Sprintf("%d d %d h", h/24, h%24)
}

// Table is a chart's data as rows.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
}

// CSV writes the table as CSV with its header.
func (t Table) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// Series is one named row of values over the categories.
type Series struct {
	Name string
	// Class is the CSS class of its colour (cd-sev-high); "" takes
	// cd-s<index>.
	Class  string
	Values []float64
	// Links, when set, are one per value (or "" for none).
	Links []string
	// Dashed draws a line series dashed (p90 beside a median).
	Dashed bool
}

// svg is a small writer of SVG elements.
type svg struct{ b strings.Builder }

func (s *svg) printf(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

// esc escapes text for SVG.
func esc(s string) string { return html.EscapeString(s) }

// num writes a coordinate with one decimal at most.
func num(v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// open starts the <svg> with its accessible name and description.
func (s *svg) open(id, class, title, desc string, w, h float64) {
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" class="cd-chart %s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc" id="%s">`,
		class, num(w), num(h), esc(id), esc(id), esc(id))
	s.printf(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

func (s *svg) close() []byte {
	s.printf(`</svg>`)
	return []byte(s.b.String() + "\n")
}

// link wraps an element in <a href> when href is set.
func (s *svg) link(href string, draw func()) {
	if href == "" {
		draw()
		return
	}
	s.printf(`<a href="%s">`, esc(href))
	draw()
	s.printf(`</a>`)
}

func seriesClass(sr Series, i int) string {
	if sr.Class != "" {
		return sr.Class
	}
	return "cd-s" + strconv.Itoa(i%8)
}

func linkAt(links []string, i int) string {
	if i < len(links) {
		return links[i]
	}
	return ""
}

// NiceMax rounds a maximum up to 1, 2, 2.5 or 5 times a power of ten, and
// returns it with its tick step (four or five ticks).
func NiceMax(max float64) (float64, float64) {
	if max <= 0 {
		return 1, 1
	}
	raw := max / 4
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	if step < 1 {
		step = 1
	}
	top := math.Ceil(max/step) * step
	return top, step
}

// legend writes the series' names with their colours, left to right.
func (s *svg) legend(series []Series, x, y float64) {
	for i, sr := range series {
		s.printf(`<g class="cd-legend-item"><rect class="%s" x="%s" y="%s" width="10" height="10"/>`, seriesClass(sr, i), num(x), num(y-9))
		s.printf(`<text class="cd-label" x="%s" y="%s">%s</text></g>`, num(x+14), num(y), esc(sr.Name))
		x += 28 + 6.8*float64(len([]rune(sr.Name)))
	}
}
