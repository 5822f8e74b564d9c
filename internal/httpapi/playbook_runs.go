package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/labstack/echo/v4"
)

// startRunRequest is the body of POST /api/v1/incidents/{id}/playbook-runs.
type startRunRequest struct {
	Playbook string `json:"playbook"`
}

// decideRequest is the body of POST .../playbook-runs/{runId}/approvals/{stepId}.
type decideRequest struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment"`
}

// answerRequest is the body of POST .../playbook-runs/{runId}/inputs/{stepId}.
type answerRequest struct {
	Answers map[string]any `json:"answers"`
}

type runStepResponse struct {
	ID         string         `json:"id"`
	Action     string         `json:"action"`
	Needs      []string       `json:"needs"`
	Status     string         `json:"status"`
	Attempts   int            `json:"attempts"`
	LastError  string         `json:"last_error"`
	Output     map[string]any `json:"output"`
	WaitingFor string         `json:"waiting_for"`
	JumpedFrom string         `json:"jumped_from"`
	StartedAt  *time.Time     `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
}

type runResponse struct {
	ID                string            `json:"id"`
	IncidentID        string            `json:"incident_id"`
	IncidentReference string            `json:"incident_reference"`
	Playbook          string            `json:"playbook"`
	Version           int               `json:"version"`
	Name              string            `json:"name"`
	ContentHash       string            `json:"content_hash"`
	Trigger           string            `json:"trigger"`
	State             string            `json:"state"`
	StartedBy         string            `json:"started_by"`
	StartedAt         time.Time         `json:"started_at"`
	FinishedAt        *time.Time        `json:"finished_at"`
	Error             string            `json:"error"`
	Steps             []runStepResponse `json:"steps"`
	Links             links             `json:"links"`
}

type runList struct {
	IncidentID string        `json:"incident_id"`
	Runs       []runResponse `json:"runs"`
}

func runURL(r *runbook.Run) string {
	return "/api/v1/incidents/" + r.IncidentID.String() + "/playbook-runs/" + r.ID.String()
}

func toRunResponse(r *runbook.Run) runResponse {
	out := runResponse{ID: r.ID.String(), IncidentID: r.IncidentID.String(), IncidentReference: r.IncidentReference,
		Playbook: r.PlaybookID, Version: r.Version, Name: r.Name, ContentHash: r.Hash, Trigger: r.Trigger,
		State: string(r.State), StartedBy: r.StartedByName, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Error: r.Error,
		Steps: make([]runStepResponse, len(r.Steps)),
		Links: links{"self": runURL(r), "incident": "/api/v1/incidents/" + r.IncidentID.String()}}
	for i, s := range r.Steps {
		needs := s.Needs
		if needs == nil {
			needs = []string{}
		}
		output := s.Output
		if output == nil {
			output = map[string]any{}
		}
		out.Steps[i] = runStepResponse{ID: s.ID, Action: s.Action, Needs: needs, Status: string(s.Status), Attempts: s.Attempts,
			LastError: s.LastError, Output: output, WaitingFor: s.WaitingFor, JumpedFrom: s.JumpedFrom,
			StartedAt: s.StartedAt, FinishedAt: s.FinishedAt}
	}
	return out
}

func (h *handlers) listRuns(c echo.Context) error {
	inc, rs, err := h.o.Runs.List(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := runList{IncidentID: inc.ID.String(), Runs: make([]runResponse, len(rs))}
	for i := range rs {
		out.Runs[i] = toRunResponse(&rs[i])
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) startRun(c echo.Context) error {
	var req startRunRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r, err := h.o.Runs.Start(c.Request().Context(), principal(c), c.Param("id"), req.Playbook)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, runURL(r))
	return c.JSON(http.StatusCreated, toRunResponse(r))
}

func (h *handlers) getRun(c echo.Context) error {
	r, err := h.o.Runs.Get(c.Request().Context(), principal(c), c.Param("id"), c.Param("runId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRunResponse(r))
}

func (h *handlers) cancelRun(c echo.Context) error {
	r, err := h.o.Runs.Cancel(c.Request().Context(), principal(c), c.Param("id"), c.Param("runId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRunResponse(r))
}

func (h *handlers) decideStep(c echo.Context) error {
	var req decideRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r, err := h.o.Runs.Decide(c.Request().Context(), principal(c), c.Param("id"), c.Param("runId"), c.Param("stepId"),
		runbook.Decision(req.Decision), req.Comment)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRunResponse(r))
}

func (h *handlers) answerStep(c echo.Context) error {
	var req answerRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r, err := h.o.Runs.Answer(c.Request().Context(), principal(c), c.Param("id"), c.Param("runId"), c.Param("stepId"), req.Answers)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRunResponse(r))
}
