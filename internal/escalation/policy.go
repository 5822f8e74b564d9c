package escalation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
)

// Action is what a rule does when it fires.
type Action string

// The rule actions.
const (
	// ActionEscalate requests an escalation to the target.
	ActionEscalate Action = "escalate"
	// ActionNotify sends the target a notification.
	ActionNotify Action = "notify"
)

// The targets of a rule besides an organisation's slug.
const (
	// ToParent is the nearest CERT above the reporting organisation.
	ToParent = "parent"
	// ToNational is the national CERT.
	ToNational = "national"
)

// Immediately is the value of unacknowledged_for for a rule that fires as
// soon as the incident matches.
const Immediately = "immediately"

// Bounds of a policy.
const (
	MaxRules    = 20
	MinAfter    = time.Minute
	MaxAfter    = 7 * 24 * time.Hour
	maxRuleName = 64
)

// Policy is an organisation's escalation policy: its rules, in order.
// Every matching rule runs; rule names are unique within a policy.
type Policy struct {
	Rules     []Rule
	UpdatedAt time.Time
	UpdatedBy string
}

// Rule is one rule of a policy.
type Rule struct {
	Name string
	When Condition
	// After is how long the incident may stay unacknowledged; 0 means
	// immediately.
	After    time.Duration
	Action   Action
	To       string // ToParent, ToNational, or an organisation's slug
	Kind     Kind   // for ActionEscalate
	RepeatUp bool   // fire again one CERT further up after the same time
}

// Condition selects the incidents a rule applies to. Zero fields match
// every incident.
type Condition struct {
	MinSeverity        incident.Severity // "" matches every severity
	Significant        *bool
	PersonalDataBreach *bool
}

// Matches reports whether the incident meets the condition.
func (c Condition) Matches(inc *incident.Incident) bool {
	if c.MinSeverity != "" && inc.Severity.Rank() < c.MinSeverity.Rank() {
		return false
	}
	if c.Significant != nil && inc.Significant != *c.Significant {
		return false
	}
	if c.PersonalDataBreach != nil && inc.PersonalDataBreach != *c.PersonalDataBreach {
		return false
	}
	return true
}

// Rule returns the rule named name, or nil.
func (p *Policy) Rule(name string) *Rule {
	for i := range p.Rules {
		if p.Rules[i].Name == name {
			return &p.Rules[i]
		}
	}
	return nil
}

// PolicyDocument is the JSON form of a policy: the body of the API, the
// file of `certdesk org policy set`, and what the database stores. It is
// the one place the format is defined (docs/escalation.md).
type PolicyDocument struct {
	Rules []RuleDocument `json:"rules"`
}

// RuleDocument is the JSON form of a rule.
type RuleDocument struct {
	Name              string            `json:"name"`
	When              ConditionDocument `json:"when"`
	UnacknowledgedFor string            `json:"unacknowledged_for"`
	Action            string            `json:"action,omitempty"`
	To                string            `json:"to,omitempty"`
	Kind              string            `json:"kind,omitempty"`
	RepeatUp          bool              `json:"repeat_up"`
}

// ConditionDocument is the JSON form of a condition.
type ConditionDocument struct {
	MinSeverity        string `json:"min_severity,omitempty"`
	Significant        *bool  `json:"significant,omitempty"`
	PersonalDataBreach *bool  `json:"personal_data_breach,omitempty"`
}

var ruleNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]*$`)

// DecodePolicy reads a policy document strictly (unknown members are
// refused) and validates it. Field errors name the member, e.g.
// "rules[0].unacknowledged_for". Targets given as slugs are checked
// against the directory by the service, not here.
func DecodePolicy(b []byte) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d PolicyDocument
	if err := dec.Decode(&d); err != nil {
		return nil, apperr.Fields{{Field: "body", Rule: "json", Message: "the policy is not a valid document: " + err.Error()}}.Err()
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, apperr.Fields{{Field: "body", Rule: "single_value", Message: "the policy must be exactly one JSON object"}}.Err()
	}
	return d.Policy()
}

// Policy validates the document and returns the policy it describes,
// with defaults filled in (action escalate, to parent, kind assist).
func (d PolicyDocument) Policy() (*Policy, error) {
	var fs apperr.Fields
	if d.Rules == nil {
		fs.Add("rules", "required", "rules is required (an empty list removes every rule)")
	}
	if len(d.Rules) > MaxRules {
		fs.Add("rules", "max_items", "at most %d rules", MaxRules)
	}
	p := &Policy{Rules: []Rule{}}
	seen := map[string]bool{}
	for i, rd := range d.Rules {
		at := func(f string) string { return fieldAt(i, f) }
		r := Rule{Name: strings.TrimSpace(rd.Name), RepeatUp: rd.RepeatUp}
		switch {
		case r.Name == "":
			fs.Add(at("name"), "required", "name is required")
		case len(r.Name) > maxRuleName || !ruleNameRE.MatchString(r.Name):
			fs.Add(at("name"), "format", "name must be at most %d letters, digits, spaces, dots, dashes and underscores", maxRuleName)
		case seen[r.Name]:
			fs.Add(at("name"), "unique", "another rule has the name %q", r.Name)
		}
		seen[r.Name] = true
		if s := rd.When.MinSeverity; s != "" {
			if !incident.Severity(s).Valid() {
				fs.Add(at("when.min_severity"), "enum", "min_severity must be one of: low, medium, high, critical")
			}
			r.When.MinSeverity = incident.Severity(s)
		}
		r.When.Significant, r.When.PersonalDataBreach = rd.When.Significant, rd.When.PersonalDataBreach
		switch u := strings.TrimSpace(rd.UnacknowledgedFor); {
		case u == "":
			fs.Add(at("unacknowledged_for"), "required", `unacknowledged_for is required: a duration such as "15m" or "immediately"`)
		case u == Immediately:
		default:
			d, err := time.ParseDuration(u)
			switch {
			case err != nil || strings.HasPrefix(u, "-") || strings.HasPrefix(u, "+"):
				fs.Add(at("unacknowledged_for"), "duration", `unacknowledged_for must be a duration such as "15m", "1h30m", or "immediately"`)
			case d < MinAfter || d > MaxAfter:
				fs.Add(at("unacknowledged_for"), "range", "unacknowledged_for must be between %s and %s (or immediately)", MinAfter, MaxAfter)
			case d%time.Second != 0:
				fs.Add(at("unacknowledged_for"), "whole_seconds", "unacknowledged_for must be whole seconds")
			default:
				r.After = d
			}
		}
		switch Action(rd.Action) {
		case "", ActionEscalate:
			r.Action = ActionEscalate
		case ActionNotify:
			r.Action = ActionNotify
		default:
			fs.Add(at("action"), "enum", "action must be escalate or notify")
		}
		r.To = strings.TrimSpace(rd.To)
		if r.To == "" {
			r.To = ToParent
		}
		if len(r.To) > 64 {
			fs.Add(at("to"), "format", "to must be parent, national or an organisation's slug")
		}
		switch Kind(rd.Kind) {
		case "":
			if r.Action == ActionEscalate {
				r.Kind = Assist
			}
		case Coordinate, Assist:
			if r.Action == ActionNotify {
				fs.Add(at("kind"), "not_allowed", "kind applies to action escalate only")
			}
			r.Kind = Kind(rd.Kind)
		default:
			fs.Add(at("kind"), "enum", "kind must be coordinate or assist (a policy that only tells an organisation uses action notify)")
		}
		if r.RepeatUp && strings.TrimSpace(rd.UnacknowledgedFor) == Immediately {
			fs.Add(at("repeat_up"), "needs_duration", "repeat_up needs unacknowledged_for as a duration: it is the time each next level gets")
		}
		p.Rules = append(p.Rules, r)
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// Document returns the JSON form of the policy.
func (p *Policy) Document() PolicyDocument {
	d := PolicyDocument{Rules: make([]RuleDocument, len(p.Rules))}
	for i, r := range p.Rules {
		after := Immediately
		if r.After > 0 {
			after = shortDuration(r.After)
		}
		d.Rules[i] = RuleDocument{Name: r.Name, UnacknowledgedFor: after, Action: string(r.Action), To: r.To,
			Kind: string(r.Kind), RepeatUp: r.RepeatUp,
			When: ConditionDocument{MinSeverity: string(r.When.MinSeverity), Significant: r.When.Significant,
				PersonalDataBreach: r.When.PersonalDataBreach}}
	}
	return d
}

// shortDuration writes 15m rather than 15m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// fieldAt names a member of the i-th rule in field errors.
func fieldAt(i int, f string) string { return fmt.Sprintf("rules[%d].%s", i, f) }
