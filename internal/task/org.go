package task

import (
	"context"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/google/uuid"
)

// OrgStore reads the tasks assigned to an organisation's people.
type OrgStore interface {
	// OpenOrgTasks returns the open and in-progress tasks of the given
	// incidents (those p may see; the others have none) whose assignee
	// belongs to the organisation orgID, by incident, each list by due
	// time (none last), then position.
	OpenOrgTasks(ctx context.Context, p access.Principal, orgID uuid.UUID, incidentIDs []uuid.UUID) (map[uuid.UUID][]Task, error)
}

// MaxOrgTaskIncidents bounds the incidents of one OpenForOrg call (a page
// of a list).
const MaxOrgTaskIncidents = 200

// OpenForOrg returns what is asked of p's organisation on the given
// incidents: their open and in-progress tasks assigned to people of p's
// organisation, by incident (incidents p may not see have none), each by
// due time, tasks without one last. It reads all the incidents in one
// query, for a list page ("Our reports"); at most MaxOrgTaskIncidents
// incidents are looked at.
func (s *Service) OpenForOrg(ctx context.Context, p access.Principal, incidentIDs []uuid.UUID) (map[uuid.UUID][]Task, error) {
	if len(incidentIDs) == 0 || p.System {
		return map[uuid.UUID][]Task{}, nil
	}
	if len(incidentIDs) > MaxOrgTaskIncidents {
		incidentIDs = incidentIDs[:MaxOrgTaskIncidents]
	}
	return s.store.OpenOrgTasks(ctx, p, p.OrgID, incidentIDs)
}
