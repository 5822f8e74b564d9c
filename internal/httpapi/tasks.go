package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/labstack/echo/v4"
)

// createTaskRequest is the body of POST /api/v1/incidents/{id}/tasks.
type createTaskRequest struct {
	Title        string  `json:"title"`
	Description  string  `json:"description"`
	Assignee     *string `json:"assignee"`
	AssigneeTeam *string `json:"assignee_team"`
	DueAt        *string `json:"due_at"`
}

// patchTaskRequest is the body of PATCH /api/v1/incidents/{id}/tasks/{taskId}.
// Absent or null title, description, status and position stay as they
// are; a null or empty assignee or due_at removes it.
type patchTaskRequest struct {
	Title       *string          `json:"title"`
	Description *string          `json:"description"`
	Assignee    optional[string] `json:"assignee"`
	// AssigneeTeam is a team's ID; null or "" removes the team.
	AssigneeTeam optional[string] `json:"assignee_team"`
	DueAt        optional[string] `json:"due_at"`
	Status       *string          `json:"status"`
	Position     *int             `json:"position"`
}

// optional is a PATCH field that tells absent (Set false) from null (Set
// and Null) from a value.
type optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// UnmarshalJSON implements json.Unmarshaler; it is only called for a field
// that is present.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// taskResponse is a task as the API shows it.
type taskResponse struct {
	ID                string     `json:"id"`
	IncidentID        string     `json:"incident_id"`
	IncidentReference string     `json:"incident_reference"`
	IncidentTitle     string     `json:"incident_title"`
	Title             string     `json:"title"`
	Description       string     `json:"description"`
	Assignee          *string    `json:"assignee"`
	AssigneeID        *string    `json:"assignee_id"`
	AssigneeTeam      *teamRef   `json:"assignee_team"`
	DueAt             *time.Time `json:"due_at"`
	Status            string     `json:"status"`
	Position          int        `json:"position"`
	CreatedBy         *string    `json:"created_by"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	CompletedAt       *time.Time `json:"completed_at"`
	Version           int64      `json:"version"`
	Links             links      `json:"links"`
}

func taskURL(t *task.Task) string {
	return "/api/v1/incidents/" + t.IncidentID.String() + "/tasks/" + t.ID.String()
}

func toTaskResponse(t *task.Task) taskResponse {
	r := taskResponse{
		ID: t.ID.String(), IncidentID: t.IncidentID.String(), IncidentReference: t.IncidentReference,
		IncidentTitle: t.IncidentTitle, Title: t.Title, Description: t.Description, DueAt: t.DueAt,
		Status: string(t.Status), Position: t.Position, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		CompletedAt: t.CompletedAt, Version: t.Version,
		Links: links{"self": taskURL(t), "incident": "/api/v1/incidents/" + t.IncidentID.String()},
	}
	if t.AssigneeID != nil {
		id, email := t.AssigneeID.String(), t.AssigneeEmail
		r.AssigneeID, r.Assignee = &id, &email
	}
	r.AssigneeTeam = toTeamRef(t.AssigneeTeamID, t.AssigneeTeamName)
	if t.CreatedByEmail != "" {
		by := t.CreatedByEmail
		r.CreatedBy = &by
	}
	return r
}

type incidentTaskList struct {
	IncidentID string         `json:"incident_id"`
	Reference  string         `json:"reference"`
	Tasks      []taskResponse `json:"tasks"`
	NextCursor *string        `json:"next_cursor"`
}

type taskQueue struct {
	Tasks      []taskResponse `json:"tasks"`
	NextCursor *string        `json:"next_cursor"`
}

func toTaskResponses(ts []task.Task) []taskResponse {
	out := make([]taskResponse, len(ts))
	for i := range ts {
		out[i] = toTaskResponse(&ts[i])
	}
	return out
}

func (h *handlers) listTasks(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	inc, ts, next, err := h.o.Tasks.List(c.Request().Context(), principal(c), c.Param("id"),
		task.StatusFilter(c.QueryParam("status")), incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := incidentTaskList{IncidentID: inc.ID.String(), Reference: inc.Reference, Tasks: toTaskResponses(ts)}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) createTask(c echo.Context) error {
	var req createTaskRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := task.NewTask{Title: req.Title, Description: req.Description}
	if req.Assignee != nil {
		in.Assignee = *req.Assignee
	}
	if req.AssigneeTeam != nil {
		in.AssigneeTeam = *req.AssigneeTeam
	}
	if req.DueAt != nil && *req.DueAt != "" {
		d, err := parseDueAt(*req.DueAt)
		if err != nil {
			return err
		}
		in.DueAt = &d
	}
	t, err := h.o.Tasks.Create(c.Request().Context(), principal(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, taskURL(t))
	c.Response().Header().Set("ETag", etag(t.Version))
	return c.JSON(http.StatusCreated, toTaskResponse(t))
}

func (h *handlers) getTask(c echo.Context) error {
	t, err := h.o.Tasks.Get(c.Request().Context(), principal(c), c.Param("id"), c.Param("taskId"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(t.Version))
	return c.JSON(http.StatusOK, toTaskResponse(t))
}

func (h *handlers) patchTask(c echo.Context) error {
	var req patchTaskRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ifVersion, err := ifMatchVersion(c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	p := task.Patch{Title: req.Title, Description: req.Description, Position: req.Position}
	if req.Status != nil {
		st := task.Status(*req.Status)
		p.Status = &st
	}
	if req.Assignee.Set {
		a := req.Assignee.Value // null and "" unassign
		p.Assignee = &a
	}
	if req.AssigneeTeam.Set {
		a := req.AssigneeTeam.Value // null and "" remove the team
		p.AssigneeTeam = &a
	}
	if req.DueAt.Set {
		if req.DueAt.Value == "" { // null or ""
			p.ClearDueAt = true
		} else {
			d, err := parseDueAt(req.DueAt.Value)
			if err != nil {
				return err
			}
			p.DueAt = &d
		}
	}
	t, err := h.o.Tasks.Update(c.Request().Context(), principal(c), c.Param("id"), c.Param("taskId"), p, ifVersion)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(t.Version))
	return c.JSON(http.StatusOK, toTaskResponse(t))
}

// parseDueAt reads an RFC 3339 time, naming the field when it is not one
// (the JSON decoder would blame the whole body).
func parseDueAt(s string) (time.Time, error) {
	d, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalidBody("due_at", "format", `due_at must be an RFC 3339 time such as "2026-11-22T06:00:00Z"`)
	}
	return d, nil
}

// ifMatchVersion reads the version an If-Match header asks for: nil
// without the header or for "*"; the ETag we send ("3"), also weak (W/"3")
// or unquoted (3). A header that names no version of ours can match
// nothing: it is a field error on If-Match. Several tags are refused, as a
// task has one current version.
func ifMatchVersion(h string) (*int64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return nil, nil
	}
	s := strings.TrimPrefix(h, "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 1 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "the If-Match header is not a task version",
			Fields: []apperr.FieldError{{Field: "If-Match", Rule: "format", Message: `send the ETag of the task, e.g. "3"`}}}
	}
	return &v, nil
}

func (h *handlers) taskQueue(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	if a := c.QueryParam("assignee"); a != "" && a != "me" {
		return &apperr.Error{Code: apperr.Invalid, Message: "invalid query parameter",
			Fields: []apperr.FieldError{{Field: "assignee", Rule: "enum", Message: "assignee must be me: the queue is the caller's own"}}}
	}
	f := task.QueueFilter{Status: task.StatusFilter(c.QueryParam("status")), Incident: c.QueryParam("incident")}
	ts, next, err := h.o.Tasks.Queue(c.Request().Context(), principal(c), f, incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := taskQueue{Tasks: toTaskResponses(ts)}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}
