package chart

import "math"

// Bars is a bar chart: one bar per category and series, side by side, or
// stacked (one bar per category, a segment per series). Horizontal bars
// suit long category names (sectors, regions).
type Bars struct {
	ID, Title, Desc string
	Unit            Unit
	Categories      []string
	Series          []Series
	Stacked         bool
	Horizontal      bool
	// TotalLabel names the total column of the table of a stacked chart
	// ("Total" when empty).
	TotalLabel string
}

const (
	width     = 640.0
	barHeight = 260.0
)

func (b Bars) value(s, c int) float64 {
	if c < len(b.Series[s].Values) {
		return b.Series[s].Values[c]
	}
	return 0
}

func (b Bars) total(c int) float64 {
	var t float64
	for s := range b.Series {
		t += b.value(s, c)
	}
	return t
}

func (b Bars) max() float64 {
	var m float64
	for c := range b.Categories {
		if b.Stacked {
			m = math.Max(m, b.total(c))
			continue
		}
		for s := range b.Series {
			m = math.Max(m, b.value(s, c))
		}
	}
	return m
}

// segmentTitle is what a bar or segment says to a pointer or a reader.
func (b Bars) segmentTitle(s, c int) string {
	t := b.Categories[c] + " · "
	if len(b.Series) > 1 || b.Series[s].Name != "" {
		t += b.Series[s].Name + ": "
	}
	return t + b.Unit.Format(b.value(s, c))
}

// SVG implements Chart.
func (b Bars) SVG() []byte {
	if b.Horizontal {
		return b.horizontal()
	}
	var s svg
	s.open(b.ID, "cd-bars", b.Title, b.Desc, width, barHeight)
	left, right, top, bottom := 52.0, 12.0, 30.0, 36.0
	pw, ph := width-left-right, barHeight-top-bottom
	maxV, step := NiceMax(b.max())
	y := func(v float64) float64 { return top + ph - v/maxV*ph }
	s.printf(`<g class="cd-axis">`)
	for v := 0.0; v <= maxV+step/2; v += step {
		s.printf(`<line class="cd-grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(y(v)), num(width-right), num(y(v)))
		s.printf(`<text class="cd-tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-6), num(y(v)+4), esc(b.Unit.Format(v)))
	}
	s.printf(`</g>`)
	n := len(b.Categories)
	if n == 0 {
		s.printf(`<text class="cd-empty" x="%s" y="%s" text-anchor="middle">No data in this period</text>`, num(width/2), num(top+ph/2))
		return s.close()
	}
	slot := pw / float64(n)
	every := int(math.Ceil(float64(n) / 12))
	groups := len(b.Series)
	if b.Stacked {
		groups = 1
	}
	bw := slot * 0.72 / float64(max(groups, 1))
	for c, cat := range b.Categories {
		x0 := left + slot*float64(c) + slot*0.14
		base := 0.0
		for si, sr := range b.Series {
			v := b.value(si, c)
			if v <= 0 {
				continue
			}
			x := x0 + bw*float64(si)
			yTop, yBot := y(v), y(0)
			if b.Stacked {
				x = x0
				yTop, yBot = y(base+v), y(base)
			}
			h := yBot - yTop
			s.link(linkAt(sr.Links, c), func() {
				s.printf(`<rect class="cd-bar %s" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
					seriesClass(sr, si), num(x), num(yTop), num(bw), num(h), esc(b.segmentTitle(si, c)))
			})
			if !b.Stacked && n*len(b.Series) <= 24 {
				s.printf(`<text class="cd-value" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x+bw/2), num(yTop-3), esc(b.Unit.Format(v)))
			}
			base += v
		}
		if b.Stacked && base > 0 && n <= 31 {
			s.printf(`<text class="cd-value" x="%s" y="%s" text-anchor="middle">%s</text>`, num(x0+bw/2), num(y(base)-3), esc(b.Unit.Format(base)))
		}
		if c%every == 0 {
			s.printf(`<text class="cd-tick" x="%s" y="%s" text-anchor="middle">%s</text>`, num(left+slot*(float64(c)+0.5)), num(barHeight-bottom+16), esc(cat))
		}
	}
	if len(b.Series) > 1 || (len(b.Series) == 1 && b.Series[0].Name != "") {
		s.legend(b.Series, left, 16)
	}
	return s.close()
}

// horizontal draws one row per category: its name on the left, its bars
// (or stacked segments) to the right, the value at the end.
func (b Bars) horizontal() []byte {
	var s svg
	rowH := 22.0
	if !b.Stacked && len(b.Series) > 1 {
		rowH = 10 + 12*float64(len(b.Series))
	}
	top := 30.0
	h := top + rowH*float64(max(len(b.Categories), 1)) + 10
	s.open(b.ID, "cd-hbars", b.Title, b.Desc, width, h)
	left, right := 200.0, 70.0
	pw := width - left - right
	maxV, _ := NiceMax(b.max())
	scale := func(v float64) float64 { return v / maxV * pw }
	if len(b.Categories) == 0 {
		s.printf(`<text class="cd-empty" x="%s" y="%s" text-anchor="middle">No data in this period</text>`, num(width/2), num(top+10))
		return s.close()
	}
	for c, cat := range b.Categories {
		y0 := top + rowH*float64(c)
		s.printf(`<text class="cd-tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-8), num(y0+rowH/2+4), esc(truncate(cat, 30)))
		x, end := left, left
		for si, sr := range b.Series {
			v := b.value(si, c)
			by, bh := y0+3, rowH-6
			if !b.Stacked {
				by, bh = y0+5+12*float64(si), 10
				x = left
			}
			if v > 0 {
				w := scale(v)
				s.link(linkAt(sr.Links, c), func() {
					s.printf(`<rect class="cd-bar %s" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
						seriesClass(sr, si), num(x), num(by), num(w), num(bh), esc(b.segmentTitle(si, c)))
				})
				x += w
			}
			if !b.Stacked {
				s.printf(`<text class="cd-value" x="%s" y="%s">%s</text>`, num(x+4), num(by+9), esc(b.Unit.Format(v)))
			}
			end = math.Max(end, x)
		}
		if b.Stacked {
			s.printf(`<text class="cd-value" x="%s" y="%s">%s</text>`, num(end+4), num(y0+rowH/2+4), esc(b.Unit.Format(b.total(c))))
		}
	}
	if len(b.Series) > 1 || (len(b.Series) == 1 && b.Series[0].Name != "") {
		s.legend(b.Series, left, 16)
	}
	return s.close()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Table implements Chart: a row per category, a column per series (and
// the total of a stacked chart).
func (b Bars) Table() Table {
	t := Table{Caption: b.Title, Header: []string{""}}
	for _, sr := range b.Series {
		t.Header = append(t.Header, sr.Name)
	}
	if b.Stacked {
		label := b.TotalLabel
		if label == "" {
			label = "Total"
		}
		t.Header = append(t.Header, label)
	}
	for c, cat := range b.Categories {
		row := []string{cat}
		for s := range b.Series {
			row = append(row, b.Unit.Format(b.value(s, c)))
		}
		if b.Stacked {
			row = append(row, b.Unit.Format(b.total(c)))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
