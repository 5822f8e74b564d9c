package chart

import "math"

// Lines is a line chart over the categories: one line per series (a
// median, and its p90 dashed), every point marked and titled. Missing
// values (NaN) break the line.
type Lines struct {
	ID, Title, Desc string
	Unit            Unit
	Categories      []string
	Series          []Series
}

// SVG implements Chart.
func (l Lines) SVG() []byte {
	var s svg
	s.open(l.ID, "cd-lines", l.Title, l.Desc, width, barHeight)
	left, right, top, bottom := 70.0, 16.0, 30.0, 36.0
	pw, ph := width-left-right, barHeight-top-bottom
	var m float64
	for _, sr := range l.Series {
		for _, v := range sr.Values {
			if !math.IsNaN(v) {
				m = math.Max(m, v)
			}
		}
	}
	maxV, step := NiceMax(m)
	if l.Unit == Duration {
		maxV, step = NiceDuration(m)
	}
	y := func(v float64) float64 { return top + ph - v/maxV*ph }
	s.printf(`<g class="cd-axis">`)
	for v := 0.0; v <= maxV+step/2; v += step {
		s.printf(`<line class="cd-grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(y(v)), num(width-right), num(y(v)))
		s.printf(`<text class="cd-tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(y(v)+4), esc(l.Unit.Format(v)))
	}
	s.printf(`</g>`)
	n := len(l.Categories)
	if n == 0 {
		s.printf(`<text class="cd-empty" x="%s" y="%s" text-anchor="middle">No data in this period</text>`, num(width/2), num(top+ph/2))
		return s.close()
	}
	slot := pw / float64(n)
	x := func(c int) float64 { return left + slot*(float64(c)+0.5) }
	every := int(math.Ceil(float64(n) / 12))
	for c, cat := range l.Categories {
		if c%every == 0 {
			s.printf(`<text class="cd-tick" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x(c)), num(barHeight-bottom+16), esc(cat))
		}
	}
	for si, sr := range l.Series {
		class := seriesClass(sr, si)
		dash := ""
		if sr.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var d string
		pen := "M"
		for c := range l.Categories {
			if c >= len(sr.Values) || math.IsNaN(sr.Values[c]) {
				pen = "M"
				continue
			}
			d += pen + num(x(c)) + " " + num(y(sr.Values[c])) + " "
			pen = "L"
		}
		if d != "" {
			s.printf(`<path class="cd-line %s" d="%s" fill="none"%s/>`, class, d[:len(d)-1], dash)
		}
		for c, cat := range l.Categories {
			if c >= len(sr.Values) || math.IsNaN(sr.Values[c]) {
				continue
			}
			v := sr.Values[c]
			s.link(linkAt(sr.Links, c), func() {
				s.printf(`<circle class="cd-point %s" cx="%s" cy="%s" r="3.5"><title>%s · %s: %s</title></circle>`,
					class, num(x(c)), num(y(v)), esc(cat), esc(sr.Name), esc(l.Unit.Format(v)))
			})
			if n <= 8 {
				s.printf(`<text class="cd-value" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x(c)), num(y(v)-7), esc(l.Unit.Format(v)))
			}
		}
	}
	s.legend(l.Series, left, 16)
	return s.close()
}

// NiceDuration picks the top of a duration axis (seconds) and its step:
// whole minutes, hours or days.
func NiceDuration(max float64) (float64, float64) {
	units := []float64{60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 30 * 86400}
	if max <= 0 {
		return 3600, 900
	}
	for _, u := range units {
		if max/u <= 5 {
			return math.Ceil(max/u) * u, u
		}
	}
	top, step := NiceMax(max / 86400)
	return top * 86400, step * 86400
}

// Table implements Chart.
func (l Lines) Table() Table {
	t := Table{Caption: l.Title, Header: []string{""}}
	for _, sr := range l.Series {
		t.Header = append(t.Header, sr.Name)
	}
	for c, cat := range l.Categories {
		row := []string{cat}
		for _, sr := range l.Series {
			if c >= len(sr.Values) || math.IsNaN(sr.Values[c]) {
				row = append(row, "–")
				continue
			}
			row = append(row, l.Unit.Format(sr.Values[c]))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
