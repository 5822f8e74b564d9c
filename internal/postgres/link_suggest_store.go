package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/google/uuid"
)

// titleWords is the set of words of three letters or more of a title
// (an SQL expression over the column expression col): the titles'
// similarity is the share of their words both hold. pg_trgm is not
// installed (no migration enables it), and words judge a reworded title
// as well for this.
func titleWords(col string) string {
	return `ARRAY(SELECT DISTINCT w FROM regexp_split_to_table(lower(` + col + `), '[^[:alnum:]]+') w WHERE length(w) >= 3)`
}

// suggestionRow is a candidate duplicate of the incident me_id.
type suggestionRow struct {
	MeID         uuid.UUID
	ID           uuid.UUID
	Reference    string
	Title        string
	Stage        string
	Status       string
	TLP          string
	SameReporter bool
	Shared       int
	Similarity   float64
}

// suggestionSQL selects, for each open incident of the condition me
// (over incidents aliased m), the open incidents p sees that may be its
// duplicates: created within the window around it, not linked to it,
// and sharing observables p sees with it, or of the same reporting
// organisation with a title at least minSim alike. The candidates come
// from two indexed lookups (incidents_reporting_org_idx, and the
// observables' (type, value) index), never from a walk of all incidents
// in the window: the triage queue asks for its whole page at once.
func suggestionSQL(p access.Principal, me string, meArgs []any, q linking.SuggestQuery) (string, []any) {
	vis, visArgs := visibleTo(p)
	obs, obsArgs := observableVisibleTo(p)
	window := fmt.Sprintf("%d seconds", int64(q.Window.Seconds()))
	sql := `WITH me AS (SELECT m.id, m.reporting_org_id, m.created_at, ` + titleWords("m.title") + ` AS words
			FROM incidents m WHERE m.status = 'open' AND ` + me + `),
		c AS (SELECT me.id AS me_id, me.words AS my_words, i.id, i.reference, i.title, i.stage, i.status, i.tlp,
				i.reporting_org_id = me.reporting_org_id AS same_reporter, ` + titleWords("i.title") + ` AS words
			FROM me CROSS JOIN LATERAL (
					SELECT r.id FROM incidents r WHERE r.reporting_org_id = me.reporting_org_id
						AND r.created_at BETWEEN me.created_at - CAST(? AS interval) AND me.created_at + CAST(? AS interval)
					UNION
					SELECT b.incident_id FROM incident_observables a
						JOIN incident_observables b ON b.type = a.type AND b.value = a.value
					WHERE a.incident_id = me.id) k
				JOIN incidents i ON i.id = k.id
			WHERE i.id <> me.id AND i.status = 'open'
				AND i.created_at BETWEEN me.created_at - CAST(? AS interval) AND me.created_at + CAST(? AS interval)
				AND ` + vis + `
				AND NOT EXISTS (SELECT 1 FROM incident_links l WHERE (l.from_id = me.id AND l.to_id = i.id) OR (l.from_id = i.id AND l.to_id = me.id))),
		s AS (SELECT c.*,
			(SELECT count(*) FROM incident_observables o JOIN incidents i ON i.id = o.incident_id
				WHERE o.incident_id = c.me_id AND ` + obs + ` AND (o.type, o.value) IN
					(SELECT o.type, o.value FROM incident_observables o JOIN incidents i ON i.id = o.incident_id
						WHERE o.incident_id = c.id AND ` + obs + `)) AS shared,
			(SELECT count(*) FROM unnest(c.words) w WHERE w = ANY(c.my_words))::float8
				/ GREATEST(1, (SELECT count(DISTINCT w) FROM unnest(c.words || c.my_words) w)) AS similarity
			FROM c)
		SELECT * FROM s WHERE s.shared > 0 OR (s.same_reporter AND s.similarity >= ?)`
	args := append([]any{}, meArgs...)
	args = append(args, window, window, window, window)
	args = append(args, visArgs...)
	args = append(args, obsArgs...)
	args = append(args, obsArgs...)
	return sql, append(args, q.MinSimilarity)
}

// Suggestions implements linking.Store.
func (s *Store) Suggestions(ctx context.Context, p access.Principal, inc *incident.Incident, q linking.SuggestQuery) ([]linking.Suggestion, error) {
	sql, args := suggestionSQL(p, "m.id = ?", []any{inc.ID}, q)
	var rows []suggestionRow
	err := s.db.WithContext(ctx).Raw(`SELECT me_id, id, reference, title, stage, status, tlp, same_reporter, shared, similarity
		FROM (`+sql+`) x ORDER BY shared DESC, similarity DESC, reference LIMIT ?`, append(args, q.Limit)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "suggest duplicates")
	}
	out := make([]linking.Suggestion, len(rows))
	for n, r := range rows {
		out[n] = linking.Suggestion{Other: linking.Other{ID: r.ID, Reference: r.Reference, Title: r.Title, Stage: incident.Stage(r.Stage),
			Status: incident.Status(r.Status), TLP: incident.TLP(r.TLP)}, SameReporter: r.SameReporter, SharedObservables: r.Shared,
			TitleSimilarity: r.Similarity}
	}
	return out, nil
}

// SuggestionCounts implements linking.Store.
func (s *Store) SuggestionCounts(ctx context.Context, p access.Principal, ids []uuid.UUID, q linking.SuggestQuery) (map[uuid.UUID]int, error) {
	sql, args := suggestionSQL(p, "m.id IN ?", []any{ids}, q)
	var rows []struct {
		MeID uuid.UUID
		N    int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT me_id, count(*) AS n FROM (`+sql+`) x GROUP BY me_id`, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "count suggestions")
	}
	out := make(map[uuid.UUID]int, len(rows))
	for _, r := range rows {
		out[r.MeID] = r.N
	}
	return out, nil
}

// Campaigns implements linking.Store: the observables p sees that
// incidents of two or more reporting organisations hold, the most recent
// first, each with those of its incidents p sees.
func (s *Store) Campaigns(ctx context.Context, p access.Principal, limit int) ([]linking.Campaign, error) {
	obs, obsArgs := observableVisibleTo(p)
	var rows []struct {
		Type      string
		Value     string
		ID        uuid.UUID
		Reference string
		Title     string
		Stage     string
		Status    string
		TLP       string
		OrgSlug   string
		OrgName   string
		CreatedAt time.Time
	}
	q := `WITH v AS (SELECT o.type, o.value, i.id, i.reference, i.title, i.stage, i.status, i.tlp, i.reporting_org_id, i.created_at
			FROM incident_observables o JOIN incidents i ON i.id = o.incident_id WHERE ` + obs + `),
		g AS (SELECT type, value, max(created_at) AS latest FROM v GROUP BY type, value
			HAVING count(DISTINCT reporting_org_id) >= 2 ORDER BY latest DESC, type, value LIMIT ?)
		SELECT v.type, v.value, v.id, v.reference, v.title, v.stage, v.status, v.tlp, ro.slug AS org_slug, ro.name AS org_name, v.created_at
		FROM v JOIN g ON g.type = v.type AND g.value = v.value JOIN organizations ro ON ro.id = v.reporting_org_id
		ORDER BY g.latest DESC, v.type, v.value, v.created_at DESC, v.id`
	if err := s.db.WithContext(ctx).Raw(q, append(obsArgs, limit)...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list campaigns")
	}
	var out []linking.Campaign
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Type != r.Type || out[len(out)-1].Value != r.Value {
			out = append(out, linking.Campaign{Type: r.Type, Value: r.Value})
		}
		c := &out[len(out)-1]
		c.Incidents = append(c.Incidents, linking.CampaignIncident{Other: linking.Other{ID: r.ID, Reference: r.Reference, Title: r.Title,
			Stage: incident.Stage(r.Stage), Status: incident.Status(r.Status), TLP: incident.TLP(r.TLP)},
			ReportingOrg: r.OrgSlug, ReportingOrgName: r.OrgName, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}
