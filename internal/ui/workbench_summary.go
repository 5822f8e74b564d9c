package ui

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// workbenchSummary changes the executive summary (status · impact · next
// steps) as the API's executive_summary patch does: one summary_changed
// entry for the parts that changed.
func (u *UI) workbenchSummary(c echo.Context) error {
	form := workbenchForm{SumStatus: c.FormValue("status"), SumImpact: c.FormValue("impact"), SumNext: c.FormValue("next_steps")}
	patch := incident.Patch{Summary: &incident.SummaryPatch{Status: &form.SumStatus, Impact: &form.SumImpact, NextSteps: &form.SumNext}}
	_, err := u.o.Incidents.Update(c.Request().Context(), current(c).Principal, c.Param("ref"), patch, formVersion(c))
	return u.workbenchAnswer(c, err, "summary", form, map[string]string{"executive_summary.status": "wb-sum-status",
		"executive_summary.impact": "wb-sum-impact", "executive_summary.next_steps": "wb-sum-next"}, "wb-sum-status")
}
