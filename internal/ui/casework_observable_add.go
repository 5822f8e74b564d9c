package ui

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/labstack/echo/v4"
)

// caseworkObservablesAdd adds the observables pasted into the form, one a
// line (or separated by spaces, commas or semicolons; defanged or not),
// each of the type observable.ParsePasted recognises, with the TLP label
// chosen (observable.Service.Add: observable.add). Nothing is added while
// a token is not recognised: the form comes back with the text and names
// the tokens, so that nothing typed is lost. One that the incident
// already holds is merged (not counted as new); one it holds under a
// label the person may not see is left out.
func (u *UI) caseworkObservablesAdd(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, err := u.o.Incidents.Get(ctx, cur.Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	if err := cur.Principal.RequireWrite(access.AddObservable, inc.Relations); err != nil {
		return err
	}
	form := caseworkForm{Target: "observables", Paste: c.FormValue("indicators"), PasteTLP: c.FormValue("tlp"),
		PastePAP: c.FormValue("pap")}
	l := u.locale(c)
	found, unknown := observable.ParsePasted(form.Paste)
	switch {
	case len(unknown) > 0:
		shown := unknown
		if len(shown) > 10 {
			shown = shown[:10]
		}
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "observables-paste", Message: l.T("casework.error.paste.unknown", strings.Join(shown, ", "))})
	case len(found) == 0:
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "observables-paste", Message: l.T("casework.error.paste.required")})
	}
	tlp := incident.TLP(form.PasteTLP)
	if t, ok := incident.ParseTLP(form.PasteTLP); !ok || t.LooserThan(inc.TLP) {
		return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, nil, "",
			fieldError{Field: "observables-tlp", Message: l.T("casework.error.tlp.looser")})
	} else {
		tlp = t
	}
	var pap incident.PAP // empty (an older form): the incident's
	if form.PastePAP != "" {
		p, ok := incident.ParsePAP(form.PastePAP)
		if !ok {
			return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, nil, "",
				fieldError{Field: "observables-pap", Message: l.T("pap.error.enum")})
		}
		pap = p
	}
	added := 0
	for _, f := range found {
		_, created, err := u.o.Observables.Add(ctx, cur.Principal, inc.ID.String(), observable.NewObservable{Type: f.Type, Value: f.Value, TLP: tlp, PAP: pap})
		switch {
		case apperr.CodeOf(err) == apperr.Conflict:
			continue // held under a label the person may not see
		case apperr.CodeOf(err) == apperr.Invalid:
			return u.caseworkAgain(c, form, http.StatusUnprocessableEntity, err, "observables-")
		case err != nil:
			return err
		}
		if created {
			added++
		}
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done=observables&n="+strconv.Itoa(added)+"#observables")
}
