package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// The reporting organisation's reports (docs/api.md, "Guided reports and
// legal reports"): the structured report an incident was reported with
// through the web UI's guided report, and the legal reports filed for its
// deadlines. Both are read by whoever may see the incident.

// reportItemResponse is one question as it was asked and its answer.
type reportItemResponse struct {
	Field    string   `json:"field"`
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Values   []string `json:"values"`
}

func toItems(items []incident.ReportItem) []reportItemResponse {
	out := make([]reportItemResponse, len(items))
	for i, it := range items {
		vals := it.Values
		if vals == nil {
			vals = []string{}
		}
		out[i] = reportItemResponse{Field: it.Field, Question: it.Question, Answer: it.Answer, Values: vals}
	}
	return out
}

// structuredReportResponse is GET /incidents/{id}/guided-report.
type structuredReportResponse struct {
	IncidentID      string               `json:"incident_id"`
	Reference       string               `json:"reference"`
	Language        string               `json:"language"`
	SubmittedBy     string               `json:"submitted_by"`
	SubmittedAt     time.Time            `json:"submitted_at"`
	PeopleAffected  *int64               `json:"people_affected"`
	RecordsAffected *int64               `json:"records_affected"`
	Questions       []reportItemResponse `json:"questions"`
}

func (h *handlers) getGuidedReport(c echo.Context) error {
	inc, r, err := h.o.Filings.Report(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, structuredReportResponse{IncidentID: inc.ID.String(), Reference: inc.Reference,
		Language: r.Language, SubmittedBy: r.SubmittedByName, SubmittedAt: r.SubmittedAt,
		PeopleAffected: r.PeopleAffected, RecordsAffected: r.RecordsAffected, Questions: toItems(r.Items)})
}

// legalReportResponse is one filed legal report.
type legalReportResponse struct {
	ID         string               `json:"id"`
	IncidentID string               `json:"incident_id"`
	Kind       string               `json:"kind"`
	Phase      int                  `json:"phase"`
	Language   string               `json:"language"`
	DueAt      time.Time            `json:"due_at"`
	FiledAt    time.Time            `json:"filed_at"`
	FiledBy    string               `json:"filed_by"`
	Late       bool                 `json:"late"`
	LateReason string               `json:"late_reason"`
	Questions  []reportItemResponse `json:"questions"`
}

func toLegalReport(r *incident.LegalReport) legalReportResponse {
	return legalReportResponse{ID: r.ID.String(), IncidentID: r.IncidentID.String(), Kind: string(r.Kind), Phase: r.Phase,
		Language: r.Language, DueAt: r.DueAt, FiledAt: r.FiledAt, FiledBy: r.FiledByName, Late: r.Late(),
		LateReason: r.LateReason, Questions: toItems(r.Items)}
}

// legalReportList is GET /incidents/{id}/legal-reports.
type legalReportList struct {
	IncidentID   string                `json:"incident_id"`
	Reference    string                `json:"reference"`
	LegalReports []legalReportResponse `json:"legal_reports"`
}

func (h *handlers) listLegalReports(c echo.Context) error {
	inc, rs, err := h.o.Incidents.LegalReports(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := legalReportList{IncidentID: inc.ID.String(), Reference: inc.Reference, LegalReports: make([]legalReportResponse, len(rs))}
	for i := range rs {
		out.LegalReports[i] = toLegalReport(&rs[i])
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) getLegalReport(c echo.Context) error {
	_, r, err := h.o.Incidents.LegalReport(c.Request().Context(), principal(c), c.Param("id"), c.Param("reportId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toLegalReport(r))
}
