package chart_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/chart"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// examples are one chart of each kind, as the dashboard draws them.
func examples() map[string]chart.Chart {
	q := "/queue?period=2026-W46&severity="
	return map[string]chart.Chart{
		"stacked": chart.Bars{ID: "new-by-severity", Title: "New incidents per week by severity",
			Desc: "Stacked bars, one per ISO week of November 2026: 18, 25 and 9 incidents.", Stacked: true,
			Categories: []string{"2026-W45", "2026-W46", "2026-W47"},
			Series: []chart.Series{
				{Name: "low", Class: "cd-sev-low", Values: []float64{8, 10, 4}, Links: []string{"", q + "low", ""}},
				{Name: "medium", Class: "cd-sev-medium", Values: []float64{6, 9, 3}},
				{Name: "high", Class: "cd-sev-high", Values: []float64{3, 4, 2}},
				{Name: "critical", Class: "cd-sev-critical", Values: []float64{1, 2, 0}},
			}},
		"grouped": chart.Bars{ID: "compliance", Title: "Legal deadline compliance", Desc: "Deadlines by outcome & kind <November>.",
			Categories: []string{"NIS2 early warning", "GDPR 72 h"},
			Series:     []chart.Series{{Name: "on time", Values: []float64{12, 30}}, {Name: "missed", Values: []float64{1, 2}}}},
		"horizontal": chart.Bars{ID: "sectors", Title: "Incidents by sector", Desc: "New this month and open now.", Horizontal: true,
			Categories: []string{"health", "public-administration", "a sector with a very long name indeed, really"},
			Series:     []chart.Series{{Name: "new", Values: []float64{14, 1200, 3}}, {Name: "open", Values: []float64{2, 40, 0}}}},
		"lines": chart.Lines{ID: "tta", Title: "Time to acknowledge", Desc: "Median and p90 per week.", Unit: chart.Duration,
			Categories: []string{"W45", "W46", "W47"},
			Series: []chart.Series{{Name: "median", Values: []float64{1800, math.NaN(), 5400}},
				{Name: "p90", Values: []float64{7200, 9000, 20000}, Dashed: true}}},
		"heat": chart.Heat{ID: "escalations", Title: "Escalations between organisations", Desc: "Requests from row to column.",
			RowHeader: "From", ColumnHeader: "To", Rows: []string{"CERT North", "City of Ålesund"}, Columns: []string{"National CERT", "CERT North"},
			Values: [][]float64{{4, 0}, {1, 7}}, Notes: [][]string{{"3 accepted", ""}, {"", "5 accepted · 2 declined"}},
			Links: [][]string{{"/queue?from=north&to=national", ""}, {"", ""}}},
		"tiles": chart.Tiles{ID: "significant", Title: "Significant incidents open now", Desc: "By severity.",
			Tiles: []chart.Tile{{Label: "critical", Value: "2", Note: "▲ 1 vs 30 days before", Class: "cd-sev-critical", Link: "/queue?severity=critical"},
				{Label: "high", Value: "5", Class: "cd-sev-high"}, {Label: "medium", Value: "0"}}},
		"empty": chart.Bars{ID: "empty", Title: "Nothing", Desc: "No incidents."},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/chart -update to create it")
	require.Equal(t, string(want), string(got), "%s differs from its golden file (go test ./internal/chart -update)", path)
}

// Every chart draws the same bytes for the same data (golden files), as
// well-formed SVG with role="img", a <title> and a <desc> it is labelled
// by, no style attributes (the page's CSP forbids inline styles) and no
// scripts, and lists its data as a table (golden CSV).
func TestChartsGoldenAndAccessible(t *testing.T) {
	for name, c := range examples() {
		t.Run(name, func(t *testing.T) {
			out := c.SVG()
			require.Equal(t, string(out), string(c.SVG()), "deterministic")
			golden(t, name+".svg", out)
			var buf bytes.Buffer
			require.NoError(t, c.Table().CSV(&buf))
			golden(t, name+".csv", buf.Bytes())

			dec := xml.NewDecoder(bytes.NewReader(out))
			var root *xml.StartElement
			var titles, descs int
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				require.NoError(t, err, "well-formed XML")
				if se, ok := tok.(xml.StartElement); ok {
					if root == nil {
						root = &se
					}
					for _, a := range se.Attr {
						require.NotEqual(t, "style", a.Name.Local, "no inline style")
						require.False(t, strings.HasPrefix(a.Name.Local, "on"), "no event handlers")
					}
					require.NotEqual(t, "script", se.Name.Local)
					require.NotEqual(t, "style", se.Name.Local)
					switch se.Name.Local {
					case "title":
						titles++
					case "desc":
						descs++
					}
				}
			}
			attr := map[string]string{}
			for _, a := range root.Attr {
				attr[a.Name.Local] = a.Value
			}
			require.Equal(t, "img", attr["role"])
			id := attr["id"]
			require.Equal(t, id+"-title "+id+"-desc", attr["aria-labelledby"])
			require.GreaterOrEqual(t, titles, 1)
			require.Equal(t, 1, descs)
			require.Contains(t, string(out), `<title id="`+id+`-title">`)
		})
	}
}

// Links the page passes in end up on the bar, cell or tile they belong to.
func TestChartLinks(t *testing.T) {
	ex := examples()
	require.Regexp(t, regexp.MustCompile(`<a href="/queue\?period=2026-W46&amp;severity=low"><rect class="cd-bar cd-sev-low"[^>]*><title>2026-W46 · low: 10</title>`), string(ex["stacked"].SVG()))
	require.Contains(t, string(ex["heat"].SVG()), `<a href="/queue?from=north&amp;to=national"><rect class="cd-cell cd-heat-`)
	require.Contains(t, string(ex["tiles"].SVG()), `<a href="/queue?severity=critical">`)
}

func TestFormats(t *testing.T) {
	for d, want := range map[time.Duration]string{
		42 * time.Second: "42 s", 12 * time.Minute: "12 min", 3*time.Hour + 20*time.Minute: "3 h 20 min", 5 * time.Hour: "5 h",
		50 * time.Hour: "2 d 2 h", 72 * time.Hour: "3 d",
	} {
		require.Equal(t, want, chart.FormatDuration(d))
	}
	require.Equal(t, "12\u202f345", chart.FormatCount(12345))
	require.Equal(t, "999", chart.FormatCount(999))
	require.Equal(t, 0, chart.Level(0, 10))
	require.Equal(t, 4, chart.Level(10, 10))
	require.Equal(t, 1, chart.Level(1, 10))
}
