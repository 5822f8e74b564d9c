package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/chart"
	"github.com/certdesk/certdesk/internal/dashboard"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/taxonomy"
	"github.com/google/uuid"
	"golang.org/x/net/idna"
)

// IncidentReport renders the report of an incident p may see
// (apperr.NotFound otherwise) for a regulator or a board: the
// classification, the executive summary, the stage stepper, the legal
// reports and deadlines as recorded, the key events, the tasks, and the
// observables p may see, each with its own TLP label. Every page carries
// the strictest label of what the report holds: the incident's, or a
// stricter observable's.
func (s *Service) IncidentReport(ctx context.Context, p access.Principal, idOrRef string) (*Document, error) {
	viewer, _, err := s.o.Stats.Viewer(ctx, p)
	if err != nil {
		return nil, err
	}
	ex, err := s.Executive(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	inc := ex.Incident
	var tasks []task.Task
	page := incident.Page{Limit: incident.MaxLimit}
	for {
		_, ts, next, err := s.o.Tasks.List(ctx, p, inc.ID.String(), task.Any, page)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, ts...)
		if next == "" {
			break
		}
		page.After = next
	}
	var obs []observable.Observable
	page = incident.Page{Limit: incident.MaxLimit}
	for {
		_, os, next, err := s.o.Observables.List(ctx, p, inc.ID.String(), page)
		if err != nil {
			return nil, err
		}
		obs = append(obs, os...)
		if next == "" {
			break
		}
		page.After = next
	}
	label := inc.TLP
	for _, o := range obs {
		label = incident.StricterTLP(label, o.TLP)
	}
	loc := ex.Location
	at := func(t time.Time) string { return t.In(loc).Format("2 Jan 2006 15:04") }
	atp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return at(*t)
	}
	d, err := newDoc("Incident report "+inc.Reference, "Incident report "+inc.Reference, label, ex.Now, loc)
	if err != nil {
		return nil, err
	}
	d.title(inc.Reference+" · "+inc.Title, fmt.Sprintf("Incident report for %s, as of %s. Times are in %s (%s).", viewer.Name, at(ex.Now), loc,
		ex.Now.In(loc).Format("MST")))

	d.heading("Classification")
	status := "Open, in " + string(inc.Stage)
	if inc.Status == incident.Closed {
		status = "Closed on " + atp(inc.ClosedAt) + " (last stage: " + string(inc.Stage) + ")"
	}
	class := dashboard.CategoryName(inc.Category)
	if inc.Type != "" {
		class += " / " + typeName(inc.Category, inc.Type)
	}
	ids := []uuid.UUID{inc.ReportingOrgID}
	if inc.CoordinatingOrgID != nil {
		ids = append(ids, *inc.CoordinatingOrgID)
	}
	orgs, err := s.o.Stats.Orgs(ctx, ids)
	if err != nil {
		return nil, err
	}
	orgName := func(id uuid.UUID, slug string) string {
		if o, ok := orgs[id]; ok && o.Name != "" {
			return o.Name + " (" + o.Slug + ")"
		}
		return slug
	}
	flags := []string{}
	if inc.Significant {
		flags = append(flags, "significant incident (NIS2 Art. 23)")
	}
	if inc.PersonalDataBreach {
		flags = append(flags, "personal-data breach (GDPR Art. 33)")
	}
	people := ""
	if inc.PersonalDataBreach {
		people = "unknown"
		if inc.AffectedPeople != nil {
			people = chart.FormatCount(float64(*inc.AffectedPeople))
		}
	}
	ack := atp(inc.AcknowledgedAt)
	if ex.TimeToAcknowledge != nil {
		ack += " (" + chart.FormatDuration(*ex.TimeToAcknowledge) + " after the report)"
	}
	coord := "not routed yet"
	if inc.CoordinatingOrgID != nil {
		coord = orgName(*inc.CoordinatingOrgID, inc.CoordinatingOrgSlug)
	}
	d.fields([][2]string{
		{"Reference", inc.Reference},
		{"Traffic Light Protocol", string(inc.TLP) + " — " + tlpMeaning(inc.TLP)},
		{"Status", status},
		{"Severity", string(inc.Severity)},
		{"Classification (RSIT)", class},
		{"Legal flags", strings.Join(flags, "; ")},
		{"People affected", people},
		{"Reported by", orgName(inc.ReportingOrgID, inc.ReportingOrgSlug)},
		{"Coordinated by", coord},
		{"Assignee", inc.AssigneeEmail},
		{"Detected", atp(inc.DetectedAt)},
		{"Reported", at(inc.ReportedAt)},
		{"Acknowledged", ack},
	})
	if label != inc.TLP {
		d.note(fmt.Sprintf("This report is marked %s, stricter than the incident's %s, because it lists observables marked %s.", label, inc.TLP, label))
	}

	d.heading("Executive summary")
	sum := inc.Summary
	if sum.Empty() {
		d.note("No executive summary has been written yet.")
	} else {
		d.fields([][2]string{{"Status", sum.Status}, {"Impact", sum.Impact}, {"Next steps", sum.NextSteps}})
		if sum.UpdatedAt != nil {
			d.note("Last updated " + at(*sum.UpdatedAt) + " by " + sum.UpdatedBy + ".")
		}
	}

	d.heading("Stages")
	d.stepper(ex.Stages)

	d.heading("Legal deadlines and reports")
	if len(ex.Clocks) == 0 {
		d.note("No legal deadline applies: the incident is neither significant (NIS2) nor a personal-data breach (GDPR).")
	} else {
		var rows [][]string
		for _, c := range ex.Clocks {
			met, ref := "", ""
			if c.Met != nil {
				met, ref = at(c.Met.At), c.Met.Reference
			}
			rows = append(rows, []string{DeadlineLabel(c.Kind), c.Basis, at(c.DueAt), stateText(c), met, ref})
		}
		d.table([]string{"Deadline", "Basis", "Due", "State", "Reported", "Reference"}, []float64{30, 24, 31, 31, 31, 33}, rows)
	}

	d.heading("Key events")
	var evs [][]string
	for _, k := range ex.Key {
		what := k.Text
		if k.Pinned {
			what = "Pinned: " + what
		}
		evs = append(evs, []string{at(k.At), what, k.Actor})
	}
	d.table([]string{"When", "What", "Who"}, []float64{29, 103, 48}, evs)

	d.heading("Tasks")
	var trows [][]string
	for _, t := range tasks {
		trows = append(trows, []string{fmt.Sprint(t.Position), t.Title, string(t.Status), t.AssigneeEmail, atp(t.DueAt)})
	}
	d.table([]string{"#", "Task", "Status", "Assignee", "Due"}, []float64{8, 82, 22, 38, 30}, trows)

	d.heading("Observables")
	d.note("As far as " + viewer.Name + " may see each one; each keeps its own TLP label, which binds every use of it.")
	var orows [][]string
	for _, o := range obs {
		sighted := "no"
		if o.Sighted {
			sighted = "yes"
		}
		value := o.Value
		if u, err := idna.ToUnicode(o.Value); err == nil && u != o.Value && (o.Type == "domain" || o.Type == "email" || o.Type == "url") {
			value += " (" + u + ")"
		}
		orows = append(orows, []string{string(o.Type), value, string(o.TLP), sighted, o.Note})
	}
	d.table([]string{"Type", "Value", "TLP", "Sighted", "Note"}, []float64{20, 76, 36, 16, 32}, orows)

	if inc.Status == incident.Closed && inc.Resolution != "" {
		d.heading("Resolution")
		d.para(inc.Resolution)
	}
	pdf, err := d.output()
	if err != nil {
		return nil, err
	}
	return &Document{Filename: inc.Reference + ".pdf", PDF: pdf, TLP: label}, nil
}

// typeName is an RSIT type's name within its category.
func typeName(category, typ string) string {
	if c, ok := taxonomy.RSIT.Category(category); ok {
		for _, t := range c.Types {
			if t.Value == typ && t.Name != "" {
				return t.Name
			}
		}
	}
	return typ
}

// tlpMeaning is what a label allows, from FIRST's TLP 2.0 definitions.
func tlpMeaning(t incident.TLP) string {
	switch t {
	case incident.TLPRed:
		return "for the eyes and ears of individual recipients only, no further disclosure"
	case incident.TLPAmberStrict:
		return "limited disclosure, recipients may share only within their own organisation"
	case incident.TLPAmber:
		return "limited disclosure, recipients may share within their organisation and its clients on a need-to-know basis"
	case incident.TLPGreen:
		return "limited disclosure, recipients may share within their community"
	case incident.TLPClear:
		return "disclosure is not limited"
	}
	return ""
}

func stateText(c incident.Deadline) string {
	switch c.State {
	case incident.DeadlineOnTime:
		return "met on time"
	case incident.DeadlineMetLate:
		return "met late"
	case incident.DeadlineMissed:
		return "missed, " + chart.FormatDuration(-c.TimeLeft) + " ago"
	}
	return "open, " + chart.FormatDuration(c.TimeLeft) + " left"
}

// stepper draws the four stages as boxes, the current one dark, those
// visited light, with the time spent in each written under its name.
func (d *doc) stepper(steps []Step) {
	p := d.pdf
	d.need(24)
	y := p.GetY()
	gap := 5.0
	w := (bodyW - gap*float64(len(steps)-1)) / float64(len(steps))
	for i, st := range steps {
		x := margin + float64(i)*(w+gap)
		name, spent := strings.ToUpper(string(st.Stage[:1]))+string(st.Stage[1:]), "not reached"
		switch {
		case st.Current:
			p.SetFillColor(20, 60, 110)
			p.SetTextColor(255, 255, 255)
			name += " (now)"
		case st.Visited:
			p.SetFillColor(214, 228, 243)
			p.SetTextColor(0, 0, 0)
		default:
			p.SetFillColor(242, 243, 245)
			p.SetTextColor(110, 116, 126)
		}
		if st.Visited || st.Current {
			spent = chart.FormatDuration(st.Spent)
		}
		p.Rect(x, y, w, 16, "F")
		p.SetFont(family, "B", 9.5)
		p.SetXY(x, y+2)
		p.CellFormat(w, 5, name, "", 0, "C", false, 0, "")
		p.SetFont(family, "", 9)
		p.SetXY(x, y+8)
		p.CellFormat(w, 5, spent, "", 0, "C", false, 0, "")
		if i < len(steps)-1 {
			p.SetTextColor(110, 116, 126)
			p.SetXY(x+w, y+5)
			p.CellFormat(gap, 5, "→", "", 0, "C", false, 0, "")
		}
	}
	p.SetTextColor(0, 0, 0)
	p.SetXY(margin, y+19)
	d.note("Time spent in each stage while the incident was open; the stage it is in counts up to now.")
}
