package ui

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// commentEditView is the data of the page that edits a comment.
type commentEditView struct {
	Reference string
	Title     string
	ID        string
	Body      string // the Markdown to edit
	Version   int64  // the version edited: a change made meanwhile is not overwritten
	Edited    bool   // it has earlier versions
}

// commentEdit shows the form that edits one's own comment. Only its
// author may edit a comment, and only while they may comment on the
// incident: anyone else gets the "you cannot do this" page.
func (u *UI) commentEdit(c echo.Context) error {
	cur := current(c)
	inc, cm, err := u.o.Comments.Get(c.Request().Context(), cur.Principal, c.Param("ref"), c.Param("id"))
	if err != nil {
		return err
	}
	if err := mayEdit(cur.Principal, inc, cm); err != nil {
		return err
	}
	p := u.commentEditPage(c, inc)
	p.Data = commentEditView{Reference: inc.Reference, Title: inc.Title, ID: cm.ID.String(), Body: cm.Body, Version: cm.Version,
		Edited: cm.EditedAt != nil}
	return u.render(c, http.StatusOK, p)
}

// commentUpdate saves an edited comment; the earlier text is kept among
// its versions. A comment changed meanwhile (in another tab) is not
// overwritten: the form comes back saying so.
func (u *UI) commentUpdate(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	ref, id, body := c.Param("ref"), c.Param("id"), c.FormValue("body")
	var ifMatch *int64
	if v, err := strconv.ParseInt(c.FormValue("version"), 10, 64); err == nil {
		ifMatch = &v
	}
	_, err := u.o.Comments.Edit(ctx, cur.Principal, ref, id, body, ifMatch)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/incidents/"+ref+"?done=comment_edited#comment-"+id)
	}
	if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.Precondition {
		return err
	}
	inc, cm, gerr := u.o.Comments.Get(ctx, cur.Principal, ref, id)
	if gerr != nil {
		return gerr
	}
	p := u.commentEditPage(c, inc)
	v := commentEditView{Reference: inc.Reference, Title: inc.Title, ID: id, Body: body, Version: cm.Version, Edited: cm.EditedAt != nil}
	if apperr.CodeOf(err) == apperr.Precondition {
		// The text shown is the one typed; the version is the current one,
		// so that sending again replaces it knowingly.
		p.Errors = []fieldError{{Field: "body", Message: p.L.T("comment.error.changed")}}
	} else if p.Errors, err = u.formErrors(p.L, err); err != nil {
		return err
	}
	p.Data = v
	return u.render(c, http.StatusUnprocessableEntity, p)
}

// commentEditPage starts the edit page, under the incident's TLP.
func (u *UI) commentEditPage(c echo.Context, inc *incident.Incident) *page {
	p := u.newPage(c, "comment_edit", "comment.edit.title")
	p.TLP = inc.TLP
	return p
}

// mayEdit allows the author of a comment to edit it while they may
// comment on its incident (comment.Service.Edit decides the same).
func mayEdit(p access.Principal, inc *incident.Incident, cm *comment.Comment) error {
	if err := p.RequireWrite(access.CommentIncident, inc.Relations); err != nil {
		return err
	}
	if cm.AuthorID == nil || *cm.AuthorID != p.UserID {
		return apperr.New(apperr.Forbidden, "only the author of a comment may edit it")
	}
	return nil
}

// revisionsView is the data of the page of a comment's versions.
type revisionsView struct {
	Reference string
	Title     string
	Author    string
	Org       string
	Current   revisionView
	Earlier   []revisionView // oldest first
	Next      string         // the cursor of the next (later) earlier versions, past MaxLimit of them
}

// revisionView is one version of a comment.
type revisionView struct {
	Version  int64
	When     template.HTML
	BodyHTML template.HTML
}

// commentRevisions shows a comment's current text, then every earlier
// version, oldest first. Whoever sees the incident sees them.
func (u *UI) commentRevisions(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	inc, cm, err := u.o.Comments.Get(ctx, cur.Principal, c.Param("ref"), c.Param("id"))
	if err != nil {
		return err
	}
	_, revs, next, err := u.o.Comments.Revisions(ctx, cur.Principal, inc.ID.String(), cm.ID.String(),
		incident.Page{After: c.QueryParam("after"), Limit: incident.MaxLimit})
	if apperr.CodeOf(err) == apperr.Invalid {
		return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference+"/comments/"+cm.ID.String()+"/revisions")
	} else if err != nil {
		return err
	}
	p := u.newPage(c, "comment_revisions", "comment.revisions.title")
	p.TLP = inc.TLP
	l := p.L
	view := commentOf(l, cm, cur.Principal, false)
	v := revisionsView{Reference: inc.Reference, Title: inc.Title, Author: view.Author, Org: view.Org, Next: next,
		Current: revisionView{Version: cm.Version, When: view.When, BodyHTML: view.BodyHTML}}
	if cm.EditedAt != nil {
		v.Current.When = l.Time(*cm.EditedAt)
	}
	for i := range revs {
		v.Earlier = append(v.Earlier, revisionView{Version: revs[i].Version, When: l.Time(revs[i].EditedAt),
			BodyHTML: template.HTML(revs[i].BodyHTML)}) // sanitised by internal/markdown (comment.Service)
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}
