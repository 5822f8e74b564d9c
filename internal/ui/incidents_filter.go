package ui

import (
	"net/url"
	"strconv"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// listFilterParams are the incident list's filters in its URL: the names
// and meanings of the API's (GET /api/v1/incidents), so that a
// dashboard's drill-down (internal/dashboard.Drill) lands on the
// incidents its bar or cell counts.
var listFilterParams = []string{"status", "stage", "severity", "pap", "category", "significant", "personal_data_breach",
	"deadline", "reporting_org", "coordinating_org", "constituency", "created_after", "created_before"}

// listFilter reads the list's filters from the query string; it returns
// them also as a query (in a fixed order) for the pager's links. A
// malformed value is apperr.Invalid naming the parameter.
func listFilter(c echo.Context) (incident.Filter, url.Values, error) {
	q := c.QueryParam
	f := incident.Filter{Status: incident.Status(q("status")), Stage: incident.Stage(q("stage")),
		Severity: incident.Severity(q("severity")), PAP: incident.PAP(q("pap")), Category: q("category"), Deadline: q("deadline"),
		ReportingOrg: q("reporting_org"), CoordinatingOrg: q("coordinating_org"), Constituency: q("constituency"), Sort: incident.SortUpdatedDesc}
	kept := url.Values{}
	for _, name := range listFilterParams {
		if v := q(name); v != "" {
			kept.Set(name, v)
		}
	}
	var fs apperr.Fields
	for name, dst := range map[string]**bool{"personal_data_breach": &f.PersonalDataBreach, "significant": &f.Significant} {
		if v := q(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				fs.Add(name, "boolean", "%s must be true or false", name)
				continue
			}
			*dst = &b
		}
	}
	for name, dst := range map[string]**time.Time{"created_after": &f.CreatedAfter, "created_before": &f.CreatedBefore} {
		if v := q(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fs.Add(name, "date_time", "%s must be an RFC 3339 time such as 2026-11-22T00:00:00Z", name)
				continue
			}
			*dst = &t
		}
	}
	if err := fs.Err(); err != nil {
		return f, nil, err
	}
	return f, kept, f.Validate()
}
