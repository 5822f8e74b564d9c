package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/labstack/echo/v4"
)

// runDecide approves or rejects a waiting approval step, with a comment
// (runbook.Service.Decide, which decides who may: the step's role or an
// admin of the coordinating organisation; others get the 403 page,
// people who may not see the incident the 404 page). A comment that is
// too long comes back beside its field, kept as typed.
func (u *UI) runDecide(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, r, def, err := u.runStepOf(c, playbook.ActionApproval)
	if err != nil {
		return err
	}
	decision := runbook.Decision(c.FormValue("decision"))
	comment := c.FormValue("comment")
	_, err = u.o.Runs.Decide(ctx, pr, inc.ID.String(), r.ID.String(), def.ID, decision, comment)
	switch {
	case err == nil:
		done := "approved"
		if decision == runbook.Reject {
			done = "rejected"
		}
		return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference+"/runs/"+r.ID.String()+"?done="+done)
	case apperr.Is(err, apperr.Conflict):
		return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference+"/runs/"+r.ID.String())
	}
	l := u.locale(c)
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid {
		return err
	}
	var errs []fieldError
	for _, f := range e.Fields {
		switch f.Field {
		case "comment":
			errs = append(errs, fieldError{Field: "comment-" + def.ID, Message: l.T("runs.error.comment", runbook.MaxComment)})
		default: // the decision: neither approve nor reject
			errs = append(errs, fieldError{Field: "decision-" + def.ID, Message: l.T("runs.error.decision")})
		}
	}
	typed := map[string]*runStepView{def.ID: {Approval: &approvalForm{Comment: comment}}}
	p, err := u.runPage(c, inc, r, typed, errs)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusUnprocessableEntity, p)
}
