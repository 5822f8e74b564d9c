package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/taxonomy"
	"github.com/labstack/echo/v4"
)

// ifMatch reads the If-Match header: a version as the ETag gives it ("3",
// W/"3"), or * for any. Absent or *: nil (no check).
func ifMatch(c echo.Context) (*int64, error) {
	h := strings.TrimSpace(c.Request().Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil, nil
	}
	v := strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return nil, invalidBody("If-Match", "format", `If-Match must be the incident's ETag, e.g. "3"`)
	}
	return &n, nil
}

// respondIncident answers with the incident and its ETag.
func (h *handlers) respondIncident(c echo.Context, status int, inc *incident.Incident) error {
	c.Response().Header().Set("ETag", etag(inc.Version))
	return c.JSON(status, toIncidentResponse(h.o.Incidents.View(inc)))
}

// patchFields are the members a merge patch of an incident may hold.
var patchFields = map[string]bool{"title": true, "description": true, "severity": true, "tlp": true, "pap": true, "category": true,
	"type": true, "detected_at": true, "tags": true, "affected_assets": true, "personal_data_breach": true,
	"significant": true, "assignee": true, "affected_people": true, "executive_summary": true,
	"assignee_team": true}

// summaryParts are the members of an executive_summary patch.
var summaryParts = map[string]bool{"status": true, "impact": true, "next_steps": true}

// patchIncident applies an RFC 7396 JSON merge patch: members present are
// set, null clears (where a field can be empty), absent members stay.
func (h *handlers) patchIncident(c echo.Context) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/merge-patch+json" && mt != "application/json") {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the body as application/merge-patch+json")
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return decodeError(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return decodeError(err)
	}
	if raw == nil {
		return invalidBody("body", "type", "the body must be a JSON object")
	}
	var fs apperr.Fields
	var p incident.Patch
	for k, v := range raw {
		null := bytes.Equal(bytes.TrimSpace(v), []byte("null"))
		if k == "stage" || k == "status" {
			fs.Add(k, "read_only", "%s changes through POST .../transitions, .../close and .../reopen", k)
			continue
		}
		if !patchFields[k] {
			fs.Add(k, "unknown_field", "%s is not a field of this request", k)
			continue
		}
		decode := func(dst any) bool {
			if err := json.Unmarshal(v, dst); err != nil {
				fs.Add(k, "type", "%s has the wrong type", k)
				return false
			}
			return true
		}
		switch k {
		case "title", "description", "category", "type", "assignee", "assignee_team":
			s := ""
			if !null && !decode(&s) {
				continue
			}
			switch k {
			case "title":
				p.Title = &s
			case "description":
				p.Description = &s
			case "category":
				p.Category = &s
			case "type":
				p.Type = &s
			case "assignee":
				p.Assignee = &s
			case "assignee_team":
				p.AssigneeTeam = &s
			}
		case "severity":
			var s incident.Severity
			if null {
				fs.Add(k, "required", "severity cannot be removed")
			} else if decode(&s) {
				p.Severity = &s
			}
		case "tlp":
			var t incident.TLP
			if null {
				fs.Add(k, "required", "tlp cannot be removed")
			} else if decode(&t) {
				p.TLP = &t
			}
		case "pap":
			var pap incident.PAP
			if null {
				fs.Add(k, "required", "pap cannot be removed")
			} else if decode(&pap) {
				p.PAP = &pap
			}
		case "detected_at":
			if null {
				p.ClearDetectedAt = true
			} else {
				var t time.Time
				if decode(&t) {
					p.DetectedAt = &t
				}
			}
		case "tags":
			tags := []string{}
			if !null && !decode(&tags) {
				continue
			}
			p.Tags = &tags
		case "affected_assets":
			var bs []assetBody
			if !null && !decode(&bs) {
				continue
			}
			as := toAssets(bs)
			p.Assets = &as
		case "affected_people":
			if null {
				p.ClearAffectedPeople = true
				continue
			}
			var n int64
			if decode(&n) {
				p.AffectedPeople = &n
			}
		case "executive_summary":
			p.Summary = summaryPatchOf(v, null, &fs)
		case "personal_data_breach", "significant":
			var b bool
			if null {
				fs.Add(k, "required", "%s is true or false", k)
				continue
			}
			if decode(&b) {
				if k == "significant" {
					p.Significant = &b
				} else {
					p.PersonalDataBreach = &b
				}
			}
		}
	}
	if err := fs.Err(); err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	inc, err := h.o.Incidents.Update(c.Request().Context(), principal(c), c.Param("id"), p, version)
	if err != nil {
		return err
	}
	return h.respondIncident(c, http.StatusOK, inc)
}

// summaryPatchOf reads the executive_summary member of a merge patch: an
// object whose members status, impact and next_steps set those parts
// (null empties one); null empties all three.
func summaryPatchOf(v json.RawMessage, null bool, fs *apperr.Fields) *incident.SummaryPatch {
	empty := ""
	if null {
		return &incident.SummaryPatch{Status: &empty, Impact: &empty, NextSteps: &empty}
	}
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(v, &parts); err != nil || parts == nil {
		fs.Add("executive_summary", "type", "executive_summary must be an object with status, impact and next_steps")
		return nil
	}
	sp := &incident.SummaryPatch{}
	for name, raw := range parts {
		if !summaryParts[name] {
			fs.Add("executive_summary."+name, "unknown_field", "%s is not a part of the executive summary (status, impact, next_steps)", name)
			continue
		}
		s := ""
		if !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			if err := json.Unmarshal(raw, &s); err != nil {
				fs.Add("executive_summary."+name, "type", "executive_summary.%s must be a string", name)
				continue
			}
		}
		switch name {
		case "status":
			sp.Status = &s
		case "impact":
			sp.Impact = &s
		case "next_steps":
			sp.NextSteps = &s
		}
	}
	return sp
}

type transitionRequest struct {
	To     string `json:"to"`
	Reason string `json:"reason"`
}

func (h *handlers) transition(c echo.Context) error {
	var req transitionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	inc, err := h.o.Incidents.Transition(c.Request().Context(), principal(c), c.Param("id"), incident.Stage(req.To), req.Reason, version)
	if err != nil {
		return err
	}
	return h.respondIncident(c, http.StatusOK, inc)
}

type closeRequest struct {
	Resolution string `json:"resolution"`
}

func (h *handlers) closeIncident(c echo.Context) error {
	var req closeRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	inc, err := h.o.Incidents.Close(c.Request().Context(), principal(c), c.Param("id"), req.Resolution, version)
	if err != nil {
		return err
	}
	return h.respondIncident(c, http.StatusOK, inc)
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

func (h *handlers) reopenIncident(c echo.Context) error {
	var req reasonRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	inc, err := h.o.Incidents.Reopen(c.Request().Context(), principal(c), c.Param("id"), req.Reason, version)
	if err != nil {
		return err
	}
	return h.respondIncident(c, http.StatusOK, inc)
}

func (h *handlers) acknowledge(c echo.Context) error {
	inc, err := h.o.Incidents.Acknowledge(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return h.respondIncident(c, http.StatusOK, inc)
}

type deadlineMetRequest struct {
	Reference string `json:"reference"`
}

func (h *handlers) deadlineMet(c echo.Context) error {
	var req deadlineMetRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	inc, err := h.o.Incidents.MarkDeadlineMet(c.Request().Context(), principal(c), c.Param("id"),
		incident.DeadlineKind(c.Param("kind")), req.Reference)
	if err != nil {
		return err
	}
	return h.respondIncident(c, http.StatusOK, inc)
}

type entryRequest struct {
	Summary    string     `json:"summary"`
	OccurredAt *time.Time `json:"occurred_at"`
}

func (h *handlers) addEntry(c echo.Context) error {
	var req entryRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ev, err := h.o.Incidents.AddEntry(c.Request().Context(), principal(c), c.Param("id"), req.Summary, req.OccurredAt)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toEventResponse(*ev))
}

func (h *handlers) taxonomy(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"rsit": taxonomy.RSIT, "tlp": incident.TLPs, "pap": incident.PAPs,
		"severities": incident.Severities, "stages": incident.Stages, "asset_kinds": incident.AssetKinds,
		"deadline_kinds": incident.DeadlineKinds})
}
