package filing

import (
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
)

// Step is one question page of the guided report: its name (in the page's
// address), its fields, and when it is asked.
type Step struct {
	Name   string
	Fields []Field
	// Applies reports whether the step is asked, given the answers so far
	// (nil: always).
	Applies func(a Answers) bool
	// Special steps have their own page and keep no answers in fields:
	// files (uploads) and check (check your answers).
	Special bool
}

// Single reports whether the step asks one thing: its field's question is
// the page's heading (the GOV.UK question page).
func (s *Step) Single() bool { return len(s.Fields) == 1 && s.Fields[0].RevealOf == "" }

// Field returns the step's field of that name.
func (s *Step) Field(name string) *Field {
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// The answers of yes/no questions.
var yesNo = []string{"yes", "no", "unknown"}

// The names of the special steps.
const (
	StepFiles = "files"
	StepCheck = "check"
)

// WhatChoice is a plain-language answer to "What happened?" and the RSIT
// class and type it is classified as (the CERT may correct it).
type WhatChoice struct {
	Value    string
	Category string
	Type     string
}

// WhatChoices are the answers to "What happened?", in the order asked.
var WhatChoices = []WhatChoice{
	{"ransomware", "malicious-code", "infected-system"},
	{"malware", "malicious-code", "infected-system"},
	{"phishing", "fraud", "phishing"},
	{"account", "intrusions", "unprivileged-account-compromise"},
	{"admin_account", "intrusions", "privileged-account-compromise"},
	{"intrusion", "intrusions", "system-compromise"},
	{"defacement", "intrusions", "application-compromise"},
	{"ddos", "availability", "ddos"},
	{"outage", "availability", "outage"},
	{"data_leak", "information-content-security", "data-leak"},
	{"data_loss", "information-content-security", "data-loss"},
	{"device", "information-content-security", "data-loss"},
	{"fraud", "fraud", "masquerade"},
	{"attempts", "intrusion-attempts", "brute-force"},
	{"other", "other", "other"},
	{"unknown", "other", "undetermined"},
}

// What returns the choice of a value.
func What(value string) (WhatChoice, bool) {
	for _, c := range WhatChoices {
		if c.Value == value {
			return c, true
		}
	}
	return WhatChoice{}, false
}

func whatValues() []string {
	out := make([]string, len(WhatChoices))
	for i, c := range WhatChoices {
		out[i] = c.Value
	}
	return out
}

// DataCategories are the categories of personal data asked for; those of
// SpecialCategories are GDPR Art. 9's special categories (and Art. 10's
// criminal convictions), which weigh more.
var DataCategories = []string{"contact", "identity", "financial", "credentials", "location", "health", "ethnic",
	"political", "religious", "union", "genetic", "sexual", "criminal", "children", "unknown"}

// SpecialCategories are the special categories among DataCategories.
var SpecialCategories = []string{"health", "ethnic", "political", "religious", "union", "genetic", "sexual", "criminal"}

// sharing are the TLP labels offered, the loosest first.
var sharing = []string{string(incident.TLPClear), string(incident.TLPGreen), string(incident.TLPAmber),
	string(incident.TLPAmberStrict), string(incident.TLPRed)}

func personal(a Answers) bool { return a.Is("personal", "yes") }

// Steps are the pages of the guided report, in order. Steps that do not
// apply to the answers given (the personal-data questions when no
// personal data are involved) are skipped.
var Steps = []Step{
	{Name: "noticed", Fields: []Field{
		{Name: "noticed", Kind: DateTime, Hint: true},
		{Name: "noticed_about", Kind: Check},
		{Name: "noticed_unknown", Kind: Check},
	}},
	{Name: "what", Fields: []Field{
		{Name: "what", Kind: Choice, Options: whatValues(), Required: true, OptionHints: true},
		{Name: "what_details", Kind: LongText, Hint: true},
	}},
	{Name: "services", Fields: []Field{
		{Name: "services", Kind: Choice, Options: []string{"yes", "partly", "no", "unknown"}, Required: true},
		{Name: "services_which", Kind: LongText, RevealOf: "services", RevealWhen: []string{"yes", "partly"}, Hint: true},
		{Name: "services_since", Kind: DateTime, RevealOf: "services", RevealWhen: []string{"yes", "partly"}, Hint: true},
	}},
	{Name: "personal", Fields: []Field{
		{Name: "personal", Kind: Choice, Options: yesNo, Required: true, Hint: true},
	}},
	{Name: "personal-data", Applies: personal, Fields: []Field{
		{Name: "data_categories", Kind: Choices, Options: DataCategories, Required: true, Hint: true},
	}},
	{Name: "personal-numbers", Applies: personal, Fields: []Field{
		{Name: "people_count", Kind: Number, Hint: true},
		{Name: "records_count", Kind: Number, Hint: true},
		{Name: "people_who", Kind: Text, Hint: true},
	}},
	{Name: "personal-dpo", Applies: personal, Fields: []Field{
		{Name: "dpo_name", Kind: Text, Autocomplete: "off"},
		{Name: "dpo_email", Kind: Text, InputType: "email", Autocomplete: "off"},
		{Name: "dpo_phone", Kind: Text, InputType: "tel", Autocomplete: "off"},
	}},
	{Name: "personal-impact", Applies: personal, Fields: []Field{
		{Name: "consequences", Kind: LongText, Hint: true},
		{Name: "measures", Kind: LongText, Hint: true},
	}},
	{Name: "personal-told", Applies: personal, Fields: []Field{
		{Name: "told", Kind: Choice, Options: []string{"yes", "not_yet", "no", "unknown"}, Required: true, Hint: true},
	}},
	{Name: "malicious", Fields: []Field{
		{Name: "malicious", Kind: Choice, Options: yesNo, Required: true, Hint: true},
	}},
	{Name: "cross-border", Fields: []Field{
		{Name: "cross_border", Kind: Choice, Options: yesNo, Required: true, Hint: true},
		{Name: "cross_border_who", Kind: LongText, RevealOf: "cross_border", RevealWhen: []string{"yes"}, Hint: true},
	}},
	{Name: "severe", Fields: []Field{
		{Name: "severe", Kind: Choice, Options: yesNo, Required: true, Hint: true},
	}},
	{Name: "damage", Fields: []Field{
		{Name: "damage", Kind: Choice, Options: yesNo, Required: true, Hint: true},
	}},
	{Name: "assets", Fields: []Field{
		{Name: "assets", Kind: LongText, Hint: true, Max: 5000},
	}},
	{Name: "contact", Fields: []Field{
		{Name: "contact_name", Kind: Text, Required: true, Autocomplete: "name"},
		{Name: "contact_role", Kind: Text, Autocomplete: "organization-title"},
		{Name: "contact_phone", Kind: Text, InputType: "tel", Autocomplete: "tel", Hint: true},
		{Name: "contact_email", Kind: Text, InputType: "email", Autocomplete: "email"},
		{Name: "contact_hours", Kind: Text, Hint: true},
	}},
	{Name: "sharing", Fields: []Field{
		{Name: "tlp", Kind: Choice, Options: sharing, Required: true, OptionHints: true},
	}},
	{Name: StepFiles, Special: true},
	{Name: "indicators", Fields: []Field{
		{Name: "indicators", Kind: LongText, Hint: true, Max: 50_000},
	}},
	{Name: StepCheck, Special: true},
}

// StepNamed returns the step of a name.
func StepNamed(name string) (*Step, bool) {
	for i := range Steps {
		if Steps[i].Name == name {
			return &Steps[i], true
		}
	}
	return nil, false
}

// applies reports whether step s is asked given the answers.
func (s *Step) applies(a Answers) bool { return s.Applies == nil || s.Applies(a) }

// Next returns the step after name that applies to the answers, or
// StepCheck.
func Next(name string, a Answers) string {
	i := slices.IndexFunc(Steps, func(s Step) bool { return s.Name == name })
	for _, s := range Steps[i+1:] {
		if s.applies(a) {
			return s.Name
		}
	}
	return StepCheck
}

// Previous returns the step before name that applies ("" for the first).
func Previous(name string, a Answers) string {
	i := slices.IndexFunc(Steps, func(s Step) bool { return s.Name == name })
	for j := i - 1; j >= 0; j-- {
		if Steps[j].applies(a) {
			return Steps[j].Name
		}
	}
	return ""
}

// FirstMissing returns the first step that applies and has not been
// answered (done does not hold it), or "" when every one has.
func FirstMissing(a Answers, done []string) string {
	for _, s := range Steps {
		if s.Name == StepCheck || !s.applies(a) {
			continue
		}
		if !slices.Contains(done, s.Name) {
			return s.Name
		}
	}
	return ""
}

// prepare adjusts a step's form before it is read: "I don't know when"
// wins over a date typed beside it.
func prepare(step string, in Form) Form {
	if step != "noticed" || in.get("noticed_unknown") == "" {
		return in
	}
	out := Form{}
	for k, v := range in {
		if k == "noticed_unknown" {
			out[k] = v
		}
	}
	return out
}

// validateNoticed adds the rule of the first step: a date, or "I don't
// know" (the clocks then run from the time the report is sent).
func validateNoticed(a Answers) (field, rule string) {
	if a.Has("noticed_unknown") {
		for _, p := range append(slices.Clone(dateParts), "zone") {
			delete(a, "noticed-"+p)
		}
		delete(a, "noticed")
		delete(a, "noticed_about")
		return "", ""
	}
	if !a.Has("noticed") {
		return "noticed-day", "required"
	}
	return "", ""
}

// Facts are what the answers of a guided report decide about the
// incident.
type Facts struct {
	// DetectedAt is when the organisation noticed (nil: not known; the
	// legal clocks then run from the time of the report).
	DetectedAt  *time.Time
	Approximate bool
	Category    string
	Type        string
	Significant bool
	// PersonalData: a personal data breach (GDPR Art. 33 applies).
	PersonalData bool
	TLP          incident.TLP
	Severity     incident.Severity // the suggested severity
	Assets       []incident.Asset
	People       *int64 // approximate number of people whose data are involved
	Records      *int64
}

// Decide derives the facts of a guided report from its answers.
//
//   - Significant (NIS2 Art. 23(3)): "yes" to severe disruption or
//     financial loss, or to considerable damage to others. "I don't
//     know" to both leaves it to the CERT (not significant until it
//     decides).
//   - The suggested severity (editable on the check page): critical when
//     services to residents are disrupted and the organisation's services
//     severely so, or when special categories of personal data of 1,000
//     people or more are involved; high when services are disrupted (fully
//     or partly), either significance question is "yes", special
//     categories are involved, or what happened is ransomware, an
//     intrusion, a misused administrator account or a data leak; low for
//     unsuccessful attempts and suspected phishing with nothing disrupted
//     and no personal data; medium otherwise.
func Decide(a Answers) Facts {
	f := Facts{TLP: incident.TLPAmber}
	if t, ok := a.Time("noticed"); ok && !a.Has("noticed_unknown") {
		f.DetectedAt = &t
		f.Approximate = a.Has("noticed_about") || a.Get("noticed-hour") == ""
	}
	if c, ok := What(a.Get("what")); ok {
		f.Category, f.Type = c.Category, c.Type
	}
	f.Significant = a.Is("severe", "yes") || a.Is("damage", "yes")
	f.PersonalData = personal(a)
	if t, ok := incident.ParseTLP(a.Get("tlp")); ok {
		f.TLP = t
	}
	for _, line := range strings.Split(a.Get("assets"), "\n") {
		if line = strings.TrimSpace(strings.TrimLeft(line, "-*• \t")); line != "" && len(f.Assets) < incident.MaxAssets {
			if len([]rune(line)) > incident.MaxAssetLen {
				line = string([]rune(line)[:incident.MaxAssetLen])
			}
			f.Assets = append(f.Assets, incident.Asset{Name: line, Kind: "other"})
		}
	}
	if f.PersonalData {
		if n, ok := a.Int("people_count"); ok {
			f.People = &n
		}
		if n, ok := a.Int("records_count"); ok {
			f.Records = &n
		}
	}
	f.Severity = suggestSeverity(a, f)
	return f
}

func suggestSeverity(a Answers, f Facts) incident.Severity {
	special := false
	if f.PersonalData {
		for _, c := range a["data_categories"] {
			special = special || slices.Contains(SpecialCategories, c)
		}
	}
	disrupted := a.Is("services", "yes", "partly")
	switch {
	case a.Is("services", "yes") && a.Is("severe", "yes"),
		special && f.People != nil && *f.People >= 1000:
		return incident.Critical
	case disrupted, f.Significant, special, a.Is("what", "ransomware", "intrusion", "admin_account", "data_leak"):
		return incident.High
	case a.Is("what", "attempts", "phishing") && a.Is("services", "no") && !f.PersonalData:
		return incident.Low
	}
	return incident.Medium
}

// MaxTitle is the longest title the check page takes.
const MaxTitle = incident.MaxTitle

// SuggestTitle is the title a guided report proposes: what happened in
// words ("Files unreadable and a ransom note"), or the first line of the
// reporter's own words when they chose "something else".
func SuggestTitle(a Answers, t Translator) string {
	if d := firstLine(a.Get("what_details")); a.Is("what", "other") && d != "" {
		return cut(d, 120)
	}
	if a.Has("what") {
		return t("report.title." + a.Get("what"))
	}
	return t("report.title.unknown")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
