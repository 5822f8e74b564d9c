package ui

import (
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/labstack/echo/v4"
)

// runsSection is the "Playbook runs" section of the incident page
// (partials/playbook_runs.html): the incident's runs, newest first, and
// the link that starts one by hand.
type runsSection struct {
	Runs     []runLine
	MayStart bool
	NewHref  string
}

// runLine is one run in a list.
type runLine struct {
	Href      string
	Name      string
	State     runbook.State
	StateText string
	Started   template.HTML
	Waiting   int // steps waiting for someone or something
	Done      int // steps finished
	Steps     int
}

// showsRuns reports whether the incident page shows p its playbook runs:
// people of a CERT (who run playbooks) and administrators.
func showsRuns(p access.Principal) bool {
	return p.OrgKind.IsCERT() || p.Role == access.Admin
}

// runsForIncidentPage is the "Playbook runs" section for the incident
// page, or nil for people it is not for; a failure is logged and leaves
// the section out, as the rest of the page still helps.
func (u *UI) runsForIncidentPage(c echo.Context, l i18n.Locale, inc *incident.Incident) *runsSection {
	pr := current(c).Principal
	if !showsRuns(pr) {
		return nil
	}
	_, runs, err := u.o.Runs.List(c.Request().Context(), pr, inc.ID.String())
	if err != nil {
		u.o.Logger.ErrorContext(c.Request().Context(), "playbook runs for the incident page", "err", err)
		return nil
	}
	s := &runsSection{MayStart: pr.MayWrite(access.RunPlaybook, inc.Relations) && inc.Status == incident.Open,
		NewHref: "/incidents/" + inc.Reference + "/runs/new"}
	for i := range runs {
		s.Runs = append(s.Runs, runLineOf(l, inc.Reference, &runs[i]))
	}
	return s
}

func runLineOf(l i18n.Locale, ref string, r *runbook.Run) runLine {
	v := runLine{Href: "/incidents/" + ref + "/runs/" + r.ID.String(), Name: r.Name, State: r.State,
		StateText: l.T("runs.state." + string(r.State)), Started: l.Time(r.StartedAt), Steps: len(r.Steps)}
	for _, s := range r.Steps {
		switch {
		case s.Status == runbook.Waiting:
			v.Waiting++
		case s.Status.Finished():
			v.Done++
		}
	}
	return v
}

// runView is the data of a run's page (pages/run.html).
type runView struct {
	Reference  string
	Title      string // the incident's
	Back       string
	Base       string // the run's path
	Name       string
	PlaybookID string
	Version    int
	State      runbook.State
	StateText  string
	Trigger    string
	StartedBy  string
	StartedAt  template.HTML
	FinishedAt template.HTML // empty while running
	Error      string
	Graph      graphView
	Steps      []runStepView
	History    []historyLine
	MayCancel  bool
	// Open counts the steps that wait for a person (an input or an
	// approval): the page lists their forms first.
	Open []*runStepView
}

// runStepView is one step in the list beside the graph, with the form of
// a waiting input or approval when the person may answer it.
type runStepView struct {
	ID         string
	Action     string
	ActionText string
	Status     runbook.Status
	StatusText string
	Needs      []string
	Attempts   int
	LastError  string
	Waiting    string        // what a waiting step waits for, in words
	Deadline   template.HTML // until when a waiting step waits
	Prompt     string        // an input's or approval's question
	Output     []outputLine
	Input      *inputForm
	Approval   *approvalForm
	// Refusal says why the person may not answer a waiting input or
	// approval (who may).
	Refusal string
}

// outputLine is one value of a step's output.
type outputLine struct{ Name, Value string }

// historyLine is one event of the run's history.
type historyLine struct {
	At   template.HTML
	Who  string
	What string
	Note string
}

// runPage builds the page of one run, read for the signed-in person:
// the graph, the steps with their forms, the history. forms are what a
// form that came back with errors typed (by step id); errs its errors.
func (u *UI) runPage(c echo.Context, inc *incident.Incident, r *runbook.Run, forms map[string]*runStepView, errs []fieldError) (*page, error) {
	cur := current(c)
	pr := cur.Principal
	ctx := c.Request().Context()
	p := u.newPage(c, "run", "runs.run_title", inc.Reference)
	p.TLP, p.Errors = inc.TLP, errs
	l := p.L
	pb, err := u.o.Runs.Pinned(r)
	if err != nil {
		return nil, err
	}
	evs, _, err := u.o.Incidents.TimelineOf(ctx, pr, inc, []incident.EventKind{runbook.EventStarted, runbook.EventStep, runbook.EventFinished},
		incident.Page{Limit: incident.MaxLimit})
	if err != nil {
		return nil, err
	}
	base := "/incidents/" + inc.Reference + "/runs/" + r.ID.String()
	v := runView{Reference: inc.Reference, Title: inc.Title, Back: "/incidents/" + inc.Reference + "#playbook-runs", Base: base,
		Name: r.Name, PlaybookID: r.PlaybookID, Version: r.Version, State: r.State, StateText: l.T("runs.state." + string(r.State)),
		Trigger: triggerText(l, r.Trigger), StartedBy: r.StartedByName, StartedAt: l.Time(r.StartedAt), Error: r.Error,
		MayCancel: r.State == runbook.RunRunning && pr.MayWrite(access.RunPlaybook, inc.Relations)}
	if r.FinishedAt != nil {
		v.FinishedAt = l.Time(*r.FinishedAt)
	}
	// The deadline of each waiting step: its last "waiting" event says
	// until when (a wait's end, or the timeout of a wait for an event, an
	// input or an approval).
	deadlines := map[string]time.Time{}
	for i := len(evs) - 1; i >= 0; i-- {
		ev := &evs[i]
		var d map[string]any
		if json.Unmarshal(ev.Data, &d) != nil || fmt.Sprint(d["run_id"]) != r.ID.String() {
			continue
		}
		v.History = append(v.History, historyOf(l, ev, d))
		if ev.Kind == runbook.EventStep && fmt.Sprint(d["status"]) == string(runbook.Waiting) {
			for _, k := range []string{"until", "timeout_at"} {
				if s, ok := d[k].(string); ok {
					if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
						deadlines[fmt.Sprint(d["step"])] = t
					}
				}
			}
		}
	}
	slices.Reverse(v.History) // oldest first, as a history reads
	var gs []graphStep
	order := runOrder(r, pb)
	for _, i := range order {
		st := &r.Steps[i]
		def := pb.Step(st.ID)
		sv := runStepView{ID: st.ID, Action: st.Action, ActionText: l.T("runs.action." + st.Action), Status: st.Status,
			StatusText: l.T("runs.status." + string(st.Status)), Needs: st.Needs, Attempts: st.Attempts, LastError: st.LastError}
		if def != nil {
			sv.Prompt, _ = def.With["prompt"].(string)
		}
		lines := []string{sv.ActionText + " · " + sv.StatusText}
		if st.Status == runbook.Waiting {
			sv.Waiting = waitingText(l, st.WaitingFor)
			if t, ok := deadlines[st.ID]; ok {
				sv.Deadline = l.DueHTML(t)
				lines = append(lines, l.T("runs.until", l.When(t)))
			} else {
				lines = append(lines, l.T("runs.no_deadline"))
			}
		}
		if st.Status == runbook.Failed && st.Handled {
			lines[0] += " · " + l.T("runs.handled")
		}
		for _, k := range sortedKeys(st.Output) {
			sv.Output = append(sv.Output, outputLine{Name: k, Value: outputValue(l, st.Output[k])})
		}
		if st.Status == runbook.Waiting && r.State == runbook.RunRunning && def != nil {
			u.stepForm(l, p.CSRF, pr, inc, base, &sv, def, forms[st.ID], errs)
		}
		v.Steps = append(v.Steps, sv)
		gs = append(gs, graphStep{ID: st.ID, Status: string(st.Status), Needs: st.Needs, Lines: lines})
	}
	for i := range v.Steps {
		if v.Steps[i].Input != nil || v.Steps[i].Approval != nil {
			v.Open = append(v.Open, &v.Steps[i])
		}
	}
	v.Graph = layoutGraph(gs)
	v.Graph.Title = l.T("runs.graph_title", r.Name)
	v.Graph.Desc = graphDesc(l, v.Steps)
	p.Data = v
	return p, nil
}

// runOrder is the order the run's steps are shown in: the order the
// pinned playbook starts them (Playbook.Order), file order for what it
// does not name.
func runOrder(r *runbook.Run, pb *playbook.Playbook) []int {
	pos := make(map[string]int, len(r.Steps))
	for i, st := range r.Steps {
		pos[st.ID] = i
	}
	var out []int
	seen := map[int]bool{}
	for _, k := range pb.Order() {
		if i, ok := pos[pb.Steps[k].ID]; ok && !seen[i] {
			out, seen[i] = append(out, i), true
		}
	}
	for i := range r.Steps {
		if !seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// graphDesc is the graph's description for screen readers: how many
// steps stand how, and which wait.
func graphDesc(l i18n.Locale, steps []runStepView) string {
	counts := map[runbook.Status]int{}
	var waiting []string
	for _, s := range steps {
		counts[s.Status]++
		if s.Status == runbook.Waiting {
			waiting = append(waiting, s.ID)
		}
	}
	var parts []string
	for _, st := range []runbook.Status{runbook.Succeeded, runbook.Running, runbook.Waiting, runbook.Pending, runbook.Failed, runbook.Skipped, runbook.Cancelled} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", l.T("runs.status."+string(st)), counts[st]))
		}
	}
	s := l.T("runs.graph_desc", len(steps), strings.Join(parts, ", "))
	if len(waiting) > 0 {
		s += " " + l.T("runs.graph_waiting", strings.Join(waiting, ", "))
	}
	return s
}

// waitingText says what a waiting step waits for.
func waitingText(l i18n.Locale, what string) string {
	switch {
	case what == "input":
		return l.T("runs.waiting.input")
	case strings.HasPrefix(what, "approval:"):
		return l.T("runs.waiting.approval", roleName(l, strings.TrimPrefix(what, "approval:")))
	case what == "":
		return ""
	case what == playbook.WaitAcknowledgement:
		return l.T("runs.waiting.acknowledgement")
	case strings.HasPrefix(what, playbook.WaitTaskDonePrefix):
		return l.T("runs.waiting.task_done", strings.TrimPrefix(what, playbook.WaitTaskDonePrefix))
	case strings.HasPrefix(what, playbook.WaitStagePrefix):
		return l.T("runs.waiting.stage", strings.TrimPrefix(what, playbook.WaitStagePrefix))
	}
	if d, err := playbook.ParseDuration(what); err == nil {
		return l.T("runs.waiting.duration", l.Duration(d))
	}
	return l.T("runs.waiting.event", what)
}

// roleName is a role in words.
func roleName(l i18n.Locale, role string) string {
	switch access.Role(role) {
	case access.Reporter, access.Responder, access.Coordinator, access.Viewer, access.Admin:
		return l.T("runs.role." + role)
	}
	return role
}

// triggerText says what started a run.
func triggerText(l i18n.Locale, trigger string) string {
	if slices.Contains(playbook.Events, trigger) {
		return l.T("runs.trigger." + strings.ReplaceAll(trigger, ".", "_"))
	}
	return trigger
}

// historyOf is one event of a run in words.
func historyOf(l i18n.Locale, ev *incident.Event, d map[string]any) historyLine {
	h := historyLine{At: l.Time(ev.OccurredAt), Who: firstOf(ev.ActorName, ev.Actor)}
	str := func(k string) string {
		if s, ok := d[k].(string); ok {
			return s
		}
		return ""
	}
	switch ev.Kind {
	case runbook.EventStarted:
		h.What = l.T("runs.history.started", triggerText(l, str("trigger")))
	case runbook.EventFinished:
		h.What, h.Note = l.T("runs.history.finished", l.T("runs.state."+str("state"))), str("error")
	default:
		status := str("status")
		h.What = l.T("runs.history.step", str("step"), l.T("runs.status."+status))
		out, _ := d["output"].(map[string]any)
		comment, _ := out["comment"].(string)
		switch {
		case str("error") != "":
			h.Note = str("error")
		case comment != "":
			h.Note = comment
		case status == string(runbook.Waiting):
			h.Note = waitingText(l, str("waiting_for"))
		}
	}
	return h
}

// outputValue writes a value of a step's output in words.
func outputValue(l i18n.Locale, v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return l.T("runs.yes")
		}
		return l.T("runs.no")
	case nil:
		return "–"
	case string:
		return x
	case float64, int, int64:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
