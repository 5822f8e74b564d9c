package httpapi

import (
	"net/http"
	"strconv"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/triage"
	"github.com/labstack/echo/v4"
)

// bulkRequest is the body of POST /api/v1/incidents/bulk: one action, its
// parameters (one set for every incident) and the incidents.
type bulkRequest struct {
	Action       string   `json:"action"`
	Incidents    []string `json:"incidents"`
	Assignee     string   `json:"assignee"`
	AssigneeTeam string   `json:"assignee_team"`
	Category     string   `json:"category"`
	Type         string   `json:"type"`
	Severity     string   `json:"severity"`
	TLP          string   `json:"tlp"`
	Resolution   string   `json:"resolution"`
	Reason       string   `json:"reason"`
}

// bulkItem is the result of one incident of a bulk request: status is the
// status the single call would have answered, problem its problem
// document when it failed.
type bulkItem struct {
	Incident  string         `json:"incident"`
	ID        *string        `json:"id"`
	Reference *string        `json:"reference"`
	Status    int            `json:"status"`
	Version   *int64         `json:"version"`
	Problem   map[string]any `json:"problem"`
}

type bulkResponse struct {
	Action    string     `json:"action"`
	Succeeded int        `json:"succeeded"`
	Failed    int        `json:"failed"`
	Results   []bulkItem `json:"results"`
}

// bulkIncidents runs one action on many incidents, each through the
// single call's use case and the write table (triage.Service.Bulk). The
// answer is 200 with one result per incident, in the order given, when
// the request itself is valid; an invalid request is a 422 and changes
// nothing.
func (h *handlers) bulkIncidents(c echo.Context) error {
	var req bulkRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	b := triage.Bulk{Action: triage.Action(req.Action), Incidents: req.Incidents, Assignee: req.Assignee, Team: req.AssigneeTeam,
		Category: req.Category, Type: req.Type, Severity: incident.Severity(req.Severity), TLP: incident.TLP(req.TLP),
		Resolution: req.Resolution, Reason: req.Reason}
	ctx := c.Request().Context()
	results, err := h.o.Triage.Bulk(ctx, principal(c), b)
	if err != nil {
		return err
	}
	out := bulkResponse{Action: req.Action, Results: make([]bulkItem, len(results))}
	for i, r := range results {
		item := bulkItem{Incident: r.Given, Status: http.StatusOK}
		if r.Err != nil {
			item.Status, item.Problem = itemProblem(r.Err)
			if item.Status >= 500 {
				h.o.Logger.ErrorContext(ctx, "bulk item failed", "err", r.Err, "incident", r.Given,
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			}
			out.Failed++
		} else {
			id, ref, v := r.Incident.ID.String(), r.Incident.Reference, r.Incident.Version
			item.ID, item.Reference = &id, &ref
			if v > 0 {
				item.Version = &v
			}
			out.Succeeded++
		}
		out.Results[i] = item
	}
	return c.JSON(http.StatusOK, out)
}

// itemProblem is the status and problem document of one failed item: what
// the single call would have answered (an internal error without its
// text).
func itemProblem(err error) (int, map[string]any) {
	code := apperr.CodeOf(err)
	status := statusOf[code]
	p := map[string]any{"type": "urn:certdesk:problem:" + string(code), "title": http.StatusText(status), "status": status}
	if ae, ok := apperr.As(err); ok && code != apperr.Internal {
		p["detail"] = ae.Message
		if len(ae.Fields) > 0 {
			fs := make([]FieldProblem, len(ae.Fields))
			for i, f := range ae.Fields {
				fs[i] = FieldProblem{Field: f.Field, Rule: f.Rule, Message: f.Message}
			}
			p["errors"] = fs
		}
		for k, v := range ae.Details {
			p[k] = v
		}
	} else {
		p["detail"] = "an internal error occurred; it has been logged (status " + strconv.Itoa(status) + ")"
	}
	return status, p
}
