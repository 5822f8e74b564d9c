package httpapi

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
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
	if format != "json" && format != "stix" {
		return &apperr.Error{Code: apperr.Invalid, Message: "invalid query parameter",
			Fields: []apperr.FieldError{{Field: "format", Rule: "enum", Message: "format must be json or stix"}}}
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
	body, err := stix.Encode(exp)
	if err != nil {
		return apperr.Wrap(err, "STIX export")
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`.stix.json"`)
	return c.Blob(http.StatusOK, stix.MediaType, body)
}
