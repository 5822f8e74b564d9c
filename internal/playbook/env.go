package playbook

import (
	"github.com/certdesk/certdesk/internal/incident"
)

// Env is the data a condition sees: the incident and the outputs of the
// run's steps. It has no methods, so a condition can read it and nothing
// else.
type Env struct {
	Severity        string                `expr:"severity"` // low, medium, high, critical; ordered
	Stage           string                `expr:"stage"`
	Status          string                `expr:"status"`
	TLP             string                `expr:"tlp"` // TLP:CLEAR … TLP:RED; ordered by restriction
	Category        string                `expr:"category"`
	Type            string                `expr:"type"`
	Tags            []string              `expr:"tags"`
	Flags           Flags                 `expr:"flags"`
	ReportingOrg    string                `expr:"reporting_org"`    // slug
	CoordinatingOrg string                `expr:"coordinating_org"` // slug, empty while unrouted
	Steps           map[string]StepResult `expr:"steps"`
}

// Flags are the incident's boolean flags.
type Flags struct {
	PersonalDataBreach bool `expr:"personal_data_breach"`
	Significant        bool `expr:"significant"`
}

// StepResult is what a condition sees of a finished step.
type StepResult struct {
	Output map[string]any `expr:"output"`
}

// NewEnv builds a condition environment from an incident, with no step
// outputs (as in a dry run or when evaluating a trigger).
func NewEnv(inc incident.Incident) Env {
	tags := inc.Tags
	if tags == nil {
		tags = []string{}
	}
	return Env{
		Severity:        string(inc.Severity),
		Stage:           string(inc.Stage),
		Status:          string(inc.Status),
		TLP:             string(inc.TLP),
		Category:        inc.Category,
		Type:            inc.Type,
		Tags:            tags,
		Flags:           Flags{PersonalDataBreach: inc.PersonalDataBreach, Significant: inc.Significant},
		ReportingOrg:    inc.ReportingOrgSlug,
		CoordinatingOrg: inc.CoordinatingOrgSlug,
		Steps:           map[string]StepResult{},
	}
}

// stepsFor fills in an empty result for every step of pb that has none, so
// that steps.<id>.output is an empty map rather than nil.
func (e Env) withSteps(pb *Playbook) Env {
	steps := make(map[string]StepResult, len(pb.Steps))
	for _, s := range pb.Steps {
		r := e.Steps[s.ID]
		if r.Output == nil {
			r.Output = map[string]any{}
		}
		steps[s.ID] = r
	}
	e.Steps = steps
	if e.Tags == nil {
		e.Tags = []string{}
	}
	return e
}
