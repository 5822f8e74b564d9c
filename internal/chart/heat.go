package chart

import "strconv"

// Heat is a matrix drawn as a table of shaded cells (escalations from →
// to, open incidents by stage and severity), every cell with its number.
type Heat struct {
	ID, Title, Desc string
	Unit            Unit
	Rows, Columns   []string
	// RowHeader and ColumnHeader name the axes ("From", "To").
	RowHeader, ColumnHeader string
	Values                  [][]float64 // [row][column]
	Links                   [][]string  // optional, like Values
	// Notes, when set, are written under a cell's number ([row][column]).
	Notes [][]string
}

func (h Heat) at(r, c int) float64 {
	if r < len(h.Values) && c < len(h.Values[r]) {
		return h.Values[r][c]
	}
	return 0
}

func at2(xs [][]string, r, c int) string {
	if r < len(xs) && c < len(xs[r]) {
		return xs[r][c]
	}
	return ""
}

// Level is the shade of a value: 0 for zero, 1 to 4 by its share of the
// largest value.
func Level(v, max float64) int {
	if v <= 0 || max <= 0 {
		return 0
	}
	return 1 + min(3, int(v/max*4-1e-9))
}

// SVG implements Chart.
func (h Heat) SVG() []byte {
	var s svg
	left, top := 170.0, 46.0
	cw := (width - left - 10) / float64(max(len(h.Columns), 1))
	ch := 30.0
	height := top + ch*float64(max(len(h.Rows), 1)) + 10
	s.open(h.ID, "cd-heat", h.Title, h.Desc, width, height)
	var m float64
	for r := range h.Rows {
		for c := range h.Columns {
			m = max(m, h.at(r, c))
		}
	}
	if h.ColumnHeader != "" {
		s.printf(`<text class="cd-axis-label" x="%s" y="14" text-anchor="middle">%s</text>`, num(left+cw*float64(len(h.Columns))/2), esc(h.ColumnHeader))
	}
	if h.RowHeader != "" {
		s.printf(`<text class="cd-axis-label" x="8" y="%s">%s</text>`, num(top-8), esc(h.RowHeader))
	}
	for c, col := range h.Columns {
		s.printf(`<text class="cd-tick" x="%s" y="%s" text-anchor="middle">%s</text>`, num(left+cw*(float64(c)+0.5)), num(top-8), esc(truncate(col, 18)))
	}
	if len(h.Rows) == 0 {
		s.printf(`<text class="cd-empty" x="%s" y="%s" text-anchor="middle">No data in this period</text>`, num(width/2), num(top+16))
		return s.close()
	}
	for r, row := range h.Rows {
		y := top + ch*float64(r)
		s.printf(`<text class="cd-tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-8), num(y+ch/2+4), esc(truncate(row, 26)))
		for c, col := range h.Columns {
			v := h.at(r, c)
			lvl := strconv.Itoa(Level(v, m))
			x := left + cw*float64(c)
			note := at2(h.Notes, r, c)
			title := row + " · " + col + ": " + h.Unit.Format(v)
			if note != "" {
				title += " (" + note + ")"
			}
			s.link(at2(h.Links, r, c), func() {
				s.printf(`<rect class="cd-cell cd-heat-%s" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
					lvl, num(x+1), num(y+1), num(cw-2), num(ch-2), esc(title))
			})
			ty := y + ch/2 + 4
			if note != "" {
				ty = y + ch/2
				s.printf(`<text class="cd-note cd-heat-text-%s" x="%s" y="%s" text-anchor="middle">%s</text>`, lvl, num(x+cw/2), num(y+ch-4), esc(note))
			}
			s.printf(`<text class="cd-value cd-heat-text-%s" x="%s" y="%s" text-anchor="middle">%s</text>`, lvl, num(x+cw/2), num(ty), esc(h.Unit.Format(v)))
		}
	}
	return s.close()
}

// Table implements Chart.
func (h Heat) Table() Table {
	corner := h.RowHeader
	if h.ColumnHeader != "" {
		corner += " \\ " + h.ColumnHeader
	}
	t := Table{Caption: h.Title, Header: append([]string{corner}, h.Columns...)}
	for r, row := range h.Rows {
		cells := []string{row}
		for c := range h.Columns {
			cell := h.Unit.Format(h.at(r, c))
			if n := at2(h.Notes, r, c); n != "" {
				cell += " (" + n + ")"
			}
			cells = append(cells, cell)
		}
		t.Rows = append(t.Rows, cells)
	}
	return t
}
