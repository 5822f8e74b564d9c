package ui

import (
	"html/template"
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/labstack/echo/v4"
)

// reportStartView is the data of the start page of the guided report.
type reportStartView struct {
	CERT     string // the CERT reports go to ("" when none is above)
	Phone    string // its telephone number
	PhoneURI string
	Drafts   []draftRow
}

// draftRow is one report of the organisation not sent yet.
type draftRow struct {
	StartedBy string
	StartedAt template.HTML
	SavedBy   string
	SavedAt   template.HTML
	Where     string // the step to continue at, in words
	Continue  string // its address
	Discard   string // the discard form's action
}

// reportStart is the start page of the guided report: what to expect,
// "Start now", and the reports of the organisation that were started and
// not sent (who started each, when, where it stopped), which anyone of
// the organisation who may report continues.
func (u *UI) reportStart(c echo.Context) error {
	cur := current(c)
	if !cur.Principal.Can(access.CreateIncident) {
		return notFoundPage()
	}
	ctx := c.Request().Context()
	drafts, err := u.o.Filings.OpenDrafts(ctx, cur.Principal)
	if err != nil {
		return err
	}
	p := u.newPage(c, "report_start", "report.start.title")
	switch c.QueryParam("done") {
	case "saved":
		p.Notice = p.L.T("report.start.saved")
	case "discarded":
		p.Notice = p.L.T("report.start.discarded")
	}
	v := reportStartView{}
	if o, err := u.o.Orgs.ResponsibleCERT(ctx, orgActor(cur.Principal)); err == nil {
		v.CERT, v.Phone, v.PhoneURI = o.Name, o.ContactPhone, telURI(o.ContactPhone)
	} else if !apperr.Is(err, apperr.NotFound) {
		return err
	}
	for _, d := range drafts {
		next := continueStep(&d)
		v.Drafts = append(v.Drafts, draftRow{StartedBy: d.CreatedByName, StartedAt: p.L.WhenTime(d.CreatedAt),
			SavedBy: d.UpdatedByName, SavedAt: p.L.WhenTime(d.UpdatedAt), Where: p.L.T("report.step." + next),
			Continue: "/report/" + d.ID.String() + "/" + next, Discard: "/report/" + d.ID.String() + "/discard"})
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// continueStep is where a draft continues: its first question without an
// answer, else the check page.
func continueStep(d *filing.Draft) string {
	if s := filing.FirstMissing(d.Answers, d.Done); s != "" {
		return s
	}
	return filing.StepCheck
}

// certName is the name of the CERT responsible for the person's
// organisation, "" when none is above it.
func (u *UI) certName(c echo.Context) string {
	o, err := u.o.Orgs.ResponsibleCERT(c.Request().Context(), orgActor(current(c).Principal))
	if err != nil {
		return ""
	}
	return o.Name
}

// reportNew starts a new guided report and opens its first question.
func (u *UI) reportNew(c echo.Context) error {
	d, err := u.o.Filings.Start(c.Request().Context(), current(c).Principal)
	if apperr.Is(err, apperr.Forbidden) {
		return notFoundPage()
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report/"+d.ID.String()+"/"+filing.Steps[0].Name)
}

// discardView is the data of the page that asks before deleting a draft.
type discardView struct {
	StartedBy string
	SavedAt   string
	Action    string
}

// reportDiscardPage asks before deleting a report that was not sent (a
// colleague's, perhaps): what is lost, and two buttons.
func (u *UI) reportDiscardPage(c echo.Context) error {
	d, err := u.o.Filings.Draft(c.Request().Context(), current(c).Principal, c.Param("draft"))
	if err != nil {
		return err
	}
	if d.SubmittedAt != nil {
		return u.sentRedirect(c, d)
	}
	p := u.newPage(c, "report_discard", "report.discard.title")
	p.Data = discardView{StartedBy: d.CreatedByName, SavedAt: p.L.When(d.UpdatedAt), Action: "/report/" + d.ID.String() + "/discard"}
	return u.render(c, http.StatusOK, p)
}

// reportDiscard deletes a report that was not sent.
func (u *UI) reportDiscard(c echo.Context) error {
	err := u.o.Filings.Discard(c.Request().Context(), current(c).Principal, c.Param("draft"))
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Conflict {
		return u.toSent(c, ae)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report?done=discarded")
}

// toSent answers a request about a report that was sent already: its
// confirmation page.
func (u *UI) toSent(c echo.Context, ae *apperr.Error) error {
	id, _ := ae.Details["incident_id"].(string)
	inc, err := u.o.Incidents.Get(c.Request().Context(), current(c).Principal, id)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report/sent/"+inc.Reference)
}
