package ui

import (
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/labstack/echo/v4"
)

// Page sizes of the incident page's lists. Each list has its own "later"
// link; none is counted.
const (
	timelinePageSize = 100
	commentsPageSize = 50
	evidencePageSize = 100
)

// incidentView is the data of the incident page and of its partials
// (incident_header, stepper, deadlines, description, requests, comments,
// evidence, timeline). Other views (the responder's workbench, the legal
// reports) add their fields beside these.
type incidentView struct {
	Reference       string
	Title           string
	TLP             incident.TLP
	PAP             incident.PAP
	Severity        incident.Severity
	Stage           incident.Stage
	Closed          bool
	ReportingOrg    string
	CoordinatingOrg string
	DetectedAt      template.HTML
	ReportedAt      template.HTML
	UpdatedAt       template.HTML
	Steps           []stepView
	Deadlines       []deadlineView
	DescriptionHTML template.HTML
	Days            []timelineDay
	TimelinePaged   bool   // this is not the timeline's first page
	TimelineNext    string // the cursor of the timeline's next page
	// TimelineNextHref and TimelineFirstHref are the timeline's pager
	// links, keeping its filter (workbench_timeline.go).
	TimelineNextHref  string
	TimelineFirstHref string
	TimelineFilter    *timelineFilterView

	// OwnOrg: the person belongs to the reporting organisation (the
	// requests are "asked of you").
	OwnOrg       bool
	Requests     []requestView
	RequestsOpen int

	Comments     []commentView
	CommentsNext string
	Evidence     []evidenceView
	EvidenceNext string
	MaxUpload    string // the largest file accepted, in words

	// Legal is the legal reports' task list (partials/legal_reports.html).
	Legal *legalView
	// Workbench is the CERT's actions and the executive summary
	// (partials/workbench.html).
	Workbench *workbenchView

	// Casework is the CERT's tasks, observables and circle (casework.go).
	Casework *caseworkView
	// Runs is the "Playbook runs" section (partials/playbook_runs.html).
	Runs *runsSection
	// Links is the "Linked incidents" section (partials/links.html).
	Links *linksView

	May  mayView
	Form incidentForm
}

// mayView says which actions the page offers: those the write table
// allows the person in their relations to the incident. The services
// decide again when the form is sent.
type mayView struct {
	Comment bool // write comments (and edit their own)
	Upload  bool // add evidence
	Task    bool // mark the requests done
	// Escalate: ask another organisation to coordinate or assist
	// (partials/escalation.html links to the escalate page).
	Escalate bool
}

// incidentForm is what the person typed into the page's forms, shown
// again when a form comes back with errors, and the comment form's
// idempotency key (one per page load: a double submit adds one comment).
type incidentForm struct {
	CommentBody         string
	CommentKey          string
	EvidenceDescription string
	Workbench           workbenchForm
}

// deadlineView is one legal deadline, in words.
type deadlineView struct {
	Kind  incident.DeadlineKind
	State incident.DeadlineState
	Text  template.HTML
}

// incident shows one incident: the same 404 page for a reference that
// does not exist and for one the person may not see. Links in chat
// messages point here; a signed-out visitor signs in and comes back.
func (u *UI) incident(c echo.Context) error {
	inc, err := u.o.Incidents.Get(c.Request().Context(), current(c).Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	p, err := u.incidentPage(c, inc, incidentForm{})
	if err != nil {
		return err
	}
	u.markRead(c, inc)
	return u.render(c, http.StatusOK, p)
}

// incidentPage builds the incident page for inc, read for the signed-in
// person: the header, stage stepper and legal clocks, the requests to the
// reporting organisation, comments, evidence and the timeline, each list
// read once (no query per item). form is what to show in the forms; a
// form that came back with errors passes its input and sets p.Errors.
func (u *UI) incidentPage(c echo.Context, inc *incident.Incident, form incidentForm) (*page, error) {
	cur := current(c)
	ctx := c.Request().Context()
	pr := cur.Principal
	after := c.QueryParam("after")
	tf := timelineFilterOf(c)
	evs, next, err := u.o.Incidents.TimelineWhere(ctx, pr, inc, tf.events(), incident.Page{After: after, Limit: timelinePageSize})
	if apperr.CodeOf(err) == apperr.Invalid && after != "" {
		after, next = "", ""
		evs, next, err = u.o.Incidents.TimelineWhere(ctx, pr, inc, tf.events(), incident.Page{Limit: timelinePageSize}) // a stale cursor: from the start
	}
	if err != nil {
		return nil, err
	}
	lifecycle, _, err := u.o.Incidents.TimelineOf(ctx, pr, inc, lifecycleKinds, incident.Page{Limit: incident.MaxLimit})
	if err != nil {
		return nil, err
	}
	names, err := u.orgNames(c, pr, []incident.Incident{*inc})
	if err != nil {
		return nil, err
	}
	requests, err := u.o.Tasks.Requests(ctx, pr, inc)
	if err != nil {
		return nil, err
	}
	comments, commentsNext, err := u.o.Comments.ListOf(ctx, pr, inc, incident.Page{After: c.QueryParam("comments"), Limit: commentsPageSize})
	if apperr.CodeOf(err) == apperr.Invalid {
		comments, commentsNext, err = u.o.Comments.ListOf(ctx, pr, inc, incident.Page{Limit: commentsPageSize})
	}
	if err != nil {
		return nil, err
	}
	atts, evidenceNext, err := u.o.Evidence.ListOf(ctx, pr, inc, incident.Page{After: c.QueryParam("evidence"), Limit: evidencePageSize})
	if apperr.CodeOf(err) == apperr.Invalid {
		atts, evidenceNext, err = u.o.Evidence.ListOf(ctx, pr, inc, incident.Page{Limit: evidencePageSize})
	}
	if err != nil {
		return nil, err
	}

	view := u.o.Incidents.View(inc)
	p := u.newPage(c, "incident", "incident.page_title", inc.Reference, inc.Title)
	p.TLP = inc.TLP
	p.Notice = incidentNotice(p.L, c.QueryParam("done"))
	if p.Notice == "" {
		p.Notice = workbenchNotice(p.L, c.QueryParam("done"))
	}
	l := p.L
	v := incidentView{Reference: inc.Reference, Title: inc.Title, TLP: inc.TLP, PAP: inc.PAP, Severity: inc.Severity, Stage: inc.Stage,
		Closed: inc.Status == incident.Closed, ReportingOrg: orgName(names, inc.ReportingOrgID, inc.ReportingOrgSlug),
		DetectedAt: l.TimeOr(inc.DetectedAt, "time.not_given"), ReportedAt: l.Time(inc.ReportedAt), UpdatedAt: l.Time(inc.UpdatedAt),
		Steps: stepsOf(l, inc, lifecycle), Deadlines: deadlines(l, view.Deadlines), DescriptionHTML: template.HTML(view.DescriptionHTML), // sanitised by internal/markdown (incident.Service)

		TimelinePaged: after != "", TimelineNext: next, OwnOrg: pr.OrgID == inc.ReportingOrgID,
		CommentsNext: commentsNext, EvidenceNext: evidenceNext, MaxUpload: l.Size(u.o.Evidence.MaxBytes()),
		May: mayView{Comment: pr.MayWrite(access.CommentIncident, inc.Relations), Upload: pr.MayWrite(access.AddEvidence, inc.Relations),
			Task: pr.MayWrite(access.WriteTask, inc.Relations), Escalate: pr.MayWrite(access.EscalateIncident, inc.Relations) && inc.Status != incident.Closed},
		Form: form}
	if inc.CoordinatingOrgID != nil {
		v.CoordinatingOrg = orgName(names, *inc.CoordinatingOrgID, inc.CoordinatingOrgSlug)
	}
	if v.Form.CommentKey == "" {
		v.Form.CommentKey = newFormKey()
	}
	v.Legal = u.legalForIncidentPage(c, l, inc)
	if v.Workbench, err = u.workbenchFor(c, l, inc, form.Workbench); err != nil {
		return nil, err
	}
	if v.Workbench.Show || v.Workbench.SummaryFirst {
		actors, err := u.o.Incidents.TimelineActors(ctx, pr, inc)
		if err != nil {
			return nil, err
		}
		v.TimelineFilter = tf.view(l, actors)
	}
	v.TimelineFirstHref, v.TimelineNextHref = tf.href(""), tf.href(next)
	if v.Casework, err = u.casework(c, l, inc); err != nil {
		return nil, err
	}
	if p.Notice == "" {
		p.Notice = caseworkNotice(l, c.QueryParam("done"), c.QueryParam("n"))
	}
	if p.Notice == "" {
		p.Notice = linksNotice(l, c.QueryParam("done"))
	}
	if v.Links, err = u.linksFor(c, l, inc, linksForm{}); err != nil {
		return nil, err
	}
	v.Runs = u.runsForIncidentPage(c, l, inc)
	v.Days = u.timelineDays(l, evs)
	if v.Workbench.May.Pin {
		markPinnable(v.Days)
	}
	for i := range requests {
		r := requestOf(l, &requests[i])
		if r.Open {
			v.RequestsOpen++
		}
		v.Requests = append(v.Requests, r)
	}
	for i := range comments {
		v.Comments = append(v.Comments, commentOf(l, &comments[i], pr, v.May.Comment))
	}
	for i := range atts {
		v.Evidence = append(v.Evidence, evidenceOf(l, inc.Reference, &atts[i]))
	}
	p.Data = v
	return p, nil
}

// incidentNotice is the status message after an action on the page
// (?done=…).
func incidentNotice(l i18n.Locale, done string) string {
	switch done {
	case "comment", "comment_edited", "evidence", "task":
		return l.T("incident.done." + done)
	}
	return ""
}

// newFormKey is a random key for a form, so that sending it twice does
// one thing.
func newFormKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// deadlines are the legal deadlines that apply (incident.View), each
// stated in words beside its state's badge (Sent, Sent late, Missed): a
// sent one by when it was sent, an open one by "due in" or "overdue by"
// (the strip shows no badge for an open one, whose text says it).
func deadlines(l i18n.Locale, ds []incident.Deadline) []deadlineView {
	var out []deadlineView
	for _, d := range ds {
		v := deadlineView{Kind: d.Kind, State: d.State}
		switch d.State {
		case incident.DeadlineOnTime, incident.DeadlineMetLate:
			v.Text = template.HTML(template.HTMLEscapeString(l.DateTime(d.Met.At)))
		default:
			v.Text = l.DueHTML(d.DueAt)
		}
		out = append(out, v)
	}
	return out
}

// requestView is one request of the CERT to the reporting organisation
// (a task assigned to one of its people).
type requestView struct {
	ID          string
	Title       string
	Description string // Markdown as written, shown as plain text
	Status      task.Status
	Open        bool // not done or cancelled: it can be marked done
	AskedOf     string
	AskedBy     string
	Due         template.HTML // "due in …" of an open request with a due time
	Finished    template.HTML // when it was marked done
}

func requestOf(l i18n.Locale, t *task.Task) requestView {
	r := requestView{ID: t.ID.String(), Title: t.Title, Description: clipText(t.Description, 1000), Status: t.Status,
		Open: !t.Status.Finished(), AskedOf: firstOf(t.AssigneeName, t.AssigneeEmail, t.AssigneeTeamName),
		AskedBy: firstOf(t.CreatedByName, t.CreatedByEmail)}
	if r.Open && t.DueAt != nil {
		r.Due = l.DueHTML(*t.DueAt)
	}
	if t.Status == task.Done && t.CompletedAt != nil {
		r.Finished = l.WhenTime(*t.CompletedAt)
	}
	return r
}

// firstOf is the first of the strings that is not empty (a person's
// name, else their e-mail).
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// commentView is one comment as the page shows it.
type commentView struct {
	ID       string
	Author   string
	Org      string
	When     template.HTML
	Edited   template.HTML // when it was last edited; empty if never
	BodyHTML template.HTML
	Mine     bool // the person wrote it and may edit it
}

func commentOf(l i18n.Locale, cm *comment.Comment, p access.Principal, mayComment bool) commentView {
	v := commentView{ID: cm.ID.String(), Author: cm.AuthorName, Org: cm.AuthorOrgName, When: l.WhenTime(cm.CreatedAt),
		BodyHTML: template.HTML(cm.BodyHTML), // sanitised by internal/markdown when it was written (comment.Service)
		Mine:     mayComment && cm.AuthorID != nil && *cm.AuthorID == p.UserID}
	if v.Author == "" {
		v.Author = cm.Author
	}
	if cm.AuthorID == nil {
		v.Author = l.T("timeline.system")
	}
	if cm.EditedAt != nil {
		v.Edited = l.WhenTime(*cm.EditedAt)
	}
	return v
}

// evidenceView is one evidence file as the page lists it.
type evidenceView struct {
	Name        string
	Href        string
	Size        string
	SHA256      string
	Description string
	Uploader    string
	Org         string
	When        template.HTML
}

func evidenceOf(l i18n.Locale, ref string, a *evidence.Attachment) evidenceView {
	v := evidenceView{Name: a.Filename, Href: "/incidents/" + ref + "/evidence/" + a.ID.String(), Size: l.Size(a.Size),
		SHA256: a.SHA256, Description: a.Description, Uploader: a.UploaderName, Org: a.UploaderOrgName, When: l.WhenTime(a.CreatedAt)}
	if v.Uploader == "" {
		v.Uploader = a.UploadedBy
	}
	return v
}

// clipText cuts s to at most n characters, ending with "…" when cut.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
