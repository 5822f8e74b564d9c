package ui

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/labstack/echo/v4"
)

// runAnswer fills in a waiting input step from its form
// (runbook.Service.Answer). The form's values are read by the step's
// schema; a value of the wrong kind and every rule of the schema it
// breaks come back beside the field and in the error summary, in the
// page's language, with everything typed kept. People who may not answer
// get the 403 page; people who may not see the incident the 404 page.
func (u *UI) runAnswer(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, r, def, err := u.runStepOf(c, playbook.ActionInput)
	if err != nil {
		return err
	}
	if err := pr.RequireWrite(access.AnswerInput, inc.Relations); err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	l := u.locale(c)
	answers, fields, errs := answersOf(l, def, form)
	// Every rule at once: the schema's on what could be read, beside the
	// errors of what could not.
	if cerr := runbook.CheckAnswers(def, answers); cerr != nil {
		if errs, err = answerErrors(l, def, fields, errs, cerr); err != nil {
			return err
		}
	}
	if len(errs) == 0 {
		_, err = u.o.Runs.Answer(ctx, pr, inc.ID.String(), r.ID.String(), def.ID, answers)
		switch {
		case apperr.Is(err, apperr.Conflict):
			return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference+"/runs/"+r.ID.String())
		case apperr.Is(err, apperr.Invalid):
			if errs, err = answerErrors(l, def, fields, errs, err); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference+"/runs/"+r.ID.String()+"?done=answered")
		}
	}
	typed := map[string]*runStepView{def.ID: {Input: &inputForm{Fields: fields}}}
	p, err := u.runPage(c, inc, r, typed, errs)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusUnprocessableEntity, p)
}
