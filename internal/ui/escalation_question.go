package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// escalationQuestion asks the requester of an escalation a question: a
// comment on the incident (comment.Service, with the person's principal),
// which starts by naming the escalation and the requester. Comments are
// seen by everyone who sees the incident, so both organisations read the
// question and the answer, on the incident page and its timeline; no
// separate channel exists that one side could miss. The form's key makes
// a double submit one comment. Only the organisation asked puts
// questions (403 for the requesting one). An empty question comes back
// beside its field; an escalation neither to nor from the person's organisation is
// the 404 page.
func (u *UI) escalationQuestion(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	id, text, key := c.Param("id"), strings.TrimSpace(c.FormValue("question")), c.FormValue("key")
	e, err := u.o.Escalations.Get(ctx, pr, id)
	if err != nil {
		return err
	}
	if e.ToOrgID != pr.OrgID { // the requester answers on the incident page, not by asking itself
		return apperr.New(apperr.Forbidden, "only the organisation asked puts questions to the requester")
	}
	back := func(msgKey string) error {
		p, err := u.escalationPage(c, id, escalationForm{Question: c.FormValue("question"), QuestionKey: key})
		if err != nil {
			return err
		}
		p.Errors = []fieldError{{Field: "question", Message: p.L.T(msgKey)}}
		return u.render(c, http.StatusUnprocessableEntity, p)
	}
	if text == "" {
		return back("escalation.error.question.required")
	}
	l := u.locale(c)
	body := l.T("escalation.question.prefix", e.RequestedBy, e.IncidentReference) + "\n\n" + text
	var idem *incident.IdempotencyKey
	if key != "" && len(key) <= 64 {
		sum := sha256.Sum256([]byte(body))
		idem = &incident.IdempotencyKey{Caller: "ui:" + pr.UserID.String(), Key: key, RequestHash: hex.EncodeToString(sum[:])}
	}
	_, _, err = u.o.Comments.Add(ctx, pr, e.IncidentID.String(), body, idem)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/escalations/"+id+"?done=question")
	}
	switch apperr.CodeOf(err) {
	case apperr.Invalid:
		return back("escalation.error.question.invalid")
	case apperr.Conflict:
		return back("comment.error.resend")
	}
	return err
}
