package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/labstack/echo/v4"
)

// escalateSubmit sends the escalate form: escalation.Service.Request with
// the person's principal, as the API's POST /incidents/{id}/escalations.
// The form asks for an organisation, a kind and a reason (the API leaves
// the reason optional; a request without one is not something a CERT on
// duty can act on). Errors come back beside their fields with everything
// chosen and typed kept; a refusal of the moment (a request to the same
// organisation opened meanwhile, the incident closed or its label raised)
// comes back on the organisation field. Then the hand-off history shows
// the request.
func (u *UI) escalateSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	ref := c.Param("ref")
	form := escalateForm{To: strings.TrimSpace(c.FormValue("to")), Kind: c.FormValue("kind"), Reason: c.FormValue("reason"),
		Joins: c.FormValue("joins_strict_circle") == "yes"}
	var errs []string // the fields missing, in the form's order
	if form.To == "" {
		errs = append(errs, "to")
	}
	if form.Kind == "" {
		errs = append(errs, "kind")
	}
	if strings.TrimSpace(form.Reason) == "" {
		errs = append(errs, "reason")
	}
	var err error
	if len(errs) == 0 {
		var e *escalation.Escalation
		e, err = u.o.Escalations.Request(ctx, pr, ref, escalation.Ask{To: form.To, Kind: form.Kind, Reason: form.Reason, JoinsStrictCircle: form.Joins})
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/incidents/"+e.IncidentReference+"/escalations?done=requested")
		}
		if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.Conflict {
			return err
		}
	}
	p, perr := u.escalatePage(c, ref, form)
	if perr != nil {
		return perr
	}
	for _, f := range errs {
		p.Errors = append(p.Errors, fieldError{Field: "escalate-" + f, Message: p.L.T("escalation.error." + f + ".required")})
	}
	if e, ok := apperr.As(err); ok {
		switch {
		case len(e.Fields) == 0: // a conflict of the moment
			p.Errors = append(p.Errors, fieldError{Field: "escalate-to", Message: p.L.T("escalation.error.to.conflict")})
		default:
			for _, f := range e.Fields {
				field := f.Field
				if field == escalation.JoinsStrictCircleField {
					field = "joins"
				}
				key := "escalation.error." + field + "." + f.Rule
				if !u.o.Catalogue.Has(key) {
					key = "field.invalid"
				}
				p.Errors = append(p.Errors, fieldError{Field: "escalate-" + field, Message: p.L.T(key)})
			}
		}
	}
	status := http.StatusUnprocessableEntity
	if apperr.CodeOf(err) == apperr.Conflict {
		status = http.StatusConflict
	}
	return u.render(c, status, p)
}
