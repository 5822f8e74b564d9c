package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/taxii"
	"github.com/google/uuid"
)

// FeedOrgs implements taxii.Store: the organisations that reported an
// incident p may see, by name.
func (s *Store) FeedOrgs(ctx context.Context, p access.Principal) ([]org.Organization, error) {
	vis, args := visibleTo(p)
	return scanOrgs(s.db.WithContext(ctx).Raw(orgSelect+` WHERE o.id IN (SELECT i.reporting_org_id FROM incidents i WHERE `+vis+`)
		ORDER BY o.name, o.id`, args...))
}

// FeedOrg implements taxii.Store.
func (s *Store) FeedOrg(ctx context.Context, p access.Principal, orgID uuid.UUID) (*org.Organization, error) {
	vis, args := visibleTo(p)
	orgs, err := scanOrgs(s.db.WithContext(ctx).Raw(orgSelect+` WHERE o.id = ?
		AND EXISTS (SELECT 1 FROM incidents i WHERE i.reporting_org_id = o.id AND `+vis+`)`, append([]any{orgID}, args...)...))
	if err != nil {
		return nil, err
	}
	if len(orgs) == 0 {
		return nil, apperr.New(apperr.NotFound, "collection %s not found", orgID)
	}
	return &orgs[0], nil
}

// feedTime is an incident's (i) time in the feed of the organisation ?:
// the latest of its last change, its observables' last change and the
// moment it was shared with or escalated to that organisation.
const feedTime = `GREATEST(i.updated_at,
	(SELECT max(fo.updated_at) FROM incident_observables fo WHERE fo.incident_id = i.id),
	(SELECT fs.created_at FROM incident_shares fs WHERE fs.incident_id = i.id AND fs.org_id = ?))`

// FeedIncidents implements taxii.Store.
func (s *Store) FeedIncidents(ctx context.Context, p access.Principal, orgID uuid.UUID, from *taxii.Position,
	addedAfter time.Time, limit int) ([]taxii.Entry, error) {
	vis, visArgs := visibleTo(p)
	q := `SELECT f.id, f.added FROM (SELECT i.id, ` + feedTime + ` AS added FROM incidents i
		WHERE i.reporting_org_id = ? AND ` + vis + `) f WHERE TRUE`
	args := append([]any{p.OrgID, orgID}, visArgs...)
	if !addedAfter.IsZero() {
		q += ` AND f.added > ?`
		args = append(args, addedAfter)
	}
	if from != nil {
		q += ` AND (f.added, f.id) >= (?, ?)`
		args = append(args, from.Added, from.ID)
	}
	q += ` ORDER BY f.added, f.id LIMIT ?`
	args = append(args, limit)
	var rows []struct {
		ID    uuid.UUID
		Added time.Time
	}
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "read a TAXII feed")
	}
	out := make([]taxii.Entry, len(rows))
	for i, r := range rows {
		out[i] = taxii.Entry{ID: r.ID, Added: r.Added}
	}
	return out, nil
}
