package ui

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/labstack/echo/v4"
)

// runNewView is the data of the page that starts a playbook by hand
// (pages/run_new.html).
type runNewView struct {
	Reference string
	Title     string // the incident's
	Back      string
	Path      string // this page: the choice is sent here (GET) for its preview
	Action    string // where the start is posted
	Choices   []playbookChoice
	Other     int // playbooks of the catalogue that cannot start here
	Chosen    string
	Preview   *previewView
}

// playbookChoice is one playbook that may start on the incident.
type playbookChoice struct {
	ID          string
	Name        string
	Description string
	Version     int
	Steps       int
	Checked     bool
	Ran         string // the page of the run of this version, when it ran already
}

// previewView is a dry run of the chosen playbook on the incident
// (playbook.Service.DryRun): what it would do, step by step.
type previewView struct {
	ID      string
	Name    string
	Version int
	Ran     string
	ToRun   int
	Steps   []previewStep
}

// previewStep is one step of a dry run.
type previewStep struct {
	ID         string
	ActionText string
	Detail     string // what the step does (its task's title, its question, …)
	Needs      string
	Run        bool
	Reason     string // why it would not run
}

// runNew shows the playbooks that may start on the incident by hand
// (valid, with a manual trigger whose condition holds), and, for the
// one chosen, a preview of what it would do, with the button that starts
// it. People who may not start playbooks on the incident get the 403
// page; people who may not see it the 404 page.
func (u *UI) runNew(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, err := u.o.Incidents.Get(ctx, pr, c.Param("ref"))
	if err != nil {
		return err
	}
	if err := pr.RequireWrite(access.RunPlaybook, inc.Relations); err != nil {
		return err
	}
	chosen := strings.TrimSpace(c.QueryParam("playbook"))
	p, err := u.runNewPage(c, inc, chosen, nil)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v := p.Data.(runNewView); chosen != "" && v.Preview == nil {
		p.Errors = []fieldError{{Field: "playbook-" + firstChoice(v), Message: p.L.T("runs.error.playbook_exists")}}
		status = http.StatusUnprocessableEntity
	}
	return u.render(c, status, p)
}

func firstChoice(v runNewView) string {
	if len(v.Choices) > 0 {
		return v.Choices[0].ID
	}
	return "none"
}

// runNewPage builds the page; chosen is the playbook to preview ("" for
// none), errs the errors of a start that failed.
func (u *UI) runNewPage(c echo.Context, inc *incident.Incident, chosen string, errs []fieldError) (*page, error) {
	ctx := c.Request().Context()
	pr := current(c).Principal
	p := u.newPage(c, "run_new", "runs.new_title", inc.Reference)
	p.TLP, p.Errors = inc.TLP, errs
	l := p.L
	_, runs, err := u.o.Runs.List(ctx, pr, inc.ID.String())
	if err != nil {
		return nil, err
	}
	ran := map[string]string{}
	for _, r := range runs {
		ran[fmt.Sprintf("%s@%d", r.PlaybookID, r.Version)] = "/incidents/" + inc.Reference + "/runs/" + r.ID.String()
	}
	base := "/incidents/" + inc.Reference + "/runs"
	v := runNewView{Reference: inc.Reference, Title: inc.Title, Back: "/incidents/" + inc.Reference + "#playbook-runs",
		Path: base + "/new", Action: base, Chosen: chosen}
	ref := inc.ID.String()
	for _, e := range u.o.Playbooks.Entries() {
		if !e.Valid || e.Playbook == nil || !slices.ContainsFunc(e.Playbook.Triggers, func(t playbook.Trigger) bool { return t.On == "manual" }) {
			v.Other++
			continue
		}
		res, err := u.o.Playbooks.DryRun(ctx, pr, e.ID, playbook.DryRunInput{Incident: &ref})
		if err != nil {
			return nil, err
		}
		if !res.Triggered["manual"] {
			v.Other++
			continue
		}
		pb := e.Playbook
		ch := playbookChoice{ID: pb.ID, Name: pb.Name, Description: strings.TrimSpace(pb.Description), Version: pb.Version,
			Steps: len(pb.Steps), Checked: pb.ID == chosen, Ran: ran[fmt.Sprintf("%s@%d", pb.ID, pb.Version)]}
		v.Choices = append(v.Choices, ch)
		if pb.ID == chosen {
			v.Preview = previewOf(l, res, ch.Ran)
		}
	}
	p.Data = v
	return p, nil
}

// previewOf is a dry run in words.
func previewOf(l i18n.Locale, res *playbook.DryRunResult, ran string) *previewView {
	pb := res.Playbook
	pv := &previewView{ID: pb.ID, Name: pb.Name, Version: pb.Version, Ran: ran, ToRun: res.StepsToRun}
	for _, s := range res.Steps {
		ps := previewStep{ID: s.ID, ActionText: l.T("runs.action." + s.Action), Needs: strings.Join(s.Needs, ", "), Run: s.Run}
		if def := pb.Step(s.ID); def != nil {
			ps.Detail = stepDetail(l, def)
		}
		switch r := s.Reason; {
		case s.Run:
		case strings.HasPrefix(r, "runs only on timeout/failure of "):
			ps.Reason = l.T("runs.preview.handler", strings.TrimPrefix(r, "runs only on timeout/failure of "))
		case strings.HasPrefix(r, "when is false: "):
			ps.Reason = l.T("runs.preview.when_false", strings.TrimPrefix(r, "when is false: "))
		default:
			ps.Reason = l.T("runs.preview.error", strings.TrimPrefix(r, "condition failed: "))
		}
		pv.Steps = append(pv.Steps, ps)
	}
	return pv
}

// stepDetail says what a step does, from its parameters.
func stepDetail(l i18n.Locale, s *playbook.Step) string {
	str := func(k string) string { v, _ := s.With[k].(string); return v }
	switch s.Action {
	case playbook.ActionTaskCreate:
		return str("title")
	case playbook.ActionInput, playbook.ActionApproval:
		return str("prompt")
	case playbook.ActionNotify:
		return l.T("runs.detail.notify", str("to"))
	case playbook.ActionEscalate:
		return l.T("runs.detail.escalate", str("to"))
	case playbook.ActionWait:
		return waitingText(l, str("for"))
	case playbook.ActionSet:
		return l.T("runs.detail.set", strings.Join(sortedKeys(s.With), ", "))
	case playbook.ActionWebhook:
		return l.T("runs.detail.webhook")
	}
	return ""
}

// runStart starts the chosen playbook (runbook.Service.Start) and shows
// its run. A missing or unknown choice, or a playbook that already ran
// or whose manual condition no longer holds, comes back as the choice's
// error on the same page.
func (u *UI) runStart(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, err := u.o.Incidents.Get(ctx, pr, c.Param("ref"))
	if err != nil {
		return err
	}
	chosen := strings.TrimSpace(c.FormValue("playbook"))
	r, err := u.o.Runs.Start(ctx, pr, inc.ID.String(), chosen)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/incidents/"+inc.Reference+"/runs/"+r.ID.String()+"?done=started")
	}
	l := u.locale(c)
	var msg string
	e, _ := apperr.As(err)
	switch {
	case e == nil:
		return err
	case e.Code == apperr.Invalid && len(e.Fields) > 0 && e.Fields[0].Rule == "required":
		msg = l.T("runs.error.playbook_required")
	case e.Code == apperr.Invalid:
		msg = l.T("runs.error.playbook_exists")
	case e.Code == apperr.Conflict && e.Details["run_id"] != nil || strings.Contains(e.Message, "already run"):
		msg = l.T("runs.error.playbook_ran")
	case e.Code == apperr.Conflict:
		msg = l.T("runs.error.playbook_condition")
	default:
		return err
	}
	p, err := u.runNewPage(c, inc, chosen, nil)
	if err != nil {
		return err
	}
	p.Errors = []fieldError{{Field: "playbook-" + firstChoice(p.Data.(runNewView)), Message: msg}}
	if v := p.Data.(runNewView); slices.ContainsFunc(v.Choices, func(ch playbookChoice) bool { return ch.ID == chosen }) {
		p.Errors[0].Field = "playbook-" + chosen
	}
	return u.render(c, http.StatusUnprocessableEntity, p)
}
