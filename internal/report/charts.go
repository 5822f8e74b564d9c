package report

import (
	"math"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	"github.com/certdesk/certdesk/internal/chart"
)

// rgb is a colour of the printed charts: the light theme of
// chart.Stylesheet, so that the PDF and the page agree.
type rgb struct{ r, g, b int }

var classColours = map[string]rgb{
	"cd-s0": {0x00, 0x72, 0xb2}, "cd-s1": {0xe6, 0x9f, 0x00}, "cd-s2": {0x00, 0x9e, 0x73}, "cd-s3": {0xcc, 0x79, 0xa7},
	"cd-s4": {0x56, 0xb4, 0xe9}, "cd-s5": {0xd5, 0x5e, 0x00}, "cd-s6": {0x8c, 0x7a, 0x00}, "cd-s7": {0x6e, 0x77, 0x81},
	"cd-sev-low": {0x56, 0xb4, 0xe9}, "cd-sev-medium": {0xe6, 0xb4, 0x00}, "cd-sev-high": {0xe0, 0x70, 0x00},
	"cd-sev-critical": {0xb2, 0x18, 0x2b}, "cd-neutral": {0x6e, 0x77, 0x81},
}

var heatColours = []rgb{{0xf6, 0xf8, 0xfa}, {0xdb, 0xe9, 0xf6}, {0x9e, 0xca, 0xe1}, {0x42, 0x92, 0xc6}, {0x08, 0x51, 0x9c}}

func colourOf(class string, i int) rgb {
	if c, ok := classColours[class]; ok {
		return c
	}
	return classColours["cd-s"+string(rune('0'+i%8))]
}

func fill(p *fpdf.Fpdf, c rgb) { p.SetFillColor(c.r, c.g, c.b) }

func seriesColour(s chart.Series, i int) rgb { return colourOf(s.Class, i) }

// drawChart draws a chart of the dashboard natively, from the same data
// as its SVG: a title, the chart, and its description under it.
func (d *doc) drawChart(c chart.Chart) {
	p := d.pdf
	var title, desc string
	var h float64
	switch v := c.(type) {
	case chart.Bars:
		title, desc, h = v.Title, v.Desc, 55
		if v.Horizontal {
			h = 12 + 7*float64(max(len(v.Categories), 1))
			if !v.Stacked && len(v.Series) > 1 {
				h = 12 + float64(2+3*len(v.Series))*float64(max(len(v.Categories), 1))
			}
		}
	case chart.Lines:
		title, desc, h = v.Title, v.Desc, 55
	case chart.Heat:
		title, desc, h = v.Title, v.Desc, 14+8*float64(max(len(v.Rows), 1))
	case chart.Tiles:
		title, desc, h = v.Title, v.Desc, 24
	default:
		return
	}
	d.need(h + 22)
	p.SetFont(family, "B", 10.5)
	p.CellFormat(bodyW, 6, title, "", 1, "L", false, 0, "")
	x, y := margin, p.GetY()+1
	switch v := c.(type) {
	case chart.Bars:
		if v.Horizontal {
			d.hbars(v, x, y)
		} else {
			d.vbars(v, x, y, bodyW, h)
		}
	case chart.Lines:
		d.lines(v, x, y, bodyW, h)
	case chart.Heat:
		d.heat(v, x, y)
	case chart.Tiles:
		d.tiles(v, x, y, h)
	}
	p.SetXY(margin, y+h+1)
	d.note(desc)
	p.Ln(1)
}

func (d *doc) legend(series []chart.Series, x, y float64) {
	p := d.pdf
	p.SetFont(family, "", 7.5)
	for i, s := range series {
		fill(p, seriesColour(s, i))
		p.Rect(x, y, 3, 3, "F")
		p.SetXY(x+4, y-0.8)
		w := p.GetStringWidth(s.Name) + 2
		p.CellFormat(w, 4.5, s.Name, "", 0, "L", false, 0, "")
		x += w + 7
	}
}

func (d *doc) vbars(b chart.Bars, x, y, w, h float64) {
	p := d.pdf
	left, top, bottom := 14.0, 10.0, 7.0
	pw, ph := w-left, h-top-bottom
	var m float64
	for c := range b.Categories {
		var t float64
		for _, s := range b.Series {
			v := at(s.Values, c)
			t += v
			m = math.Max(m, v)
		}
		if b.Stacked {
			m = math.Max(m, t)
		}
	}
	maxV, step := chart.NiceMax(m)
	yOf := func(v float64) float64 { return y + top + ph - v/maxV*ph }
	p.SetFont(family, "", 6.5)
	p.SetDrawColor(208, 215, 222)
	p.SetTextColor(87, 96, 106)
	for v := 0.0; v <= maxV+step/2; v += step {
		p.Line(x+left, yOf(v), x+w, yOf(v))
		p.SetXY(x, yOf(v)-2)
		p.CellFormat(left-1.5, 4, b.Unit.Format(v), "", 0, "R", false, 0, "")
	}
	if len(b.Series) > 1 || (len(b.Series) == 1 && b.Series[0].Name != "") {
		d.legend(b.Series, x+left, y)
	}
	n := len(b.Categories)
	if n == 0 {
		return
	}
	slot := pw / float64(n)
	groups := len(b.Series)
	if b.Stacked {
		groups = 1
	}
	bw := slot * 0.72 / float64(max(groups, 1))
	every := int(math.Ceil(float64(n) / 12))
	for c, cat := range b.Categories {
		x0 := x + left + slot*float64(c) + slot*0.14
		base := 0.0
		for si, s := range b.Series {
			v := at(s.Values, c)
			if v <= 0 {
				continue
			}
			fill(p, seriesColour(s, si))
			bx, top, bot := x0+bw*float64(si), yOf(v), yOf(0)
			if b.Stacked {
				bx, top, bot = x0, yOf(base+v), yOf(base)
			}
			p.Rect(bx, top, bw, bot-top, "F")
			if !b.Stacked && n*len(b.Series) <= 24 {
				p.SetTextColor(0, 0, 0)
				p.SetXY(bx-2, top-4)
				p.CellFormat(bw+4, 4, b.Unit.Format(v), "", 0, "C", false, 0, "")
			}
			base += v
		}
		p.SetTextColor(0, 0, 0)
		if b.Stacked && base > 0 && n <= 31 {
			p.SetFont(family, "B", 6.5)
			p.SetXY(x0-3, yOf(base)-4)
			p.CellFormat(bw+6, 4, b.Unit.Format(base), "", 0, "C", false, 0, "")
			p.SetFont(family, "", 6.5)
		}
		if c%every == 0 {
			p.SetTextColor(87, 96, 106)
			p.SetXY(x+left+slot*float64(c), y+h-bottom+0.5)
			p.CellFormat(slot*float64(every), 4, cat, "", 0, "C", false, 0, "")
		}
	}
	p.SetTextColor(0, 0, 0)
}

func (d *doc) hbars(b chart.Bars, x, y float64) {
	p := d.pdf
	left, right := 58.0, 20.0
	pw := bodyW - left - right
	rowH := 7.0
	if !b.Stacked && len(b.Series) > 1 {
		rowH = float64(2 + 3*len(b.Series))
	}
	var m float64
	for c := range b.Categories {
		var t float64
		for _, s := range b.Series {
			t += at(s.Values, c)
			m = math.Max(m, at(s.Values, c))
		}
		if b.Stacked {
			m = math.Max(m, t)
		}
	}
	maxV, _ := chart.NiceMax(m)
	if len(b.Series) > 1 || (len(b.Series) == 1 && b.Series[0].Name != "") {
		d.legend(b.Series, x+left, y)
	}
	y += 6
	if len(b.Categories) == 0 {
		p.SetFont(family, "", 8)
		p.SetXY(x, y)
		p.CellFormat(bodyW, 5, "No data in this period.", "", 0, "L", false, 0, "")
		return
	}
	for c, cat := range b.Categories {
		y0 := y + rowH*float64(c)
		p.SetFont(family, "", 7.5)
		p.SetTextColor(0, 0, 0)
		p.SetXY(x, y0+rowH/2-2)
		p.CellFormat(left-2, 4, truncate(p, cat, left-3), "", 0, "R", false, 0, "")
		bx := x + left
		var total float64
		for si, s := range b.Series {
			v := at(s.Values, c)
			by, bh := y0+1, rowH-2
			if !b.Stacked {
				by, bh, bx = y0+1+3*float64(si), 2.4, x+left
			}
			w := v / maxV * pw
			if v > 0 {
				fill(p, seriesColour(s, si))
				p.Rect(bx, by, w, bh, "F")
			}
			if !b.Stacked {
				p.SetFont(family, "", 6)
				p.SetXY(bx+w+1, by-0.8)
				p.CellFormat(right, 4, b.Unit.Format(v), "", 0, "L", false, 0, "")
			} else {
				bx += w
			}
			total += v
		}
		if b.Stacked {
			p.SetFont(family, "B", 7)
			p.SetXY(bx+1, y0+rowH/2-2)
			label := b.Unit.Format(total)
			if len(b.Series) > 1 {
				var parts []string
				for _, s := range b.Series {
					if v := at(s.Values, c); v > 0 {
						parts = append(parts, b.Unit.Format(v)+" "+s.Name)
					}
				}
				if len(parts) > 0 {
					label += " (" + strings.Join(parts, ", ") + ")"
				}
			}
			p.CellFormat(right+40, 4, label, "", 0, "L", false, 0, "")
		}
	}
}

func (d *doc) lines(l chart.Lines, x, y, w, h float64) {
	p := d.pdf
	left, top, bottom := 18.0, 10.0, 7.0
	pw, ph := w-left, h-top-bottom
	var m float64
	for _, s := range l.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				m = math.Max(m, v)
			}
		}
	}
	maxV, step := chart.NiceMax(m)
	if l.Unit == chart.Duration {
		maxV, step = chart.NiceDuration(m)
	}
	yOf := func(v float64) float64 { return y + top + ph - v/maxV*ph }
	p.SetFont(family, "", 6.5)
	p.SetDrawColor(208, 215, 222)
	p.SetLineWidth(0.2)
	p.SetTextColor(87, 96, 106)
	for v := 0.0; v <= maxV+step/2; v += step {
		p.Line(x+left, yOf(v), x+w, yOf(v))
		p.SetXY(x, yOf(v)-2)
		p.CellFormat(left-1.5, 4, l.Unit.Format(v), "", 0, "R", false, 0, "")
	}
	d.legend(l.Series, x+left, y)
	n := len(l.Categories)
	if m == 0 {
		p.SetFont(family, "", 8)
		p.SetXY(x+left, y+top+ph/2-2)
		p.CellFormat(pw, 4, "No data in this period.", "", 0, "C", false, 0, "")
	}
	if n == 0 {
		return
	}
	slot := pw / float64(n)
	xOf := func(c int) float64 { return x + left + slot*(float64(c)+0.5) }
	every := int(math.Ceil(float64(n) / 12))
	for c, cat := range l.Categories {
		if c%every == 0 {
			p.SetXY(xOf(c)-slot/2, y+h-bottom+0.5)
			p.CellFormat(slot, 4, cat, "", 0, "C", false, 0, "")
		}
	}
	p.SetTextColor(0, 0, 0)
	for si, s := range l.Series {
		col := seriesColour(s, si)
		p.SetDrawColor(col.r, col.g, col.b)
		p.SetLineWidth(0.6)
		if s.Dashed {
			p.SetDashPattern([]float64{1.5, 1}, 0)
		}
		prev := -1
		for c := range l.Categories {
			v := at(s.Values, c)
			if c >= len(s.Values) || math.IsNaN(v) {
				prev = -1
				continue
			}
			if prev >= 0 {
				p.Line(xOf(prev), yOf(at(s.Values, prev)), xOf(c), yOf(v))
			}
			fill(p, col)
			p.Circle(xOf(c), yOf(v), 0.8, "F")
			if n <= 8 {
				p.SetFont(family, "", 6)
				p.SetXY(xOf(c)-10, yOf(v)-4.5)
				p.CellFormat(20, 4, l.Unit.Format(v), "", 0, "C", false, 0, "")
			}
			prev = c
		}
		p.SetDashPattern([]float64{}, 0)
	}
	p.SetLineWidth(0.2)
	p.SetDrawColor(0, 0, 0)
}

func (d *doc) heat(h chart.Heat, x, y float64) {
	p := d.pdf
	left := 48.0
	cw := (bodyW - left) / float64(max(len(h.Columns), 1))
	ch := 8.0
	var m float64
	for _, row := range h.Values {
		for _, v := range row {
			m = math.Max(m, v)
		}
	}
	p.SetFont(family, "B", 7)
	p.SetTextColor(87, 96, 106)
	p.SetXY(x, y)
	corner := h.RowHeader
	if h.ColumnHeader != "" {
		corner += " \\ " + h.ColumnHeader
	}
	p.CellFormat(left, 5, corner, "", 0, "L", false, 0, "")
	for c, col := range h.Columns {
		p.SetXY(x+left+cw*float64(c), y)
		p.CellFormat(cw, 5, truncate(p, col, cw-1), "", 0, "C", false, 0, "")
	}
	y += 6
	if len(h.Rows) == 0 {
		p.SetFont(family, "", 8)
		p.SetXY(x, y)
		p.CellFormat(bodyW, 5, "No data in this period.", "", 0, "L", false, 0, "")
	}
	for r, row := range h.Rows {
		yy := y + ch*float64(r)
		p.SetFont(family, "", 7.5)
		p.SetTextColor(0, 0, 0)
		p.SetXY(x, yy+2)
		p.CellFormat(left-2, 4, truncate(p, row, left-3), "", 0, "R", false, 0, "")
		for c := range h.Columns {
			v := 0.0
			if r < len(h.Values) && c < len(h.Values[r]) {
				v = h.Values[r][c]
			}
			lvl := chart.Level(v, m)
			fill(p, heatColours[lvl])
			xx := x + left + cw*float64(c)
			p.Rect(xx+0.3, yy+0.3, cw-0.6, ch-0.6, "F")
			if lvl >= 3 {
				p.SetTextColor(255, 255, 255)
			} else {
				p.SetTextColor(0, 0, 0)
			}
			text := h.Unit.Format(v)
			if r < len(h.Notes) && c < len(h.Notes[r]) && h.Notes[r][c] != "" {
				p.SetFont(family, "B", 7.5)
				p.SetXY(xx, yy+0.6)
				p.CellFormat(cw, 4, text, "", 0, "C", false, 0, "")
				p.SetFont(family, "", 5.5)
				p.SetXY(xx, yy+4)
				p.CellFormat(cw, 3.5, truncate(p, h.Notes[r][c], cw-1), "", 0, "C", false, 0, "")
				continue
			}
			p.SetFont(family, "B", 7.5)
			p.SetXY(xx, yy+2)
			p.CellFormat(cw, 4, text, "", 0, "C", false, 0, "")
		}
	}
	p.SetTextColor(0, 0, 0)
}

func (d *doc) tiles(t chart.Tiles, x, y, h float64) {
	p := d.pdf
	n := max(len(t.Tiles), 1)
	gap := 3.0
	w := (bodyW - gap*float64(n-1)) / float64(n)
	for i, tile := range t.Tiles {
		xx := x + float64(i)*(w+gap)
		p.SetFillColor(246, 248, 250)
		p.Rect(xx, y, w, h, "F")
		class := tile.Class
		if class == "" {
			class = "cd-neutral"
		}
		fill(p, colourOf(class, 7))
		p.Rect(xx, y, 1.6, h, "F")
		p.SetTextColor(87, 96, 106)
		p.SetFont(family, "", 7.5)
		p.SetXY(xx+3.5, y+1.5)
		p.CellFormat(w-4, 4, tile.Label, "", 0, "L", false, 0, "")
		p.SetTextColor(0, 0, 0)
		p.SetFont(family, "B", 15)
		p.SetXY(xx+3.5, y+7)
		p.CellFormat(w-4, 8, tile.Value, "", 0, "L", false, 0, "")
		if tile.Note != "" {
			p.SetTextColor(87, 96, 106)
			p.SetFont(family, "", 6.5)
			p.SetXY(xx+3.5, y+16.5)
			p.MultiCell(w-5, 3, tile.Note, "", "L", false)
		}
	}
	p.SetTextColor(0, 0, 0)
}

func at(vs []float64, i int) float64 {
	if i < len(vs) {
		return vs[i]
	}
	return 0
}

// truncate cuts s to fit w millimetres in the current font.
func truncate(p *fpdf.Fpdf, s string, w float64) string {
	if p.GetStringWidth(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 1 && p.GetStringWidth(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
