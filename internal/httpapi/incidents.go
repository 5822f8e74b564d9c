package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/spreadsheet"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// createIncidentRequest is the body of POST /api/v1/incidents.
type createIncidentRequest struct {
	Title              string      `json:"title"`
	Description        string      `json:"description"`
	DescriptionHTML    string      `json:"description_html"`
	Stage              string      `json:"stage"`
	Severity           string      `json:"severity"`
	TLP                string      `json:"tlp"`
	PAP                string      `json:"pap"`
	DetectedAt         *time.Time  `json:"detected_at"`
	Category           string      `json:"category"`
	Type               string      `json:"type"`
	Tags               []string    `json:"tags"`
	AffectedAssets     []assetBody `json:"affected_assets"`
	PersonalDataBreach bool        `json:"personal_data_breach"`
	Significant        bool        `json:"significant"`
	AffectedPeople     *int64      `json:"affected_people"`
}

// assetBody is an affected asset.
type assetBody struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Criticality string `json:"criticality"`
}

func toAssets(bs []assetBody) []incident.Asset {
	out := make([]incident.Asset, len(bs))
	for i, b := range bs {
		out[i] = incident.Asset{Name: b.Name, Kind: incident.AssetKind(b.Kind), Criticality: incident.Severity(b.Criticality)}
	}
	return out
}

// deadlineBody is a legal deadline with the time left.
type deadlineBody struct {
	Kind         string     `json:"kind"`
	Basis        string     `json:"basis"`
	DueAt        time.Time  `json:"due_at"`
	State        string     `json:"state"`
	SecondsLeft  int64      `json:"seconds_left"`
	MetAt        *time.Time `json:"met_at"`
	MetReference *string    `json:"met_reference"`
}

// incidentResponse is an incident as the API shows it.
type incidentResponse struct {
	ID                 string         `json:"id"`
	Reference          string         `json:"reference"`
	Title              string         `json:"title"`
	Description        string         `json:"description"`
	DescriptionHTML    string         `json:"description_html"`
	ReportingOrg       string         `json:"reporting_org"`
	CoordinatingOrg    *string        `json:"coordinating_org"`
	Stage              string         `json:"stage"`
	Status             string         `json:"status"`
	Severity           string         `json:"severity"`
	TLP                string         `json:"tlp"`
	PAP                string         `json:"pap"`
	DetectedAt         *time.Time     `json:"detected_at"`
	ReportedAt         time.Time      `json:"reported_at"`
	AcknowledgedAt     *time.Time     `json:"acknowledged_at"`
	ClosedAt           *time.Time     `json:"closed_at"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
	Version            int64          `json:"version"`
	Category           string         `json:"category"`
	Type               string         `json:"type"`
	Tags               []string       `json:"tags"`
	AffectedAssets     []assetBody    `json:"affected_assets"`
	PersonalDataBreach bool           `json:"personal_data_breach"`
	Significant        bool           `json:"significant"`
	Assignee           *string        `json:"assignee"`
	AssigneeTeam       *teamRef       `json:"assignee_team"`
	NextDeadlineAt     *time.Time     `json:"next_deadline_at"`
	Resolution         string         `json:"resolution"`
	AffectedPeople     *int64         `json:"affected_people"`
	ExecutiveSummary   summaryBody    `json:"executive_summary"`
	Deadlines          []deadlineBody `json:"deadlines"`
	Links              links          `json:"links"`
}

// summaryBody is the executive summary of an incident.
type summaryBody struct {
	Status    string     `json:"status"`
	Impact    string     `json:"impact"`
	NextSteps string     `json:"next_steps"`
	UpdatedAt *time.Time `json:"updated_at"`
	UpdatedBy *string    `json:"updated_by"`
}

type links map[string]string

// teamRef names a team an incident or a task is assigned to.
type teamRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func toTeamRef(id *uuid.UUID, name string) *teamRef {
	if id == nil {
		return nil
	}
	return &teamRef{ID: id.String(), Name: name}
}

// toIncidentResponse renders the view of an incident (incident.Service.View).
func toIncidentResponse(v incident.View) incidentResponse {
	inc := &v.Incident
	r := incidentResponse{
		Category: inc.Category, Type: inc.Type, Tags: inc.Tags, PersonalDataBreach: inc.PersonalDataBreach,
		Significant: inc.Significant, Resolution: inc.Resolution, AffectedAssets: []assetBody{}, Deadlines: []deadlineBody{},
		ID: inc.ID.String(), Reference: inc.Reference, Title: inc.Title, Description: inc.Description,
		DescriptionHTML: inc.DescriptionHTML, ReportingOrg: inc.ReportingOrgSlug, Stage: string(inc.Stage),
		Status: string(inc.Status), Severity: string(inc.Severity), TLP: string(inc.TLP), PAP: string(inc.PAP), DetectedAt: inc.DetectedAt,
		ReportedAt: inc.ReportedAt, AcknowledgedAt: inc.AcknowledgedAt, ClosedAt: inc.ClosedAt, CreatedAt: inc.CreatedAt,
		UpdatedAt: inc.UpdatedAt, Version: inc.Version, AffectedPeople: inc.AffectedPeople,
		ExecutiveSummary: summaryBody{Status: inc.Summary.Status, Impact: inc.Summary.Impact, NextSteps: inc.Summary.NextSteps,
			UpdatedAt: inc.Summary.UpdatedAt},
		Links: links{
			"self":     "/api/v1/incidents/" + inc.ID.String(),
			"timeline": "/api/v1/incidents/" + inc.ID.String() + "/timeline",
		},
	}
	if inc.CoordinatingOrgSlug != "" {
		s := inc.CoordinatingOrgSlug
		r.CoordinatingOrg = &s
	}
	if inc.Summary.UpdatedBy != "" {
		by := inc.Summary.UpdatedBy
		r.ExecutiveSummary.UpdatedBy = &by
	}
	if r.Tags == nil {
		r.Tags = []string{}
	}
	if inc.AssigneeEmail != "" {
		a := inc.AssigneeEmail
		r.Assignee = &a
	}
	r.AssigneeTeam = toTeamRef(inc.AssigneeTeamID, inc.AssigneeTeamName)
	r.NextDeadlineAt = inc.NextDeadlineAt
	for _, a := range inc.Assets {
		r.AffectedAssets = append(r.AffectedAssets, assetBody{Name: a.Name, Kind: string(a.Kind), Criticality: string(a.Criticality)})
	}
	for _, d := range v.Deadlines {
		b := deadlineBody{Kind: string(d.Kind), Basis: d.Basis, DueAt: d.DueAt, State: string(d.State),
			SecondsLeft: int64(d.TimeLeft / time.Second)}
		if d.Met != nil {
			at, ref := d.Met.At, d.Met.Reference
			b.MetAt, b.MetReference = &at, &ref
		}
		r.Deadlines = append(r.Deadlines, b)
	}
	return r
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

func (h *handlers) createIncident(c echo.Context) error {
	ctx := c.Request().Context()
	var req createIncidentRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var idem *incident.IdempotencyKey
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKey || strings.IndexFunc(key, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
			return &apperr.Error{Code: apperr.Invalid, Message: "the Idempotency-Key header is too long",
				Fields: []apperr.FieldError{{Field: "Idempotency-Key", Rule: "format", Message: "at most 255 printable ASCII characters"}}}
		}
		canonical, _ := json.Marshal(req) // the decoded request: formatting differences don't matter
		sum := sha256.Sum256(canonical)
		idem = &incident.IdempotencyKey{Caller: callerKey(c), Key: key, RequestHash: hex.EncodeToString(sum[:])}
	}
	in := incident.NewIncident{
		Title: req.Title, Description: req.Description, Stage: incident.Stage(req.Stage),
		Severity: incident.Severity(req.Severity), TLP: incident.TLP(req.TLP), PAP: incident.PAP(req.PAP), DetectedAt: req.DetectedAt,
		Category: req.Category, Type: req.Type, Tags: req.Tags, Assets: toAssets(req.AffectedAssets),
		PersonalDataBreach: req.PersonalDataBreach, Significant: req.Significant, AffectedPeople: req.AffectedPeople,
	}
	inc, replayed, err := h.o.Incidents.Create(ctx, principal(c), in, idem)
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/incidents/"+inc.ID.String())
	c.Response().Header().Set("ETag", etag(inc.Version))
	return c.JSON(http.StatusCreated, toIncidentResponse(h.o.Incidents.View(inc)))
}

func (h *handlers) getIncident(c echo.Context) error {
	inc, err := h.o.Incidents.Get(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(inc.Version))
	return c.JSON(http.StatusOK, toIncidentResponse(h.o.Incidents.View(inc)))
}

// eventResponse is one timeline event.
type eventResponse struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	Actor      string          `json:"actor"`
	Data       json.RawMessage `json:"data"`
	OccurredAt time.Time       `json:"occurred_at"`
	RecordedAt time.Time       `json:"recorded_at"`
	Pinned     bool            `json:"pinned"`
}

func toEventResponse(ev incident.Event) eventResponse {
	return eventResponse{ID: ev.ID, Kind: string(ev.Kind), Actor: ev.Actor, Data: ev.Data, OccurredAt: ev.OccurredAt,
		RecordedAt: ev.RecordedAt, Pinned: ev.Pinned}
}

// pinEvent pins a timeline event as a key event (POST) or takes the pin
// off (DELETE), and answers the event.
func (h *handlers) pinEvent(c echo.Context) error {
	id, err := incident.ParseEventID(c.Param("eventId"))
	if err != nil {
		return err
	}
	ev, err := h.o.Incidents.Pin(c.Request().Context(), principal(c), c.Param("id"), id, c.Request().Method == http.MethodPost)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toEventResponse(*ev))
}

type timelineResponse struct {
	IncidentID string          `json:"incident_id"`
	Reference  string          `json:"reference"`
	Events     []eventResponse `json:"events"`
	NextCursor *string         `json:"next_cursor"`
}

func (h *handlers) timeline(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	var kinds []incident.EventKind
	for _, k := range strings.Split(c.QueryParam("kind"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds = append(kinds, incident.EventKind(k))
		}
	}
	inc, evs, next, err := h.o.Incidents.Timeline(c.Request().Context(), principal(c), c.Param("id"), kinds,
		incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := timelineResponse{IncidentID: inc.ID.String(), Reference: inc.Reference, Events: make([]eventResponse, len(evs))}
	for i, ev := range evs {
		out.Events[i] = toEventResponse(ev)
	}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

func queryInt(c echo.Context, name string, def int) (int, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, &apperr.Error{Code: apperr.Invalid, Message: "invalid query parameter",
			Fields: []apperr.FieldError{{Field: name, Rule: "integer", Message: name + " must be a non-negative whole number"}}}
	}
	return n, nil
}

type shareRequest struct {
	Org  string `json:"org"`
	Note string `json:"note"`
}

func (h *handlers) shareIncident(c echo.Context) error {
	var req shareRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	inc, err := h.o.Incidents.Share(c.Request().Context(), principal(c), c.Param("id"), req.Org, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"incident_id": inc.ID.String(), "org": req.Org, "note": req.Note})
}

type participantRequest struct {
	Email string `json:"email"`
}

func (h *handlers) addParticipant(c echo.Context) error {
	var req participantRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	inc, err := h.o.Incidents.AddParticipant(c.Request().Context(), principal(c), c.Param("id"), req.Email)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"incident_id": inc.ID.String(), "email": req.Email})
}

type incidentList struct {
	Incidents  []incidentResponse `json:"incidents"`
	NextCursor *string            `json:"next_cursor"`
}

// filterOf reads the list filters from the query string; a malformed
// value is a 422 naming the parameter.
func filterOf(c echo.Context) (incident.Filter, error) {
	q := c.QueryParam
	f := incident.Filter{Status: incident.Status(q("status")), Stage: incident.Stage(q("stage")),
		Severity: incident.Severity(q("severity")), TLP: incident.TLP(q("tlp")), PAP: incident.PAP(q("pap")), Category: q("category"), Type: q("type"),
		ReportingOrg: q("reporting_org"), CoordinatingOrg: q("coordinating_org"), Assignee: q("assignee"), Tag: q("tag"),
		Deadline: q("deadline"), Query: q("q"), Sort: incident.Sort(q("sort")), AssigneeTeam: q("assignee_team"),
		Constituency: q("constituency"), WorkOf: q("work_of"), EscalatedTo: q("escalated_to")}
	var fs apperr.Fields
	for name, dst := range map[string]**bool{"personal_data_breach": &f.PersonalDataBreach, "significant": &f.Significant,
		"acknowledged": &f.Acknowledged} {
		if v := q(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				fs.Add(name, "boolean", "%s must be true or false", name)
				continue
			}
			*dst = &b
		}
	}
	for name, dst := range map[string]**time.Time{"created_after": &f.CreatedAfter, "created_before": &f.CreatedBefore,
		"updated_after": &f.UpdatedAfter, "updated_before": &f.UpdatedBefore} {
		if v := q(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fs.Add(name, "date_time", "%s must be an RFC 3339 time such as 2026-11-22T00:00:00Z", name)
				continue
			}
			*dst = &t
		}
	}
	return f, fs.Err()
}

func (h *handlers) listIncidents(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	f, err := filterOf(c)
	if err != nil {
		return err
	}
	incs, next, err := h.o.Incidents.List(c.Request().Context(), principal(c), f, incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := incidentList{Incidents: make([]incidentResponse, len(incs))}
	for i, v := range h.o.Incidents.Views(incs) {
		out.Incidents[i] = toIncidentResponse(v)
	}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// maxCSVRows bounds one CSV export; narrow the filters for more.
const maxCSVRows = 100_000

var csvHeader = []string{"reference", "title", "reporting_org", "coordinating_org", "stage", "status", "severity", "tlp", "pap",
	"category", "type", "tags", "personal_data_breach", "significant", "assignee", "detected_at", "reported_at",
	"acknowledged_at", "closed_at", "updated_at"}

// exportCSV streams the filtered list as CSV, page by page, through the
// same visibility rule as the list.
func (h *handlers) exportCSV(c echo.Context) error {
	f, err := filterOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := principal(c)
	// The first page is read before anything is written, so that a bad
	// filter is still a problem document rather than a broken CSV.
	incs, next, err := h.o.Incidents.List(ctx, p, f, incident.Page{Limit: incident.MaxLimit})
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="incidents.csv"`)
	res.WriteHeader(http.StatusOK)
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	err = spreadsheet.WritePages(res, csvHeader, incs, next, func(after string) ([]incident.Incident, string, error) {
		return h.o.Incidents.List(ctx, p, f, incident.Page{After: after, Limit: incident.MaxLimit})
	}, func(inc *incident.Incident) []string {
		return []string{inc.Reference, inc.Title, inc.ReportingOrgSlug, inc.CoordinatingOrgSlug,
			string(inc.Stage), string(inc.Status), string(inc.Severity), string(inc.TLP), string(inc.PAP), inc.Category, inc.Type,
			strings.Join(inc.Tags, " "), strconv.FormatBool(inc.PersonalDataBreach), strconv.FormatBool(inc.Significant),
			inc.AssigneeEmail, ts(inc.DetectedAt), ts(&inc.ReportedAt), ts(inc.AcknowledgedAt), ts(inc.ClosedAt), ts(&inc.UpdatedAt)}
	}, maxCSVRows)
	if err != nil {
		h.o.Logger.ErrorContext(ctx, "csv export stopped", "err", err)
	}
	return nil // the status is sent; the truncated file is all we can do
}

// csvSafe defuses spreadsheet formulas (spreadsheet.Safe), so that an
// attacker's incident title cannot run in the reader's spreadsheet.
func csvSafe(cells []string) []string { return spreadsheet.Safe(cells) }
