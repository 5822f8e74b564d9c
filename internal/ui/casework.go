package ui

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The incident page's case work (docs/ui.md, "Case work"): the CERT's
// task board, the observables with their correlations, and who the
// incident was opened to (participants and shares). The sections are
// shown to the people of a CERT; each form only where the write table
// allows it in the person's relations to the incident, and the services
// decide again when it is sent.

// Bounds of the case work's lists.
const (
	caseworkTasks        = incident.MaxLimit // the board shows every task up to this
	caseworkObservables  = 100               // observables a page ("later" link)
	caseworkCorrelations = 6                 // other incidents named per observable
)

// caseworkView is the data of partials/casework.html.
type caseworkView struct {
	Reference string
	May       caseworkMay
	Closed    bool

	Columns   []taskColumn
	TaskCount int
	People    []choice // colleagues to assign to
	Teams     []choice // the person's organisation's teams

	Observables     []observableRow
	ObservablesNext string
	PasteTLPs       []choice // the incident's label and the stricter ones
	PastePAPs       []choice // the PAP labels, the incident's selected

	Shares       []shareRow
	Participants []participantRow
	ShareOrgs    []choice // organisations it may be shared with
	Shareable    bool     // the TLP allows shares with organisations

	Form caseworkForm
}

// caseworkMay says which case-work forms the page offers.
type caseworkMay struct {
	Task        bool // task.write
	Observe     bool // observable.add
	Change      bool // observable.change (TLP, PAP, remove)
	Share       bool // incident.share
	Participant bool // incident.share, or on TLP:RED incident.participant_red
}

// caseworkForm is what was typed into a case-work form that came back
// with errors. Target names the form: "task-new", "task-<id>" (a task's
// assignment), "observables", "participant", "share", "end-<slug>",
// "remove-<user id>".
type caseworkForm struct {
	Target          string
	TaskTitle       string
	TaskDescription string
	TaskAssignee    string
	TaskTeam        string
	TaskDue         string
	Paste           string
	PasteTLP        string
	PastePAP        string
	Email           string
	ShareOrg        string
	ShareNote       string
	Reason          string
}

// taskColumn is one status of the board.
type taskColumn struct {
	Status task.Status
	Label  string
	Tasks  []taskCard
}

// taskCard is one task on the board.
type taskCard struct {
	ID          string
	Title       string
	Description string
	Assignee    string // the person, "" when nobody
	Team        string // the team, "" when none
	Due         template.HTML
	Overdue     bool
	Moves       []choice // the statuses it may move to, labelled
	People      []choice // the assign form's choices, the current one selected
	Teams       []choice
	DueValue    string // the due time as the form's datetime-local value
	Open        bool   // the assign form is open (it came back with errors)
	Finished    bool
}

// observableRow is one observable, defanged.
type observableRow struct {
	ID       string
	Type     string // the type's name
	Value    string // defanged
	TLP      incident.TLP
	TLPs     []choice // the labels it may take (never looser than the incident's)
	PAP      incident.PAP
	PAPs     []choice // every PAP label, its own selected
	Related  []relatedIncident
	MoreSeen bool // more correlations than shown
}

// relatedIncident is another incident, which the person may open, that
// holds the same observable.
type relatedIncident struct {
	Reference string
	Title     string
	TLP       incident.TLP
}

// shareRow is an organisation the incident is shared with or escalated to.
type shareRow struct {
	Slug       string
	Name       string
	Escalation bool // ends in the escalation's workflow, not here
}

// participantRow is a named participant.
type participantRow struct {
	ID    string
	Email string
	Org   string
}

// showsCasework reports whether the page shows the case work: to the
// people of a CERT.
func showsCasework(p access.Principal) bool { return p.OrgKind.IsCERT() }

// casework reads the case work of inc for the person: the tasks, a page
// of observables (with one correlation search each, under the visibility
// rule), the circle, the colleagues, teams and organisations the forms
// offer. Nil when the page does not show it.
func (u *UI) casework(c echo.Context, l i18n.Locale, inc *incident.Incident) (*caseworkView, error) {
	pr := current(c).Principal
	if !showsCasework(pr) {
		return nil, nil
	}
	ctx := c.Request().Context()
	partWrite := access.ShareIncident
	if inc.TLP == incident.TLPRed {
		partWrite = access.NameRedParticipant
	}
	v := &caseworkView{Reference: inc.Reference, Closed: inc.Status == incident.Closed,
		May: caseworkMay{Task: pr.MayWrite(access.WriteTask, inc.Relations), Observe: pr.MayWrite(access.AddObservable, inc.Relations),
			Change: pr.MayWrite(access.ChangeObservable, inc.Relations), Share: pr.MayWrite(access.ShareIncident, inc.Relations),
			Participant: pr.MayWrite(partWrite, inc.Relations)},
		Shareable: inc.TLP != incident.TLPRed && inc.TLP != incident.TLPAmberStrict}

	_, tasks, _, err := u.o.Tasks.List(ctx, pr, inc.ID.String(), task.Any, incident.Page{Limit: caseworkTasks})
	if err != nil {
		return nil, err
	}
	if v.May.Task {
		cs, err := u.o.Identity.Colleagues(ctx, pr)
		if err != nil {
			return nil, err
		}
		for _, cu := range cs {
			v.People = append(v.People, choice{Value: cu.Email, Label: personLabel(cu)})
		}
		if v.Teams, err = u.teamChoices(ctx, pr, ""); err != nil {
			return nil, err
		}
	}
	v.TaskCount = len(tasks)
	for _, st := range task.Statuses {
		col := taskColumn{Status: st, Label: l.T("casework.task.status." + string(st))}
		for i := range tasks {
			if tasks[i].Status == st {
				col.Tasks = append(col.Tasks, v.card(l, &tasks[i]))
			}
		}
		v.Columns = append(v.Columns, col)
	}

	_, obs, next, err := u.o.Observables.List(ctx, pr, inc.ID.String(), observable.Page{After: c.QueryParam("observables"), Limit: caseworkObservables})
	if apperr.CodeOf(err) == apperr.Invalid {
		_, obs, next, err = u.o.Observables.List(ctx, pr, inc.ID.String(), observable.Page{Limit: caseworkObservables})
	}
	if err != nil {
		return nil, err
	}
	v.ObservablesNext = next
	for _, t := range incident.TLPs {
		if !t.LooserThan(inc.TLP) {
			v.PasteTLPs = append(v.PasteTLPs, choice{Value: string(t), Label: string(t), Selected: t == inc.TLP})
		}
	}
	for _, p := range incident.PAPs {
		v.PastePAPs = append(v.PastePAPs, choice{Value: string(p), Label: string(p), Selected: p == inc.PAP})
	}
	seen, err := u.o.Observables.Correlations(ctx, pr, inc, obs, caseworkCorrelations+1)
	if err != nil {
		return nil, err
	}
	for i := range obs {
		v.Observables = append(v.Observables, newObservableRow(l, inc, &obs[i], seen[observable.Candidate{Type: obs[i].Type, Value: obs[i].Value}]))
	}

	shares, parts, err := u.o.Incidents.Circle(ctx, pr, inc)
	if err != nil {
		return nil, err
	}
	shared := map[uuid.UUID]bool{pr.OrgID: true, inc.ReportingOrgID: true}
	if inc.CoordinatingOrgID != nil {
		shared[*inc.CoordinatingOrgID] = true
	}
	for _, sh := range shares {
		shared[sh.OrgID] = true
		v.Shares = append(v.Shares, shareRow{Slug: sh.OrgSlug, Name: sh.OrgName, Escalation: sh.Kind != "share"})
	}
	ids := make([]uuid.UUID, 0, len(parts))
	for _, pt := range parts {
		ids = append(ids, pt.OrgID)
	}
	var names map[uuid.UUID]string
	if len(ids) > 0 {
		orgs, err := u.o.Orgs.Names(ctx, orgActor(pr), ids)
		if err != nil {
			return nil, err
		}
		names = map[uuid.UUID]string{}
		for id, o := range orgs {
			names[id] = o.Name
		}
	}
	for _, pt := range parts {
		org := names[pt.OrgID]
		if org == "" {
			org = pt.OrgSlug
		}
		v.Participants = append(v.Participants, participantRow{ID: pt.UserID.String(), Email: pt.Email, Org: org})
	}
	if v.May.Share && v.Shareable {
		orgs, err := u.o.Orgs.List(ctx, orgActor(pr))
		if err != nil {
			return nil, err
		}
		for _, o := range orgs {
			if !shared[o.ID] {
				v.ShareOrgs = append(v.ShareOrgs, choice{Value: o.Slug, Label: o.Name})
			}
		}
	}
	return v, nil
}

// card is one task as the board shows it.
func (v *caseworkView) card(l i18n.Locale, t *task.Task) taskCard {
	k := taskCard{ID: t.ID.String(), Title: t.Title, Description: clipText(t.Description, 240),
		Assignee: firstOf(t.AssigneeName, t.AssigneeEmail), Team: t.AssigneeTeamName, Finished: t.Status.Finished()}
	if t.DueAt != nil {
		k.DueValue = t.DueAt.In(l.Zone).Format(dueLayout)
		if t.Status.Finished() {
			k.Due = l.Time(*t.DueAt)
		} else {
			k.Due = l.DueHTML(*t.DueAt)
			k.Overdue = t.DueAt.Before(time.Now())
		}
	}
	for _, st := range t.Status.Next() {
		key := "casework.task.move." + string(st)
		if st == task.Open && t.Status.Finished() {
			key = "casework.task.move.reopen"
		}
		k.Moves = append(k.Moves, choice{Value: string(st), Label: l.T(key)})
	}
	found := false
	for _, p := range v.People {
		p.Selected = strings.EqualFold(p.Value, t.AssigneeEmail)
		found = found || p.Selected
		k.People = append(k.People, p)
	}
	if !found && t.AssigneeEmail != "" { // someone outside the CERT (a request to the reporter): keep them
		k.People = append(k.People, choice{Value: t.AssigneeEmail, Label: firstOf(t.AssigneeName, t.AssigneeEmail), Selected: true})
	}
	for _, tm := range v.Teams {
		tm.Selected = t.AssigneeTeamID != nil && tm.Value == t.AssigneeTeamID.String()
		k.Teams = append(k.Teams, tm)
	}
	return k
}

// newObservableRow is one observable, defanged, with the other incidents
// the person may see that hold it (ms: observable.Service.Correlations,
// which applies the visibility rule to each, at most
// caseworkCorrelations+1 of them).
func newObservableRow(l i18n.Locale, inc *incident.Incident, o *observable.Observable, ms []observable.Match) observableRow {
	row := observableRow{ID: o.ID.String(), Type: l.T("casework.type." + string(o.Type)), Value: observable.Defang(o.Type, o.Value), TLP: o.TLP, PAP: o.PAP}
	for _, p := range incident.PAPs {
		row.PAPs = append(row.PAPs, choice{Value: string(p), Label: string(p), Selected: p == o.PAP})
	}
	for _, t := range incident.TLPs {
		if !t.LooserThan(inc.TLP) {
			row.TLPs = append(row.TLPs, choice{Value: string(t), Label: string(t), Selected: t == o.TLP})
		}
	}
	for _, m := range ms {
		if len(row.Related) == caseworkCorrelations {
			row.MoreSeen = true
			break
		}
		row.Related = append(row.Related, relatedIncident{Reference: m.Incident.Reference, Title: m.Incident.Title, TLP: m.Incident.TLP})
	}
	return row
}

// dueLayout is a due time as a datetime-local field holds it.
const dueLayout = "2006-01-02T15:04"

// parseDue reads a due time typed in the person's time zone: a
// datetime-local value, or a date alone (the end of that day). "" is no
// due time.
func parseDue(l i18n.Locale, s string) (*time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	if t, err := time.ParseInLocation(dueLayout, s, l.Zone); err == nil {
		return &t, true
	}
	if t, err := time.ParseInLocation("2006-01-02", s, l.Zone); err == nil {
		t = t.Add(24*time.Hour - time.Minute)
		return &t, true
	}
	return nil, false
}

// caseworkAgain shows the incident page again after a case-work form
// failed: with the form as typed, the errors beside its fields and in the
// summary, and the status. A validation error of the service becomes the
// errors of the form's fields (prefix + field); an error that is not one
// is returned as it is (the error page).
func (u *UI) caseworkAgain(c echo.Context, form caseworkForm, status int, cause error, prefix string, extra ...fieldError) error {
	p, err := u.incidentPageAgain(c, func(v *incidentView) {
		if v.Casework == nil {
			return
		}
		v.Casework.Form = form
		for ci := range v.Casework.Columns {
			for ti := range v.Casework.Columns[ci].Tasks {
				k := &v.Casework.Columns[ci].Tasks[ti]
				k.Open = form.Target == "task-"+k.ID
			}
		}
	})
	if err != nil {
		return err
	}
	p.Errors = append(p.Errors, extra...)
	if cause != nil {
		errs, err := u.caseworkErrors(p.L, cause, prefix)
		if err != nil {
			return err
		}
		p.Errors = append(p.Errors, errs...)
	}
	return u.render(c, status, p)
}

// caseworkErrors turns a domain validation error into the form's errors:
// the message "casework.error.<field>.<rule>", else
// "casework.error.<field>", else the general one; the field is the form's
// prefix + the domain's field. Other errors are returned as they are.
func (u *UI) caseworkErrors(l i18n.Locale, err error, prefix string) ([]fieldError, error) {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return nil, err
	}
	var out []fieldError
	for _, f := range e.Fields {
		key := "casework.error." + f.Field + "." + f.Rule
		if !u.o.Catalogue.Has(key) {
			key = "casework.error." + f.Field
		}
		if !u.o.Catalogue.Has(key) {
			key = "field.invalid"
		}
		out = append(out, fieldError{Field: prefix + strings.ReplaceAll(f.Field, "_", "-"), Message: l.T(key)})
	}
	return out, nil
}

// caseworkDone is where a case-work form that worked returns: the page,
// with its notice, at the section.
func caseworkDone(c echo.Context, done, section string) error {
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("ref")+"?done="+done+"#"+section)
}

// caseworkNotice is the notice after a case-work action (?done=…, and
// ?n=… the observables added), or "".
func caseworkNotice(l i18n.Locale, done, n string) string {
	switch done {
	case "observables":
		if k, err := strconv.Atoi(n); err == nil && k > 0 {
			return l.T("casework.done.observables", k)
		}
		return l.T("casework.done.observables_none")
	case "task_created", "task_moved", "task_assigned", "observable_tlp", "observable_pap", "observable_removed",
		"participant_added", "participant_removed", "shared", "share_ended":
		return l.T("casework.done." + done)
	}
	return ""
}

// incidentPageAgain builds the incident page of :ref as the person sees
// it for a form that comes back with errors; fill puts the form as typed
// into its section.
func (u *UI) incidentPageAgain(c echo.Context, fill func(v *incidentView)) (*page, error) {
	inc, err := u.o.Incidents.Get(c.Request().Context(), current(c).Principal, c.Param("ref"))
	if err != nil {
		return nil, err
	}
	p, err := u.incidentPage(c, inc, incidentForm{})
	if err != nil {
		return nil, err
	}
	v := p.Data.(incidentView)
	fill(&v)
	p.Data = v
	return p, nil
}
