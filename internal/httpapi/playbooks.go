package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/cacao"
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

func (h *handlers) listPlaybooks(c echo.Context) error {
	out := playbookList{Playbooks: []playbookSummary{}}
	for _, e := range h.o.Playbooks.Entries() {
		out.Playbooks = append(out.Playbooks, toPlaybookSummary(e))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) getPlaybook(c echo.Context) error {
	e, err := h.o.Playbooks.Entry(c.Param("id"))
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

// exportPlaybookCACAO answers GET /api/v1/playbooks/{id}/cacao: the
// playbook as a CACAO v2 playbook (internal/cacao), as a download. An
// invalid playbook is a 409.
func (h *handlers) exportPlaybookCACAO(c echo.Context) error {
	pb, err := h.o.Playbooks.Playbook(c.Param("id"))
	if err != nil {
		return err
	}
	body, err := cacao.Marshal(pb)
	if err != nil {
		return apperr.Wrap(err, "CACAO export")
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": pb.ID + ".cacao.json"}))
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
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

// dryRunPlaybook answers POST /api/v1/playbooks/{id}/dry-run. An unknown
// playbook is a 404 whatever the body.
func (h *handlers) dryRunPlaybook(c echo.Context) error {
	if _, err := h.o.Playbooks.Entry(c.Param("id")); err != nil {
		return err
	}
	var req dryRunRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := playbook.DryRunInput{Incident: req.Incident}
	if f := req.IncidentFields; f != nil {
		in.WhatIf = &playbook.WhatIf{Severity: f.Severity, Category: f.Category, Type: f.Type, Tags: f.Tags, TLP: f.TLP,
			Stage: f.Stage, Status: f.Status, ReportingOrg: f.ReportingOrg, CoordinatingOrg: f.CoordinatingOrg,
			PersonalDataBreach: f.Flags.PersonalDataBreach, Significant: f.Flags.Significant}
	}
	res, err := h.o.Playbooks.DryRun(c.Request().Context(), principal(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	var out dryRunResponse
	out.Playbook.ID, out.Playbook.Name, out.Playbook.Version = res.Playbook.ID, res.Playbook.Name, res.Playbook.Version
	if inc := res.Incident; inc != nil {
		out.Incident = &dryRunIncident{ID: inc.ID.String(), Reference: inc.Reference}
	}
	out.Triggered = res.Triggered
	out.Triggers = make([]dryRunTrigger, len(res.Triggers))
	for i, tr := range res.Triggers {
		out.Triggers[i] = dryRunTrigger{On: tr.Trigger.On, When: conditionSource(tr.Trigger.When), Fires: tr.Fires}
		if tr.Err != nil {
			msg := tr.Err.Error()
			out.Triggers[i].Error = &msg
		}
	}
	out.Steps = make([]dryRunStep, len(res.Steps))
	for i, ps := range res.Steps {
		st := dryRunStep{ID: ps.ID, Action: ps.Action, Needs: ps.Needs, Run: ps.Run}
		if st.Needs == nil {
			st.Needs = []string{}
		}
		if ps.Stage != "" {
			stage := ps.Stage
			st.Stage = &stage
		}
		if ps.Reason != "" {
			r := ps.Reason
			st.Reason = &r
		}
		out.Steps[i] = st
	}
	out.StepsToRun = res.StepsToRun
	return c.JSON(http.StatusOK, out)
}
