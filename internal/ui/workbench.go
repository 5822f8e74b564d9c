package ui

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchView is the CERT's workbench on the incident page
// (partials/workbench.html): the executive summary and the actions the
// write table allows the person in their relations to the incident. Each
// form carries the incident's version, so that a change made meanwhile by
// someone else is reported instead of overwritten; the services decide
// again when a form is sent.
type workbenchView struct {
	// Show: the person works incidents for a CERT (the reporting
	// organisation's view and the viewers' stay as they were).
	Show bool
	// SummaryFirst: a viewer (leadership) reads the executive summary
	// first, above everything else on the page.
	SummaryFirst bool
	Version      int64
	May          workbenchMay

	Acknowledged   bool
	AcknowledgedAt template.HTML
	Closed         bool
	Resolution     string
	Assignee       string // the person assigned ("" none)
	Team           string // the team assigned ("" none)
	Class          string // the RSIT category and type, in words
	Summary        incident.Summary
	SummaryAt      template.HTML // when the summary last changed

	Colleagues []choice
	Teams      []choice
	Classes    []classGroup
	Severities []choice
	Stages     []choice
	TLPs       []choice
	PAPs       []choice
	Form       workbenchForm
}

// workbenchMay says which of the workbench's forms the page offers.
type workbenchMay struct {
	Transition bool // acknowledge, stage, close, reopen
	Update     bool // assign, classify, severity, TLP, PAP, executive summary
	Entry      bool // a manual timeline entry
	Pin        bool // pin timeline entries as key events
}

// workbenchForm is what was typed into the workbench's forms; a form that
// comes back with errors shows it again (Which).
type workbenchForm struct {
	Which                              string // the form that came back ("assign", …: the action's name)
	Assignee, Team, Class, Severity    string
	Stage, StageReason                 string
	Resolution, ReopenReason, TLP      string
	PAP                                string
	SumStatus, SumImpact, SumNext      string
	EntrySummary, EntryDay, EntryClock string
}

// workbenchFor builds the workbench of inc for the person signed in;
// form is what to show in its forms (empty: the incident's values).
func (u *UI) workbenchFor(c echo.Context, l i18n.Locale, inc *incident.Incident, form workbenchForm) (*workbenchView, error) {
	pr := current(c).Principal
	w := &workbenchView{Version: inc.Version, Closed: inc.Status == incident.Closed, Resolution: inc.Resolution,
		Acknowledged: inc.AcknowledgedAt != nil, Assignee: inc.AssigneeEmail, Team: inc.AssigneeTeamName,
		Summary: inc.Summary, SummaryFirst: pr.Role == access.Viewer}
	if inc.AcknowledgedAt != nil {
		w.AcknowledgedAt = l.WhenTime(*inc.AcknowledgedAt)
	}
	if inc.Summary.UpdatedAt != nil {
		w.SummaryAt = l.WhenTime(*inc.Summary.UpdatedAt)
	}
	if inc.Category != "" {
		w.Class = rsitName(l, u, inc.Category, "")
		if inc.Type != "" {
			w.Class += " – " + rsitName(l, u, inc.Category, inc.Type)
		}
	}
	w.Show = pr.OrgKind.IsCERT() && pr.Role != access.Viewer
	if !w.Show {
		return w, nil
	}
	w.May = workbenchMay{Transition: pr.MayWrite(access.TransitionIncident, inc.Relations),
		Update: pr.MayWrite(access.UpdateIncident, inc.Relations), Entry: pr.MayWrite(access.AddTimelineEntry, inc.Relations),
		Pin: pr.MayWrite(access.PinEvent, inc.Relations)}
	w.Form = formOver(inc, form)
	if w.May.Update {
		if err := u.workbenchChoices(c, l, inc, w); err != nil {
			return nil, err
		}
	}
	for _, s := range incident.Stages {
		if s != inc.Stage {
			w.Stages = append(w.Stages, choice{Value: string(s), Label: l.T("stage." + string(s)), Selected: form.Stage == string(s)})
		}
	}
	return w, nil
}

// formOver is what the workbench's forms show: the incident's values, and
// over them what was typed into the form that came back (form.Which).
func formOver(inc *incident.Incident, form workbenchForm) workbenchForm {
	d := workbenchForm{Assignee: inc.AssigneeEmail, Severity: string(inc.Severity), Class: inc.Category,
		SumStatus: inc.Summary.Status, SumImpact: inc.Summary.Impact, SumNext: inc.Summary.NextSteps, TLP: string(inc.TLP),
		PAP: string(inc.PAP), Stage: form.Stage, StageReason: form.StageReason, Resolution: form.Resolution, ReopenReason: form.ReopenReason,
		EntrySummary: form.EntrySummary, EntryDay: form.EntryDay, EntryClock: form.EntryClock}
	if inc.AssigneeTeamID != nil {
		d.Team = inc.AssigneeTeamID.String()
	}
	if inc.Type != "" {
		d.Class += ":" + inc.Type
	}
	switch form.Which {
	case "assign":
		d.Assignee, d.Team = form.Assignee, form.Team
	case "classify":
		d.Class = form.Class
	case "severity":
		d.Severity = form.Severity
	case "tlp":
		d.TLP = form.TLP
	case "pap":
		d.PAP = form.PAP
	case "summary":
		d.SumStatus, d.SumImpact, d.SumNext = form.SumStatus, form.SumImpact, form.SumNext
	}
	return d
}

// workbenchChoices fills the lists of the update forms: colleagues and
// teams to assign to, RSIT classes grouped by category, severities and
// TLP labels.
func (u *UI) workbenchChoices(c echo.Context, l i18n.Locale, inc *incident.Incident, w *workbenchView) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	cs, err := u.o.Identity.Colleagues(ctx, pr)
	if err != nil {
		return err
	}
	for _, cu := range cs {
		w.Colleagues = append(w.Colleagues, choice{Value: cu.Email, Label: personLabel(cu), Selected: strings.EqualFold(w.Form.Assignee, cu.Email)})
	}
	if w.Form.Assignee != "" && !containsChoice(w.Colleagues, w.Form.Assignee) { // someone of another organisation
		w.Colleagues = append(w.Colleagues, choice{Value: w.Form.Assignee, Label: w.Form.Assignee, Selected: true})
	}
	if w.Teams, err = u.teamChoices(ctx, pr, w.Form.Team); err != nil {
		return err
	}
	w.Classes = u.classChoices(l, w.Form.Class)
	for _, s := range incident.Severities {
		w.Severities = append(w.Severities, choice{Value: string(s), Label: l.T("severity." + string(s)), Selected: w.Form.Severity == string(s)})
	}
	for _, t := range incident.TLPs {
		w.TLPs = append(w.TLPs, choice{Value: string(t), Label: string(t), Selected: w.Form.TLP == string(t)})
	}
	for _, p := range incident.PAPs {
		w.PAPs = append(w.PAPs, choice{Value: string(p), Label: string(p) + " – " + l.T("pap.short."+strings.TrimPrefix(papClass(p), "pap-")),
			Selected: w.Form.PAP == string(p)})
	}
	_ = inc
	return nil
}

func containsChoice(cs []choice, v string) bool {
	for _, c := range cs {
		if strings.EqualFold(c.Value, v) {
			return true
		}
	}
	return false
}

// formVersion is the incident version a workbench form was built from
// (nil: none sent, no check).
func formVersion(c echo.Context) *int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("version")), 10, 64)
	if err != nil || n < 1 {
		return nil
	}
	return &n
}

// workbenchAnswer ends a workbench action: after a change, back to the
// incident page with a notice (?done=); an error of the input, a change
// made meanwhile (the version) or a conflict (closed meanwhile) brings the
// page back with what was typed and the error beside the field named by
// fields (domain field → the form's input id; fallback is the input the
// other errors go to). Any other error (not found, forbidden) is the
// ordinary error page.
func (u *UI) workbenchAnswer(c echo.Context, err error, done string, form workbenchForm, fields map[string]string, fallback string) error {
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/incidents/"+url.PathEscape(c.Param("ref"))+"?done="+done+"#workbench")
	}
	code := apperr.CodeOf(err)
	if code != apperr.Invalid && code != apperr.Precondition && code != apperr.Conflict {
		return err
	}
	cur := current(c)
	inc, gerr := u.o.Incidents.Get(c.Request().Context(), cur.Principal, c.Param("ref"))
	if gerr != nil {
		return gerr
	}
	form.Which = done
	p, perr := u.incidentPage(c, inc, incidentForm{Workbench: form})
	if perr != nil {
		return perr
	}
	status := http.StatusConflict
	switch code {
	case apperr.Precondition:
		p.Errors = []fieldError{{Field: fallback, Message: p.L.T("workbench.error.changed")}}
	case apperr.Conflict:
		p.Errors = []fieldError{{Field: fallback, Message: p.L.T("workbench.error.conflict." + done)}}
	default:
		status = http.StatusUnprocessableEntity
		e, ok := apperr.As(err)
		if !ok || len(e.Fields) == 0 {
			return err
		}
		for _, f := range e.Fields {
			id, ok := fields[f.Field]
			if !ok {
				id = fallback
			}
			p.Errors = append(p.Errors, fieldError{Field: id, Message: p.L.T(u.workbenchErrorKey(done, f.Field, f.Rule))})
		}
	}
	return u.render(c, status, p)
}

// workbenchErrorKey is the message of a field's error in the workbench's
// form done: the form's own (workbench.field.<form>.<field>.<rule>), else
// the catalogue's for the field and rule, else for the field, else the
// generic one.
func (u *UI) workbenchErrorKey(done, field, rule string) string {
	for _, key := range []string{"workbench.field." + done + "." + field + "." + rule, "field." + field + "." + rule, "field." + field} {
		if u.o.Catalogue.Has(key) {
			return key
		}
	}
	return "field.invalid"
}

// workbenchNotice is the status message after a workbench action
// (?done=…), or "" for another.
func workbenchNotice(l i18n.Locale, done string) string {
	switch done {
	case "acknowledge", "assign", "classify", "severity", "stage", "close", "reopen", "tlp", "pap", "summary", "entry", "pin", "unpin":
		return l.T("workbench.done." + done)
	}
	return ""
}

// wbFieldView is one labelled field of a workbench form
// (partials/workbench.html, "wb_textarea").
type wbFieldView struct {
	ID, Name, Label, Hint, Value string
	Error                        *fieldError
}

// wbField is the template function that describes a field of a workbench
// form on page p: its input's id and name, the label's and hint's message
// keys (hint may be empty), the value shown, and its error.
func wbField(p *page, id, name, label, hint, value string) wbFieldView {
	return wbFieldView{ID: id, Name: name, Label: label, Hint: hint, Value: value, Error: findFieldError(p.Errors, id)}
}
