package filing

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
)

// FieldKind says how a field is asked and what its answer is.
type FieldKind string

// The field kinds.
const (
	// Choice is one of Options (radios); "unknown" is the "I don't know"
	// option where a question has one.
	Choice FieldKind = "choice"
	// Choices is any of Options (checkboxes).
	Choices FieldKind = "choices"
	// Text is one line of text.
	Text FieldKind = "text"
	// LongText is free text over several lines.
	LongText FieldKind = "longtext"
	// Number is an approximate whole number of 0 or more; empty means
	// "I don't know".
	Number FieldKind = "number"
	// DateTime is a day, month and year and a time of day, in the GOV.UK
	// date pattern (separate inputs, no calendar), read in the person's
	// time zone. Its answer is the instant (RFC 3339, UTC); the parts as
	// typed are kept beside it (<name>-day, -month, -year, -hour,
	// -minute, and -zone), so that the page shows them again.
	DateTime FieldKind = "datetime"
	// Check is one checkbox; its answer is "yes" when ticked.
	Check FieldKind = "check"
)

// Field is one question of a form.
type Field struct {
	Name    string
	Kind    FieldKind
	Options []string // Choice and Choices
	// Required: an answer must be given (a choice field's "I don't know"
	// counts as one). Text fields are optional unless required.
	Required bool
	// Max is the longest text accepted, in characters (0: the default,
	// MaxText for Text and MaxLongText for LongText).
	Max int
	// InputType is the HTML input type of a Text field ("email", "tel";
	// "" is text); Autocomplete its autocomplete token (WCAG 1.3.5).
	InputType    string
	Autocomplete string
	// Hint: the field has a hint (message report.h.<name>).
	Hint bool
	// RevealOf and RevealWhen: the field is asked only when the field
	// RevealOf of the same form has one of the values RevealWhen (the
	// GOV.UK conditional reveal: shown beneath that option). An answer
	// given while hidden is dropped.
	RevealOf   string
	RevealWhen []string
	// OptionHints: the options have hints (report.oh.<name>.<option>).
	OptionHints bool
}

// Limits of answers.
const (
	MaxText     = 300
	MaxLongText = 10_000
	MaxNumber   = 1_000_000_000_000
)

func (f *Field) max() int {
	switch {
	case f.Max > 0:
		return f.Max
	case f.Kind == LongText:
		return MaxLongText
	}
	return MaxText
}

// Answers are the answers of a draft, by field name; a field's answer is
// a list of values (several for Choices, one otherwise).
type Answers map[string][]string

// Get returns the answer of a field ("" when there is none).
func (a Answers) Get(name string) string {
	if v := a[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Has reports whether the field was answered.
func (a Answers) Has(name string) bool { return len(a[name]) > 0 && strings.Join(a[name], "") != "" }

// Is reports whether the field's answer is one of vals.
func (a Answers) Is(name string, vals ...string) bool { return slices.Contains(vals, a.Get(name)) }

// Time returns the instant of a DateTime field.
func (a Answers) Time(name string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, a.Get(name))
	return t, err == nil
}

// Int returns the number of a Number field.
func (a Answers) Int(name string) (int64, bool) {
	n, err := strconv.ParseInt(a.Get(name), 10, 64)
	return n, err == nil
}

// clone copies the answers.
func (a Answers) clone() Answers {
	out := make(Answers, len(a))
	for k, v := range a {
		out[k] = slices.Clone(v)
	}
	return out
}

// shown reports whether field f is asked, given the answers of its form.
func (f *Field) shown(a Answers) bool {
	return f.RevealOf == "" || slices.Contains(f.RevealWhen, a.Get(f.RevealOf))
}

// dateParts are the inputs of a DateTime field, in order.
var dateParts = []string{"day", "month", "year", "hour", "minute"}

// Form is what a person sent for the fields of one page: the values of
// each input as they arrived.
type Form map[string][]string

func (f Form) get(name string) string {
	if v := f[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// read takes the answers of fields from a form: it checks each (field
// errors name the input to go to and the rule broken) and returns the
// answers to keep. Hidden fields (RevealOf) are dropped. zone is the
// person's time zone (DateTime fields); now bounds dates (not in the
// future). Values are kept as typed when a field is wrong, so that the
// page can show them again with the error.
func read(fields []Field, in Form, zone *time.Location, now time.Time) (Answers, apperr.Fields) {
	out := Answers{}
	var fs apperr.Fields
	for i := range fields {
		f := &fields[i]
		switch f.Kind {
		case Choice:
			v := in.get(f.Name)
			if v != "" {
				out[f.Name] = []string{v}
			}
		case Choices:
			for _, v := range in[f.Name] {
				if v = strings.TrimSpace(v); v != "" && !slices.Contains(out[f.Name], v) {
					out[f.Name] = append(out[f.Name], v)
				}
			}
		case DateTime:
			for _, part := range dateParts {
				if v := in.get(f.Name + "-" + part); v != "" {
					out[f.Name+"-"+part] = []string{v}
				}
			}
		case Check:
			if in.get(f.Name) != "" {
				out[f.Name] = []string{"yes"}
			}
		default:
			v := strings.ReplaceAll(in.get(f.Name), "\r\n", "\n")
			if f.Kind == Number {
				v = strings.NewReplacer(" ", "", ".", "", ",", "", "'", "", "\u00a0", "", "\u202f", "").Replace(v)
			}
			if v != "" {
				out[f.Name] = []string{v}
			}
		}
	}
	for i := range fields {
		f := &fields[i]
		if !f.shown(out) {
			dropField(f, out)
			continue
		}
		check(f, out, &fs, zone, now)
	}
	return out, fs
}

// dropField removes a field's answers.
func dropField(f *Field, a Answers) {
	delete(a, f.Name)
	if f.Kind == DateTime {
		for _, part := range append(slices.Clone(dateParts), "zone") {
			delete(a, f.Name+"-"+part)
		}
	}
}

// check validates one field's answer in a and normalises it.
func check(f *Field, a Answers, fs *apperr.Fields, zone *time.Location, now time.Time) {
	switch f.Kind {
	case Choice:
		switch v := a.Get(f.Name); {
		case v == "" && f.Required:
			fs.Add(f.Name, "required", "choose an answer")
		case v != "" && !slices.Contains(f.Options, v):
			fs.Add(f.Name, "enum", "choose one of the answers")
			delete(a, f.Name)
		}
	case Choices:
		for _, v := range a[f.Name] {
			if !slices.Contains(f.Options, v) {
				fs.Add(f.Name, "enum", "choose from the answers")
				delete(a, f.Name)
				break
			}
		}
		if f.Required && !a.Has(f.Name) {
			fs.Add(f.Name, "required", "choose at least one answer")
		}
	case Number:
		v := a.Get(f.Name)
		if v == "" {
			return
		}
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 || n > MaxNumber {
			fs.Add(f.Name, "number", "enter a whole number, such as 250")
		}
	case DateTime:
		checkDateTime(f, a, fs, zone, now)
	case Check:
	default:
		v := a.Get(f.Name)
		switch {
		case v == "" && f.Required:
			fs.Add(f.Name, "required", "enter an answer")
		case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
			fs.Add(f.Name, "format", "the answer holds characters that cannot be kept")
		case utf8.RuneCountInString(v) > f.max():
			fs.Add(f.Name, "max_length", "at most %d characters", f.max())
		case v != "" && f.InputType == "email" && !looksLikeEmail(v):
			fs.Add(f.Name, "email", "enter an e-mail address like name@example.org")
		case v != "" && f.InputType == "tel" && !looksLikePhone(v):
			fs.Add(f.Name, "tel", "enter a telephone number, like +49 30 1234567")
		}
	}
}

// checkDateTime reads the parts of a DateTime field into its instant. A
// date without a time of day is the start of that day (the clocks then
// run from the earliest moment it can have been). Errors name the first
// input to correct (<name>-day, -hour, …).
func checkDateTime(f *Field, a Answers, fs *apperr.Fields, zone *time.Location, now time.Time) {
	parts := map[string]string{}
	given := false
	for _, p := range dateParts {
		parts[p] = a.Get(f.Name + "-" + p)
		given = given || parts[p] != ""
	}
	delete(a, f.Name)
	if !given {
		if f.Required {
			fs.Add(f.Name+"-day", "required", "enter the date")
		}
		return
	}
	num := func(p string, lo, hi int) (int, bool) {
		n, err := strconv.Atoi(parts[p])
		return n, err == nil && n >= lo && n <= hi
	}
	day, okD := num("day", 1, 31)
	month, okM := num("month", 1, 12)
	year, okY := num("year", 2000, 9999)
	switch {
	case parts["day"] == "" || parts["month"] == "" || parts["year"] == "":
		missing := "day"
		for _, p := range []string{"day", "month", "year"} {
			if parts[p] == "" {
				missing = p
				break
			}
		}
		fs.Add(f.Name+"-"+missing, "incomplete", "the date must include a day, month and year")
		return
	case !okD || !okM || !okY:
		bad := "day"
		if okD {
			bad = "month"
			if okM {
				bad = "year"
			}
		}
		fs.Add(f.Name+"-"+bad, "date", "enter a real date")
		return
	}
	hour, minute := 0, 0
	if parts["hour"] != "" || parts["minute"] != "" {
		var okH, okMin bool
		hour, okH = num("hour", 0, 23)
		minute, okMin = num("minute", 0, 59)
		if parts["minute"] == "" {
			minute, okMin = 0, true
		}
		if !okH || !okMin {
			bad := "hour"
			if okH {
				bad = "minute"
			}
			fs.Add(f.Name+"-"+bad, "time", "enter a time of day from 00:00 to 23:59")
			return
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, 0, 0, zone)
	if t.Day() != day || int(t.Month()) != month {
		fs.Add(f.Name+"-day", "date", "enter a real date")
		return
	}
	if t.After(now.Add(5 * time.Minute)) {
		fs.Add(f.Name+"-day", "future", "the date must not be in the future")
		return
	}
	a[f.Name] = []string{t.UTC().Format(time.RFC3339)}
	a[f.Name+"-zone"] = []string{zone.String()}
}

func looksLikeEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && !strings.ContainsAny(s, " \t<>,;")
}

func looksLikePhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+()-/. ", r):
		default:
			return false
		}
	}
	return digits >= 3 && digits <= 20
}

// Translator gives the messages of one language: T("report.f.what").
type Translator func(key string, args ...any) string

// DateFormatter writes an instant as a person reads it (their language;
// the instant comes in the zone it was given in).
type DateFormatter func(time.Time) string

// formatAnswer writes a field's answer as the person reads it: option
// labels for choices, the date in their language for dates, "Not
// provided" for nothing.
func formatAnswer(f *Field, a Answers, t Translator, datetime DateFormatter) string {
	switch f.Kind {
	case Choice:
		if v := a.Get(f.Name); v != "" {
			return t(optionKey(f.Name, v))
		}
	case Choices:
		var out []string
		for _, v := range a[f.Name] {
			out = append(out, t(optionKey(f.Name, v)))
		}
		if len(out) > 0 {
			return strings.Join(out, "\n")
		}
	case DateTime:
		if ts, ok := a.Time(f.Name); ok {
			if zone, err := time.LoadLocation(a.Get(f.Name + "-zone")); err == nil {
				ts = ts.In(zone)
			}
			return datetime(ts)
		}
	case Check:
		if a.Has(f.Name) {
			return t("report.answer.yes")
		}
		return t("report.answer.no")
	case Number:
		if n, ok := a.Int(f.Name); ok {
			return t("report.answer.about", n)
		}
	default:
		if v := a.Get(f.Name); v != "" {
			return v
		}
	}
	return t("report.answer.not_provided")
}

// optionKey is the message of an option's label.
func optionKey(field, option string) string {
	return "report.o." + field + "." + strings.NewReplacer(":", "_", "+", "_").Replace(strings.ToLower(option))
}

// OptionKey is the message key of an option's label (report.o.<field>.<option>).
func OptionKey(field, option string) string { return optionKey(field, option) }

// FieldKey is the message key of a field's question (report.f.<field>).
func FieldKey(field string) string { return "report.f." + field }
