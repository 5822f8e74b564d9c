package ui

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/labstack/echo/v4"
)

// auditRow is one entry of the audit log as shown.
type auditRow struct {
	At                     template.HTML
	Actor, Action, Address string
	Target, Data           string
}

// auditView is the data of the audit log page.
type auditView struct {
	Actor, Action, TargetType, TargetID, Since, Until string
	Rows                                              []auditRow
	Filter                                            template.URL
	Filtered                                          bool
	Next                                              string
	Paged                                             bool
}

// adminAudit is the audit log (audit.Service.Read): newest first, 50 a
// page, filtered by actor, action, object and period in the URL. The
// service decides who reads it (the national CERT's administrators); the
// period's days are the reader's, both included.
func (u *UI) adminAudit(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	qp := func(k string) string { return strings.TrimSpace(c.QueryParam(k)) }
	v := &auditView{Actor: qp("actor"), Action: qp("action"), TargetType: qp("target_type"), TargetID: qp("target_id"),
		Since: qp("since"), Until: qp("until"), Paged: qp("after") != ""}
	pg := u.newPage(c, "admin_audit", "adminconf.audit.title")
	pg.Data = v
	q := audit.Query{Actor: v.Actor, Action: audit.Action(v.Action), TargetType: v.TargetType, TargetID: v.TargetID,
		After: qp("after"), Limit: 50}
	day := func(field, s string, next bool) *time.Time {
		if s == "" {
			return nil
		}
		d, err := time.ParseInLocation("2006-01-02", s, pg.L.Zone)
		if err != nil {
			pg.Errors = append(pg.Errors, fieldError{Field: field, Message: pg.L.T("adminconf.audit.err.date")})
			return nil
		}
		if next {
			d = d.AddDate(0, 0, 1)
		}
		return &d
	}
	q.Since, q.Until = day("since", v.Since, false), day("until", v.Until, true)
	filter := url.Values{}
	for k, val := range map[string]string{"actor": v.Actor, "action": v.Action, "target_type": v.TargetType,
		"target_id": v.TargetID, "since": v.Since, "until": v.Until} {
		if val != "" {
			filter.Set(k, val)
		}
	}
	v.Filter, v.Filtered = template.URL(filter.Encode()), len(filter) > 0
	if pg.Errors != nil {
		if err := p.Require(access.ReadAudit); err != nil {
			return err
		}
		return u.render(c, http.StatusBadRequest, pg)
	}
	entries, next, err := u.o.Audit.Read(c.Request().Context(), p, q)
	if err != nil {
		e, ok := apperr.As(err)
		if !ok || e.Code != apperr.Invalid {
			return err
		}
		for _, f := range e.Fields {
			field := f.Field
			if field == "cursor" {
				field = "actor"
			}
			key := "adminconf.audit.err." + f.Field
			if !u.o.Catalogue.Has(key) {
				key = "adminconf.audit.err.text"
			}
			pg.Errors = append(pg.Errors, fieldError{Field: field, Message: pg.L.T(key)})
		}
		return u.render(c, http.StatusBadRequest, pg)
	}
	for _, e := range entries {
		r := auditRow{At: pg.L.Time(e.At), Actor: e.Actor, Action: string(e.Action), Address: e.RemoteAddr,
			Target: strings.TrimSpace(e.TargetType + " " + e.TargetID)}
		if d := string(e.Data); d != "" && d != "null" && d != "{}" {
			if r := []rune(d); len(r) > 400 {
				d = string(r[:400]) + "…"
			}
			r.Data = d
		}
		v.Rows = append(v.Rows, r)
	}
	v.Next = next
	return u.render(c, http.StatusOK, pg)
}
