package ui

import (
	"fmt"
	"strings"
)

// The geometry of a run's step graph (web/templates/partials/run_graph.html),
// in the SVG's own units. The graph is drawn one step per row, in the
// order the run starts them, so that it reads top to bottom at any width
// (a phone shows it at about 0.9 of these units); the steps a step needs
// are joined to it by lines in the gutter on the left, each on a lane of
// its own where they overlap.
const (
	graphWidth    = 400
	graphLaneGap  = 11 // between two lanes of the gutter
	graphRowGap   = 14 // between two boxes
	graphBoxLine1 = 24 // the baseline of the step's name, from the box's top
	graphLineStep = 20 // between the box's lines
	graphPad      = 12 // inside the box, on the left of the shape
	graphShape    = 22 // the size of the state's shape
	// graphMaxChars bounds a line of text in a box (it is cut with "…"),
	// at the font sizes of the template's classes.
	graphMaxName = 30
	graphMaxText = 38
)

// graphNode is one step's box.
type graphNode struct {
	ID     string // the step's id, also the anchor of its row in the list
	Status string // the step's status, the class of its shape and box
	Name   string // the step's id as shown (cut when long)
	Lines  []graphLine
	X, Y   int // the box's top left corner
	W, H   int
	// ShapeX, ShapeY: the centre of the state's shape.
	ShapeX, ShapeY int
	// Mark is the path drawn in the shape: a tick (succeeded), a cross
	// (failed), a clock's hands (waiting), a play sign (running), a
	// slash (skipped), nothing (pending, a dashed circle; cancelled, a
	// square).
	Mark  string
	TextX int
}

// graphLine is one line of text below the step's name.
type graphLine struct {
	Text string
	Y    int
}

// graphEdge is a need: a line from the box of the step needed to the
// box of the step that needs it, through a lane of the gutter.
type graphEdge struct {
	Path   string // the SVG path
	Status string // the status of the step needed: a done one is drawn solid
}

// graphView is the step graph of a run, ready to draw.
type graphView struct {
	Width, Height int
	Nodes         []graphNode
	Edges         []graphEdge
	Title, Desc   string
}

// graphStep is what the layout needs of a step.
type graphStep struct {
	ID, Status string
	Needs      []string
	Lines      []string // below the name: what it does and how it stands
}

// layoutGraph places the steps (in the order given) one per row, and
// routes each need through the gutter on a lane no overlapping need
// uses.
func layoutGraph(steps []graphStep) graphView {
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		index[s.ID] = i
	}
	type span struct{ from, to, lane int }
	var spans []span
	for i, s := range steps {
		for _, n := range s.Needs {
			if j, ok := index[n]; ok && j != i {
				spans = append(spans, span{from: min(i, j), to: max(i, j)})
			}
		}
	}
	// Lanes: the shortest needs nearest to the boxes; a lane holds needs
	// whose rows do not overlap.
	for k := range spans {
		for a := k + 1; a < len(spans); a++ {
			if spans[a].to-spans[a].from < spans[k].to-spans[k].from {
				spans[k], spans[a] = spans[a], spans[k]
			}
		}
	}
	var lanes [][]span
	for k := range spans {
		placed := false
		for l := range lanes {
			free := true
			for _, o := range lanes[l] {
				if spans[k].from < o.to && o.from < spans[k].to {
					free = false
					break
				}
			}
			if free {
				spans[k].lane = l
				lanes[l] = append(lanes[l], spans[k])
				placed = true
				break
			}
		}
		if !placed {
			spans[k].lane = len(lanes)
			lanes = append(lanes, []span{spans[k]})
		}
	}
	gutter := 6 + graphLaneGap*len(lanes)
	if len(lanes) == 0 {
		gutter = 2
	}
	g := graphView{Width: graphWidth}
	y := 2
	for _, s := range steps {
		n := graphNode{ID: s.ID, Status: s.Status, Name: clipText(s.ID, graphMaxName), X: gutter, Y: y, W: graphWidth - gutter - 2}
		n.H = graphBoxLine1 + graphLineStep*len(s.Lines) + 12
		n.ShapeX, n.ShapeY = n.X+graphPad+graphShape/2, n.Y+graphBoxLine1-6
		n.TextX = n.X + graphPad + graphShape + 10
		n.Mark = markOf(s.Status, n.ShapeX, n.ShapeY)
		for k, t := range s.Lines {
			n.Lines = append(n.Lines, graphLine{Text: clipText(strings.TrimSpace(t), graphMaxText), Y: n.Y + graphBoxLine1 + graphLineStep*(k+1)})
		}
		g.Nodes = append(g.Nodes, n)
		y += n.H + graphRowGap
	}
	g.Height = y - graphRowGap + 2
	for i, s := range steps {
		for _, need := range s.Needs {
			j, ok := index[need]
			if !ok || j == i {
				continue
			}
			lane := 0
			for _, sp := range spans {
				if sp.from == min(i, j) && sp.to == max(i, j) {
					lane = sp.lane
					break
				}
			}
			a, b := g.Nodes[j], g.Nodes[i] // from the need to the step
			x := gutter - 6 - graphLaneGap*lane
			y1, y2 := a.Y+a.H/2, b.Y+graphBoxLine1-6
			g.Edges = append(g.Edges, graphEdge{Status: steps[j].Status,
				Path: fmt.Sprintf("M%d %d H%d V%d H%d", a.X, y1, x, y2, b.X-1)})
		}
	}
	return g
}

// markOf is the path of the mark of a status in a shape centred on x, y.
func markOf(status string, x, y int) string {
	switch status {
	case "succeeded":
		return fmt.Sprintf("M%d %d L%d %d L%d %d", x-6, y, x-2, y+5, x+6, y-5)
	case "failed":
		return fmt.Sprintf("M%d %d L%d %d M%d %d L%d %d", x-5, y-5, x+5, y+5, x+5, y-5, x-5, y+5)
	case "waiting":
		return fmt.Sprintf("M%d %d V%d H%d", x, y-7, y, x+5)
	case "running":
		return fmt.Sprintf("M%d %d L%d %d L%d %d Z", x-3, y-6, x+6, y, x-3, y+6)
	case "skipped":
		return fmt.Sprintf("M%d %d L%d %d", x-7, y+7, x+7, y-7)
	}
	return ""
}
