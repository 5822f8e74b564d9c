package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/taxonomy"
	"github.com/labstack/echo/v4"
)

// The reporting organisation's pages (docs/ui.md, "The guided report"):
// the guided report's question pages (report_*.go), the confirmation,
// "Our reports", and the legal reports' forms (legal_*.go). Every field
// of a form is rendered by one partial (partials/report_fields.html)
// from a fieldView; the questions, hints and options are messages
// (web/i18n/<lang>/report.json): report.f.<field> is a field's question,
// report.h.<field> its hint, report.o.<field>.<option> an option.

// fieldView is one field of a form as the page shows it.
type fieldView struct {
	Name    string
	Kind    filing.FieldKind
	Label   string
	Hint    string
	Heading bool // the page's question: its label or legend is the <h1>
	Error   *fieldError
	// ErrorFor is the id of the input the error links to (a date's part).
	ErrorFor     string
	Value        string
	Checked      bool // a Check field
	Options      []optionView
	Date         dateView
	InputType    string
	Autocomplete string
	Width        string // a CSS class for the input's width
	Reveal       []fieldView
	Described    string // the ids the input is described by
}

// optionView is one option of a choice field.
type optionView struct {
	Value   string
	Label   string
	Hint    string
	Checked bool
	Reveals bool // choosing it shows the fields beneath (the conditional reveal)
	// RevealAfter: the revealed fields follow this option (the last one
	// that reveals them).
	RevealAfter bool
	ID          string
}

// dateView holds the parts of a date and time as typed.
type dateView struct {
	Day, Month, Year, Hour, Minute string
	// ErrPart names the part in error ("day", …), to mark it.
	ErrPart string
}

// formView builds the views of fields for a page: answers fill them,
// errs mark them; single makes the only field the page's question.
// Fields with RevealOf are placed beneath their option's field.
func (u *UI) formView(l i18n.Locale, fields []filing.Field, a filing.Answers, errs []fieldError, single bool) []fieldView {
	var out []fieldView
	index := map[string]int{}
	for i := range fields {
		f := &fields[i]
		v := u.fieldView(l, f, a, errs)
		v.Heading = single && i == 0
		if f.RevealOf != "" {
			if j, ok := index[f.RevealOf]; ok {
				out[j].Reveal = append(out[j].Reveal, v)
				for k := range out[j].Options {
					for _, w := range f.RevealWhen {
						if out[j].Options[k].Value == w {
							out[j].Options[k].Reveals = true
						}
					}
				}
				continue
			}
		}
		index[f.Name] = len(out)
		out = append(out, v)
	}
	for i := range out {
		last := -1
		for k := range out[i].Options {
			if out[i].Options[k].Reveals {
				last = k
			}
		}
		if last >= 0 && len(out[i].Reveal) > 0 {
			out[i].Options[last].RevealAfter = true
		}
	}
	return out
}

func (u *UI) fieldView(l i18n.Locale, f *filing.Field, a filing.Answers, errs []fieldError) fieldView {
	v := fieldView{Name: f.Name, Kind: f.Kind, Label: l.T(filing.FieldKey(f.Name)), Value: a.Get(f.Name),
		InputType: f.InputType, Autocomplete: f.Autocomplete, Checked: a.Has(f.Name)}
	if v.InputType == "" {
		v.InputType = "text"
	}
	if f.Hint {
		v.Hint = l.T("report.h." + f.Name)
	}
	for i := range errs {
		e := &errs[i]
		if e.Field == f.Name || strings.HasPrefix(e.Field, f.Name+"-") {
			v.Error, v.ErrorFor = e, e.Field
			v.Date.ErrPart = strings.TrimPrefix(e.Field, f.Name+"-")
			break
		}
	}
	var described []string
	if v.Hint != "" {
		described = append(described, f.Name+"-hint")
	}
	if v.Error != nil {
		described = append(described, v.ErrorFor+"-error")
	}
	v.Described = strings.Join(described, " ")
	switch f.Kind {
	case filing.Choice, filing.Choices:
		chosen := a[f.Name]
		for i, o := range f.Options {
			ov := optionView{Value: o, Label: l.T(filing.OptionKey(f.Name, o)), ID: f.Name + "-" + cssID(o)}
			if i == 0 {
				ov.ID = f.Name // the error summary links to the first option (GOV.UK)
			}
			for _, c := range chosen {
				ov.Checked = ov.Checked || c == o
			}
			if f.OptionHints {
				ov.Hint = u.optionHint(l, f.Name, o)
			}
			v.Options = append(v.Options, ov)
		}
	case filing.DateTime:
		v.Date = dateView{Day: a.Get(f.Name + "-day"), Month: a.Get(f.Name + "-month"), Year: a.Get(f.Name + "-year"),
			Hour: a.Get(f.Name + "-hour"), Minute: a.Get(f.Name + "-minute"), ErrPart: v.Date.ErrPart}
	case filing.Number:
		v.Width = "input-width-10"
	case filing.Text:
		if f.InputType == "tel" {
			v.Width = "input-width-20"
		}
	}
	return v
}

// optionHint is the hint beneath an option: for "What happened?", the
// RSIT class and type it is classified as; otherwise report.oh.<field>.<option>.
func (u *UI) optionHint(l i18n.Locale, field, option string) string {
	if field == "what" {
		if option == "other" || option == "unknown" {
			return "" // the CERT classifies it
		}
		if c, ok := filing.What(option); ok {
			return l.T("report.rsit.hint", rsitName(l, u, c.Category, ""), rsitName(l, u, c.Category, c.Type))
		}
	}
	if field == "tlp" && option == string(incident.TLPRed) {
		return "" // who receives it by name (redHint)
	}
	key := "report.oh." + field + "." + strings.NewReplacer(":", "_", "+", "_").Replace(strings.ToLower(option))
	if u.o.Catalogue.Has(key) {
		return l.T(key)
	}
	return ""
}

// rsitName is the name of an RSIT class (typ "") or type in the reader's
// language (report.rsit.<class>[.<type>]), else the taxonomy's English
// name.
func rsitName(l i18n.Locale, u *UI, category, typ string) string {
	key := "report.rsit." + category
	if typ != "" {
		key += "." + typ
	}
	if u.o.Catalogue.Has(key) {
		return l.T(key)
	}
	if c, ok := taxonomy.RSIT.Category(category); ok {
		if typ == "" {
			return c.Name
		}
		for _, t := range c.Types {
			if t.Value == typ {
				return t.Name
			}
		}
	}
	return typ
}

// cssID makes an option value usable in an id ("TLP:AMBER+STRICT" →
// "tlp-amber-strict").
func cssID(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s), "-")
}

// formOf reads a request's form values.
func formOf(c echo.Context) (filing.Form, error) {
	vals, err := c.FormParams()
	if err != nil {
		return nil, err
	}
	return filing.Form(vals), nil
}

// reportErrors turns a report use case's validation error into the
// form's errors (messages report.error.<field>.<rule>, else
// report.error.<rule>, else field.invalid). Other errors are returned as
// they are.
func (u *UI) reportErrors(l i18n.Locale, err error) ([]fieldError, error) {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) == 0 {
		return nil, err
	}
	var out []fieldError
	for _, f := range e.Fields {
		base := f.Field
		for _, part := range []string{"-day", "-month", "-year", "-hour", "-minute"} {
			base = strings.TrimSuffix(base, part)
		}
		key := "report.error." + base + "." + f.Rule
		if !u.o.Catalogue.Has(key) {
			key = "report.error." + f.Rule
		}
		if !u.o.Catalogue.Has(key) {
			key = "field.invalid"
		}
		out = append(out, fieldError{Field: f.Field, Message: l.T(key)})
	}
	return out, nil
}

// reportZone is the person's time zone, for the dates they type.
func (u *UI) reportZone(c echo.Context) *time.Location {
	return u.locale(c).Zone
}

// deadlineLine is one legal clock in words: its name and its state
// ("due in 23 h 59 min (tomorrow 14:30 CET)", "sent 14:02 CET").
type deadlineLine struct {
	Kind  incident.DeadlineKind
	State incident.DeadlineState
	Text  string
}

// clockLines states the incident's legal deadlines as the confirmation
// page and the task list say them.
func clockLines(l i18n.Locale, inc *incident.Incident) []deadlineLine {
	var out []deadlineLine
	for _, d := range inc.Deadlines(filing.ZoneOf(inc), l.Now) {
		line := deadlineLine{Kind: d.Kind, State: d.State}
		switch d.State {
		case incident.DeadlineOnTime:
			line.Text = l.T("deadline.met_on", l.DateTime(d.Met.At))
		case incident.DeadlineMetLate:
			line.Text = l.T("deadline.met_late", l.DateTime(d.Met.At))
		default:
			line.Text = l.Due(d.DueAt)
		}
		out = append(out, line)
	}
	return out
}

// draftTLP is the label of a draft's content, which the banner of its
// pages shows: the one chosen on the sharing question, else TLP:AMBER,
// the answer that question starts with.
func draftTLP(d *filing.Draft) incident.TLP {
	if t, ok := incident.ParseTLP(d.Answers.Get("tlp")); ok {
		return t
	}
	return incident.TLPAmber
}

// notFoundPage is the same 404 page as everywhere.
func notFoundPage() error { return echo.NewHTTPError(http.StatusNotFound) }
