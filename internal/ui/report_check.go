package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/labstack/echo/v4"
)

// checkView is the data of the check-your-answers page.
type checkView struct {
	DraftID    string
	Action     string
	Sections   []checkSection
	Clocks     []deadlineLine // the legal clocks sending will start
	Title      fieldView
	Severity   fieldView
	Suggested  string
	CERT       string
	Back       string
	Missing    string // the first question without an answer, if any
	MissingFor string
}

// checkSection is one group of answers under a heading.
type checkSection struct {
	Title string
	Rows  []checkRow
}

// checkRow is one answer with its Change link.
type checkRow struct {
	Question string
	Answer   string
	Lines    []string // an answer of several lines (files, indicators, choices)
	Change   string
}

// sectionOf groups the steps on the check page.
var sectionOf = map[string]string{
	"noticed": "incident", "what": "incident", "services": "impact", "severe": "assessment", "damage": "assessment",
	"assets": "assessment", "malicious": "assessment", "cross-border": "assessment", "personal": "personal",
	"personal-data": "personal", "personal-numbers": "personal", "personal-dpo": "personal", "personal-impact": "personal",
	"personal-told": "personal", "contact": "contact", "sharing": "sharing", filing.StepFiles: "evidence", "indicators": "evidence",
}

// reportCheck shows every answer with a Change link that returns here,
// what sending will start (the legal clocks), and the last two answers:
// the title and the severity, both suggested and editable.
func (u *UI) reportCheck(c echo.Context) error {
	d, err := u.o.Filings.Draft(c.Request().Context(), current(c).Principal, c.Param("draft"))
	if err != nil {
		return err
	}
	if d.SubmittedAt != nil {
		return u.sentRedirect(c, d)
	}
	return u.renderCheck(c, http.StatusOK, d, "", "", nil)
}

func (u *UI) renderCheck(c echo.Context, status int, d *filing.Draft, title, severity string, errs []fieldError) error {
	p := u.newPage(c, "report_check", "report.check.title")
	p.Errors, p.TLP = errs, draftTLP(d)
	l := p.L
	id := d.ID.String()
	a := d.Answers
	t := filing.Translator(l.T)
	facts := filing.Decide(a)
	v := checkView{DraftID: id, Action: "/report/" + id + "/" + filing.StepCheck, CERT: u.certName(c),
		Back: "/report/" + id + "/" + filing.Previous(filing.StepCheck, a)}
	if m := filing.FirstMissing(a, d.Done); m != "" {
		v.Missing, v.MissingFor = "/report/"+id+"/"+m+"?change=1", l.T("report.step."+m)
	}
	for i := range filing.Steps {
		st := &filing.Steps[i]
		if st.Name == filing.StepCheck || (st.Applies != nil && !st.Applies(a)) {
			continue
		}
		change := "/report/" + id + "/" + st.Name + "?change=1"
		var rows []checkRow
		switch st.Name {
		case filing.StepFiles:
			r := checkRow{Question: l.T("report.q.files"), Change: change}
			for _, f := range d.Files {
				r.Lines = append(r.Lines, f.Filename)
			}
			rows = append(rows, r)
		case "noticed":
			// One row: the moment, "roughly", or not known.
			r := checkRow{Question: l.T(filing.FieldKey("noticed")), Change: change + "#noticed-day"}
			switch ts, ok := a.Time("noticed"); {
			case a.Has("noticed_unknown") || !ok:
				r.Answer = l.T("report.check.noticed_unknown")
			case a.Has("noticed_about"):
				r.Answer = l.T("report.check.roughly", l.DateTime(ts))
			default:
				r.Answer = l.DateTime(ts)
			}
			rows = append(rows, r)
		case "indicators":
			r := checkRow{Question: l.T(filing.FieldKey("indicators")), Change: change + "#indicators"}
			found, _ := observable.ParsePasted(a.Get("indicators"))
			for _, f := range found {
				r.Lines = append(r.Lines, observable.Defang(f.Type, f.Value))
			}
			rows = append(rows, r)
		default:
			for _, it := range filing.ItemsOf(st.Fields, a, t, l.DateTime) {
				r := checkRow{Question: it.Question, Change: change + "#" + it.Field}
				if f := st.Field(it.Field); f != nil && f.Kind == filing.Choices {
					r.Lines = strings.Split(it.Answer, "\n")
				} else {
					r.Answer = it.Answer
				}
				rows = append(rows, r)
			}
		}
		for i := range rows {
			if rows[i].Answer == "" && len(rows[i].Lines) == 0 {
				rows[i].Answer = l.T("report.answer.not_provided")
			}
		}
		sec := l.T("report.section." + sectionOf[st.Name])
		if n := len(v.Sections); n > 0 && v.Sections[n-1].Title == sec {
			v.Sections[n-1].Rows = append(v.Sections[n-1].Rows, rows...)
		} else {
			v.Sections = append(v.Sections, checkSection{Title: sec, Rows: rows})
		}
	}
	// The clocks sending starts, as they will run.
	preview := &incident.Incident{DetectedAt: facts.DetectedAt, ReportedAt: l.Now, Significant: facts.Significant,
		PersonalDataBreach: facts.PersonalData}
	v.Clocks = clockLines(l, preview)
	if title == "" {
		title = filing.SuggestTitle(a, t)
	}
	if severity == "" {
		severity = string(facts.Severity)
	}
	v.Suggested = l.T("severity." + string(facts.Severity))
	final := []filing.Field{{Name: "title", Kind: filing.Text, Required: true, Hint: true, Max: filing.MaxTitle},
		{Name: "severity", Kind: filing.Choice, Options: severityValues(), Required: true, OptionHints: true}}
	fv := u.formView(l, final, filing.Answers{"title": {title}, "severity": {severity}}, errs, false)
	v.Title, v.Severity = fv[0], fv[1]
	v.Severity.Hint = l.T("report.h.severity_suggested", v.Suggested)
	v.Severity.Described = "severity-hint"
	p.Data = v
	return u.render(c, status, p)
}

func severityValues() []string {
	out := make([]string, len(incident.Severities))
	for i, s := range incident.Severities {
		out[i] = string(s)
	}
	return out
}

// reportSend sends the report. A second send of the same draft (a double
// click, a reload, a colleague) creates nothing and shows the same
// confirmation. A question left without an answer opens it.
func (u *UI) reportSend(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	title, severity := c.FormValue("title"), c.FormValue("severity")
	inc, _, err := u.o.Filings.Submit(ctx, cur.Principal, c.Param("draft"), requestLang(c),
		filing.Final{Title: title, Severity: incident.Severity(severity)})
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Invalid {
		if step, ok := ae.Details["step"].(string); ok {
			return c.Redirect(http.StatusSeeOther, "/report/"+c.Param("draft")+"/"+step+"?change=1")
		}
		d, derr := u.o.Filings.Draft(ctx, cur.Principal, c.Param("draft"))
		if derr != nil {
			return derr
		}
		errs, _ := u.reportErrors(u.locale(c), err)
		return u.renderCheck(c, http.StatusUnprocessableEntity, d, title, severity, errs)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report/sent/"+inc.Reference)
}
