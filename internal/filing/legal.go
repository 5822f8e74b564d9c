package filing

import (
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/taxonomy"
)

// The legal reports' forms. Each is short and pre-filled from what is
// known already (WCAG 3.3.7, redundant entry): a field of the same name
// answered in an earlier legal report of the incident or in its guided
// report takes that answer; the others take what the incident holds
// (its description, severity, classification, indicators). The person
// checks, changes what changed, and sends.

// The fields of the legal reports that the guided report does not ask.
var (
	fieldSummary     = Field{Name: "ew_summary", Kind: LongText, Required: true, Hint: true}
	fieldHelp        = Field{Name: "ew_help", Kind: LongText, Hint: true}
	fieldUpdate      = Field{Name: "nt_update", Kind: LongText, Required: true, Hint: true}
	fieldSeverity    = Field{Name: "severity", Kind: Choice, Options: severities(), Required: true, Hint: true}
	fieldImpact      = Field{Name: "nt_impact", Kind: LongText, Required: true, Hint: true}
	fieldIndicators  = Field{Name: "nt_indicators", Kind: LongText, Hint: true, Max: 50_000}
	fieldDescription = Field{Name: "fr_description", Kind: LongText, Required: true, Hint: true}
	fieldCause       = Field{Name: "fr_cause", Kind: LongText, Required: true, Hint: true}
	fieldMitigation  = Field{Name: "fr_measures", Kind: LongText, Required: true, Hint: true}
	fieldCrossImpact = Field{Name: "fr_cross_border", Kind: LongText, Hint: true}
	fieldNature      = Field{Name: "gd_nature", Kind: LongText, Required: true, Hint: true}
	// FieldLateReason gives the reasons for a delay; it is asked (and
	// required) when the deadline has passed.
	FieldLateReason = Field{Name: "late_reason", Kind: LongText, Required: true, Hint: true, Max: incident.MaxLateReason}
)

func severities() []string {
	out := make([]string, len(incident.Severities))
	for i, s := range incident.Severities {
		out[i] = string(s)
	}
	return out
}

// guidedField returns a field of the guided report, as the legal forms
// ask it again (pre-filled).
func guidedField(name string) Field {
	for _, s := range Steps {
		if f := s.Field(name); f != nil {
			out := *f
			out.RevealOf, out.RevealWhen = "", nil
			return out
		}
	}
	panic("report: no guided field " + name) // a programming error, caught by the tests
}

// LegalFields returns the fields of a legal report's form. late adds the
// reasons for the delay.
func LegalFields(kind incident.DeadlineKind, late bool) []Field {
	var fs []Field
	switch kind {
	case incident.NIS2EarlyWarning:
		fs = []Field{fieldSummary, guidedField("malicious"), guidedField("cross_border"), fieldHelp}
	case incident.NIS2Notification:
		fs = []Field{fieldUpdate, fieldSeverity, fieldImpact, guidedField("malicious"), guidedField("cross_border"), fieldIndicators}
	case incident.NIS2FinalReport:
		fs = []Field{fieldDescription, fieldCause, fieldMitigation, fieldCrossImpact}
	case incident.GDPRNotification:
		fs = []Field{fieldNature, guidedField("data_categories"), guidedField("people_count"), guidedField("records_count"),
			guidedField("people_who"), guidedField("dpo_name"), guidedField("dpo_email"), guidedField("dpo_phone"),
			guidedField("consequences"), guidedField("measures"), guidedField("told")}
	}
	if late {
		fs = append(fs, FieldLateReason)
	}
	return fs
}

// Known is what is known about an incident when a legal report is
// written: the incident, the answers of its guided report (nil without
// one), the answers of the legal reports filed before (newest last), the
// incident's indicators (defanged, one per line) and the reader's
// messages.
type Known struct {
	Incident   *incident.Incident
	Guided     Answers
	Filed      []Answers
	Indicators []string
	T          Translator
}

// Prefill returns the answers a legal report's form starts with: for each
// field, the newest earlier answer of the same name (legal reports filed,
// then the guided report), else what the incident holds.
func Prefill(kind incident.DeadlineKind, k Known) Answers {
	out := Answers{}
	for _, f := range LegalFields(kind, false) {
		if v := k.earlier(f.Name); v != nil {
			out[f.Name] = v
			continue
		}
		if v := k.derive(f.Name); v != "" {
			out[f.Name] = []string{v}
		}
	}
	return out
}

// earlier is the newest answer of a field in the filed reports, then in
// the guided report.
func (k Known) earlier(name string) []string {
	for i := len(k.Filed) - 1; i >= 0; i-- {
		if k.Filed[i].Has(name) {
			return slices.Clone(k.Filed[i][name])
		}
	}
	if k.Guided.Has(name) {
		return slices.Clone(k.Guided[name])
	}
	return nil
}

// derive fills a field from the incident and from related answers.
func (k Known) derive(name string) string {
	inc := k.Incident
	g := k.Guided
	switch name {
	case "ew_summary", "gd_nature", "fr_description":
		for _, from := range []string{"nt_update", "ew_summary", "gd_nature"} {
			if v := k.earlier(from); v != nil && name != from {
				return v[0]
			}
		}
		return k.narrative()
	case "nt_update":
		if v := k.earlier("ew_summary"); v != nil {
			return v[0]
		}
		return k.narrative()
	case "severity":
		return string(inc.Severity)
	case "nt_impact":
		var parts []string
		if g.Has("services") {
			parts = append(parts, k.T(optionKey("services", g.Get("services"))))
		}
		if v := g.Get("services_which"); v != "" {
			parts = append(parts, v)
		}
		return strings.Join(parts, "\n")
	case "nt_indicators":
		return strings.Join(k.Indicators, "\n")
	case "fr_cause":
		if c, ok := taxonomy.RSIT.Category(inc.Category); ok {
			s := k.T("report.rsit.label", c.Value, inc.Type)
			if g.Has("what") {
				s = k.T(optionKey("what", g.Get("what"))) + "\n" + s
			}
			return s
		}
	case "fr_measures":
		if v := k.earlier("measures"); v != nil {
			return v[0]
		}
	case "fr_cross_border":
		if v := k.earlier("cross_border_who"); v != nil {
			return v[0]
		}
	}
	return ""
}

// narrative is what the incident says happened: the guided report's own
// words, else the description.
func (k Known) narrative() string {
	if k.Guided.Has("what") {
		s := k.T(optionKey("what", k.Guided.Get("what")))
		if d := k.Guided.Get("what_details"); d != "" {
			s += "\n\n" + d
		}
		return s
	}
	return k.Incident.Description
}

// ItemsOf writes the answers of fields as a report's items: each
// question as asked in the person's language, with the answer as they
// read it and the values.
func ItemsOf(fields []Field, a Answers, t Translator, datetime DateFormatter) []incident.ReportItem {
	var out []incident.ReportItem
	for i := range fields {
		f := &fields[i]
		if !f.shown(a) {
			continue
		}
		it := incident.ReportItem{Field: f.Name, Question: t(FieldKey(f.Name)), Answer: formatAnswer(f, a, t, datetime),
			Values: slices.Clone(a[f.Name])}
		if f.Kind == Check && !a.Has(f.Name) {
			it.Values = []string{"no"}
		}
		out = append(out, it)
	}
	return out
}

// AnswersOf reads a filed report's items back as answers (their values).
func AnswersOf(items []incident.ReportItem) Answers {
	out := Answers{}
	for _, it := range items {
		if len(it.Values) > 0 {
			out[it.Field] = slices.Clone(it.Values)
		}
	}
	return out
}
