package httpapi

import (
	"slices"
	"sort"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// incidentFilters are the query parameters of the incident list and its
// CSV export (filterOf reads them).
var incidentFilters = []string{"status", "stage", "severity", "tlp", "pap", "category", "type", "reporting_org",
	"coordinating_org", "assignee", "assignee_team", "tag", "personal_data_breach", "significant", "deadline", "acknowledged",
	"constituency", "work_of", "escalated_to", "created_after", "created_before", "updated_after", "updated_before", "q", "sort"}

// page are the query parameters of a keyset-paginated list.
var page = []string{"limit", "cursor"}

// queryParams lists, for each /api/v1 route that reads its query string
// (method and route pattern), the parameters it accepts. Every other
// route accepts none. docs/openapi.yaml documents exactly these; a test
// holds the two together (TestUnknownQueryParametersRefused).
var queryParams = map[string][]string{
	"GET /api/v1/incidents":                                   append(slices.Clone(incidentFilters), page...),
	"GET /api/v1/incidents.csv":                               incidentFilters,
	"GET /api/v1/incidents.misp.json":                         append(slices.Clone(incidentFilters), page...),
	"GET /api/v1/incidents/:id/timeline":                      append([]string{"kind"}, page...),
	"GET /api/v1/incidents/:id/attachments":                   page,
	"GET /api/v1/incidents/:id/observables":                   page,
	"GET /api/v1/incidents/:id/export":                        {"format"},
	"GET /api/v1/observables":                                 append([]string{"value", "type"}, page...),
	"GET /api/v1/incidents/:id/tasks":                         append([]string{"status"}, page...),
	"GET /api/v1/tasks":                                       append([]string{"assignee", "status", "incident"}, page...),
	"GET /api/v1/incidents/:id/comments":                      page,
	"GET /api/v1/incidents/:id/comments/:commentId/revisions": page,
	"GET /api/v1/audit":                                       append([]string{"actor", "action", "target_type", "target_id", "since", "until"}, page...),
	"GET /api/v1/notifications":                               append([]string{"incident"}, page...),
	"GET /api/v1/escalations":                                 append([]string{"direction", "state"}, page...),
	"GET /api/v1/playbooks/:id":                               {"format"},
	"GET /api/v1/stats/dashboard":                             statsParams(),
	"GET /api/v1/stats/response-times":                        statsParams("format"),
	"GET /api/v1/stats/deadlines":                             statsParams("format"),
	"GET /api/v1/stats/new-incidents":                         statsParams("format"),
	"GET /api/v1/stats/open":                                  statsParams("format"),
	"GET /api/v1/stats/sectors":                               statsParams("format"),
	"GET /api/v1/stats/regions":                               statsParams("format"),
	"GET /api/v1/stats/escalations":                           statsParams("format"),
	"GET /api/v1/stats/breaches":                              statsParams("format"),
	"GET /api/v1/stats/oldest-open":                           statsParams("format"),
	"GET /api/v1/stats/briefing.pdf":                          {"month"},
	"GET /api/v1/campaigns":                                   {"limit"},
}

// statsParams are the query parameters of the stats routes: the period,
// the grouping of time series, the length of the oldest-open list, and
// more.
func statsParams(more ...string) []string {
	return append(append(slices.Clone(statsPeriod), "group", "limit"), more...)
}

// queryParameters returns the query parameters a route accepts, sorted.
func queryParameters(method, route string) []string {
	out := slices.Clone(queryParams[method+" "+route])
	sort.Strings(out)
	return out
}

// knownQuery refuses, like unknown body fields, every query parameter the
// matched route does not accept: a 422 with one error per parameter, rule
// unknown_parameter. A misspelt or unsupported filter is thus never
// silently ignored (which would answer more than the caller asked for).
// Requests that match no route pass on to their 404.
func knownQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := c.Path()
		if !strings.HasPrefix(route, "/api/v1/") || strings.HasSuffix(route, "*") {
			return next(c)
		}
		q := c.QueryParams()
		if len(q) == 0 {
			return next(c)
		}
		allowed := queryParams[c.Request().Method+" "+route]
		names := make([]string, 0, len(q))
		for name := range q {
			if !slices.Contains(allowed, name) {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return next(c)
		}
		sort.Strings(names)
		var fs apperr.Fields
		for _, name := range names {
			fs.Add(name, "unknown_parameter", "%s is not a query parameter of this route", name)
		}
		return &apperr.Error{Code: apperr.Invalid, Message: "the request has unknown query parameters", Fields: fs}
	}
}
