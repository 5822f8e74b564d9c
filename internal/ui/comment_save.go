package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// commentSave adds a comment, written in Markdown, to the incident. The
// form's key makes a double submit add one comment. An empty or too long
// comment comes back on the incident page with the text typed and an
// error summary; then the page shows the comment, with a notice.
func (u *UI) commentSave(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	ref, body, key := c.Param("ref"), c.FormValue("body"), c.FormValue("key")
	var idem *incident.IdempotencyKey
	if key != "" && len(key) <= 64 {
		sum := sha256.Sum256([]byte(body))
		idem = &incident.IdempotencyKey{Caller: "ui:" + cur.Principal.UserID.String(), Key: key, RequestHash: hex.EncodeToString(sum[:])}
	}
	_, _, err := u.o.Comments.Add(ctx, cur.Principal, ref, body, idem)
	if apperr.CodeOf(err) == apperr.Invalid || apperr.CodeOf(err) == apperr.Conflict {
		inc, gerr := u.o.Incidents.Get(ctx, cur.Principal, ref)
		if gerr != nil {
			return gerr
		}
		p, perr := u.incidentPage(c, inc, incidentForm{CommentBody: body})
		if perr != nil {
			return perr
		}
		if apperr.CodeOf(err) == apperr.Conflict { // the key was used for another text: send again
			p.Errors = []fieldError{{Field: "comment-body", Message: p.L.T("comment.error.resend")}}
		} else if p.Errors, err = u.formErrors(p.L, err); err != nil {
			return err
		}
		renameField(p.Errors, "body", "comment-body")
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+ref+"?done=comment#comments")
}

// renameField points the errors of a domain field at the form's input
// (the page has several forms, so inputs carry the form's prefix).
func renameField(errs []fieldError, from, to string) {
	for i := range errs {
		if errs[i].Field == from {
			errs[i].Field = to
		}
	}
}
