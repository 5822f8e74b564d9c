package httpapi

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/misp"
	"github.com/labstack/echo/v4"
)

// mispImportIncident names the incident an import created or filled.
type mispImportIncident struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Title     string `json:"title"`
	TLP       string `json:"tlp"`
	Links     links  `json:"links"`
}

// mispSkipped is an attribute that did not become an observable.
type mispSkipped struct {
	UUID     string `json:"uuid"`
	Type     string `json:"type"`
	Category string `json:"category"`
	Value    string `json:"value"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
}

// mispImportResponse is the answer of both MISP imports.
type mispImportResponse struct {
	Incident     mispImportIncident `json:"incident"`
	Created      bool               `json:"created"`
	Added        int                `json:"added"`
	Merged       int                `json:"merged"`
	Skipped      []mispSkipped      `json:"skipped"`
	UnknownTypes []string           `json:"unknown_types"`
	IgnoredTags  []string           `json:"ignored_tags"`
}

// readMISP reads the request body as a MISP event file. The body is a
// foreign document: keys the import does not use are ignored, not refused
// like unknown fields of the API's own bodies. The API's body limit
// applies (413).
func readMISP(c echo.Context) (*misp.Parsed, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the MISP event as application/json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, decodeError(err)
	}
	return misp.Parse(body)
}

func toMISPImportResponse(r *misp.Result) mispImportResponse {
	inc := r.Incident
	out := mispImportResponse{Created: r.Created, Added: r.Added, Merged: r.Merged, Skipped: []mispSkipped{},
		UnknownTypes: append([]string{}, r.UnknownTypes...), IgnoredTags: append([]string{}, r.IgnoredTags...),
		Incident: mispImportIncident{ID: inc.ID.String(), Reference: inc.Reference, Title: inc.Title, TLP: string(inc.TLP),
			Links: links{"self": "/api/v1/incidents/" + inc.ID.String(), "observables": "/api/v1/incidents/" + inc.ID.String() + "/observables"}}}
	for _, s := range r.Skipped {
		out.Skipped = append(out.Skipped, mispSkipped{UUID: s.UUID, Type: s.Type, Category: s.Category, Value: s.Value, Reason: s.Reason, Message: s.Message})
	}
	return out
}

// importMISPNew answers POST /api/v1/incidents/misp: the event as a new
// incident of the caller's organisation (201).
func (h *handlers) importMISPNew(c echo.Context) error {
	ev, err := readMISP(c)
	if err != nil {
		return err
	}
	res, err := h.o.MISP.ImportNew(c.Request().Context(), principal(c), ev)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toMISPImportResponse(res))
}

// importMISPInto answers POST /api/v1/incidents/{id}/misp: the event's
// attributes as observables of the incident (200).
func (h *handlers) importMISPInto(c echo.Context) error {
	ev, err := readMISP(c)
	if err != nil {
		return err
	}
	res, err := h.o.MISP.ImportInto(c.Request().Context(), principal(c), c.Param("id"), ev)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMISPImportResponse(res))
}
