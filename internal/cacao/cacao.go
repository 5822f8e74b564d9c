// Package cacao exports certdesk playbooks as CACAO v2 playbooks (OASIS
// "CACAO Security Playbooks Version 2.0", JSON), so that a playbook can be
// handed to a team that does not run certdesk.
//
// The export is deterministic: every identifier is a UUIDv5 of the playbook
// id and the step it stands for, the timestamps follow from the playbook's
// version, and JSON objects are written with sorted keys, so exporting the
// same playbook twice gives the same bytes. How certdesk's steps map to
// CACAO's workflow steps and commands, and what has no CACAO equivalent, is
// in docs/playbooks.md ("CACAO export").
package cacao

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/certdesk/certdesk/internal/playbook"
)

// SpecVersion is the CACAO version the export follows.
const SpecVersion = "cacao-2.0"

// Namespace is the UUIDv5 namespace of every identifier the export makes
// (certdesk's own; CACAO reserves aa7caf3a-… for a different naming rule).
var Namespace = uuid.MustParse("6b1f3c0e-9d7a-4c55-8f2e-3a9d1c7e5b40")

// Epoch is the created time of every exported playbook: certdesk playbooks
// carry a version, not dates. Version n is modified n-1 seconds later, so
// a later version always has a later modified, as CACAO requires.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Playbook is a CACAO v2 playbook object.
type Playbook struct {
	Type              string                 `json:"type"`
	SpecVersion       string                 `json:"spec_version"`
	ID                string                 `json:"id"`
	Name              string                 `json:"name"`
	Description       string                 `json:"description,omitempty"`
	ProcessingSummary *ProcessingSummary     `json:"playbook_processing_summary,omitempty"`
	CreatedBy         string                 `json:"created_by"`
	Created           string                 `json:"created"`
	Modified          string                 `json:"modified"`
	Labels            []string               `json:"labels,omitempty"`
	WorkflowStart     string                 `json:"workflow_start"`
	Workflow          map[string]*Step       `json:"workflow"`
	AgentDefinitions  map[string]AgentTarget `json:"agent_definitions,omitempty"`
	TargetDefinitions map[string]AgentTarget `json:"target_definitions,omitempty"`
}

// ProcessingSummary is CACAO's playbook_processing_summary: which features
// the workflow uses.
type ProcessingSummary struct {
	ManualPlaybook     bool `json:"manual_playbook,omitempty"`
	ParallelProcessing bool `json:"parallel_processing,omitempty"`
	IfLogic            bool `json:"if_logic,omitempty"`
	TemporalLogic      bool `json:"temporal_logic,omitempty"`
}

// Step is a CACAO workflow step of any type; the fields a type does not
// have stay empty and are left out.
type Step struct {
	Type         string    `json:"type"`
	Name         string    `json:"name,omitempty"`
	Description  string    `json:"description,omitempty"`
	Delay        int64     `json:"delay,omitempty"`   // milliseconds
	Timeout      int64     `json:"timeout,omitempty"` // milliseconds
	OnCompletion string    `json:"on_completion,omitempty"`
	OnSuccess    string    `json:"on_success,omitempty"`
	OnFailure    string    `json:"on_failure,omitempty"`
	Commands     []Command `json:"commands,omitempty"`
	Agent        string    `json:"agent,omitempty"`
	Targets      []string  `json:"targets,omitempty"`
	NextSteps    []string  `json:"next_steps,omitempty"`
	Condition    string    `json:"condition,omitempty"`
	OnTrue       string    `json:"on_true,omitempty"`
}

// Command is a CACAO command of type manual or http-api.
type Command struct {
	Type             string              `json:"type"`
	Description      string              `json:"description,omitempty"`
	PlaybookActivity string              `json:"playbook_activity,omitempty"`
	Command          string              `json:"command,omitempty"`
	Headers          map[string][]string `json:"headers,omitempty"`
	Content          string              `json:"content,omitempty"`
}

// AgentTarget is a CACAO agent or target: a group (a certdesk role), an
// organization (certdesk itself) or an http-api (a webhook's receiver).
type AgentTarget struct {
	Type        string              `json:"type"`
	Name        string              `json:"name"`
	Description string              `json:"description,omitempty"`
	Address     map[string][]string `json:"address,omitempty"`
}

// ID returns the identifier "<kind>--<UUIDv5>" the export gives the object
// name of the playbook playbookID.
func ID(kind, playbookID, name string) string {
	return kind + "--" + uuid.NewSHA1(Namespace, []byte(playbookID+"\x00"+kind+"\x00"+name)).String()
}

// Export returns pb as a CACAO v2 playbook. pb must be valid (a catalogue
// entry with Valid set).
func Export(pb *playbook.Playbook) *Playbook {
	b := &builder{pb: pb, wf: map[string]*Step{}, agents: map[string]AgentTarget{}, targets: map[string]AgentTarget{},
		handlers: pb.Handlers(), summary: &ProcessingSummary{}}
	out := &Playbook{
		Type: "playbook", SpecVersion: SpecVersion, ID: "playbook--" + uuid.NewSHA1(Namespace, []byte(pb.ID)).String(),
		Name: pb.Name, Description: b.description(),
		CreatedBy: "identity--" + uuid.NewSHA1(Namespace, []byte("certdesk")).String(),
		Created:   timestamp(Epoch), Modified: timestamp(Epoch.Add(time.Duration(max(pb.Version-1, 0)) * time.Second)),
		Labels: []string{"certdesk", "certdesk-playbook:" + pb.ID, fmt.Sprintf("certdesk-version:%d", pb.Version)},
	}
	end := b.add("end", "end", &Step{Type: "end", Name: "End"})
	next := end
	layers := b.layers()
	for i := len(layers) - 1; i >= 0; i-- {
		next = b.layer(i, layers[i], next)
	}
	out.WorkflowStart = b.add("start", "start", &Step{Type: "start", Name: "Start", OnCompletion: next})
	out.Workflow = b.wf
	if len(b.agents) > 0 {
		out.AgentDefinitions = b.agents
	}
	if len(b.targets) > 0 {
		out.TargetDefinitions = b.targets
	}
	if *b.summary != (ProcessingSummary{}) {
		out.ProcessingSummary = b.summary
	}
	return out
}

// Marshal returns the export of pb as indented JSON.
func Marshal(pb *playbook.Playbook) ([]byte, error) {
	return json.MarshalIndent(Export(pb), "", "  ")
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type builder struct {
	pb       *playbook.Playbook
	wf       map[string]*Step
	agents   map[string]AgentTarget
	targets  map[string]AgentTarget
	handlers map[string][]string
	summary  *ProcessingSummary
	visiting []string // handler chain being built, against cycles
}

func (b *builder) add(kind, name string, s *Step) string {
	id := ID(kind, b.pb.ID, name)
	b.wf[id] = s
	return id
}

// description is the playbook's description followed by its triggers,
// which CACAO has no field for.
func (b *builder) description() string {
	d := strings.TrimSpace(b.pb.Description)
	var ts []string
	for _, t := range b.pb.Triggers {
		s := t.On
		if t.When != nil {
			s += " when " + t.When.Source
		}
		ts = append(ts, s)
	}
	if len(ts) > 0 {
		if d != "" {
			d += "\n\n"
		}
		d += "certdesk starts this playbook on: " + strings.Join(ts, "; ") + "."
	}
	return d
}

// layers orders the steps on the normal path (every step that is not a
// handler) by the length of their longest chain of needs: a step comes in
// the layer after the last of its needs. Handler steps are skipped on the
// normal path and count as finished, so needs on them do not order.
func (b *builder) layers() [][]playbook.Step {
	depth := map[string]int{}
	var d func(s *playbook.Step) int
	d = func(s *playbook.Step) int {
		if v, ok := depth[s.ID]; ok {
			return v
		}
		depth[s.ID] = 0 // the parser rejects cycles; this only stops recursion
		v := 0
		for _, n := range s.Needs {
			if ns := b.pb.Step(n); ns != nil && b.handlers[n] == nil {
				v = max(v, d(ns)+1)
			}
		}
		depth[s.ID] = v
		return v
	}
	var out [][]playbook.Step
	for i := range b.pb.Steps {
		s := &b.pb.Steps[i]
		if b.handlers[s.ID] != nil {
			continue
		}
		l := d(s)
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], *s)
	}
	return slices.DeleteFunc(out, func(l []playbook.Step) bool { return len(l) == 0 })
}

// layer builds one layer of steps that follows next and returns its head:
// the step itself, or a parallel step whose branches each end in an end
// step of their own.
func (b *builder) layer(i int, steps []playbook.Step, next string) string {
	if len(steps) == 1 {
		return b.unit(&steps[0], next, "")
	}
	b.summary.ParallelProcessing = true
	p := &Step{Type: "parallel", Name: fmt.Sprintf("Layer %d", i+1), OnCompletion: next,
		Description: "These steps wait for nothing of each other in certdesk."}
	for k := range steps {
		s := &steps[k]
		end := b.add("end", "branch:"+s.ID, &Step{Type: "end", Name: "End of " + s.ID})
		p.NextSteps = append(p.NextSteps, b.unit(s, end, ""))
	}
	return b.add("parallel", fmt.Sprintf("layer:%d", i), p)
}

// unit builds step s followed by next and returns its head: the action, or
// an if-condition whose true branch is the action. suffix tells apart the
// copies of a handler step reached from different steps.
func (b *builder) unit(s *playbook.Step, next, suffix string) string {
	if s.When == nil {
		return b.action(s, next, suffix)
	}
	b.summary.IfLogic = true
	end := b.add("end", "when:"+s.ID+suffix, &Step{Type: "end", Name: "End of when of " + s.ID})
	c := &Step{Type: "if-condition", Name: "When " + s.ID, Condition: s.When.Source, OnCompletion: next,
		Description: "The condition is in certdesk's condition language (docs/playbooks.md), not STIX patterning; when false, the step is skipped."}
	c.OnTrue = b.action(s, end, suffix)
	return b.add("if-condition", "when:"+s.ID+suffix, c)
}

// action builds the action step of s followed by next.
func (b *builder) action(s *playbook.Step, next, suffix string) string {
	a := b.describe(s)
	if s.Timeout > 0 && a.Timeout == 0 {
		a.Timeout = s.Timeout.Milliseconds()
	}
	if a.Timeout > 0 || a.Delay > 0 {
		b.summary.TemporalLogic = true
	}
	var notes []string
	if s.Stage != "" {
		notes = append(notes, "Stage: "+s.Stage+".")
	}
	if s.Retry.Attempts > 1 {
		notes = append(notes, fmt.Sprintf("certdesk tries this step up to %d times, %s apart at first, doubling.", s.Retry.Attempts, s.Retry.Backoff))
	}
	if len(notes) > 0 {
		a.Description = strings.TrimSpace(a.Description + " " + strings.Join(notes, " "))
	}
	// CACAO has one failure path, which a timeout also takes: a handler
	// step wins over continue, continue over fail.
	handler, cont := "", false
	for _, o := range []string{s.OnFailure, s.OnTimeout} {
		switch {
		case o == playbook.Continue:
			cont = true
		case o != "" && o != playbook.Fail && handler == "":
			handler = o
		}
	}
	switch {
	case handler != "" && !slices.Contains(b.visiting, handler):
		a.OnSuccess = next
		b.visiting = append(b.visiting, handler)
		a.OnFailure = b.unit(b.pb.Step(handler), next, suffix+"@"+s.ID)
		b.visiting = b.visiting[:len(b.visiting)-1]
	case cont:
		a.OnCompletion = next
	default:
		a.OnSuccess = next // a failure goes to the playbook's exception: the run fails
	}
	return b.add("action", s.ID+suffix, a)
}

// group returns the agent of a certdesk role.
func (b *builder) group(role string) string {
	id := ID("group", b.pb.ID, "role:"+role)
	b.agents[id] = AgentTarget{Type: "group", Name: role, Description: "The users with the certdesk role " + role + " in the organisation that runs the playbook."}
	return id
}

// system returns the agent for the steps certdesk carries out itself.
func (b *builder) system() string {
	id := ID("organization", b.pb.ID, "certdesk")
	b.agents[id] = AgentTarget{Type: "organization", Name: "certdesk",
		Description: "certdesk carries out this step itself; a team without certdesk performs it by hand."}
	return id
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func manual(activity, command, description string) Command {
	return Command{Type: "manual", PlaybookActivity: activity, Command: command, Description: description}
}

// describe maps the step's action to a CACAO action step with its agent
// and command; routing is left to the caller.
func (b *builder) describe(s *playbook.Step) *Step {
	w := s.With
	a := &Step{Type: "action", Name: s.ID}
	switch s.Action {
	case playbook.ActionTaskCreate:
		b.summary.ManualPlaybook = true
		role := str(w, "assignee_role")
		if role == "" {
			role = "responder"
		}
		desc := str(w, "description")
		if due := str(w, "due"); due != "" {
			desc = strings.TrimSpace(desc + " Due " + due + " after the step starts.")
		}
		a.Agent = b.group(role)
		a.Commands = []Command{manual("", str(w, "title"), desc)}
	case playbook.ActionApproval:
		b.summary.ManualPlaybook = true
		a.Agent = b.group(str(w, "role"))
		a.Commands = []Command{manual("", str(w, "prompt"), "Approve or reject; a rejection fails the step.")}
	case playbook.ActionInput:
		b.summary.ManualPlaybook = true
		schema, _ := json.Marshal(w["schema"])
		a.Agent = b.group("responder")
		a.Commands = []Command{manual("analyze-collected-data", str(w, "prompt"),
			"The answer must satisfy this JSON Schema: "+string(schema))}
	case playbook.ActionNotify:
		a.Agent = b.system()
		a.Commands = []Command{manual("deliver-content",
			fmt.Sprintf("Notify %s with the message %q.", recipient(str(w, "to")), str(w, "template")), "")}
	case playbook.ActionEscalate:
		kind := str(w, "kind")
		if kind == "" {
			kind = "coordinate"
		}
		verb := "Hand coordination of the incident over to"
		if kind == "assist" {
			verb = "Ask for assistance from"
		}
		a.Agent = b.system()
		a.Commands = []Command{manual("", fmt.Sprintf("%s %s: %s", verb, recipient(str(w, "to")), str(w, "reason")), "")}
	case playbook.ActionSet:
		a.Agent = b.system()
		a.Commands = []Command{manual("", setCommand(w), "")}
	case playbook.ActionWait:
		a.Agent = b.system()
		f := str(w, "for")
		if d, err := playbook.ParseDuration(f); err == nil {
			a.Delay = d.Milliseconds()
			a.Commands = []Command{manual("", "Go on after "+f+".", "")}
			break
		}
		if t, err := playbook.ParseDuration(str(w, "timeout")); err == nil {
			a.Timeout = t.Milliseconds()
		}
		a.Commands = []Command{manual("", "Wait until "+waitEvent(f)+".", "")}
	case playbook.ActionWebhook:
		a.Agent = b.system()
		u, _ := url.Parse(str(w, "url"))
		target := ID("http-api", b.pb.ID, "webhook:"+s.ID)
		b.targets[target] = AgentTarget{Type: "http-api", Name: u.Host, Address: map[string][]string{"url": {u.String()}}}
		a.Targets = []string{target}
		body, _ := json.Marshal(w["body"])
		a.Commands = []Command{{Type: "http-api", Command: "POST " + u.RequestURI() + " HTTP/1.1",
			Headers: map[string][]string{"Content-Type": {"application/json"}}, Content: string(body),
			Description: "certdesk wraps the body in {delivery, playbook, version, run_id, step, incident, body} and signs it (X-Certdesk-Signature)."}}
	default:
		a.Agent = b.system()
		a.Commands = []Command{manual("", s.Action, "")}
	}
	return a
}

func recipient(to string) string {
	switch to {
	case playbook.ToReportingOrg:
		return "the reporting organisation"
	case playbook.ToCoordinatingOrg:
		return "the coordinating organisation"
	case playbook.ToParent:
		return "the CERT above the coordinating organisation"
	}
	return "the organisation " + to
}

func waitEvent(f string) string {
	switch {
	case f == playbook.WaitAcknowledgement:
		return "the incident is acknowledged"
	case strings.HasPrefix(f, playbook.WaitTaskDonePrefix):
		return "the task of step " + strings.TrimPrefix(f, playbook.WaitTaskDonePrefix) + " is done"
	case strings.HasPrefix(f, playbook.WaitStagePrefix):
		return "the incident reaches the stage " + strings.TrimPrefix(f, playbook.WaitStagePrefix)
	}
	return f
}

func setCommand(w map[string]any) string {
	var parts []string
	for _, k := range []string{"severity", "stage", "assignee"} {
		if v := str(w, k); v != "" {
			parts = append(parts, fmt.Sprintf("set the %s to %s", k, v))
		}
	}
	if tags, ok := w["tags"].([]any); ok {
		var ts []string
		for _, t := range tags {
			ts = append(ts, fmt.Sprint(t))
		}
		parts = append(parts, "add the tags "+strings.Join(ts, ", "))
	}
	if flags, ok := w["flags"].(map[string]any); ok {
		keys := make([]string, 0, len(flags))
		for k := range flags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("set the flag %s to %v", k, flags[k]))
		}
	}
	if len(parts) == 0 {
		return "Change the incident."
	}
	s := strings.Join(parts, "; ")
	return "On the incident: " + s + "."
}
