package ui

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/taxonomy"
	"github.com/certdesk/certdesk/internal/triage"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// queuePageSize is the length of a page of the queue.
const queuePageSize = 50

// The queue's tabs, in the order they are shown. "all" is the default:
// the work of the person's CERT.
var queueTabs = []string{"new", "mine", "unassigned", "escalated", "at_risk", "all"}

// queueQuery is one view of the queue as its URL carries it: the tab, the
// filters, the sort and the page. Values the queue does not know are
// dropped, so that every URL is a view.
type queueQuery struct {
	Tab      string
	Q        string
	Severity string
	TLP      string
	PAP      string
	Category string
	Status   string // open (default), closed, any
	Sort     string // triage (default), -created, -updated
	After    string
}

// parseQueueQuery reads a view from a query string.
func parseQueueQuery(v url.Values) queueQuery {
	q := queueQuery{Tab: v.Get("tab"), Q: strings.TrimSpace(v.Get("q")), Severity: v.Get("severity"), TLP: v.Get("tlp"),
		PAP: v.Get("pap"), Category: v.Get("category"), Status: v.Get("status"), Sort: v.Get("sort"), After: v.Get("after")}
	if !slices.Contains(queueTabs, q.Tab) {
		q.Tab = "all"
	}
	if !incident.Severity(q.Severity).Valid() {
		q.Severity = ""
	}
	if t, ok := incident.ParseTLP(q.TLP); ok {
		q.TLP = string(t)
	} else {
		q.TLP = ""
	}
	if p, ok := incident.ParsePAP(q.PAP); ok {
		q.PAP = string(p)
	} else {
		q.PAP = ""
	}
	if _, ok := taxonomy.RSIT.Category(q.Category); !ok {
		q.Category = ""
	}
	if q.Status != "closed" && q.Status != "any" {
		q.Status = "open"
	}
	if q.Sort != "-created" && q.Sort != "-updated" {
		q.Sort = "triage"
	}
	if len(q.Q) > incident.MaxQuery {
		q.Q = q.Q[:incident.MaxQuery]
	}
	return q
}

// values is the view as a query string, without its defaults and, unless
// withPage, without the page.
func (q queueQuery) values(withPage bool) url.Values {
	v := url.Values{}
	set := func(k, val, def string) {
		if val != "" && val != def {
			v.Set(k, val)
		}
	}
	set("tab", q.Tab, "all")
	set("q", q.Q, "")
	set("severity", q.Severity, "")
	set("tlp", q.TLP, "")
	set("pap", q.PAP, "")
	set("category", q.Category, "")
	set("status", q.Status, "open")
	set("sort", q.Sort, "triage")
	if withPage {
		set("after", q.After, "")
	}
	return v
}

// url is the queue's URL of the view (path is /queue, /queue.csv, …).
func (q queueQuery) url(path string, withPage bool) string {
	if e := q.values(withPage).Encode(); e != "" {
		return path + "?" + e
	}
	return path
}

// with returns the view with one value changed (and the page reset).
func (q queueQuery) with(key, val string) queueQuery {
	q.After = ""
	switch key {
	case "tab":
		q.Tab = val
	case "after":
		q.After = val
	}
	return q
}

// filter is the incident list's filter of the view for p: the tab's
// condition on the work of p's organisation, and the filters.
func (q queueQuery) filter(p access.Principal) incident.Filter {
	f := incident.Filter{Query: q.Q, Severity: incident.Severity(q.Severity), TLP: incident.TLP(q.TLP),
		PAP: incident.PAP(q.PAP), Category: q.Category}
	switch q.Status {
	case "open":
		f.Status = incident.Open
	case "closed":
		f.Status = incident.Closed
	}
	switch q.Sort {
	case "-created":
		f.Sort = incident.SortCreatedDesc
	case "-updated":
		f.Sort = incident.SortUpdatedDesc
	default:
		f.Sort = incident.SortTriage
	}
	no := false
	switch q.Tab {
	case "new":
		f.WorkOf, f.Acknowledged = p.OrgSlug, &no
	case "mine":
		f.Assignee = "mine"
	case "unassigned":
		f.WorkOf, f.Assignee = p.OrgSlug, "none"
	case "escalated":
		f.EscalatedTo = p.OrgSlug
	case "at_risk":
		f.WorkOf, f.Deadline = p.OrgSlug, "at_risk"
	default:
		f.WorkOf = p.OrgSlug
	}
	return f
}

// queueTab is one tab of the queue as the page shows it.
type queueTab struct {
	Key     string // message key of its label
	Href    string
	Current bool
}

// choice is one option of a select or one radio button.
type choice struct {
	Value    string
	Label    string
	Selected bool
}

// classGroup is the RSIT types of one category, for a select's optgroup.
type classGroup struct {
	Category string
	Options  []choice
}

// savedViewLink is one of the person's saved views.
type savedViewLink struct {
	ID      string
	Name    string
	Href    string
	Current bool
}

// bulkForm is what the bulk bar holds: the action chosen and its
// parameters, kept when the form comes back with an error.
type bulkForm struct {
	Action     string
	Assignee   string
	Team       string
	Class      string // the RSIT class and type in the reader's language
	Severity   string
	TLP        string
	Resolution string
	Reason     string
}

// queueView is the data of the queue page.
type queueView struct {
	Query       queueQuery
	View        string // the view's query string (no page): saved views, the bulk form's way back
	Tabs        []queueTab
	Rows        []queueRow
	Next, First string // URLs of the next and the first page ("" when there is none)
	Refresh     string // this page's URL: the refresh link without JavaScript
	CSV         string
	LiveURL     string
	Since       string // when the page was read (RFC 3339): live updates start there
	Shortcuts   bool
	CanBulk     bool // the role may act on incidents (not a viewer)
	Severities  []choice
	TLPs        []choice
	PAPs        []choice
	Categories  []choice
	Statuses    []choice
	Sorts       []choice
	Actions     []choice
	Colleagues  []choice
	Teams       []choice
	Classes     []classGroup
	Bulk        bulkForm
	Views       []savedViewLink
	ViewName    string // the name typed in "save this view" (kept on an error)
}

// queue shows the triage queue of the person's CERT: the tab and filters
// of the URL, unacknowledged first, then by the earliest open deadline.
func (u *UI) queue(c echo.Context) error {
	cur := current(c)
	if !cur.Principal.OrgKind.IsCERT() {
		return apperr.New(apperr.Forbidden, "the triage queue is a CERT's")
	}
	q := parseQueueQuery(c.QueryParams())
	p := u.newPage(c, "queue", "queue.title")
	if c.QueryParam("saved") == "1" {
		p.Notice = p.L.T("queue.views.saved")
	}
	return u.renderQueue(c, p, q, nil, bulkForm{}, "", http.StatusOK)
}

// renderQueue reads the view q and renders the queue page with status:
// selected are the references ticked (kept when a form comes back with
// errors), form the bulk bar's values, viewName the name typed to save
// the view.
func (u *UI) renderQueue(c echo.Context, p *page, q queueQuery, selected map[string]bool, form bulkForm, viewName string, status int) error {
	cur := current(c)
	ctx := c.Request().Context()
	pr := cur.Principal
	v := queueView{Query: q, View: q.values(false).Encode(), Refresh: q.url("/queue", true), CSV: q.url("/queue.csv", false),
		LiveURL: q.url("/queue/live", false), Since: p.L.Now.UTC().Format(time.RFC3339Nano), Bulk: form, ViewName: viewName,
		Shortcuts: cur.Settings.ShortcutsFor(pr.Role, pr.OrgKind.IsCERT()), CanBulk: pr.Role != access.Viewer}
	for _, t := range queueTabs {
		v.Tabs = append(v.Tabs, queueTab{Key: "queue.tab." + t, Href: q.with("tab", t).url("/queue", false), Current: t == q.Tab})
	}
	list, next, err := u.o.Incidents.List(ctx, pr, q.filter(pr), incident.Page{After: q.After, Limit: queuePageSize})
	switch {
	case apperr.CodeOf(err) == apperr.Invalid && q.After != "":
		return c.Redirect(http.StatusSeeOther, q.with("after", "").url("/queue", false)) // a stale or edited cursor
	case apperr.CodeOf(err) == apperr.Invalid:
		fe, ferr := u.formErrors(p.L, err)
		if ferr != nil {
			return ferr
		}
		p.Errors, list, next = append(p.Errors, fe...), nil, ""
		status = http.StatusUnprocessableEntity
	case err != nil:
		return err
	}
	rc, err := u.rowContext(c, pr, list)
	if err != nil {
		return err
	}
	dups, err := u.duplicateCounts(c, pr, list) // links.go
	if err != nil {
		return err
	}
	for i := range list {
		row := u.queueRow(p.L, rc, &list[i])
		row.Selected = selected[row.Reference]
		row.Duplicates = dups[list[i].ID]
		v.Rows = append(v.Rows, row)
		p.TLP = stricter(p.TLP, list[i].TLP)
	}
	p.TLPList = true
	if next != "" {
		v.Next = q.with("after", next).url("/queue", true)
	}
	if q.After != "" {
		v.First = q.with("after", "").url("/queue", false)
	}
	v.choices(p.L, q)
	if v.CanBulk {
		if err := u.bulkChoices(c, &v, rc); err != nil {
			return err
		}
	}
	views, err := u.o.Triage.Views(ctx, pr)
	if err != nil {
		return err
	}
	for _, sv := range views {
		href := "/queue"
		if sv.Query != "" {
			href += "?" + sv.Query
		}
		v.Views = append(v.Views, savedViewLink{ID: sv.ID.String(), Name: sv.Name, Href: href, Current: sv.Query == v.View})
	}
	p.Data = v
	return u.render(c, status, p)
}

// choices fills the filters' options.
func (v *queueView) choices(l i18n.Locale, q queueQuery) {
	v.Severities = []choice{{Value: "", Label: l.T("queue.filter.any"), Selected: q.Severity == ""}}
	for _, s := range incident.Severities {
		v.Severities = append(v.Severities, choice{Value: string(s), Label: l.T("severity." + string(s)), Selected: q.Severity == string(s)})
	}
	v.TLPs = []choice{{Value: "", Label: l.T("queue.filter.any"), Selected: q.TLP == ""}}
	for _, t := range incident.TLPs {
		v.TLPs = append(v.TLPs, choice{Value: string(t), Label: string(t), Selected: q.TLP == string(t)})
	}
	v.PAPs = []choice{{Value: "", Label: l.T("queue.filter.any"), Selected: q.PAP == ""}}
	for _, p := range incident.PAPs {
		v.PAPs = append(v.PAPs, choice{Value: string(p), Label: string(p), Selected: q.PAP == string(p)})
	}
	v.Categories = []choice{{Value: "", Label: l.T("queue.filter.any"), Selected: q.Category == ""}}
	for _, cat := range taxonomy.RSIT.CategoryValues() {
		v.Categories = append(v.Categories, choice{Value: cat, Label: cat, Selected: q.Category == cat})
	}
	for _, s := range []string{"open", "closed", "any"} {
		v.Statuses = append(v.Statuses, choice{Value: s, Label: l.T("queue.filter.status." + s), Selected: q.Status == s})
	}
	for _, s := range []string{"triage", "-created", "-updated"} {
		v.Sorts = append(v.Sorts, choice{Value: s, Label: l.T("queue.sort." + strings.TrimPrefix(s, "-")), Selected: q.Sort == s})
	}
}

// bulkChoices fills the bulk bar's options: the actions, the colleagues
// and teams to assign to, and the RSIT classes.
func (u *UI) bulkChoices(c echo.Context, v *queueView, rc *rowContext) error {
	pr := current(c).Principal
	l := u.locale(c)
	for _, a := range triage.Actions {
		if a == triage.Assign {
			for _, to := range []string{"assign_me", "assign_user", "assign_team"} {
				v.Actions = append(v.Actions, choice{Value: to, Label: l.T("queue.bulk.action." + to), Selected: v.Bulk.Action == to})
			}
			continue
		}
		v.Actions = append(v.Actions, choice{Value: string(a), Label: l.T("queue.bulk.action." + string(a)), Selected: v.Bulk.Action == string(a)})
	}
	for _, cu := range rc.colleagues {
		if cu.ID == pr.UserID {
			continue
		}
		v.Colleagues = append(v.Colleagues, choice{Value: cu.Email, Label: personLabel(cu), Selected: v.Bulk.Assignee == cu.Email})
	}
	var err error
	if v.Teams, err = u.teamChoices(c.Request().Context(), pr, v.Bulk.Team); err != nil {
		return err
	}
	v.Classes = u.classChoices(l, v.Bulk.Class)
	return nil
}

// teamChoices are the teams of the person's organisation as choices of a
// select, the one whose ID is selected marked.
func (u *UI) teamChoices(ctx context.Context, pr access.Principal, selected string) ([]choice, error) {
	teams, err := u.o.Teams.List(ctx, pr)
	if err != nil {
		return nil, err
	}
	out := make([]choice, 0, len(teams))
	for _, t := range teams {
		out = append(out, choice{Value: t.ID.String(), Label: t.Name, Selected: selected == t.ID.String()})
	}
	return out, nil
}

// classChoices are the RSIT classes grouped by category, each category
// selectable itself ("category") and with its types ("category:type"),
// selected marked.
func (u *UI) classChoices(l i18n.Locale, selected string) []classGroup {
	var out []classGroup
	for _, cat := range taxonomy.RSIT.Categories {
		name := rsitName(l, u, cat.Value, "")
		g := classGroup{Category: name, Options: []choice{{Value: cat.Value, Label: name, Selected: selected == cat.Value}}}
		for _, t := range cat.Types {
			val := cat.Value + ":" + t.Value
			g.Options = append(g.Options, choice{Value: val, Label: name + " – " + rsitName(l, u, cat.Value, t.Value), Selected: selected == val})
		}
		out = append(out, g)
	}
	return out
}

// personLabel is how a colleague is named in a list: the name and, to
// tell namesakes apart, the e-mail.
func personLabel(u identity.User) string {
	if u.Name == "" {
		return u.Email
	}
	return u.Name + " (" + u.Email + ")"
}

// rowContext is what the rows of a page share: the organisations' names
// and the colleagues (their names, for the assignee column), each read
// once per page.
type rowContext struct {
	orgs       map[uuid.UUID]org.Organization
	colleagues []identity.User
	names      map[string]string // e-mail (lower case) → name
	selectable bool              // rows have a checkbox for the bulk actions (not for viewers)
}

func (u *UI) rowContext(c echo.Context, p access.Principal, list []incident.Incident) (*rowContext, error) {
	orgs, err := u.orgNames(c, p, list)
	if err != nil {
		return nil, err
	}
	cs, err := u.o.Identity.Colleagues(c.Request().Context(), p)
	if err != nil {
		return nil, err
	}
	rc := &rowContext{orgs: orgs, colleagues: cs, names: map[string]string{}, selectable: p.Role != access.Viewer}
	for _, cu := range cs {
		if cu.Name != "" {
			rc.names[strings.ToLower(cu.Email)] = cu.Name
		}
	}
	return rc, nil
}

// queueRow is one line of the queue.
type queueRow struct {
	Reference    string
	Title        string
	Version      int64
	New          bool // not acknowledged yet
	Closed       bool
	ClockState   string // overdue, soon, later, none
	ClockWhat    string // which deadline: a legal one, or the escalation policy's timer
	Clock        template.HTML
	Severity     incident.Severity
	Class        string // the RSIT category, and its type
	TLP          incident.TLP
	PAP          incident.PAP
	ReportingOrg string
	Assignee     string
	Team         string
	Stage        incident.Stage
	Age          string
	Updated      template.HTML
	Selected     bool
	Selectable   bool
	Duplicates   int // possible duplicates (links.go), shown beside the title
}

// queueRow describes one incident for the queue.
func (u *UI) queueRow(l i18n.Locale, rc *rowContext, inc *incident.Incident) queueRow {
	r := queueRow{Reference: inc.Reference, Title: inc.Title, Version: inc.Version, New: inc.AcknowledgedAt == nil,
		Closed: inc.Status == incident.Closed, Severity: inc.Severity, TLP: inc.TLP, PAP: inc.PAP, Stage: inc.Stage,
		ReportingOrg: orgName(rc.orgs, inc.ReportingOrgID, inc.ReportingOrgSlug), Team: inc.AssigneeTeamName,
		Age: l.Duration(l.Now.Sub(inc.ReportedAt)), Updated: l.WhenTime(inc.UpdatedAt), Selectable: rc.selectable}
	// The RSIT class in the reader's language (the guided report's names),
	// the taxonomy's English name where the catalogue has none.
	if inc.Category != "" {
		r.Class = rsitName(l, u, inc.Category, "")
		if inc.Type != "" {
			r.Class += " – " + rsitName(l, u, inc.Category, inc.Type)
		}
	}
	if inc.AssigneeEmail != "" {
		r.Assignee = inc.AssigneeEmail
		if n, ok := rc.names[strings.ToLower(inc.AssigneeEmail)]; ok {
			r.Assignee = n
		}
	}
	r.ClockState, r.ClockWhat, r.Clock = clockOf(l, inc)
	return r
}

// clockOf says where an incident's earliest open deadline stands, in
// words as well as by its state (never by colour alone): overdue, due
// within incident.AtRiskWithin ("soon"), later, or none; which deadline
// it is (a legal deadline by name, or the escalation policy's timer);
// and the time left ("due in 3 h 10 min (14:30 CET)").
func clockOf(l i18n.Locale, inc *incident.Incident) (state, what string, text template.HTML) {
	if inc.NextDeadlineAt == nil {
		return "none", "", ""
	}
	due := *inc.NextDeadlineAt
	what = l.T("queue.clock.escalation")
	for _, d := range inc.Deadlines(inc.Location(), l.Now) {
		if d.Met == nil && d.DueAt.Equal(due) {
			what = l.T("deadline." + string(d.Kind))
			break
		}
	}
	switch left := due.Sub(l.Now); {
	case left <= 0:
		state = "overdue"
	case left <= incident.AtRiskWithin:
		state = "soon"
	default:
		state = "later"
	}
	return state, what, l.DueHTML(due)
}
