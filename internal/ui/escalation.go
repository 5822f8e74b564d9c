package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// escalationView is the data of the decision page of one escalation.
type escalationView struct {
	Row escalationRow
	// MayAsk: the reader's organisation was asked and may comment on the
	// incident: the question form.
	MayAsk bool
	Form   escalationForm
}

// escalationForm is what the person typed into the decision page's forms,
// shown again when one comes back with an error.
type escalationForm struct {
	AcceptReason  string
	DeclineReason string
	ReturnReason  string
	Question      string
	QuestionKey   string
}

// escalation is the decision page of one escalation: what is asked, by
// whom and why, the incident's facts and deadlines, and the forms the
// person may use (accept, decline with a reason, return with a reason,
// ask the requester a question). An escalation neither to nor from the
// person's organisation is the 404 page.
func (u *UI) escalation(c echo.Context) error {
	p, err := u.escalationPage(c, c.Param("id"), escalationForm{})
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, p)
}

// escalationPage builds the decision page of escalation id for the
// signed-in person; form is what to show in the forms.
func (u *UI) escalationPage(c echo.Context, id string, form escalationForm) (*page, error) {
	ctx := c.Request().Context()
	pr := current(c).Principal
	e, err := u.o.Escalations.Get(ctx, pr, id)
	if err != nil {
		return nil, err
	}
	var inc *incident.Incident
	if e.IncidentTitle != nil {
		inc, err = u.o.Incidents.Get(ctx, pr, e.IncidentID.String())
		if apperr.CodeOf(err) == apperr.NotFound {
			inc = nil
		} else if err != nil {
			return nil, err
		}
	}
	names, err := u.escalationOrgNames(c, pr, []escalation.Escalation{*e})
	if err != nil {
		return nil, err
	}
	p := u.newPage(c, "escalation_detail", "escalation.page_title", e.IncidentReference)
	v := escalationView{Row: u.escalationRowOf(p.L, pr, e, inc, names), Form: form}
	if inc != nil {
		p.TLP = inc.TLP
		v.MayAsk = v.Row.Incoming && pr.MayWrite(access.CommentIncident, inc.Relations)
	}
	if v.Form.QuestionKey == "" {
		v.Form.QuestionKey = newFormKey()
	}
	p.Notice = escalationNotice(p.L, c.QueryParam("done"))
	p.Data = v
	return p, nil
}

// escalationNotice is the status message after an action (?done=…).
func escalationNotice(l i18n.Locale, done string) string {
	switch done {
	case "requested", "accepted", "declined", "returned", "question":
		return l.T("escalation.done." + done)
	}
	return ""
}
