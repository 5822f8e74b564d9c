package httpapi

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/labstack/echo/v4"
)

// exportJSON is GET /api/v1/incidents/{id}/export?format=json: the
// incident and its observables in the API's own shapes.
type exportJSON struct {
	Incident    incidentResponse     `json:"incident"`
	Observables []observableResponse `json:"observables"`
}

func (h *handlers) exportIncident(c echo.Context) error {
	format := c.QueryParam("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "stix" && format != "misp" {
		return &apperr.Error{Code: apperr.Invalid, Message: "invalid query parameter",
			Fields: []apperr.FieldError{{Field: "format", Rule: "enum", Message: "format must be json, stix or misp"}}}
	}
	exp, err := h.o.Observables.Export(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	name := exp.Incident.Reference
	if format == "json" {
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.json"`)
		return c.JSON(http.StatusOK, exportJSON{Incident: toIncidentResponse(h.o.Incidents.View(exp.Incident)), Observables: toObservableResponses(exp.Observables)})
	}
	if format == "misp" {
		body, err := misp.Encode(exp)
		if err != nil {
			return apperr.Wrap(err, "MISP export")
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.misp.json"`)
		return c.Blob(http.StatusOK, misp.MediaType, body)
	}
	body, err := stix.Encode(exp)
	if err != nil {
		return apperr.Wrap(err, "STIX export")
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.stix.json"`)
	return c.Blob(http.StatusOK, stix.MediaType, body)
}

// maxMISPEvents bounds one page of GET /api/v1/incidents.misp.json: each
// event reads its incident's observables.
const maxMISPEvents = 100

// mispCollection is GET /api/v1/incidents.misp.json: one page of the
// filtered list as MISP events, in the shape of MISP's REST search, with
// the list's cursor for the next page.
type mispCollection struct {
	Response   []*misp.File `json:"response"`
	NextCursor *string      `json:"next_cursor"`
}

// exportMISPList answers a page of the incidents the caller sees under the
// list's filters as MISP events; each goes through the same export as
// GET /api/v1/incidents/{id}/export?format=misp (the visibility rule for
// the incident, the TLP rule for each observable).
func (h *handlers) exportMISPList(c echo.Context) error {
	limit, err := queryInt(c, "limit", 20)
	if err != nil {
		return err
	}
	if limit < 1 || limit > maxMISPEvents {
		return &apperr.Error{Code: apperr.Invalid, Message: "invalid query parameter",
			Fields: []apperr.FieldError{{Field: "limit", Rule: "range", Message: "limit must be 1 to 100"}}}
	}
	f, err := filterOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	incs, next, err := h.o.Incidents.List(ctx, p, f, incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := mispCollection{Response: []*misp.File{}}
	for i := range incs {
		exp, err := h.o.Observables.Export(ctx, p, incs[i].ID.String())
		if apperr.CodeOf(err) == apperr.NotFound {
			continue // gone or hidden since the list was read
		}
		if err != nil {
			return err
		}
		ev, err := misp.Build(exp)
		if err != nil {
			return apperr.Wrap(err, "MISP export")
		}
		out.Response = append(out.Response, ev)
	}
	if next != "" {
		out.NextCursor = &next
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="incidents.misp.json"`)
	return c.JSON(http.StatusOK, out)
}
