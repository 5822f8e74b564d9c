package incident

import (
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
)

// StageIndex orders stages: prevention is 0, recovery 3.
func (s Stage) Index() int { return slices.Index(Stages, s) }

// CheckTransition decides whether an incident in stage from with status may
// move to stage to. Forward by any number of stages is allowed; backward
// needs a reason; a closed incident must be reopened first. An illegal
// transition is apperr.Conflict naming the allowed ones (Details["allowed"]).
func CheckTransition(from Stage, status Status, to Stage, reason string) error {
	if !to.Valid() {
		return apperr.Fields{{Field: "to", Rule: "enum", Message: "to must be one of: " + list(Stages)}}.Err()
	}
	if status == Closed {
		return &apperr.Error{Code: apperr.Conflict, Message: "the incident is closed: reopen it before changing its stage",
			Details: map[string]any{"allowed": []string{}}}
	}
	if to == from {
		return &apperr.Error{Code: apperr.Conflict, Message: "the incident is already in stage " + string(from),
			Details: map[string]any{"allowed": allowedFrom(from)}}
	}
	if to.Index() < from.Index() && strings.TrimSpace(reason) == "" {
		return apperr.Fields{{Field: "reason", Rule: "required", Message: "moving back from " + string(from) + " to " + string(to) + " needs a reason"}}.Err()
	}
	return nil
}

// allowedFrom lists the stages an open incident in stage from may move to
// (the earlier ones with a reason).
func allowedFrom(from Stage) []string {
	var out []string
	for _, s := range Stages {
		if s != from {
			out = append(out, string(s))
		}
	}
	return out
}
