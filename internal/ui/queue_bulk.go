package ui

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/triage"
	"github.com/labstack/echo/v4"
)

// bulkOf reads the bulk bar of a form: the incidents ticked (ref), the
// action and its parameters, and the view of the queue it came from.
func bulkOf(c echo.Context) (triage.Bulk, bulkForm, []string, queueQuery) {
	form, _ := c.FormParams()
	f := bulkForm{Action: form.Get("action"), Assignee: form.Get("assignee"), Team: form.Get("team"), Class: form.Get("class"),
		Severity: form.Get("severity"), TLP: form.Get("tlp"), Resolution: form.Get("resolution"), Reason: form.Get("reason")}
	refs := form["ref"]
	view, _ := url.ParseQuery(form.Get("view"))
	b := triage.Bulk{Action: triage.Action(f.Action), Incidents: append([]string(nil), refs...)}
	switch f.Action {
	case "assign_me":
		b.Action, b.Assignee = triage.Assign, "me"
	case "assign_user":
		b.Action, b.Assignee = triage.Assign, f.Assignee
	case "assign_team":
		b.Action, b.Team = triage.Assign, f.Team
	case string(triage.Assign):
		b.Action = "" // the bar names how to assign
	case string(triage.Classify):
		b.Category, b.Type = f.Class, ""
		if cat, typ, ok := strings.Cut(f.Class, ":"); ok {
			b.Category, b.Type = cat, typ
		}
	case string(triage.SetSeverity):
		b.Severity = incident.Severity(f.Severity)
	case string(triage.SetTLP):
		b.TLP = incident.TLP(f.TLP)
	case string(triage.Close):
		b.Resolution = f.Resolution
	case string(triage.Decline):
		b.Reason = f.Reason
	}
	return b, f, refs, parseQueueQuery(view)
}

// validateBulk checks a bulk request of the bar: the bar's own choices
// (a team to assign to) first, then the request as the API checks it.
func validateBulk(b *triage.Bulk, form bulkForm) error {
	if form.Action == "assign_team" && strings.TrimSpace(form.Team) == "" {
		return apperr.Fields{{Field: "assignee_team", Rule: "required", Message: "choose a team"}}.Err()
	}
	return b.Validate()
}

// bulkErrors are the errors of a bulk request as a whole, each linked to
// the bar's field ("bulk-<field>"; the list of incidents is the table).
func (u *UI) bulkErrors(l i18n.Locale, err error) ([]fieldError, error) {
	fe, err := u.formErrors(l, err)
	for i := range fe {
		fe[i].Field = "bulk-" + fe[i].Field
		if fe[i].Field == "bulk-assignee_team" {
			fe[i].Field = "bulk-team"
		}
		if fe[i].Field == "bulk-category" || fe[i].Field == "bulk-type" {
			fe[i].Field = "bulk-class"
		}
	}
	return fe, err
}

// bulkItemView is one incident of the confirmation or the results page.
type bulkItemView struct {
	Reference string
	Title     string // "" when the person may not see it (or it does not exist)
	Done      bool
	Failed    bool
	Outcome   string // what happened, in words
}

// bulkView is the data of the bulk confirmation and results pages.
type bulkView struct {
	Heading   string // the action and how many, in words
	Action    string
	Form      bulkForm
	Refs      []string
	View      string // the queue's view, to go back to
	Back      string
	Items     []bulkItemView
	Done      int
	Failed    int
	Summary   string
	Parameter string // the parameter of the action in words ("to: Duty team")
	tlp       incident.TLP
}

// queueBulk is the one confirmation of a bulk action: it names the action
// and every incident ticked, and asks to confirm. A form that cannot be
// done (no incident ticked, a missing parameter) comes back to the queue
// with the error and the ticks kept.
func (u *UI) queueBulk(c echo.Context) error {
	b, form, refs, q := bulkOf(c)
	if err := validateBulk(&b, form); err != nil {
		return u.queueFormError(c, q, refs, form, err)
	}
	p := u.newPage(c, "queue_confirm", "queue.confirm.title")
	v, err := u.bulkView(c, p.L, b, form, refs, q)
	if err != nil {
		return err
	}
	p.TLP, p.TLPList = v.tlp, true
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// queueFormError renders the queue of view q again with the errors of a
// bulk form, the ticks and the bar's values kept.
func (u *UI) queueFormError(c echo.Context, q queueQuery, refs []string, form bulkForm, err error) error {
	p := u.newPage(c, "queue", "queue.title")
	fe, err := u.bulkErrors(p.L, err)
	if err != nil {
		return err
	}
	p.Errors = fe
	sel := map[string]bool{}
	for _, r := range refs {
		sel[r] = true
	}
	return u.renderQueue(c, p, q, sel, form, "", http.StatusUnprocessableEntity)
}

// bulkView describes a bulk request: the action in words and the
// incidents with their titles where the person may see them (one query).
func (u *UI) bulkView(c echo.Context, l i18n.Locale, b triage.Bulk, form bulkForm, refs []string, q queueQuery) (*bulkView, error) {
	cur := current(c)
	v := &bulkView{Action: form.Action, Form: form, Refs: refs, View: q.values(false).Encode(), Back: q.url("/queue", false)}
	v.Heading = l.T("queue.bulk.heading."+form.Action, len(refs))
	v.Parameter = u.bulkParameter(c, l, form)
	titles := map[string]string{}
	list, _, err := u.o.Incidents.List(c.Request().Context(), cur.Principal, incident.Filter{References: refs},
		incident.Page{Limit: incident.MaxLimit})
	if err != nil && apperr.CodeOf(err) != apperr.Invalid {
		return nil, err
	}
	for i := range list {
		titles[list[i].Reference] = list[i].Title
		v.tlp = stricter(v.tlp, list[i].TLP)
	}
	for _, r := range refs {
		v.Items = append(v.Items, bulkItemView{Reference: r, Title: titles[r]})
	}
	return v, nil
}

// bulkParameter says what the action sets, in words: the colleague or
// team, the class, the severity, the label, the resolution or reason.
func (u *UI) bulkParameter(c echo.Context, l i18n.Locale, f bulkForm) string {
	switch f.Action {
	case "assign_user":
		cs, err := u.o.Identity.Colleagues(c.Request().Context(), current(c).Principal)
		if err == nil {
			for _, cu := range cs {
				if strings.EqualFold(cu.Email, f.Assignee) {
					return personLabel(cu)
				}
			}
		}
		return f.Assignee
	case "assign_team":
		t, err := u.o.Teams.Get(c.Request().Context(), current(c).Principal, f.Team)
		if err == nil {
			return t.Name
		}
	case string(triage.Classify):
		return f.Class
	case string(triage.SetSeverity):
		return l.T("severity." + f.Severity)
	case string(triage.SetTLP):
		if t, ok := incident.ParseTLP(f.TLP); ok {
			return string(t)
		}
	case string(triage.Close):
		return f.Resolution
	case string(triage.Decline):
		return f.Reason
	}
	return ""
}

// bulkResultJSON is the answer to queue.js's single-key actions (a):
// each incident's outcome in words, and its row as it is now.
type bulkResultJSON struct {
	Summary string           `json:"summary"`
	Results []bulkItemResult `json:"results"`
}

type bulkItemResult struct {
	Reference string `json:"reference"`
	OK        bool   `json:"ok"`
	Text      string `json:"text"`
	Row       string `json:"row,omitempty"` // the row's HTML, when it went through
}

// queueBulkApply does a confirmed bulk action: every incident through
// the single call's use case (triage.Service.Bulk), and shows the outcome
// of each: done, or why not. queue.js sends it with X-CSRF-Token for a
// single-key action and gets JSON.
func (u *UI) queueBulkApply(c echo.Context) error {
	cur := current(c)
	b, form, refs, q := bulkOf(c)
	script := c.Request().Header.Get(csrfHeader) != ""
	if err := validateBulk(&b, form); err != nil && !script {
		return u.queueFormError(c, q, refs, form, err)
	}
	results, err := u.o.Triage.Bulk(c.Request().Context(), cur.Principal, b)
	if apperr.CodeOf(err) == apperr.Invalid && !script {
		return u.queueFormError(c, q, refs, form, err)
	} else if err != nil {
		return err
	}
	p := u.newPage(c, "queue_results", "queue.results.title")
	v, err := u.bulkView(c, p.L, b, form, refs, q)
	if err != nil {
		return err
	}
	var out bulkResultJSON
	var done []incident.Incident
	for i, r := range results {
		it := &v.Items[i]
		if r.Err != nil {
			it.Failed, it.Outcome = true, u.failure(p.L, b.Action, r.Err)
			v.Failed++
		} else {
			it.Done, it.Outcome = true, p.L.T("queue.results.done."+form.Action)
			if r.Incident != nil && r.Incident.Title != "" {
				it.Title = r.Incident.Title
				done = append(done, *r.Incident)
			}
			v.Done++
		}
		out.Results = append(out.Results, bulkItemResult{Reference: it.Reference, OK: it.Done, Text: it.Outcome})
	}
	v.Summary = p.L.T("queue.results.summary", v.Done, v.Failed)
	out.Summary = v.Summary
	if script {
		return u.bulkJSON(c, p.L, done, &out)
	}
	p.TLP, p.TLPList = v.tlp, true
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// bulkJSON answers queue.js with the outcome and the new rows.
func (u *UI) bulkJSON(c echo.Context, l i18n.Locale, done []incident.Incident, out *bulkResultJSON) error {
	rc, err := u.rowContext(c, current(c).Principal, done)
	if err != nil {
		return err
	}
	rows := map[string]string{}
	for i := range done {
		html, err := u.rowHTML(c, l, rc, &done[i])
		if err != nil {
			return err
		}
		rows[done[i].Reference] = html
	}
	for i := range out.Results {
		out.Results[i].Row = rows[out.Results[i].Reference]
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, out)
}

// rowHTML renders one row of the queue (the partial queue_row).
func (u *UI) rowHTML(c echo.Context, l i18n.Locale, rc *rowContext, inc *incident.Incident) (string, error) {
	var buf bytes.Buffer
	row := u.queueRow(l, rc, inc)
	if err := u.views.fragment(&buf, requestLang(c), "queue", "queue_row", row); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// failure says, in the person's language, why one incident of a bulk
// action did not go through: not found (or not theirs to see), not
// allowed, the incident's state (closed meanwhile, no escalation
// waiting), changed meanwhile, or the field that was refused.
func (u *UI) failure(l i18n.Locale, a triage.Action, err error) string {
	switch apperr.CodeOf(err) {
	case apperr.NotFound:
		return l.T("queue.fail.not_found")
	case apperr.Forbidden:
		return l.T("queue.fail.forbidden")
	case apperr.Conflict:
		if key := "queue.fail.conflict." + string(a); u.o.Catalogue.Has(key) {
			return l.T(key)
		}
		return l.T("queue.fail.conflict")
	case apperr.Precondition:
		return l.T("queue.fail.changed")
	case apperr.Invalid:
		if fe, ferr := u.formErrors(l, err); ferr == nil {
			var msgs []string
			for _, f := range fe {
				msgs = append(msgs, f.Message)
			}
			return strings.Join(msgs, "; ")
		}
	}
	return l.T("queue.fail.internal")
}
