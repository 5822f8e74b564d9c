package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/labstack/echo/v4"
)

// playbookError is one problem of a playbook file.
type playbookError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// playbookTrigger is a trigger as the API shows it.
type playbookTrigger struct {
	On   string  `json:"on"`
	When *string `json:"when"`
}

// playbookSummary is a catalogue entry as GET /api/v1/playbooks lists it.
type playbookSummary struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Version     int               `json:"version"`
	File        string            `json:"file"`
	Origin      string            `json:"origin"`
	Replaces    *string           `json:"replaces"`
	SHA256      string            `json:"sha256"`
	Valid       bool              `json:"valid"`
	Errors      []playbookError   `json:"errors"`
	Triggers    []playbookTrigger `json:"triggers"`
	StepCount   int               `json:"step_count"`
	Links       links             `json:"links"`
}

// playbookRetry is a step's retry policy.
type playbookRetry struct {
	Attempts int     `json:"attempts"`
	Backoff  *string `json:"backoff"`
}

// playbookStep is a step as GET /api/v1/playbooks/{id} shows it.
type playbookStep struct {
	ID        string         `json:"id"`
	Stage     *string        `json:"stage"`
	Needs     []string       `json:"needs"`
	When      *string        `json:"when"`
	Action    string         `json:"action"`
	With      map[string]any `json:"with"`
	Retry     playbookRetry  `json:"retry"`
	Timeout   *string        `json:"timeout"`
	OnFailure string         `json:"on_failure"`
	OnTimeout string         `json:"on_timeout"`
	Line      int            `json:"line"`
}

// playbookDetail is one playbook in full.
type playbookDetail struct {
	playbookSummary
	Steps  []playbookStep `json:"steps"`
	Source string         `json:"source"`
}

type playbookList struct {
	Playbooks []playbookSummary `json:"playbooks"`
}

func toPlaybookSummary(e *playbook.Entry) playbookSummary {
	s := playbookSummary{ID: e.ID, File: e.File, Origin: string(e.Origin), SHA256: e.SHA256, Valid: e.Valid,
		Errors: []playbookError{}, Triggers: []playbookTrigger{}, Links: links{}}
	if e.ID != "" {
		s.Links["self"] = "/api/v1/playbooks/" + e.ID
	}
	if e.Replaces != "" {
		r := e.Replaces
		s.Replaces = &r
	}
	for _, pe := range e.Errors {
		s.Errors = append(s.Errors, playbookError{File: pe.File, Line: pe.Line, Column: pe.Column, Message: pe.Msg})
	}
	if pb := e.Playbook; pb != nil {
		s.Name, s.Description, s.Version, s.StepCount = pb.Name, strings.TrimSpace(pb.Description), pb.Version, len(pb.Steps)
		for _, t := range pb.Triggers {
			s.Triggers = append(s.Triggers, playbookTrigger{On: t.On, When: conditionSource(t.When)})
		}
	}
	return s
}

func conditionSource(c *playbook.Condition) *string {
	if c == nil {
		return nil
	}
	s := c.Source
	return &s
}

// formatDuration writes d as a playbook would: 3d, 2h, 1h30m, 90s → 1m30s.
func formatDuration(d time.Duration) *string {
	if d <= 0 {
		return nil
	}
	var s string
	if d%(24*time.Hour) == 0 {
		s = fmt.Sprintf("%dd", d/(24*time.Hour))
	} else {
		s = d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
	}
	return &s
}

func toPlaybookDetail(e *playbook.Entry) playbookDetail {
	d := playbookDetail{playbookSummary: toPlaybookSummary(e), Steps: []playbookStep{}, Source: string(e.Source)}
	if e.Playbook == nil {
		return d
	}
	for _, st := range e.Playbook.Steps {
		ps := playbookStep{ID: st.ID, Needs: st.Needs, When: conditionSource(st.When), Action: st.Action, With: st.With,
			Retry:   playbookRetry{Attempts: st.Retry.Attempts, Backoff: formatDuration(st.Retry.Backoff)},
			Timeout: formatDuration(st.Timeout), OnFailure: st.OnFailure, OnTimeout: st.OnTimeout, Line: st.Pos.Line}
		if st.Stage != "" {
			stage := st.Stage
			ps.Stage = &stage
		}
		if ps.Needs == nil {
			ps.Needs = []string{}
		}
		if ps.With == nil {
			ps.With = map[string]any{}
		}
		d.Steps = append(d.Steps, ps)
	}
	return d
}

// playbookEntry returns the catalogue entry of the path's id, or 404.
func (h *handlers) playbookEntry(c echo.Context) (*playbook.Entry, error) {
	if h.o.Playbooks != nil {
		if e, ok := h.o.Playbooks.Entry(c.Param("id")); ok {
			return e, nil
		}
	}
	return nil, apperr.New(apperr.NotFound, "playbook %q not found", c.Param("id"))
}

func (h *handlers) listPlaybooks(c echo.Context) error {
	out := playbookList{Playbooks: []playbookSummary{}}
	if h.o.Playbooks != nil {
		for _, e := range h.o.Playbooks.Entries() {
			out.Playbooks = append(out.Playbooks, toPlaybookSummary(e))
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) getPlaybook(c echo.Context) error {
	e, err := h.playbookEntry(c)
	if err != nil {
		return err
	}
	switch c.QueryParam("format") {
	case "", "json":
		return c.JSON(http.StatusOK, toPlaybookDetail(e))
	case "yaml":
		return c.Blob(http.StatusOK, "application/yaml", e.Source)
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "invalid query parameter",
		Fields: []apperr.FieldError{{Field: "format", Rule: "enum", Message: "format must be json or yaml"}}}
}

// dryRunRequest is the body of POST /api/v1/playbooks/{id}/dry-run: an
// incident (ID or reference) or, for "what if", incident-like fields.
type dryRunRequest struct {
	Incident       *string             `json:"incident"`
	IncidentFields *dryRunIncidentSpec `json:"incident_fields"`
}

// dryRunIncidentSpec are the incident fields conditions read.
type dryRunIncidentSpec struct {
	Severity        string   `json:"severity"`
	Category        string   `json:"category"`
	Type            string   `json:"type"`
	Tags            []string `json:"tags"`
	TLP             string   `json:"tlp"`
	Stage           string   `json:"stage"`
	Status          string   `json:"status"`
	ReportingOrg    string   `json:"reporting_org"`
	CoordinatingOrg string   `json:"coordinating_org"`
	Flags           struct {
		PersonalDataBreach bool `json:"personal_data_breach"`
		Significant        bool `json:"significant"`
	} `json:"flags"`
}

type dryRunIncident struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
}

type dryRunTrigger struct {
	On    string  `json:"on"`
	When  *string `json:"when"`
	Fires bool    `json:"fires"`
	Error *string `json:"error"`
}

type dryRunStep struct {
	ID     string   `json:"id"`
	Action string   `json:"action"`
	Stage  *string  `json:"stage"`
	Needs  []string `json:"needs"`
	Run    bool     `json:"run"`
	Reason *string  `json:"reason"`
}

type dryRunResponse struct {
	Playbook struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Version int    `json:"version"`
	} `json:"playbook"`
	Incident   *dryRunIncident `json:"incident"`
	Triggered  map[string]bool `json:"triggered"`
	Triggers   []dryRunTrigger `json:"triggers"`
	Steps      []dryRunStep    `json:"steps"`
	StepsToRun int             `json:"steps_to_run"`
}

// whatIf validates the inline fields like a new incident's (defaults
// included) and returns the incident they describe.
func (s *dryRunIncidentSpec) whatIf(now time.Time) (incident.Incident, error) {
	n := incident.NewIncident{Title: "what if", Stage: incident.Stage(s.Stage), Severity: incident.Severity(s.Severity),
		TLP: incident.TLP(s.TLP), Category: s.Category, Type: s.Type, Tags: s.Tags,
		PersonalDataBreach: s.Flags.PersonalDataBreach, Significant: s.Flags.Significant}
	var fs apperr.Fields
	if err := n.Validate(now); err != nil {
		ae, ok := apperr.As(err)
		if !ok {
			return incident.Incident{}, err
		}
		for _, f := range ae.Fields {
			fs.Add("incident_fields."+f.Field, f.Rule, "%s", f.Message)
		}
	}
	status := incident.Status(s.Status)
	if status == "" {
		status = incident.Open
	}
	if status != incident.Open && status != incident.Closed {
		fs.Add("incident_fields.status", "enum", "incident_fields.status must be open or closed")
	}
	if err := fs.Err(); err != nil {
		return incident.Incident{}, err
	}
	return incident.Incident{Stage: n.Stage, Severity: n.Severity, TLP: n.TLP, Status: status, Category: n.Category,
		Type: n.Type, Tags: n.Tags, PersonalDataBreach: n.PersonalDataBreach, Significant: n.Significant,
		ReportingOrgSlug: s.ReportingOrg, CoordinatingOrgSlug: s.CoordinatingOrg}, nil
}

func (h *handlers) dryRunPlaybook(c echo.Context) error {
	e, err := h.playbookEntry(c)
	if err != nil {
		return err
	}
	var req dryRunRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	switch {
	case req.Incident == nil && req.IncidentFields == nil:
		return invalidBody("incident", "required", "give incident (an incident's ID or reference) or incident_fields")
	case req.Incident != nil && req.IncidentFields != nil:
		return invalidBody("incident_fields", "exclusive", "give either incident or incident_fields, not both")
	case req.Incident != nil && strings.TrimSpace(*req.Incident) == "":
		return invalidBody("incident", "required", "incident must be an incident's ID or reference")
	}
	if !e.Valid {
		return &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("playbook %q does not validate: fix it first (see its errors)", e.ID)}
	}
	var inc incident.Incident
	var out dryRunResponse
	if req.Incident != nil {
		got, err := h.o.Incidents.Get(c.Request().Context(), principal(c), strings.TrimSpace(*req.Incident))
		if err != nil {
			return err
		}
		inc = *got
		out.Incident = &dryRunIncident{ID: got.ID.String(), Reference: got.Reference}
	} else if inc, err = req.IncidentFields.whatIf(h.now()); err != nil {
		return err
	}
	pb := e.Playbook
	env := playbook.NewEnv(inc)
	out.Playbook.ID, out.Playbook.Name, out.Playbook.Version = pb.ID, pb.Name, pb.Version
	out.Triggered = map[string]bool{}
	out.Triggers = []dryRunTrigger{}
	ctx := c.Request().Context()
	for _, t := range pb.Triggers {
		tr := dryRunTrigger{On: t.On, When: conditionSource(t.When)}
		ok, err := t.When.Eval(ctx, env)
		if err != nil {
			msg := err.Error()
			tr.Error = &msg
		}
		tr.Fires = err == nil && ok
		// The event starts the playbook when any of its triggers fires
		// (what pb.Triggered says), without evaluating them twice.
		out.Triggered[t.On] = out.Triggered[t.On] || tr.Fires
		out.Triggers = append(out.Triggers, tr)
	}
	out.Steps = []dryRunStep{}
	for _, ps := range playbook.DryRun(ctx, pb, env) {
		s := dryRunStep{ID: ps.ID, Action: ps.Action, Needs: ps.Needs, Run: ps.Run}
		if s.Needs == nil {
			s.Needs = []string{}
		}
		if ps.Stage != "" {
			stage := ps.Stage
			s.Stage = &stage
		}
		if ps.Reason != "" {
			r := ps.Reason
			s.Reason = &r
		}
		if ps.Run {
			out.StepsToRun++
		}
		out.Steps = append(out.Steps, s)
	}
	return c.JSON(http.StatusOK, out)
}
