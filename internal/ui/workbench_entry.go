package ui

import (
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// workbenchEntry adds a manual timeline entry ("attacker first seen
// 03:12"), at the day and time it happened in the reader's time zone
// (both empty: now). The entry sorts by when it happened; the timeline
// shows when it was recorded beside it.
func (u *UI) workbenchEntry(c echo.Context) error {
	form := workbenchForm{EntrySummary: c.FormValue("summary"), EntryDay: strings.TrimSpace(c.FormValue("day")),
		EntryClock: strings.TrimSpace(c.FormValue("time"))}
	fields := map[string]string{"summary": "wb-entry-summary", "occurred_at": "wb-entry-day", "time": "wb-entry-time"}
	var at *time.Time
	if form.EntryDay != "" || form.EntryClock != "" {
		clock := form.EntryClock
		if clock == "" {
			clock = "00:00"
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", form.EntryDay+" "+clock, u.locale(c).Zone)
		if err != nil {
			// Who may not add an entry learns nothing about the input.
			inc, gerr := u.o.Incidents.Get(c.Request().Context(), current(c).Principal, c.Param("ref"))
			if gerr != nil {
				return gerr
			}
			if werr := current(c).Principal.RequireWrite(access.AddTimelineEntry, inc.Relations); werr != nil {
				return werr
			}
			field := "occurred_at"
			if _, derr := time.Parse("2006-01-02", form.EntryDay); derr == nil {
				field = "time"
			}
			return u.workbenchAnswer(c, apperr.Fields{{Field: field, Rule: "format", Message: "a day (YYYY-MM-DD) and a time (HH:MM)"}}.Err(),
				"entry", form, fields, "wb-entry-summary")
		}
		at = &t
	}
	_, err := u.o.Incidents.AddEntry(c.Request().Context(), current(c).Principal, c.Param("ref"), form.EntrySummary, at)
	return u.workbenchAnswer(c, err, "entry", form, fields, "wb-entry-summary")
}
