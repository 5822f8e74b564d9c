package stats

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
)

// Period is a run of whole calendar days [From, To) in the viewer's time
// zone; both are midnight UTC standing for the local date (LocalDay).
type Period struct {
	From, To time.Time
}

// Days is the number of days in the period.
func (p Period) Days() int { return int(p.To.Sub(p.From).Hours()/24 + 0.5) }

// Contains reports whether the calendar day d is in the period.
func (p Period) Contains(d time.Time) bool { return !d.Before(p.From) && d.Before(p.To) }

// String is the period in ISO 8601 interval form with the last day
// included: 2026-11-01/2026-11-30.
func (p Period) String() string {
	return p.From.Format(time.DateOnly) + "/" + p.To.AddDate(0, 0, -1).Format(time.DateOnly)
}

// Span is the period asked for and the one before it: the same number of
// days for a duration or from/to, the calendar month or year before for a
// month or a year (docs/metrics.md).
type Span struct {
	Current, Previous Period
	// Asked is how the period was given: an ISO 8601 duration (P30D), a
	// month (2026-11) or from/to dates.
	Asked string
}

// MaxDays bounds a period (three years).
const MaxDays = 1100

// PeriodInput is how a caller names a period: at most one of Period (an
// ISO 8601 duration of whole days, months, weeks or years ending today:
// P30D, P4W, P1M, P1Y), Month (YYYY-MM) or From and To (YYYY-MM-DD, To
// exclusive; To alone ends a 30-day period, From alone runs to today).
// Nothing given means P30D.
type PeriodInput struct {
	Period, From, To, Month string
}

var durationRE = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$`)

// Resolve turns the input into a span, given the viewer's today (a
// calendar day). A malformed or empty period is apperr.Invalid naming the
// parameter.
func (in PeriodInput) Resolve(today time.Time) (Span, error) {
	var fs apperr.Fields
	given := 0
	for _, v := range []string{in.Period, in.Month} {
		if v != "" {
			given++
		}
	}
	if in.From != "" || in.To != "" {
		given++
	}
	if given > 1 {
		fs.Add("period", "exclusive", "give one of period, month, or from/to")
		return Span{}, fs.Err()
	}
	tomorrow := today.AddDate(0, 0, 1)
	switch {
	case in.Month != "":
		m, err := time.Parse("2006-01", in.Month)
		if err != nil {
			fs.Add("month", "format", "month must be a calendar month such as 2026-11")
			return Span{}, fs.Err()
		}
		cur := Period{m, m.AddDate(0, 1, 0)}
		return Span{Current: cur, Previous: Period{m.AddDate(0, -1, 0), m}, Asked: in.Month}, nil
	case in.From != "" || in.To != "":
		from, to := today.AddDate(0, 0, -29), tomorrow
		var err error
		if in.To != "" {
			if to, err = time.Parse(time.DateOnly, in.To); err != nil {
				fs.Add("to", "format", "to must be a date such as 2026-12-01 (the first day after the period)")
			}
			from = to.AddDate(0, 0, -30)
		}
		if in.From != "" {
			if from, err = time.Parse(time.DateOnly, in.From); err != nil {
				fs.Add("from", "format", "from must be a date such as 2026-11-01")
			}
		}
		if err := fs.Err(); err != nil {
			return Span{}, err
		}
		if !from.Before(to) {
			fs.Add("to", "after_from", "to must be after from")
			return Span{}, fs.Err()
		}
		cur := Period{from, to}
		if cur.Days() > MaxDays {
			fs.Add("from", "max_days", "a period is at most %d days", MaxDays)
			return Span{}, fs.Err()
		}
		return Span{Current: cur, Previous: Period{from.AddDate(0, 0, -cur.Days()), from},
			Asked: from.Format(time.DateOnly) + "/" + to.Format(time.DateOnly)}, nil
	}
	asked := strings.ToUpper(strings.TrimSpace(in.Period))
	if asked == "" {
		asked = "P30D"
	}
	y, m, d, ok := parseDuration(asked)
	if !ok {
		fs.Add("period", "iso8601_duration", "period must be an ISO 8601 duration of whole days, weeks, months or years, such as P30D, P4W, P1M or P1Y")
		return Span{}, fs.Err()
	}
	from := tomorrow.AddDate(-y, -m, -d)
	cur := Period{from, tomorrow}
	if cur.Days() > MaxDays {
		fs.Add("period", "max_days", "a period is at most %d days", MaxDays)
		return Span{}, fs.Err()
	}
	return Span{Current: cur, Previous: Period{from.AddDate(-y, -m, -d), from}, Asked: asked}, nil
}

// parseDuration reads PnYnMnWnD (at least one part, not all zero).
func parseDuration(s string) (years, months, days int, ok bool) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil || s == "P" {
		return 0, 0, 0, false
	}
	n := func(i int) int {
		if m[i] == "" {
			return 0
		}
		v, err := strconv.Atoi(m[i])
		if err != nil || v > 100_000 {
			return -1
		}
		return v
	}
	years, months, days = n(1), n(2), n(3)*7+n(4)
	if n(3) < 0 || n(4) < 0 || years < 0 || months < 0 || years+months+days == 0 {
		return 0, 0, 0, false
	}
	return years, months, days, true
}

// Grouping is the width of a time series' buckets.
type Grouping string

// The groupings.
const (
	ByDay   Grouping = "day"
	ByWeek  Grouping = "week" // ISO weeks, Monday to Sunday
	ByMonth Grouping = "month"
)

// Groupings lists the groupings.
var Groupings = []Grouping{ByDay, ByWeek, ByMonth}

// ParseGrouping checks a grouping; "" picks one for the period (days up
// to two weeks, weeks up to half a year, months beyond).
func ParseGrouping(s string, p Period) (Grouping, error) {
	switch g := Grouping(s); g {
	case ByDay, ByWeek, ByMonth:
		return g, nil
	case "":
		switch d := p.Days(); {
		case d <= 14:
			return ByDay, nil
		case d <= 183:
			return ByWeek, nil
		}
		return ByMonth, nil
	}
	return "", apperr.Fields{{Field: "group", Rule: "enum", Message: "group must be one of: day, week, month"}}.Err()
}

// Bucket is one step of a time series: the days [From, To), cut to the
// period, and its label (2026-11-14, 2026-W46, 2026-11).
type Bucket struct {
	Label    string
	From, To time.Time
}

// Buckets cuts a period into buckets of the grouping.
func Buckets(p Period, g Grouping) []Bucket {
	var out []Bucket
	for d := p.From; d.Before(p.To); {
		var start, end time.Time
		var label string
		switch g {
		case ByMonth:
			start = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
			end = start.AddDate(0, 1, 0)
			label = start.Format("2006-01")
		case ByWeek:
			back := (int(d.Weekday()) + 6) % 7 // days since Monday
			start = d.AddDate(0, 0, -back)
			end = start.AddDate(0, 0, 7)
			y, w := start.ISOWeek()
			label = fmt.Sprintf("%04d-W%02d", y, w)
		default:
			start, end = d, d.AddDate(0, 0, 1)
			label = d.Format(time.DateOnly)
		}
		if start.Before(p.From) {
			start = p.From
		}
		if end.After(p.To) {
			end = p.To
		}
		out = append(out, Bucket{Label: label, From: start, To: end})
		d = end
	}
	return out
}
