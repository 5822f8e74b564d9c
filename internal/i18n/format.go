package i18n

import (
	"html/template"
	"time"
)

// Locale is how one person reads times: their language, their time zone
// and the time it is now. Pages build one per request and format every
// date, time, duration and deadline through it, so that a city officer
// in Berlin and a responder in Lisbon each read their own clock.
type Locale struct {
	*Printer
	Zone *time.Location
	Now  time.Time
}

// NewLocale returns the locale of a printer in zone at now (zone nil
// means UTC).
func NewLocale(p *Printer, zone *time.Location, now time.Time) Locale {
	if zone == nil {
		zone = time.UTC
	}
	return Locale{Printer: p, Zone: zone, Now: now}
}

// The layouts of dates and times are messages too (format.*), because
// languages write them differently: "14 Mar 2026" and "14.03.2026".
func (l Locale) layout(key string) string { return l.T(key) }

// Date formats the day of t in the locale's zone: "14 Mar 2026".
func (l Locale) Date(t time.Time) string { return t.In(l.Zone).Format(l.layout("format.date")) }

// Clock formats the time of day of t with the zone's abbreviation:
// "14:30 CET".
func (l Locale) Clock(t time.Time) string { return t.In(l.Zone).Format(l.layout("format.clock")) }

// DateTime formats t as a date and a time with the zone's abbreviation:
// "14 Mar 2026, 14:30 CET".
func (l Locale) DateTime(t time.Time) string { return t.In(l.Zone).Format(l.layout("format.datetime")) }

// UTC formats t in UTC the same way in every language, for the hover
// text beside a local time: "2026-03-14 13:30 UTC".
func UTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// timeElement wraps text in <time> with the machine-readable instant and
// the UTC time as its title (shown on hover).
func timeElement(t time.Time, text string) template.HTML {
	return template.HTML(`<time datetime="` + t.UTC().Format(time.RFC3339) + `" title="` +
		template.HTMLEscapeString(UTC(t)) + `">` + template.HTMLEscapeString(text) + `</time>`)
}

// ClockTime is Clock as a <time> element with the UTC time on hover.
func (l Locale) ClockTime(t time.Time) template.HTML { return timeElement(t, l.Clock(t)) }

// Day names the day of t for a heading: "Today", "Yesterday", else its
// date ("14 Mar 2026").
func (l Locale) Day(t time.Time) string {
	now, local := l.Now.In(l.Zone), t.In(l.Zone)
	day := func(x time.Time) time.Time { y, m, d := x.Date(); return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	switch day(local).Sub(day(now)) / (24 * time.Hour) {
	case 0:
		return l.T("time.today")
	case -1:
		return l.T("time.yesterday_day")
	}
	return l.Date(t)
}

// Size says how large n bytes are, as file managers do (1 KB = 1,024
// bytes): "512 bytes", "3.4 KB", "12 MB", "1.5 GB"; one decimal below 10,
// none above. The decimal separator is the language's (size.* messages
// take the whole and the tenths).
func (l Locale) Size(n int64) string {
	if n < 1024 {
		return l.T("size.bytes", n)
	}
	v, unit := float64(n)/1024, "kb"
	for _, u := range []string{"mb", "gb"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	tenths := int64(v*10 + 0.5)
	if tenths >= 100 {
		return l.T("size."+unit+"_whole", (tenths+5)/10)
	}
	return l.T("size."+unit, tenths/10, tenths%10)
}

// Time is DateTime as a <time> element with the UTC time on hover.
func (l Locale) Time(t time.Time) template.HTML { return timeElement(t, l.DateTime(t)) }

// TimePtr is Time for an optional time; nil gives the "not yet" text.
func (l Locale) TimePtr(t *time.Time) template.HTML { return l.TimeOr(t, "time.not_yet") }

// TimeOr is Time for an optional time; nil gives the message of key
// (a time not given is not a time still to come).
func (l Locale) TimeOr(t *time.Time, key string) template.HTML {
	if t == nil {
		return template.HTML(template.HTMLEscapeString(l.T(key)))
	}
	return l.Time(*t)
}

// Duration says how long d is in the largest two units that matter:
// "2 d 3 h", "5 h 12 min", "12 h", "12 min", "less than a minute". Negative
// durations are measured by their size.
func (l Locale) Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	d = d.Truncate(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0 && hours == 0:
		return l.T("duration.days", days)
	case days > 0:
		return l.T("duration.days_hours", days, hours)
	case hours > 0 && mins == 0:
		return l.T("duration.hours", hours)
	case hours > 0:
		return l.T("duration.hours_minutes", hours, mins)
	case mins > 0:
		return l.T("duration.minutes", mins)
	}
	return l.T("duration.under_minute")
}

// When says when t is, as short as the distance from now allows: the
// clock alone today ("14:30 CET"), "tomorrow 14:30 CET", "yesterday
// 14:30 CET", else the day and the clock ("12 Mar 2026, 14:30 CET").
func (l Locale) When(t time.Time) string {
	now, local := l.Now.In(l.Zone), t.In(l.Zone)
	// Calendar days apart in the zone, counted on UTC dates so that a
	// 23- or 25-hour day of a clock change counts as one.
	day := func(x time.Time) time.Time { y, m, d := x.Date(); return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	switch day(local).Sub(day(now)) / (24 * time.Hour) {
	case 0:
		return l.Clock(t)
	case 1:
		return l.T("time.tomorrow", l.Clock(t))
	case -1:
		return l.T("time.yesterday", l.Clock(t))
	}
	return l.DateTime(t)
}

// WhenTime is When as a <time> element with the UTC time on hover.
func (l Locale) WhenTime(t time.Time) template.HTML { return timeElement(t, l.When(t)) }

// Due says how a deadline stands: "due in 5 h 12 min (14:30 CET)" before
// it, "overdue by 2 h 3 min (14:30 CET)" after. It is the one way
// deadlines are written, on every page.
func (l Locale) Due(due time.Time) string {
	if due.After(l.Now) {
		return l.T("due.in", l.Duration(due.Sub(l.Now)), l.When(due))
	}
	return l.T("due.overdue", l.Duration(l.Now.Sub(due)), l.When(due))
}

// DueHTML is Due as a <time> element with the UTC time on hover.
func (l Locale) DueHTML(due time.Time) template.HTML { return timeElement(due, l.Due(due)) }
