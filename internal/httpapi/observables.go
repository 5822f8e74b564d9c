package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// createObservableRequest is the body of POST /api/v1/incidents/{id}/observables.
type createObservableRequest struct {
	Type    string   `json:"type"`
	Value   string   `json:"value"`
	TLP     string   `json:"tlp"`
	PAP     string   `json:"pap"`
	Sighted bool     `json:"sighted"`
	Tags    []string `json:"tags"`
	Note    string   `json:"note"`
}

// patchObservableRequest is the body of PATCH .../observables/{observable};
// absent or null fields stay as they are.
type patchObservableRequest struct {
	TLP     *string   `json:"tlp"`
	PAP     *string   `json:"pap"`
	Sighted *bool     `json:"sighted"`
	Tags    *[]string `json:"tags"`
	Note    *string   `json:"note"`
}

// observableResponse is an observable as the API shows it.
type observableResponse struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id"`
	Type       string    `json:"type"`
	Value      string    `json:"value"`
	TLP        string    `json:"tlp"`
	PAP        string    `json:"pap"`
	Sighted    bool      `json:"sighted"`
	Tags       []string  `json:"tags"`
	Note       string    `json:"note"`
	CreatedBy  *string   `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toObservableResponse(o *observable.Observable) observableResponse {
	r := observableResponse{ID: o.ID.String(), IncidentID: o.IncidentID.String(), Type: string(o.Type), Value: o.Value,
		TLP: string(o.TLP), PAP: string(o.PAP), Sighted: o.Sighted, Tags: o.Tags, Note: o.Note, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if r.Tags == nil {
		r.Tags = []string{}
	}
	if o.Creator != "" {
		s := o.Creator
		r.CreatedBy = &s
	}
	return r
}

func toObservableResponses(obs []observable.Observable) []observableResponse {
	out := make([]observableResponse, len(obs))
	for i := range obs {
		out[i] = toObservableResponse(&obs[i])
	}
	return out
}

type observableList struct {
	IncidentID  string               `json:"incident_id"`
	Reference   string               `json:"reference"`
	Observables []observableResponse `json:"observables"`
	NextCursor  *string              `json:"next_cursor"`
}

// observableID parses the {observable} path parameter. Anything but a UUID
// names no observable; the service still checks the incident and the role
// first, so the answer is the same as for an unknown UUID.
func observableID(c echo.Context) uuid.UUID {
	id, err := uuid.Parse(c.Param("observable"))
	if err != nil {
		return uuid.Nil
	}
	return id
}

func (h *handlers) listObservables(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	inc, obs, next, err := h.o.Observables.List(c.Request().Context(), principal(c), c.Param("id"),
		incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := observableList{IncidentID: inc.ID.String(), Reference: inc.Reference, Observables: toObservableResponses(obs)}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) addObservable(c echo.Context) error {
	var req createObservableRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	o, created, err := h.o.Observables.Add(c.Request().Context(), principal(c), c.Param("id"), observable.NewObservable{
		Type: observable.Type(req.Type), Value: req.Value, TLP: incident.TLP(req.TLP), PAP: incident.PAP(req.PAP), Sighted: req.Sighted,
		Tags: req.Tags, Note: req.Note,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/incidents/"+o.IncidentID.String()+"/observables/"+o.ID.String())
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, toObservableResponse(o))
}

func (h *handlers) patchObservable(c echo.Context) error {
	var req patchObservableRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	pt := observable.Patch{Sighted: req.Sighted, Tags: req.Tags, Note: req.Note}
	if req.TLP != nil {
		t := incident.TLP(*req.TLP)
		pt.TLP = &t
	}
	if req.PAP != nil {
		p := incident.PAP(*req.PAP)
		pt.PAP = &p
	}
	o, err := h.o.Observables.Update(c.Request().Context(), principal(c), c.Param("id"), observableID(c), pt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toObservableResponse(o))
}

func (h *handlers) deleteObservable(c echo.Context) error {
	if err := h.o.Observables.Remove(c.Request().Context(), principal(c), c.Param("id"), observableID(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// correlationResponse is the answer of GET /api/v1/observables.
type correlationResponse struct {
	SearchedFor []candidateBody `json:"searched_for"`
	Matches     []matchBody     `json:"matches"`
	NextCursor  *string         `json:"next_cursor"`
}

type candidateBody struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type matchBody struct {
	Observable observableResponse `json:"observable"`
	Incident   matchIncident      `json:"incident"`
}

type matchIncident struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Title     string `json:"title"`
	TLP       string `json:"tlp"`
}

func (h *handlers) searchObservables(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	cs, ms, next, err := h.o.Observables.Search(c.Request().Context(), principal(c), c.QueryParam("value"),
		observable.Type(c.QueryParam("type")), incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := correlationResponse{SearchedFor: make([]candidateBody, len(cs)), Matches: make([]matchBody, len(ms))}
	for i, cd := range cs {
		out.SearchedFor[i] = candidateBody{Type: string(cd.Type), Value: cd.Value}
	}
	for i := range ms {
		m := &ms[i]
		out.Matches[i] = matchBody{Observable: toObservableResponse(&m.Observable), Incident: matchIncident{
			ID: m.Incident.ID.String(), Reference: m.Incident.Reference, Title: m.Incident.Title, TLP: string(m.Incident.TLP)}}
	}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}
