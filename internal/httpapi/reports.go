package httpapi

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/report"
	"github.com/labstack/echo/v4"
)

// sendPDF answers a report as a download, with the TLP label it carries.
func sendPDF(c echo.Context, doc *report.Document) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, contentDisposition(doc.Filename))
	h.Set("X-TLP", string(doc.TLP))
	return c.Blob(http.StatusOK, "application/pdf", doc.PDF)
}

// incidentReport is GET /api/v1/incidents/{id}/report.pdf.
func (h *handlers) incidentReport(c echo.Context) error {
	doc, err := h.o.Reports.IncidentReport(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return sendPDF(c, doc)
}

// briefing is GET /api/v1/stats/briefing.pdf?month=YYYY-MM.
func (h *handlers) briefing(c echo.Context) error {
	doc, err := h.o.Reports.Briefing(c.Request().Context(), principal(c), c.QueryParam("month"))
	if err != nil {
		return err
	}
	return sendPDF(c, doc)
}
