package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/labstack/echo/v4"
)

// questionView is the data of a question page of the guided report.
type questionView struct {
	DraftID string
	Step    string
	Action  string
	// Heading is the page's question when it asks several things; ""
	// when its first field's label is the question (fieldView.Heading).
	Heading string
	Fields  []fieldView
	Back    string
	Change  bool // reached from the check page: Continue returns there
	Saved   string
	// Indicators: the indicators step shows what it recognised.
	Found   []indicatorView
	Unknown []string
	Preview bool
}

// indicatorView is one recognised indicator, defanged.
type indicatorView struct {
	Type  string
	Value string
}

// reportStep shows one question of a guided report with the answers
// saved so far (or, for a question not yet answered, what is known: the
// person's own name and e-mail address as the contact, TLP:AMBER).
func (u *UI) reportStep(c echo.Context) error {
	switch c.Param("step") {
	case filing.StepCheck:
		return u.reportCheck(c)
	case filing.StepFiles:
		return u.reportFiles(c)
	}
	cur := current(c)
	d, err := u.o.Filings.Draft(c.Request().Context(), cur.Principal, c.Param("draft"))
	if err != nil {
		return err
	}
	if d.SubmittedAt != nil {
		return u.sentRedirect(c, d)
	}
	st, ok := filing.StepNamed(c.Param("step"))
	if !ok || st.Special {
		return notFoundPage()
	}
	a := d.Answers
	if !contains(d.Done, st.Name) {
		a = defaults(st.Name, a, cur.UserName, cur.Principal.Email)
	}
	return u.renderStep(c, http.StatusOK, d, st, a, nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// defaults are the answers a step starts with when it was never
// answered: what is known already (WCAG 3.3.7).
func defaults(step string, a filing.Answers, name, email string) filing.Answers {
	out := filing.Answers{}
	for k, v := range a {
		out[k] = v
	}
	switch step {
	case "contact":
		if !out.Has("contact_name") && name != "" {
			out["contact_name"] = []string{name}
		}
		if !out.Has("contact_email") {
			out["contact_email"] = []string{email}
		}
	case "sharing":
		if !out.Has("tlp") {
			out["tlp"] = []string{string(incident.TLPAmber)}
		}
	}
	return out
}

// renderStep renders a question page with answers a and errors errs.
func (u *UI) renderStep(c echo.Context, status int, d *filing.Draft, st *filing.Step, a filing.Answers, errs []fieldError) error {
	id := d.ID.String()
	headingKey := "report.q." + st.Name
	titled := u.o.Catalogue.Has(headingKey)
	title := headingKey
	if !titled {
		title = filing.FieldKey(st.Fields[0].Name)
	}
	p := u.newPage(c, "report_step", title)
	p.Errors, p.TLP = errs, draftTLP(d)
	change := c.QueryParam("change") == "1" || c.FormValue("change") == "1"
	v := questionView{DraftID: id, Step: st.Name, Action: "/report/" + id + "/" + st.Name, Change: change,
		Fields: u.formView(p.L, st.Fields, a, errs, !titled)}
	if len(d.Done) > 0 || len(d.Files) > 0 {
		v.Saved = p.L.T("report.saved_by", d.UpdatedByName, p.L.When(d.UpdatedAt))
	}
	if titled {
		v.Heading = p.Title
	}
	switch prev := filing.Previous(st.Name, d.Answers); {
	case change:
		v.Back = "/report/" + id + "/" + filing.StepCheck
	case prev == "":
		v.Back = "/report"
	default:
		v.Back = "/report/" + id + "/" + prev
	}
	switch st.Name {
	case "sharing":
		u.redHint(c, p.L, v.Fields)
	case "indicators":
		found, unknown := observable.ParsePasted(a.Get("indicators"))
		for _, f := range found {
			v.Found = append(v.Found, indicatorView{Type: p.L.T("report.indicator." + string(f.Type)), Value: observable.Defang(f.Type, f.Value)})
		}
		v.Unknown, v.Preview = unknown, c.QueryParam("preview") == "1"
	}
	p.Data = v
	return u.render(c, status, p)
}

// redHint writes, beneath TLP:RED, who would receive the report by name:
// the CERT that will coordinate it and the people it names.
func (u *UI) redHint(c echo.Context, l i18n.Locale, fields []fieldView) {
	r, err := u.o.Incidents.RedRecipientsFor(c.Request().Context(), current(c).Principal)
	if err != nil {
		return
	}
	names := strings.Join(r.Names(), ", ")
	if names == "" {
		names = l.T("report.red.nobody")
	}
	for i := range fields {
		for j := range fields[i].Options {
			if fields[i].Options[j].Value == string(incident.TLPRed) {
				fields[i].Options[j].Hint = l.T("report.oh.tlp.tlp_red", r.Org.Name, names)
			}
		}
	}
}

// reportStepSave saves the answers of one question and goes on: to the
// next question that applies, or, when reached from the check page, to
// the first question still without an answer (new questions a changed
// answer opened), else back to the check page. "Save and come back
// later" saves and returns to the start page. A page with errors comes
// back with the answers given and an error summary (GOV.UK validation).
func (u *UI) reportStepSave(c echo.Context) error {
	if c.Param("step") == filing.StepFiles {
		return u.reportFilesDone(c)
	}
	if c.Param("step") == filing.StepCheck {
		return u.reportSend(c)
	}
	cur := current(c)
	ctx := c.Request().Context()
	form, err := formOf(c)
	if err != nil {
		return err
	}
	d, typed, err := u.o.Filings.SaveStep(ctx, cur.Principal, c.Param("draft"), c.Param("step"), form, u.reportZone(c))
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Conflict {
		return u.toSent(c, ae)
	}
	if errs, rerr := u.reportErrors(u.locale(c), err); rerr != nil {
		return rerr
	} else if errs != nil {
		d, derr := u.o.Filings.Draft(ctx, cur.Principal, c.Param("draft"))
		if derr != nil {
			return derr
		}
		st, _ := filing.StepNamed(c.Param("step"))
		return u.renderStep(c, http.StatusUnprocessableEntity, d, st, typed, errs)
	}
	id := d.ID.String()
	switch {
	case c.FormValue("later") != "":
		return c.Redirect(http.StatusSeeOther, "/report?done=saved")
	case c.FormValue("preview") != "":
		return c.Redirect(http.StatusSeeOther, "/report/"+id+"/"+c.Param("step")+"?preview=1#indicators-found")
	case c.FormValue("change") == "1":
		next := continueStep(d)
		if next != filing.StepCheck {
			return c.Redirect(http.StatusSeeOther, "/report/"+id+"/"+next+"?change=1")
		}
		return c.Redirect(http.StatusSeeOther, "/report/"+id+"/"+filing.StepCheck)
	}
	return c.Redirect(http.StatusSeeOther, "/report/"+id+"/"+filing.Next(c.Param("step"), d.Answers))
}

// sentRedirect sends a request about a sent report to its confirmation.
func (u *UI) sentRedirect(c echo.Context, d *filing.Draft) error {
	inc, err := u.o.Incidents.Get(c.Request().Context(), current(c).Principal, d.IncidentID.String())
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report/sent/"+inc.Reference)
}
