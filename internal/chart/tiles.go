package chart

// Tiles are headline figures side by side: a label, a large value and a
// note (the change against the previous period), each possibly a link.
type Tiles struct {
	ID, Title, Desc string
	Tiles           []Tile
}

// Tile is one headline figure.
type Tile struct {
	Label string
	Value string
	Note  string
	// Class colours the tile's band (cd-sev-critical); "" is neutral.
	Class string
	Link  string
}

// SVG implements Chart.
func (t Tiles) SVG() []byte {
	var s svg
	h := 92.0
	s.open(t.ID, "cd-tiles", t.Title, t.Desc, width, h)
	n := max(len(t.Tiles), 1)
	w := (width - 8*float64(n-1)) / float64(n)
	for i, tile := range t.Tiles {
		x := (w + 8) * float64(i)
		class := tile.Class
		if class == "" {
			class = "cd-neutral"
		}
		s.link(tile.Link, func() {
			s.printf(`<g class="cd-tile"><rect class="cd-tile-bg" x="%s" y="0" width="%s" height="%s"/>`, num(x), num(w), num(h))
			s.printf(`<rect class="%s" x="%s" y="0" width="6" height="%s"/>`, esc(class), num(x), num(h))
			s.printf(`<text class="cd-tile-label" x="%s" y="22">%s</text>`, num(x+14), esc(tile.Label))
			s.printf(`<text class="cd-tile-value" x="%s" y="56">%s</text>`, num(x+14), esc(tile.Value))
			if tile.Note != "" {
				s.printf(`<text class="cd-tile-note" x="%s" y="80">%s</text>`, num(x+14), esc(tile.Note))
			}
			s.printf(`<title>%s: %s%s</title></g>`, esc(tile.Label), esc(tile.Value), esc(noteSuffix(tile.Note)))
		})
	}
	return s.close()
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}

// Table implements Chart.
func (t Tiles) Table() Table {
	tb := Table{Caption: t.Title, Header: []string{"", "Value", "Note"}}
	for _, tile := range t.Tiles {
		tb.Rows = append(tb.Rows, []string{tile.Label, tile.Value, tile.Note})
	}
	return tb
}
