package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/linking"
	"github.com/labstack/echo/v4"
)

// linkRequest is the body of POST .../links.
type linkRequest struct {
	Incident string `json:"incident"` // the other incident: UUID or reference
	Kind     string `json:"kind"`
}

// mergeRequest is the body of POST .../merge.
type mergeRequest struct {
	Into string `json:"into"` // the survivor: UUID or reference
}

// linkedIncident is the other end of a link, a suggestion or a campaign.
type linkedIncident struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Title     string `json:"title"`
	Stage     string `json:"stage"`
	Status    string `json:"status"`
	TLP       string `json:"tlp"`
}

func toLinked(o linking.Other) linkedIncident {
	return linkedIncident{ID: o.ID.String(), Reference: o.Reference, Title: o.Title, Stage: string(o.Stage), Status: string(o.Status), TLP: string(o.TLP)}
}

type linkResponse struct {
	ID        string         `json:"id"`
	Kind      string         `json:"kind"`
	Direction string         `json:"direction"`
	Incident  linkedIncident `json:"incident"`
	CreatedBy string         `json:"created_by"`
	CreatedAt time.Time      `json:"created_at"`
}

func toLinkResponse(l *linking.Link) linkResponse {
	return linkResponse{ID: l.ID.String(), Kind: string(l.Kind), Direction: string(l.Direction), Incident: toLinked(l.Other),
		CreatedBy: l.CreatedBy, CreatedAt: l.CreatedAt}
}

// mergedInto is what those who see a merged duplicate see of its survivor.
type mergedInto struct {
	MergeID   string    `json:"merge_id"`
	MergedAt  time.Time `json:"merged_at"`
	UndoUntil time.Time `json:"undo_until"`
	Reference string    `json:"reference"`
	Stage     string    `json:"stage"`
	Status    string    `json:"status"`
}

type linkList struct {
	IncidentID string         `json:"incident_id"`
	Reference  string         `json:"reference"`
	Links      []linkResponse `json:"links"`
	MergedInto *mergedInto    `json:"merged_into"`
}

func (h *handlers) listLinks(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	inc, ls, err := h.o.Links.List(ctx, p, c.Param("id"))
	if err != nil {
		return err
	}
	ms, err := h.o.Links.MergeStatusOf(ctx, p, inc)
	if err != nil {
		return err
	}
	out := linkList{IncidentID: inc.ID.String(), Reference: inc.Reference, Links: make([]linkResponse, len(ls))}
	for i := range ls {
		out.Links[i] = toLinkResponse(&ls[i])
	}
	if ms != nil {
		out.MergedInto = &mergedInto{MergeID: ms.MergeID.String(), MergedAt: ms.MergedAt, UndoUntil: ms.UndoUntil,
			Reference: ms.SurvivorRef, Stage: string(ms.SurvivorStage), Status: string(ms.SurvivorStatus)}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) createLink(c echo.Context) error {
	var req linkRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	l, created, err := h.o.Links.Link(c.Request().Context(), principal(c), c.Param("id"), req.Incident, linking.Kind(req.Kind))
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	return c.JSON(status, toLinkResponse(l))
}

func (h *handlers) deleteLink(c echo.Context) error {
	if err := h.o.Links.Unlink(c.Request().Context(), principal(c), c.Param("id"), c.Param("linkId")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type mergeResponse struct {
	MergeID           string    `json:"merge_id"`
	DuplicateID       string    `json:"duplicate_id"`
	SurvivorID        string    `json:"survivor_id"`
	ObservablesCopied int       `json:"observables_copied"`
	MergedAt          time.Time `json:"merged_at"`
	UndoUntil         time.Time `json:"undo_until"`
}

func (h *handlers) mergeIncident(c echo.Context) error {
	var req mergeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	m, err := h.o.Links.Merge(c.Request().Context(), principal(c), c.Param("id"), req.Into)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, mergeResponse{MergeID: m.ID.String(), DuplicateID: m.DuplicateID.String(), SurvivorID: m.SurvivorID.String(),
		ObservablesCopied: len(m.CopiedObservables), MergedAt: m.MergedAt, UndoUntil: m.MergedAt.Add(linking.UndoWindow)})
}

func (h *handlers) undoMerge(c echo.Context) error {
	if err := h.o.Links.UndoMerge(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type suggestionResponse struct {
	Incident          linkedIncident `json:"incident"`
	SameReporter      bool           `json:"same_reporter"`
	SharedObservables int            `json:"shared_observables"`
	TitleSimilarity   float64        `json:"title_similarity"`
}

func (h *handlers) duplicateSuggestions(c echo.Context) error {
	inc, ss, err := h.o.Links.Suggestions(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]suggestionResponse, len(ss))
	for i, s := range ss {
		out[i] = suggestionResponse{Incident: toLinked(s.Other), SameReporter: s.SameReporter, SharedObservables: s.SharedObservables,
			TitleSimilarity: s.TitleSimilarity}
	}
	return c.JSON(http.StatusOK, map[string]any{"incident_id": inc.ID.String(), "reference": inc.Reference, "suggestions": out})
}

type campaignIncident struct {
	linkedIncident
	ReportingOrg string    `json:"reporting_org"`
	CreatedAt    time.Time `json:"created_at"`
}

type campaignResponse struct {
	Type      string             `json:"type"`
	Value     string             `json:"value"`
	Incidents []campaignIncident `json:"incidents"`
}

func (h *handlers) campaigns(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	cs, err := h.o.Links.Campaigns(c.Request().Context(), principal(c), limit)
	if err != nil {
		return err
	}
	out := make([]campaignResponse, len(cs))
	for i, cp := range cs {
		out[i] = campaignResponse{Type: cp.Type, Value: cp.Value, Incidents: make([]campaignIncident, len(cp.Incidents))}
		for j, ci := range cp.Incidents {
			out[i].Incidents[j] = campaignIncident{linkedIncident: toLinked(ci.Other), ReportingOrg: ci.ReportingOrg, CreatedAt: ci.CreatedAt}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"campaigns": out})
}
