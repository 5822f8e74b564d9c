package ui

import (
	"encoding/csv"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/spreadsheet"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/labstack/echo/v4"
)

// incidentSTIX downloads the incident and the observables the person may
// see as a STIX 2.1 bundle: the same bundle as the API's
// GET /api/v1/incidents/{id}/export?format=stix, for a CERT's tools (MISP,
// OpenCTI) and the partners it shares with.
func (u *UI) incidentSTIX(c echo.Context) error {
	exp, err := u.o.Observables.Export(c.Request().Context(), current(c).Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	body, err := stix.Encode(exp)
	if err != nil {
		return apperr.Wrap(err, "STIX export")
	}
	download(c, exp.Incident.Reference+".stix.json", string(exp.Incident.TLP))
	return c.Blob(http.StatusOK, stix.MediaType, body)
}

// incidentMISP downloads the incident and the observables the person may
// see as a MISP event: the same file as the API's
// GET /api/v1/incidents/{id}/export?format=misp.
func (u *UI) incidentMISP(c echo.Context) error {
	exp, err := u.o.Observables.Export(c.Request().Context(), current(c).Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	body, err := misp.Encode(exp)
	if err != nil {
		return apperr.Wrap(err, "MISP export")
	}
	download(c, exp.Incident.Reference+".misp.json", string(exp.Incident.TLP))
	return c.Blob(http.StatusOK, misp.MediaType, body)
}

// observablesCSVHeader names the columns of an incident's observables as
// CSV (the same in every language: the file is for programs as much as
// for people).
var observablesCSVHeader = []string{"type", "value", "tlp", "sighted", "tags", "note", "added_by", "added_at"}

// incidentObservablesCSV downloads the observables the person may see of
// one incident as CSV, values as stored (not defanged: the file is for
// block lists), cells a spreadsheet would run as a formula defused.
func (u *UI) incidentObservablesCSV(c echo.Context) error {
	exp, err := u.o.Observables.Export(c.Request().Context(), current(c).Principal, c.Param("ref"))
	if err != nil {
		return err
	}
	download(c, exp.Incident.Reference+"-observables.csv", string(exp.Incident.TLP))
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	_ = w.Write(observablesCSVHeader)
	for _, o := range exp.Observables {
		_ = w.Write(spreadsheet.Safe([]string{string(o.Type), o.Value, string(o.TLP), strconv.FormatBool(o.Sighted),
			strings.Join(o.Tags, " "), o.Note, o.Creator, o.CreatedAt.UTC().Format(time.RFC3339)}))
	}
	w.Flush()
	return w.Error()
}

// download names the response's file and carries the TLP label of what
// it holds.
func download(c echo.Context, filename, tlp string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	h.Set("X-TLP", tlp)
}
