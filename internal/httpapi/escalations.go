package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

type escalationRequest struct {
	To                string `json:"to"`
	Kind              string `json:"kind"`
	Reason            string `json:"reason"`
	JoinsStrictCircle bool   `json:"joins_strict_circle"`
}

type escalationResponse struct {
	ID                string     `json:"id"`
	IncidentID        string     `json:"incident_id"`
	IncidentReference string     `json:"incident_reference"`
	IncidentTitle     *string    `json:"incident_title"`
	FromOrg           string     `json:"from_org"`
	ToOrg             string     `json:"to_org"`
	Kind              string     `json:"kind"`
	State             string     `json:"state"`
	Reason            string     `json:"reason"`
	RequestedBy       string     `json:"requested_by"`
	RequestedAt       time.Time  `json:"requested_at"`
	DecidedBy         *string    `json:"decided_by"`
	DecidedAt         *time.Time `json:"decided_at"`
	DecisionReason    *string    `json:"decision_reason"`
	ReturnedBy        *string    `json:"returned_by"`
	ReturnedAt        *time.Time `json:"returned_at"`
	ReturnReason      *string    `json:"return_reason"`
}

func strOrNil(s string, set bool) *string {
	if !set {
		return nil
	}
	return &s
}

func toEscalationResponse(e *escalation.Escalation) escalationResponse {
	return escalationResponse{
		ID: e.ID.String(), IncidentID: e.IncidentID.String(), IncidentReference: e.IncidentReference, IncidentTitle: e.IncidentTitle,
		FromOrg: e.FromOrgSlug, ToOrg: e.ToOrgSlug, Kind: string(e.Kind), State: string(e.State), Reason: e.Reason,
		RequestedBy: e.RequestedBy, RequestedAt: e.RequestedAt,
		DecidedBy: strOrNil(e.DecidedBy, e.DecidedAt != nil), DecidedAt: e.DecidedAt,
		DecisionReason: strOrNil(e.DecisionReason, e.DecidedAt != nil),
		ReturnedBy:     strOrNil(e.ReturnedBy, e.ReturnedAt != nil), ReturnedAt: e.ReturnedAt,
		ReturnReason: strOrNil(e.ReturnReason, e.ReturnedAt != nil),
	}
}

// requestEscalation answers POST /api/v1/incidents/{id}/escalations.
func (h *handlers) requestEscalation(c echo.Context) error {
	var req escalationRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	e, err := h.o.Escalations.Request(c.Request().Context(), principal(c), c.Param("id"), escalation.Ask{
		To: req.To, Kind: req.Kind, Reason: req.Reason, JoinsStrictCircle: req.JoinsStrictCircle})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/escalations/"+e.ID.String())
	return c.JSON(http.StatusCreated, toEscalationResponse(e))
}

// listEscalations answers GET /api/v1/escalations?direction=&state=.
func (h *handlers) listEscalations(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	es, next, err := h.o.Escalations.List(c.Request().Context(), principal(c),
		escalation.Filter{Direction: c.QueryParam("direction"), State: escalation.State(c.QueryParam("state"))},
		incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := struct {
		Escalations []escalationResponse `json:"escalations"`
		NextCursor  *string              `json:"next_cursor"`
	}{Escalations: make([]escalationResponse, len(es))}
	for i := range es {
		out.Escalations[i] = toEscalationResponse(&es[i])
	}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// getEscalation answers GET /api/v1/escalations/{id}.
func (h *handlers) getEscalation(c echo.Context) error {
	e, err := h.o.Escalations.Get(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toEscalationResponse(e))
}

// decide answers the accept, decline and return routes; their body is
// {"reason": "..."} (optional for accept).
func (h *handlers) decide(c echo.Context, do func(e echo.Context, reason string) (*escalation.Escalation, error)) error {
	var req reasonRequest
	if c.Request().ContentLength != 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	e, err := do(c, req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toEscalationResponse(e))
}

func (h *handlers) acceptEscalation(c echo.Context) error {
	return h.decide(c, func(c echo.Context, reason string) (*escalation.Escalation, error) {
		return h.o.Escalations.Accept(c.Request().Context(), principal(c), c.Param("id"), reason)
	})
}

func (h *handlers) declineEscalation(c echo.Context) error {
	return h.decide(c, func(c echo.Context, reason string) (*escalation.Escalation, error) {
		return h.o.Escalations.Decline(c.Request().Context(), principal(c), c.Param("id"), reason)
	})
}

func (h *handlers) returnEscalation(c echo.Context) error {
	return h.decide(c, func(c echo.Context, reason string) (*escalation.Escalation, error) {
		return h.o.Escalations.Return(c.Request().Context(), principal(c), c.Param("id"), reason)
	})
}

type policyResponse struct {
	Org         string                    `json:"org"`
	Rules       []escalation.RuleDocument `json:"rules"`
	UpdatedAt   *time.Time                `json:"updated_at"`
	UpdatedBy   *string                   `json:"updated_by"`
	AppliesFrom *string                   `json:"applies_from"`
}

func toPolicyResponse(op *escalation.OrgPolicy) policyResponse {
	out := policyResponse{Org: op.Org.Slug, Rules: op.Policy.Document().Rules}
	if !op.Policy.UpdatedAt.IsZero() {
		at, by := op.Policy.UpdatedAt, op.Policy.UpdatedBy
		out.UpdatedAt, out.UpdatedBy = &at, &by
	}
	if op.AppliesFrom != nil {
		s := op.AppliesFrom.Slug
		out.AppliesFrom = &s
	}
	return out
}

// getEscalationPolicy answers GET /api/v1/organizations/{slug}/escalation-policy.
func (h *handlers) getEscalationPolicy(c echo.Context) error {
	op, err := h.o.Escalations.GetPolicy(c.Request().Context(), principal(c), c.Param("slug"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPolicyResponse(op))
}

// putEscalationPolicy answers PUT /api/v1/organizations/{slug}/escalation-policy
// with the policy document as the body.
func (h *handlers) putEscalationPolicy(c echo.Context) error {
	var doc escalation.PolicyDocument
	if err := bindJSON(c, &doc); err != nil {
		return err
	}
	pol, err := doc.Policy()
	if err != nil {
		return err
	}
	op, err := h.o.Escalations.SetPolicy(c.Request().Context(), principal(c), c.Param("slug"), pol)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPolicyResponse(op))
}
