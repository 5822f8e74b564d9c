package playbook

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
)

// Incidents reads an incident as a principal may see it
// (incident.Service.Get): one the principal may not see is
// apperr.NotFound, like one that does not exist.
type Incidents interface {
	Get(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
}

// Service holds the catalogue's use cases, for the API and the web
// interface alike: the list, one playbook, and dry runs.
type Service struct {
	catalog   *Catalog
	incidents Incidents
	now       func() time.Time
}

// NewService returns a Service over catalog (nil: an empty catalogue),
// reading incidents through incidents; now is the clock (nil: time.Now),
// which a "what if" dry run validates its fields against.
func NewService(catalog *Catalog, incidents Incidents, now func() time.Time) *Service {
	if catalog == nil {
		catalog = &Catalog{}
	}
	if now == nil {
		now = time.Now
	}
	return &Service{catalog: catalog, incidents: incidents, now: now}
}

// Entries returns every entry of the catalogue, valid or not (see
// Catalog.Entries).
func (s *Service) Entries() []*Entry { return s.catalog.Entries() }

// Entry returns the entry of the playbook id, valid or not (see
// Catalog.Entry); apperr.NotFound when there is none.
func (s *Service) Entry(id string) (*Entry, error) {
	if e, ok := s.catalog.Entry(id); ok {
		return e, nil
	}
	return nil, apperr.New(apperr.NotFound, "playbook %q not found", id)
}

// Playbook returns the valid playbook id, for an export: apperr.NotFound
// when there is none, apperr.Conflict when its file does not validate.
func (s *Service) Playbook(id string) (*Playbook, error) {
	e, err := s.Entry(id)
	if err != nil {
		return nil, err
	}
	if !e.Valid || e.Playbook == nil {
		return nil, &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("playbook %q does not validate: fix it first (see its errors)", e.ID)}
	}
	return e.Playbook, nil
}

// DryRunInput names what a dry run plans for: an incident (ID or
// reference), or for "what if" the fields of an incident. Exactly one is
// given.
type DryRunInput struct {
	Incident *string
	WhatIf   *WhatIf
}

// WhatIf are the incident fields conditions read, for a dry run on an
// incident that does not exist. They are checked like a new incident's,
// with the same defaults (stage response, severity medium, TLP:AMBER,
// status open).
type WhatIf struct {
	Severity           string
	Category           string
	Type               string
	Tags               []string
	TLP                string
	Stage              string
	Status             string
	ReportingOrg       string // a slug, as conditions see it
	CoordinatingOrg    string
	PersonalDataBreach bool
	Significant        bool
}

// TriggerResult is one trigger of a dry run: whether its condition holds
// (Fires), or the error that stopped its evaluation.
type TriggerResult struct {
	Trigger Trigger
	Fires   bool
	Err     error
}

// DryRunResult is the plan of a dry run.
type DryRunResult struct {
	Playbook *Playbook
	// Incident is the incident planned for; nil for "what if".
	Incident *incident.Incident
	// Triggered says, per event the playbook has a trigger for, whether
	// the event would start it (Playbook.Triggered).
	Triggered map[string]bool
	Triggers  []TriggerResult
	// Steps are in the order a run starts them (DryRun).
	Steps      []PlannedStep
	StepsToRun int
}

// invalidInput is a field error of a dry run's input, with the message the
// API has always given it.
func invalidInput(field, rule, msg string) error {
	return &apperr.Error{Code: apperr.Invalid, Message: "the request body is invalid",
		Fields: []apperr.FieldError{{Field: field, Rule: rule, Message: msg}}}
}

// DryRun says what the playbook id would do for an incident, and writes
// nothing. An unknown playbook is apperr.NotFound; an input without
// exactly one of Incident and WhatIf, or with an empty Incident, is
// apperr.Invalid (fields incident or incident_fields); a playbook that does
// not validate is apperr.Conflict; an incident p may not see is
// apperr.NotFound; a WhatIf field that breaks a rule is apperr.Invalid
// naming incident_fields.<field>.
func (s *Service) DryRun(ctx context.Context, p access.Principal, id string, in DryRunInput) (*DryRunResult, error) {
	e, err := s.Entry(id)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Incident == nil && in.WhatIf == nil:
		return nil, invalidInput("incident", "required", "give incident (an incident's ID or reference) or incident_fields")
	case in.Incident != nil && in.WhatIf != nil:
		return nil, invalidInput("incident_fields", "exclusive", "give either incident or incident_fields, not both")
	case in.Incident != nil && strings.TrimSpace(*in.Incident) == "":
		return nil, invalidInput("incident", "required", "incident must be an incident's ID or reference")
	}
	if !e.Valid {
		return nil, &apperr.Error{Code: apperr.Conflict, Message: fmt.Sprintf("playbook %q does not validate: fix it first (see its errors)", e.ID)}
	}
	out := &DryRunResult{Playbook: e.Playbook, Triggered: map[string]bool{}, Triggers: []TriggerResult{}}
	var inc incident.Incident
	if in.Incident != nil {
		got, err := s.incidents.Get(ctx, p, strings.TrimSpace(*in.Incident))
		if err != nil {
			return nil, err
		}
		inc, out.Incident = *got, got
	} else if inc, err = in.WhatIf.incident(s.now()); err != nil {
		return nil, err
	}
	pb := e.Playbook
	env := NewEnv(inc)
	for _, t := range pb.Triggers {
		ok, err := t.When.Eval(ctx, env)
		tr := TriggerResult{Trigger: t, Err: err, Fires: err == nil && ok}
		// The event starts the playbook when any of its triggers fires
		// (what pb.Triggered says), without evaluating them twice.
		out.Triggered[t.On] = out.Triggered[t.On] || tr.Fires
		out.Triggers = append(out.Triggers, tr)
	}
	out.Steps = DryRun(ctx, pb, env)
	for _, ps := range out.Steps {
		if ps.Run {
			out.StepsToRun++
		}
	}
	return out, nil
}

// incident validates the fields like a new incident's (defaults included)
// and returns the incident they describe.
func (w *WhatIf) incident(now time.Time) (incident.Incident, error) {
	n := incident.NewIncident{Title: "what if", Stage: incident.Stage(w.Stage), Severity: incident.Severity(w.Severity),
		TLP: incident.TLP(w.TLP), Category: w.Category, Type: w.Type, Tags: w.Tags,
		PersonalDataBreach: w.PersonalDataBreach, Significant: w.Significant}
	var fs apperr.Fields
	if err := n.Validate(now); err != nil {
		ae, ok := apperr.As(err)
		if !ok {
			return incident.Incident{}, err
		}
		for _, f := range ae.Fields {
			fs.Add("incident_fields."+f.Field, f.Rule, "%s", f.Message)
		}
	}
	status := incident.Status(w.Status)
	if status == "" {
		status = incident.Open
	}
	if status != incident.Open && status != incident.Closed {
		fs.Add("incident_fields.status", "enum", "incident_fields.status must be open or closed")
	}
	if err := fs.Err(); err != nil {
		return incident.Incident{}, err
	}
	return incident.Incident{Stage: n.Stage, Severity: n.Severity, TLP: n.TLP, Status: status, Category: n.Category,
		Type: n.Type, Tags: n.Tags, PersonalDataBreach: n.PersonalDataBreach, Significant: n.Significant,
		ReportingOrgSlug: w.ReportingOrg, CoordinatingOrgSlug: w.CoordinatingOrg}, nil
}
