package ui

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// legalFormView is the data of a legal report's form and check page.
type legalFormView struct {
	Reference string
	Kind      incident.DeadlineKind
	Heading   string
	Action    string
	Back      string
	Due       template.HTML
	Late      bool
	Phase     int
	Prefilled bool
	Fields    []fieldView
	Rows      []checkRow // the check page
	Send      string     // the send button's words
	CERT      string
}

// legalForm shows a legal report's form, pre-filled from what is known
// (its saved draft, else earlier reports, the guided report and the
// incident): the person checks and changes, then continues to the check
// page.
func (u *UI) legalForm(c echo.Context) error {
	kind := incident.DeadlineKind(c.Param("kind"))
	pg, err := u.o.Filings.LegalForm(c.Request().Context(), current(c).Principal, c.Param("ref"), kind, requestLang(c))
	if err != nil {
		return u.legalError(c, err)
	}
	return u.renderLegalForm(c, http.StatusOK, pg, pg.Answers, nil)
}

func (u *UI) renderLegalForm(c echo.Context, status int, pg *filing.LegalPage, a filing.Answers, errs []fieldError) error {
	inc := pg.Incident
	kindName := "deadline." + string(pg.Task.Kind)
	p := u.newPage(c, "legal_form", kindName)
	p.TLP, p.Errors = inc.TLP, errs
	base := "/incidents/" + inc.Reference + "/legal/" + string(pg.Task.Kind)
	v := legalFormView{Reference: inc.Reference, Kind: pg.Task.Kind, Heading: p.Title, Action: base,
		Back: "/incidents/" + inc.Reference, Due: p.L.DueHTML(pg.Task.Deadline.DueAt), Late: pg.Late, Phase: pg.Phase,
		Prefilled: pg.Prefilled, Fields: u.formView(p.L, pg.Fields, a, errs, false)}
	if pg.Phase > 1 {
		v.Heading = p.L.T("legal.phase", p.Title, pg.Phase)
		p.Title = v.Heading
	}
	p.Data = v
	return u.render(c, status, p)
}

// legalSave checks the form and saves it as the report's draft, then
// shows the check page; errors come back on the form.
func (u *UI) legalSave(c echo.Context) error {
	cur := current(c)
	kind := incident.DeadlineKind(c.Param("kind"))
	form, err := formOf(c)
	if err != nil {
		return err
	}
	pg, typed, err := u.o.Filings.SaveLegal(c.Request().Context(), cur.Principal, c.Param("ref"), kind, form)
	if errs, rerr := u.reportErrors(u.locale(c), err); rerr != nil {
		return u.legalError(c, rerr)
	} else if errs != nil {
		return u.renderLegalForm(c, http.StatusUnprocessableEntity, pg, typed, errs)
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+pg.Incident.Reference+"/legal/"+string(kind)+"/check")
}

// legalCheck shows the saved answers with Change links and the button
// that sends the report.
func (u *UI) legalCheck(c echo.Context) error {
	kind := incident.DeadlineKind(c.Param("kind"))
	pg, err := u.o.Filings.LegalForm(c.Request().Context(), current(c).Principal, c.Param("ref"), kind, requestLang(c))
	if err != nil {
		return u.legalError(c, err)
	}
	if pg.Prefilled { // nothing saved yet: the form first
		return c.Redirect(http.StatusSeeOther, "/incidents/"+pg.Incident.Reference+"/legal/"+string(kind))
	}
	return u.renderLegalCheck(c, http.StatusOK, pg, nil)
}

func (u *UI) renderLegalCheck(c echo.Context, status int, pg *filing.LegalPage, errs []fieldError) error {
	inc := pg.Incident
	p := u.newPage(c, "legal_check", "legal.check.title", u.o.Catalogue.Printer(requestLang(c)).T("deadline."+string(pg.Task.Kind)))
	p.TLP, p.Errors = inc.TLP, errs
	base := "/incidents/" + inc.Reference + "/legal/" + string(pg.Task.Kind)
	v := legalFormView{Reference: inc.Reference, Kind: pg.Task.Kind, Heading: p.Title, Action: base + "/check", Back: base,
		Due: p.L.DueHTML(pg.Task.Deadline.DueAt), Late: pg.Late, Phase: pg.Phase, CERT: u.certName(c)}
	for _, it := range filing.ItemsOf(pg.Fields, pg.Answers, p.L.T, p.L.DateTime) {
		r := checkRow{Question: it.Question, Change: base + "#" + it.Field}
		if strings.Contains(it.Answer, "\n") {
			r.Lines = strings.Split(it.Answer, "\n")
		} else {
			r.Answer = it.Answer
		}
		v.Rows = append(v.Rows, r)
	}
	name := p.L.T("deadline." + string(pg.Task.Kind))
	if v.CERT != "" {
		v.Send = p.L.T("legal.send_to", name, v.CERT)
	} else {
		v.Send = p.L.T("legal.send", name)
	}
	p.Data = v
	return u.render(c, status, p)
}

// legalSend files the report: the deadline is recorded as met with the
// report as its content, on the timeline; then the legal reports page
// says so. A second send (a double click) finds no draft and lands on the
// same page.
func (u *UI) legalSend(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	kind := incident.DeadlineKind(c.Param("kind"))
	_, err := u.o.Filings.FileLegal(ctx, cur.Principal, c.Param("ref"), kind, requestLang(c))
	switch {
	case apperr.Is(err, apperr.NotFound):
		if _, gerr := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref")); gerr != nil {
			return gerr
		}
		return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"/legal")
	case apperr.Is(err, apperr.Invalid):
		pg, ferr := u.o.Filings.LegalForm(ctx, cur.Principal, c.Param("ref"), kind, requestLang(c))
		if ferr != nil {
			return u.legalError(c, ferr)
		}
		errs, _ := u.reportErrors(u.locale(c), err)
		return u.renderLegalForm(c, http.StatusUnprocessableEntity, pg, pg.Answers, errs)
	case err != nil:
		return u.legalError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"/legal?sent="+string(kind))
}
