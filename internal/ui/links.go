package ui

import (
	"html/template"
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// linksView is the workbench's "Linked incidents" section
// (partials/links.html): the links whose other incident the person sees,
// the survivor's status when the incident was merged, the duplicate
// suggestions, and the forms the write table allows.
type linksView struct {
	Reference   string
	Links       []linkItem
	MergedInto  *mergedView
	Suggestions []suggestionItem
	MayLink     bool
	MayMerge    bool // and the incident is open: a merge closes it
	Kinds       []kindOption
	Form        linksForm
}

// linksForm is what the person typed into the section's forms.
type linksForm struct {
	Incident string
	Kind     string
	Into     string
}

type kindOption struct {
	Value string
	Label string
}

type linkItem struct {
	ID     string
	Label  string // "Duplicate of", "Has duplicate", …
	Ref    string
	Title  string
	Status string
}

type mergedView struct {
	Ref       string
	Stage     string
	Status    string
	Visible   bool          // the person may open the survivor
	UndoUntil template.HTML // a <time> element (i18n.Locale.Time)
	MayUndo   bool
}

type suggestionItem struct {
	Ref   string
	Title string
	Why   string
}

// statusLabel says where an incident stands: its stage, or closed.
func statusLabel(l i18n.Locale, stage incident.Stage, status incident.Status) string {
	if status == incident.Closed {
		return l.T("links.closed")
	}
	return l.T("stage." + string(stage))
}

// linksFor builds the section for the incident page; nil when there is
// nothing to show or do.
func (u *UI) linksFor(c echo.Context, l i18n.Locale, inc *incident.Incident, form linksForm) (*linksView, error) {
	if u.o.Links == nil {
		return nil, nil
	}
	ctx, p := c.Request().Context(), current(c).Principal
	ls, err := u.o.Links.ListOf(ctx, p, inc)
	if err != nil {
		return nil, err
	}
	ms, err := u.o.Links.MergeStatusOf(ctx, p, inc)
	if err != nil {
		return nil, err
	}
	v := &linksView{Reference: inc.Reference, MayLink: p.MayWrite(access.LinkIncident, inc.Relations),
		MayMerge: p.MayWrite(access.MergeIncident, inc.Relations) && inc.Status == incident.Open, Form: form}
	for _, k := range linking.Kinds {
		v.Kinds = append(v.Kinds, kindOption{Value: string(k), Label: l.T("links.kind." + string(k) + ".outgoing")})
	}
	for _, k := range ls {
		v.Links = append(v.Links, linkItem{ID: k.ID.String(), Label: l.T("links.kind." + string(k.Kind) + "." + string(k.Direction)),
			Ref: k.Other.Reference, Title: k.Other.Title, Status: statusLabel(l, k.Other.Stage, k.Other.Status)})
	}
	if ms != nil {
		v.MergedInto = &mergedView{Ref: ms.SurvivorRef, Stage: l.T("stage." + string(ms.SurvivorStage)),
			Status: statusLabel(l, ms.SurvivorStage, ms.SurvivorStatus), Visible: ms.SurvivorVisible,
			UndoUntil: l.Time(ms.UndoUntil), MayUndo: p.MayWrite(access.MergeIncident, inc.Relations) && u.o.Now().Before(ms.UndoUntil)}
	}
	if v.MayLink || v.MayMerge {
		ss, err := u.o.Links.SuggestionsOf(ctx, p, inc)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			why := l.T("links.why.title")
			if s.SharedObservables > 0 {
				why = l.T("links.why.observables", s.SharedObservables)
			}
			v.Suggestions = append(v.Suggestions, suggestionItem{Ref: s.Other.Reference, Title: s.Other.Title, Why: why})
		}
	}
	if len(v.Links) == 0 && v.MergedInto == nil && !v.MayLink {
		return nil, nil
	}
	return v, nil
}

// duplicateCounts counts the possible duplicates of the open incidents
// of a queue page that the person may link or merge (one query for the
// page). A list does not carry the person's relations to each incident,
// so the role decides: the roles that may link in some relation
// (responder, coordinator, admin); the workbench asks the write table.
func (u *UI) duplicateCounts(c echo.Context, p access.Principal, list []incident.Incident) (map[uuid.UUID]int, error) {
	if u.o.Links == nil || (p.Role != access.Responder && p.Role != access.Coordinator && p.Role != access.Admin) {
		return nil, nil
	}
	var ids []uuid.UUID
	for i := range list {
		if list[i].Status == incident.Open {
			ids = append(ids, list[i].ID)
		}
	}
	return u.o.Links.SuggestionCounts(c.Request().Context(), p, ids)
}

// linksDone goes back to the section after an action.
func linksDone(c echo.Context, done string) error {
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done="+done+"#links")
}

// linksNotice is the notice after an action of the section, or "".
func linksNotice(l i18n.Locale, done string) string {
	switch done {
	case "linked", "unlinked", "merged", "merge_undone":
		return l.T("links.done." + done)
	}
	return ""
}

// linksAgain shows the incident page again with the section's form as
// typed and the error beside field (link-incident or merge-into).
func (u *UI) linksAgain(c echo.Context, form linksForm, cause error, field string) error {
	l := u.locale(c)
	var msg string
	status := http.StatusUnprocessableEntity
	switch apperr.CodeOf(cause) {
	case apperr.Invalid:
		msg = l.T("links.error.invalid")
		if form.Incident == "" && form.Into == "" {
			msg = l.T("links.error.required")
		}
	case apperr.NotFound:
		msg, status = l.T("links.error.not_found"), http.StatusNotFound
	case apperr.Conflict:
		msg, status = l.T("links.error.conflict"), http.StatusConflict
	default:
		return cause
	}
	p, err := u.incidentPageAgain(c, func(v *incidentView) {
		if v.Links != nil {
			v.Links.Form = form
		}
	})
	if err != nil {
		return err
	}
	p.Errors = append(p.Errors, fieldError{Field: field, Message: msg})
	return u.render(c, status, p)
}

// linkAdd links the incident to another (linking.Service.Link:
// incident.link on both). Another incident the person may not see is
// refused as one that does not exist.
func (u *UI) linkAdd(c echo.Context) error {
	form := linksForm{Incident: c.FormValue("incident"), Kind: c.FormValue("kind")}
	_, _, err := u.o.Links.Link(c.Request().Context(), current(c).Principal, c.Param("ref"), form.Incident, linking.Kind(form.Kind))
	if err != nil {
		return u.linksAgainOwn(c, form, err, "link-incident")
	}
	return linksDone(c, "linked")
}

// linksAgainOwn is linksAgain, except when the page's own incident is
// missing or the person may not act: the error page.
func (u *UI) linksAgainOwn(c echo.Context, form linksForm, err error, field string) error {
	if _, gerr := u.o.Incidents.Get(c.Request().Context(), current(c).Principal, c.Param("ref")); gerr != nil {
		return gerr
	}
	if apperr.CodeOf(err) == apperr.Forbidden {
		return err
	}
	return u.linksAgain(c, form, err, field)
}

// linkRemove removes a link (linking.Service.Unlink).
func (u *UI) linkRemove(c echo.Context) error {
	if err := u.o.Links.Unlink(c.Request().Context(), current(c).Principal, c.Param("ref"), c.Param("id")); err != nil {
		return err
	}
	return linksDone(c, "unlinked")
}

// mergeInto merges the incident into another (linking.Service.Merge).
func (u *UI) mergeInto(c echo.Context) error {
	form := linksForm{Into: c.FormValue("into")}
	if _, err := u.o.Links.Merge(c.Request().Context(), current(c).Principal, c.Param("ref"), form.Into); err != nil {
		return u.linksAgainOwn(c, form, err, "merge-into")
	}
	return linksDone(c, "merged")
}

// mergeUndo undoes the incident's merge (linking.Service.UndoMerge).
func (u *UI) mergeUndo(c echo.Context) error {
	if err := u.o.Links.UndoMerge(c.Request().Context(), current(c).Principal, c.Param("ref")); err != nil {
		if apperr.CodeOf(err) == apperr.Conflict {
			return u.linksAgainOwn(c, linksForm{}, err, "merge-undo")
		}
		return err
	}
	return linksDone(c, "merge_undone")
}
