package linking

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// SuggestQuery bounds a search for duplicates.
type SuggestQuery struct {
	// Window: the other incident was created at most this long before or
	// after the incident.
	Window time.Duration
	// MinSimilarity: the least title similarity (the share of the two
	// titles' words, of three letters or more, that both hold) for an
	// incident of the same reporting organisation without a shared
	// observable.
	MinSimilarity float64
	Limit         int
}

// Suggestion is an open incident that resembles another: it shares
// observables with it, or it was reported by the same organisation under
// a similar title, within the window.
type Suggestion struct {
	Other             Other
	SameReporter      bool
	SharedObservables int     // observables of both that p sees
	TitleSimilarity   float64 // 0 to 1
}

// Campaign is a group of incidents, reported by at least two
// organisations, that hold the same observable; only incidents and
// observables the viewer sees take part.
type Campaign struct {
	Type      string
	Value     string
	Incidents []CampaignIncident
}

// CampaignIncident is an incident of a campaign.
type CampaignIncident struct {
	Other
	ReportingOrg     string // slug
	ReportingOrgName string
	CreatedAt        time.Time
}

// minSimilarity is the title similarity that suggests a duplicate of the
// same reporting organisation.
const minSimilarity = 0.4

func (s *Service) query() SuggestQuery {
	return SuggestQuery{Window: s.o.SuggestWindow, MinSimilarity: minSimilarity, Limit: 5}
}

// Suggestions lists the open incidents p sees that may be duplicates of
// the incident ref (not already linked to it), most alike first: those
// that share observables p sees with it, and those of the same reporting
// organisation with a similar title, created within the window around it.
// A closed incident gets none.
func (s *Service) Suggestions(ctx context.Context, p access.Principal, ref string) (*incident.Incident, []Suggestion, error) {
	inc, err := s.o.Incidents.Get(ctx, p, ref)
	if err != nil {
		return nil, nil, err
	}
	out, err := s.SuggestionsOf(ctx, p, inc)
	return inc, out, err
}

// SuggestionsOf is Suggestions for an incident p has read.
func (s *Service) SuggestionsOf(ctx context.Context, p access.Principal, inc *incident.Incident) ([]Suggestion, error) {
	if inc.Status == incident.Closed {
		return nil, nil
	}
	return s.o.Store.Suggestions(ctx, p, inc, s.query())
}

// SuggestionCounts counts the suggestions of each open incident of ids
// (the triage queue's page) that p sees; incidents without any are
// missing from the map.
func (s *Service) SuggestionCounts(ctx context.Context, p access.Principal, ids []uuid.UUID) (map[uuid.UUID]int, error) {
	if len(ids) == 0 {
		return map[uuid.UUID]int{}, nil
	}
	return s.o.Store.SuggestionCounts(ctx, p, ids, s.query())
}

// Campaigns groups the incidents p sees that share an observable p sees
// with incidents of another reporting organisation, the most recent
// first; limit bounds the groups (zero: 50).
func (s *Service) Campaigns(ctx context.Context, p access.Principal, limit int) ([]Campaign, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return s.o.Store.Campaigns(ctx, p, limit)
}
