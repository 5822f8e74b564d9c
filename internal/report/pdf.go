package report

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/certdesk/certdesk/internal/incident"
)

// fonts are DejaVu Sans (regular and bold) from Debian's fonts-dejavu-core,
// with their licence (fonts/LICENSE, fonts/README.md).
//
//go:embed fonts/DejaVuSans.ttf fonts/DejaVuSans-Bold.ttf fonts/LICENSE
var fonts embed.FS

const (
	// furnitureSize is the font size of the header and the footer; the
	// label printed beside them has the same, so that the label and the
	// line it closes share a baseline (and a line of extracted text).
	furnitureSize = 8.5
	family        = "dejavu"
	pageW         = 210.0
	pageH         = 297.0
	margin        = 15.0
	bodyW         = pageW - 2*margin
)

// TLPColour is the colour FIRST's TLP 2.0 standard gives a label's text,
// which is always printed on black (ui-research §8; https://www.first.org/tlp/).
func TLPColour(t incident.TLP) (r, g, b int) {
	switch t {
	case incident.TLPRed:
		return 0xFF, 0x2B, 0x2B
	case incident.TLPAmber, incident.TLPAmberStrict:
		return 0xFF, 0xC0, 0x00
	case incident.TLPGreen:
		return 0x33, 0xFF, 0x00
	}
	return 0xFF, 0xFF, 0xFF
}

// doc is a PDF with the report's page furniture: the TLP label at the top
// and the bottom of every page, the document's name, the page number of
// the total, and when it was made.
type doc struct {
	pdf       *fpdf.Fpdf
	tlp       incident.TLP
	name      string // in the header: "Incident report INC-2026-000042"
	generated string // in the footer
}

// newDoc starts an A4 document marked tlp on every page.
func newDoc(title, name string, tlp incident.TLP, generated time.Time, loc *time.Location) (*doc, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	for style, file := range map[string]string{"": "fonts/DejaVuSans.ttf", "B": "fonts/DejaVuSans-Bold.ttf"} {
		b, err := fonts.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("report: font %s: %w", file, err)
		}
		pdf.AddUTF8FontFromBytes(family, style, b)
	}
	d := &doc{pdf: pdf, tlp: tlp, name: name,
		generated: "generated " + generated.In(loc).Format("2 Jan 2006 15:04 MST")}
	pdf.SetTitle(title, true)
	pdf.SetSubject(name, true)
	pdf.SetCreator("certdesk", true)
	pdf.SetProducer("certdesk", true)
	pdf.SetCreationDate(generated)
	pdf.SetModificationDate(generated)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetMargins(margin, 24, margin)
	pdf.SetAutoPageBreak(true, 22)
	pdf.AliasNbPages("{nb}")
	pdf.SetHeaderFunc(d.header)
	pdf.SetFooterFunc(d.footer)
	pdf.SetFont(family, "", 10)
	pdf.AddPage()
	return d, nil
}

// tlpBox prints the label, written out, in its colour on black.
func (d *doc) tlpBox(x, y float64) {
	p := d.pdf
	label := string(d.tlp)
	p.SetFont(family, "B", furnitureSize)
	w := p.GetStringWidth(label) + 6
	p.SetFillColor(0, 0, 0)
	p.SetTextColor(TLPColour(d.tlp))
	p.SetXY(x-w, y)
	p.CellFormat(w, 6, label, "", 0, "C", true, 0, "")
	p.SetTextColor(0, 0, 0)
}

func (d *doc) header() {
	p := d.pdf
	p.SetFont(family, "", furnitureSize)
	p.SetTextColor(90, 96, 106)
	p.SetXY(margin, 9)
	p.CellFormat(bodyW-40, 6, truncate(p, "certdesk · "+d.name, bodyW-42), "", 0, "L", false, 0, "")
	d.tlpBox(pageW-margin, 9)
	p.SetDrawColor(200, 205, 212)
	p.Line(margin, 17, pageW-margin, 17)
	p.SetXY(margin, 24)
	p.SetTextColor(0, 0, 0)
	p.SetFont(family, "", 10)
}

func (d *doc) footer() {
	p := d.pdf
	p.SetDrawColor(200, 205, 212)
	p.Line(margin, pageH-16, pageW-margin, pageH-16)
	p.SetFont(family, "", furnitureSize)
	p.SetTextColor(90, 96, 106)
	p.SetXY(margin, pageH-14)
	p.CellFormat(bodyW-40, 6, fmt.Sprintf("Page %d of {nb} · %s", p.PageNo(), d.generated), "", 0, "L", false, 0, "")
	d.tlpBox(pageW-margin, pageH-14)
}

// output renders the document.
func (d *doc) output() ([]byte, error) {
	var buf bytes.Buffer
	if err := d.pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("report: render PDF: %w", err)
	}
	return buf.Bytes(), nil
}

// need starts a new page unless h millimetres fit on this one.
func (d *doc) need(h float64) {
	if d.pdf.GetY()+h > pageH-24 {
		d.pdf.AddPage()
	}
}

func (d *doc) title(s, sub string) {
	p := d.pdf
	p.SetFont(family, "B", 17)
	p.MultiCell(bodyW, 8, s, "", "L", false)
	if sub != "" {
		p.SetFont(family, "", 10)
		p.SetTextColor(90, 96, 106)
		p.MultiCell(bodyW, 5, sub, "", "L", false)
		p.SetTextColor(0, 0, 0)
	}
	p.Ln(3)
}

func (d *doc) heading(s string) { d.headingKeep(s, 0) }

// headingKeep is a heading kept on the same page as the next h millimetres.
func (d *doc) headingKeep(s string, h float64) {
	d.need(18 + h)
	p := d.pdf
	p.Ln(2)
	p.SetFont(family, "B", 12)
	p.SetTextColor(20, 60, 110)
	p.CellFormat(bodyW, 7, s, "B", 1, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.Ln(2)
	p.SetFont(family, "", 10)
}

func (d *doc) para(s string) {
	d.pdf.SetFont(family, "", 10)
	d.pdf.MultiCell(bodyW, 5, s, "", "L", false)
	d.pdf.Ln(1)
}

func (d *doc) note(s string) {
	p := d.pdf
	p.SetFont(family, "", 8)
	p.SetTextColor(90, 96, 106)
	p.MultiCell(bodyW, 4, s, "", "L", false)
	p.SetTextColor(0, 0, 0)
	p.SetFont(family, "", 10)
	p.Ln(1)
}

// fields prints label: value pairs in two columns of label and value.
func (d *doc) fields(rows [][2]string) {
	p := d.pdf
	lw := 45.0
	for _, r := range rows {
		if r[1] == "" {
			continue
		}
		lines := p.SplitText(r[1], bodyW-lw)
		h := 5 * float64(max(len(lines), 1))
		d.need(h)
		y := p.GetY()
		p.SetFont(family, "B", 9)
		p.SetTextColor(60, 66, 76)
		p.CellFormat(lw, 5, r[0], "", 0, "L", false, 0, "")
		p.SetTextColor(0, 0, 0)
		p.SetFont(family, "", 10)
		p.SetXY(margin+lw, y)
		p.MultiCell(bodyW-lw, 5, r[1], "", "L", false)
	}
	p.Ln(1)
}

// table prints rows under a header with column widths (millimetres,
// summing to the body width); cells wrap, and the header repeats on every
// page the table runs on.
func (d *doc) table(header []string, widths []float64, rows [][]string) {
	d.tableOr(header, widths, rows, "None.")
}

// tableOr is table, saying empty when there are no rows.
func (d *doc) tableOr(header []string, widths []float64, rows [][]string, empty string) {
	p := d.pdf
	lineH := 4.2
	drawHeader := func() {
		p.SetFont(family, "B", 8)
		p.SetFillColor(232, 236, 241)
		lines := 1
		for i, h := range header {
			lines = max(lines, len(p.SplitText(h, widths[i]-2)))
		}
		hh := 2 + lineH*float64(lines)
		y := p.GetY()
		p.Rect(margin, y, bodyW, hh, "F")
		x := margin
		for i, h := range header {
			p.SetXY(x+1, y+1)
			p.MultiCell(widths[i]-2, lineH, h, "", "L", false)
			x += widths[i]
		}
		p.SetXY(margin, y+hh)
		p.SetFont(family, "", 8)
	}
	d.need(12)
	drawHeader()
	if len(rows) == 0 {
		p.SetTextColor(90, 96, 106)
		p.CellFormat(bodyW, 6, empty, "", 1, "L", false, 0, "")
		p.SetTextColor(0, 0, 0)
	}
	for ri, row := range rows {
		height := lineH
		split := make([][]string, len(row))
		for i, cell := range row {
			split[i] = p.SplitText(cell, widths[i]-2)
			height = max(height, lineH*float64(max(len(split[i]), 1)))
		}
		if p.GetY()+height+1 > pageH-24 {
			p.AddPage()
			drawHeader()
		}
		y := p.GetY()
		if ri%2 == 1 {
			p.SetFillColor(246, 248, 250)
			p.Rect(margin, y, bodyW, height+1, "F")
		}
		x := margin
		for i := range row {
			p.SetXY(x+1, y+0.5)
			p.MultiCell(widths[i]-2, lineH, strings.Join(split[i], "\n"), "", "L", false)
			x += widths[i]
		}
		p.SetXY(margin, y+height+1)
	}
	p.Ln(2)
}
