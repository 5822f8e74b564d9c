package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/labstack/echo/v4"
)

// escalationDecide takes a decision on an escalation: the form's decision
// is accept (a note is optional), decline or return (a reason is
// required), each the escalation service's use case with the person's
// principal — the API's rules: the receiving organisation's coordinators
// and administrators decide; anyone else of the two organisations gets
// 403, any other organisation the 404 page. A missing reason comes back
// on the decision page beside its field, with the text typed; a decision
// someone took first (another coordinator, a second tab) comes back as a
// 409 page that says what happened, changing nothing.
func (u *UI) escalationDecide(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	id, decision, reason := c.Param("id"), c.FormValue("decision"), c.FormValue("reason")
	var (
		err  error
		form escalationForm
	)
	switch decision {
	case "accept":
		form.AcceptReason = reason
		_, err = u.o.Escalations.Accept(ctx, pr, id, reason)
	case "decline":
		form.DeclineReason = reason
		_, err = u.o.Escalations.Decline(ctx, pr, id, reason)
	case "return":
		form.ReturnReason = reason
		_, err = u.o.Escalations.Return(ctx, pr, id, reason)
	default:
		// Not a decision: as the page answers the person (404 when the
		// escalation is not theirs), then a bad request.
		if _, gerr := u.o.Escalations.Get(ctx, pr, id); gerr != nil {
			return gerr
		}
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/escalations/"+id+"?done="+map[string]string{"accept": "accepted", "decline": "declined", "return": "returned"}[decision])
	}
	if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.Conflict {
		return err
	}
	p, perr := u.escalationPage(c, id, form)
	if perr != nil {
		return perr
	}
	status := http.StatusUnprocessableEntity
	if apperr.CodeOf(err) == apperr.Conflict {
		// Decided meanwhile: the page shows the escalation as it is now.
		status = http.StatusConflict
		row := p.Data.(escalationView).Row
		msg := p.L.T("escalation.error.decided." + string(row.State))
		if row.State == escalation.Accepted && decision == "return" {
			msg = p.L.T("escalation.error.return_conflict")
		}
		p.Errors = []fieldError{{Field: "escalation-state", Message: msg}}
	} else {
		e, _ := apperr.As(err)
		for _, f := range e.Fields {
			key := "escalation.error.reason." + f.Rule
			if f.Rule == "required" {
				key += "." + decision
			}
			if !u.o.Catalogue.Has(key) {
				key = "field.invalid"
			}
			p.Errors = append(p.Errors, fieldError{Field: decision + "-reason", Message: p.L.T(key)})
		}
	}
	return u.render(c, status, p)
}
