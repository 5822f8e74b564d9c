package postgres

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"
)

// Store implements the domain stores on PostgreSQL.
type Store struct {
	db   *gorm.DB
	jobs JobInserter
	// events gets the timeline events of a transaction before it commits.
	events func(ctx context.Context, tx incident.Tx, evs []incident.Event) error
	// orgChanged gets every change of an organisation that moves the
	// metrics' roll-ups (stats.Maintainer.OrgChanged).
	orgChanged func(ctx context.Context, tx stats.Tx, c stats.OrgChange) error
}

// NewStore returns a Store on db that queues jobs with jobs. jobs may be nil
// for a read-only store; queuing then fails.
func NewStore(db *DB, jobs JobInserter) *Store {
	return &Store{db: db.Gorm, jobs: jobs}
}

// OnEvents makes every transaction hand the timeline events it appended to
// dispatch (an incident.Bus's Dispatch) before it commits. Set it once,
// when the application is wired.
func (s *Store) OnEvents(dispatch func(ctx context.Context, tx incident.Tx, evs []incident.Event) error) {
	s.events = dispatch
}

var _ incident.Store = (*Store)(nil)

// incidentRow is the incidents table.
type incidentRow struct {
	ID                     uuid.UUID
	Reference              string
	Title                  string
	Description            string
	DescriptionHTML        string
	DescriptionHTMLVersion int
	ReportingOrgID         uuid.UUID
	CoordinatingOrgID      *uuid.UUID
	ReporterUserID         *uuid.UUID
	AssigneeID             *uuid.UUID
	AssigneeTeamID         *uuid.UUID
	Stage                  string
	Status                 string
	Severity               string
	TLP                    string `gorm:"column:tlp"`
	PAP                    string `gorm:"column:pap"`
	DetectedAt             *time.Time
	ReportedAt             time.Time
	AcknowledgedAt         *time.Time
	ClosedAt               *time.Time
	CreatedAt              time.Time
	UpdatedAt              time.Time
	Version                int64
	Category               string
	Type                   string
	PersonalDataBreach     bool
	Significant            bool
	AffectedPeople         *int64
	SummaryStatus          string
	SummaryImpact          string
	SummaryNextSteps       string
	SummaryUpdatedAt       *time.Time
	SummaryUpdatedBy       string
	Resolution             string
	LegalDeadlineAt        *time.Time
	NextDeadlineAt         *time.Time
	// read-only, from incidentSelect
	TagsJSON            []byte  `gorm:"->"`
	AssetsJSON          []byte  `gorm:"->"`
	DeadlinesJSON       []byte  `gorm:"->"`
	ReportingOrgSlug    string  `gorm:"->"`
	ReportingOrgTZ      string  `gorm:"->;column:reporting_org_tz"`
	CoordinatingOrgSlug *string `gorm:"->"`
	AssigneeEmail       *string `gorm:"->"`
	AssigneeTeamName    *string `gorm:"->"`
	Relations           int     `gorm:"->"` // the reader's relations (relationsOf); 0 where not selected
}

func (incidentRow) TableName() string { return "incidents" }

func (r *incidentRow) domain() *incident.Incident {
	inc := &incident.Incident{
		ID: r.ID, Reference: r.Reference, Title: r.Title, Description: r.Description,
		ReportingOrgID: r.ReportingOrgID, CoordinatingOrgID: r.CoordinatingOrgID, ReporterUserID: r.ReporterUserID, AssigneeID: r.AssigneeID,
		Stage: incident.Stage(r.Stage), Status: incident.Status(r.Status),
		Severity: incident.Severity(r.Severity), TLP: incident.TLP(r.TLP), PAP: incident.PAP(r.PAP),
		DetectedAt: utcp(r.DetectedAt), ReportedAt: r.ReportedAt.UTC(), AcknowledgedAt: utcp(r.AcknowledgedAt),
		ClosedAt: utcp(r.ClosedAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version,
		ReportingOrgSlug: r.ReportingOrgSlug, ReportingOrgTimeZone: r.ReportingOrgTZ,
		DescriptionHTML: r.DescriptionHTML, DescriptionHTMLVersion: r.DescriptionHTMLVersion,
		Category: r.Category, Type: r.Type, PersonalDataBreach: r.PersonalDataBreach, Significant: r.Significant,
		Resolution: r.Resolution, Tags: []string{}, Assets: []incident.Asset{}, AffectedPeople: r.AffectedPeople,
		Summary: incident.Summary{Status: r.SummaryStatus, Impact: r.SummaryImpact, NextSteps: r.SummaryNextSteps,
			UpdatedAt: utcp(r.SummaryUpdatedAt), UpdatedBy: r.SummaryUpdatedBy},
		Relations:      access.Relations(r.Relations),
		AssigneeTeamID: r.AssigneeTeamID, NextDeadlineAt: utcp(r.NextDeadlineAt),
	}
	if r.AssigneeTeamName != nil {
		inc.AssigneeTeamName = *r.AssigneeTeamName
	}
	_ = json.Unmarshal(r.TagsJSON, &inc.Tags)
	var assets []assetJSON
	if json.Unmarshal(r.AssetsJSON, &assets) == nil {
		for _, a := range assets {
			inc.Assets = append(inc.Assets, incident.Asset{Name: a.Name, Kind: incident.AssetKind(a.Kind), Criticality: incident.Severity(a.Criticality)})
		}
	}
	var met map[string]struct {
		At        time.Time `json:"at"`
		Reference string    `json:"reference"`
	}
	if json.Unmarshal(r.DeadlinesJSON, &met) == nil && len(met) > 0 {
		inc.DeadlinesMet = map[incident.DeadlineKind]incident.DeadlineMet{}
		for k, m := range met {
			inc.DeadlinesMet[incident.DeadlineKind(k)] = incident.DeadlineMet{At: m.At.UTC(), Reference: m.Reference}
		}
	}
	if r.AssigneeEmail != nil {
		inc.AssigneeEmail = *r.AssigneeEmail
	}
	if r.CoordinatingOrgSlug != nil {
		inc.CoordinatingOrgSlug = *r.CoordinatingOrgSlug
	}
	return inc
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// eventRow is the incident_events table.
type eventRow struct {
	ID          int64 `gorm:"->"`
	IncidentID  uuid.UUID
	ActorUserID *uuid.UUID
	Actor       string
	Kind        string
	Data        []byte `gorm:"type:jsonb"`
	OccurredAt  time.Time
	RecordedAt  time.Time `gorm:"->"`
	// read-only, from the timeline's joins
	ActorName    *string `gorm:"->"`
	ActorOrgName *string `gorm:"->"`
	ActorOrgSlug *string `gorm:"->"`
	Pinned       bool    `gorm:"->"`
}

func (eventRow) TableName() string { return "incident_events" }

// assetJSON is an affected asset as stored in incidents.affected_assets.
type assetJSON struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Criticality string `json:"criticality"`
}

// incidentSelect reads incidents with their organisations, assignee and
// deadlines met.
const incidentSelect = `SELECT i.*, array_to_json(i.tags) AS tags_json, i.affected_assets AS assets_json,
	ro.slug AS reporting_org_slug, ro.time_zone AS reporting_org_tz, co.slug AS coordinating_org_slug,
	au.email AS assignee_email, ateam.name AS assignee_team_name,
	(SELECT jsonb_object_agg(m.kind, jsonb_build_object('at', m.met_at, 'reference', m.reference))
	   FROM incident_deadlines_met m WHERE m.incident_id = i.id) AS deadlines_json
` + listFrom + `
LEFT JOIN users au ON au.id = i.assignee_id
LEFT JOIN teams ateam ON ateam.id = i.assignee_team_id`

// Incident implements incident.Store.
func (s *Store) Incident(ctx context.Context, p access.Principal, id uuid.UUID) (*incident.Incident, error) {
	return oneIncident(ctx, s.db, p, "i.id = ?", id, "")
}

// IncidentByReference implements incident.Store.
func (s *Store) IncidentByReference(ctx context.Context, p access.Principal, ref string) (*incident.Incident, error) {
	return oneIncident(ctx, s.db, p, "i.reference = ?", ref, "")
}

// oneIncident reads one incident that p may see, with p's relations to it
// (Incident.Relations); lock is "" or a locking clause such as
// "FOR UPDATE OF i".
func oneIncident(ctx context.Context, db *gorm.DB, p access.Principal, where string, arg any, lock string) (*incident.Incident, error) {
	vis, visArgs := visibleTo(p)
	rel, args := relationsOf(p)
	var rows []incidentRow
	q := "SELECT " + rel + " AS relations, " + strings.TrimPrefix(incidentSelect, "SELECT ") + " WHERE " + where + " AND " + vis + " " + lock
	args = append(append(args, arg), visArgs...)
	if err := db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load incident")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "incident %v not found", arg)
	}
	return rows[0].domain(), nil
}

// listCursor is the keyset position after the last incident of a page:
// the sort key's value and the ID as tie-breaker.
type listCursor struct {
	At time.Time `json:"t"` // created_at or updated_at; for the triage order, created_at
	ID uuid.UUID `json:"i"`
	S  string    `json:"s"` // the sort the cursor belongs to
	// The triage order's leading keys: closed, acknowledged, and the next
	// deadline (nil: none, which sorts last).
	C bool       `json:"c,omitempty"`
	A bool       `json:"a,omitempty"`
	D *time.Time `json:"d,omitempty"`
}

// triageOrder is the triage sort key (incident.SortTriage), which
// incidents_triage_idx holds.
const triageOrder = `(i.status = 'closed'), (i.acknowledged_at IS NOT NULL), COALESCE(i.next_deadline_at, 'infinity'::timestamptz), i.created_at, i.id`

// orgIDOf is the ID of the organisation a slug names, as a scalar
// subquery (one argument: the slug); no such slug matches nothing.
const orgIDOf = `(SELECT so.id FROM organizations so WHERE so.slug = ?)`

// deadlineOpenSQL and deadlineMissedSQL decide the deadline filter over an
// incidents row "i" (the same rules as incident.Incident.Deadlines).
// deadlineFilter is the condition of deadline=open (a legal deadline not
// met yet) and deadline=missed (one past due and not met) on the stored
// earliest open legal deadline (legal_deadline_at, kept with every change
// of the incident: UpdateIncident): the earliest unmet deadline is past
// due exactly when one of them is.
func deadlineFilter(state string) string {
	if state == "missed" {
		return "i.legal_deadline_at <= now()"
	}
	return "i.legal_deadline_at IS NOT NULL"
}

// List implements incident.Store. Every filter is a condition on the
// incidents row beside the visibility rule; pages are keyset-paginated on
// (sort key, id), which the (created_at, id) and (updated_at, id) indexes
// serve in both directions. There is no total count: counting a million
// rows per page is what the design rules out.
func (s *Store) List(ctx context.Context, p access.Principal, f incident.Filter, page incident.Page) ([]incident.Incident, string, error) {
	where, args, err := s.listWhere(ctx, p, f)
	if err != nil {
		return nil, "", err
	}
	q := incidentSelect + " WHERE " + where
	add := func(cond string, vs ...any) {
		q += " AND " + cond
		args = append(args, vs...)
	}
	if f.Sort == incident.SortTriage {
		return s.listTriage(ctx, q, args, f, page)
	}
	col, dir, cmp := "i.created_at", "DESC", "<"
	switch f.Sort {
	case incident.SortCreatedAsc:
		dir, cmp = "ASC", ">"
	case incident.SortUpdatedDesc:
		col = "i.updated_at"
	case incident.SortUpdatedAsc:
		col, dir, cmp = "i.updated_at", "ASC", ">"
	}
	if page.After != "" {
		c, err := listCursorOf(page.After, f.Sort)
		if err != nil {
			return nil, "", err
		}
		add("("+col+", i.id) "+cmp+" (?, ?)", c.At, c.ID)
	}
	q += " ORDER BY " + col + " " + dir + ", i.id " + dir + " LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []incidentRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list incidents")
	}
	next := ""
	if len(rows) > page.Limit {
		rows = rows[:page.Limit]
		last := rows[len(rows)-1]
		at := last.CreatedAt
		if col == "i.updated_at" {
			at = last.UpdatedAt
		}
		next = encodeCursor(listCursor{At: at, ID: last.ID, S: string(f.Sort)})
	}
	out := make([]incident.Incident, len(rows))
	for i := range rows {
		out[i] = *rows[i].domain()
	}
	return out, next, nil
}

// listWhere is the condition of a list over "i" (incidents), "ro" and
// "co" (its reporting and coordinating organisations): the visibility
// rule and f's filters, with its arguments.
func (s *Store) listWhere(ctx context.Context, p access.Principal, f incident.Filter) (string, []any, error) {
	q, args := visibleTo(p)
	add := func(cond string, vs ...any) {
		q += " AND " + cond
		args = append(args, vs...)
	}
	eq := map[string]string{"i.status": string(f.Status), "i.stage": string(f.Stage), "i.severity": string(f.Severity),
		"i.tlp": string(f.TLP), "i.pap": string(f.PAP), "i.category": f.Category, "i.type": f.Type, "ro.slug": f.ReportingOrg, "co.slug": f.CoordinatingOrg}
	if f.CoordinatingOrg == incident.NoOrg {
		delete(eq, "co.slug")
		add("i.coordinating_org_id IS NULL")
	}
	for _, col := range []string{"i.status", "i.stage", "i.severity", "i.tlp", "i.pap", "i.category", "i.type", "ro.slug", "co.slug"} {
		if v := eq[col]; v != "" {
			add(col+" = ?", v)
		}
	}
	if f.AssigneeID != nil {
		add("i.assignee_id = ?", *f.AssigneeID)
	}
	if f.MineOf != nil {
		cond, cargs, err := s.idSetCondition(ctx, `SELECT m.id FROM incidents m WHERE m.assignee_id = ?
			UNION ALL SELECT m.id FROM incidents m WHERE m.assignee_id IS NULL
				AND m.assignee_team_id IN (SELECT tm.team_id FROM team_members tm WHERE tm.user_id = ?)`, *f.MineOf, *f.MineOf)
		if err != nil {
			return "", nil, err
		}
		add(cond, cargs...)
	}
	if f.Unassigned {
		add("i.assignee_id IS NULL AND i.assignee_team_id IS NULL")
	}
	if f.AssigneeTeam != "" {
		add("i.assignee_team_id = ?", f.AssigneeTeam)
	}
	if f.Acknowledged != nil {
		if *f.Acknowledged {
			add("i.acknowledged_at IS NOT NULL")
		} else {
			add("i.acknowledged_at IS NULL")
		}
	}
	if f.Constituency != "" {
		add("i.reporting_org_id IN (SELECT cc.descendant_id FROM org_closure cc WHERE cc.ancestor_id = "+orgIDOf+")", f.Constituency)
	}
	if f.WorkOf != "" {
		add(`(i.coordinating_org_id = `+orgIDOf+`
			OR i.reporting_org_id IN (SELECT wc.descendant_id FROM org_closure wc WHERE wc.ancestor_id = `+orgIDOf+`)
			OR EXISTS (SELECT 1 FROM escalations we WHERE we.incident_id = i.id AND we.to_org_id = `+orgIDOf+`
				AND we.state IN ('requested', 'accepted')))`, f.WorkOf, f.WorkOf, f.WorkOf)
	}
	if f.EscalatedTo != "" {
		cond, cargs, err := s.idSetCondition(ctx, `SELECT ee.incident_id FROM escalations ee WHERE ee.to_org_id = `+orgIDOf+`
			AND ee.state IN ('requested', 'accepted')`, f.EscalatedTo)
		if err != nil {
			return "", nil, err
		}
		add(cond, cargs...)
	}
	if len(f.References) > 0 {
		add("i.reference IN ?", f.References)
	}
	if f.DeadlineBefore != nil {
		add("i.next_deadline_at <= ?", *f.DeadlineBefore)
	}
	if f.Tag != "" {
		add("i.tags @> ?", textArray{f.Tag})
	}
	if f.PersonalDataBreach != nil {
		add("i.personal_data_breach = ?", *f.PersonalDataBreach)
	}
	if f.Significant != nil {
		add("i.significant = ?", *f.Significant)
	}
	if f.Deadline == "open" || f.Deadline == "missed" {
		add(deadlineFilter(f.Deadline))
	}
	for _, r := range []struct {
		col, op string
		t       *time.Time
	}{{"i.created_at", ">=", f.CreatedAfter}, {"i.created_at", "<", f.CreatedBefore}, {"i.updated_at", ">=", f.UpdatedAfter}, {"i.updated_at", "<", f.UpdatedBefore}} {
		if r.t != nil {
			add(r.col+" "+r.op+" ?", *r.t)
		}
	}
	if f.Query != "" {
		cond, qargs, err := s.searchCondition(ctx, f.Query)
		if err != nil {
			return "", nil, err
		}
		add(cond, qargs...)
	}
	return q, args, nil
}

// listFrom is what listWhere's condition reads: the incident and its
// reporting and coordinating organisations.
const listFrom = `FROM incidents i
JOIN organizations ro ON ro.id = i.reporting_org_id
LEFT JOIN organizations co ON co.id = i.coordinating_org_id`

// Count implements incident.Store: the incidents p may see that match f,
// counted up to max+1 (a bounded count: no page reads a million rows to
// say "500+").
func (s *Store) Count(ctx context.Context, p access.Principal, f incident.Filter, max int) (int, error) {
	where, args, err := s.listWhere(ctx, p, f)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.db.WithContext(ctx).Raw(`SELECT count(*) FROM (SELECT 1 `+listFrom+` WHERE `+where+` LIMIT ?) c`,
		append(args, max+1)...).Scan(&n).Error
	return n, translate(err, "count incidents")
}

// listCursorOf decodes a list's cursor, which must belong to sort.
func listCursorOf(after string, sort incident.Sort) (listCursor, error) {
	var c listCursor
	if err := decodeCursor(after, &c); err != nil {
		return c, err
	}
	if c.S != string(sort) {
		return c, apperr.Fields{{Field: "cursor", Rule: "sort", Message: "the cursor belongs to another sort order"}}.Err()
	}
	return c, nil
}

// listTriage finishes List in the triage order (incident.SortTriage):
// keyset pagination on the whole sort key, which incidents_triage_idx
// serves.
func (s *Store) listTriage(ctx context.Context, q string, args []any, f incident.Filter, page incident.Page) ([]incident.Incident, string, error) {
	if page.After != "" {
		c, err := listCursorOf(page.After, f.Sort)
		if err != nil {
			return nil, "", err
		}
		q += " AND (" + triageOrder + ") > (?, ?, COALESCE(CAST(? AS timestamptz), 'infinity'::timestamptz), ?, ?)"
		args = append(args, c.C, c.A, c.D, c.At, c.ID)
	}
	q += " ORDER BY " + triageOrder + " LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []incidentRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list incidents")
	}
	rows, next := trimPage(rows, page.Limit, func(last incidentRow) any {
		return listCursor{S: string(f.Sort), C: last.Status == string(incident.Closed), A: last.AcknowledgedAt != nil,
			D: last.NextDeadlineAt, At: last.CreatedAt, ID: last.ID}
	})
	out := make([]incident.Incident, len(rows))
	for i := range rows {
		out[i] = *rows[i].domain()
	}
	return out, next, nil
}

// searchHitLimit decides the plan of a full-text search (docs/performance.md).
var searchHitLimit = 2000

// searchHits is the set of incidents whose title, description or comments
// match a full-text query (two arguments: the query twice). UNION ALL: an
// incident may come twice (= ANY does not mind), and a LIMIT stops it
// early, where UNION would collect every hit first.
const searchHits = `SELECT x.id FROM incidents x WHERE x.search @@ websearch_to_tsquery('simple', ?)
	UNION ALL SELECT c.incident_id FROM incident_comments c WHERE c.search @@ websearch_to_tsquery('simple', ?)`

// searchCondition returns the full-text condition over "i" with its
// arguments. No single plan suits every term: a rare term is found fastest
// from the GIN indexes, a common one by walking the list's ordered index
// until a page is full. A bounded count of the hits, itself an index
// lookup, picks: up to searchHitLimit hits, the list reads exactly those
// rows; more, it filters while it walks.
func (s *Store) searchCondition(ctx context.Context, query string) (string, []any, error) {
	few, err := s.fewIDs(ctx, searchHits, true, query, query)
	if err != nil {
		return "", nil, translate(err, "search")
	}
	if few {
		return `i.id = ANY (ARRAY (` + searchHits + `))`, []any{query, query}, nil
	}
	return `(i.search @@ websearch_to_tsquery('simple', ?) OR EXISTS (SELECT 1 FROM incident_comments c
		WHERE c.incident_id = i.id AND c.search @@ websearch_to_tsquery('simple', ?)))`, []any{query, query}, nil
}

// idSetCondition is the condition "i.id is one of the IDs sub selects"
// (sub an indexed lookup, args its arguments) in the plan that suits the
// set's size, as searchCondition picks: up to searchHitLimit IDs, the
// list reads exactly those rows and sorts them; more, it walks its
// ordered index and checks each row against the set. Without the choice
// a person with nothing assigned made the Mine tab walk all incidents.
func (s *Store) idSetCondition(ctx context.Context, sub string, args ...any) (string, []any, error) {
	few, err := s.fewIDs(ctx, sub, false, args...)
	if err != nil {
		return "", nil, translate(err, "list incidents")
	}
	if few {
		return `i.id = ANY (ARRAY (` + sub + `))`, args, nil
	}
	return `i.id IN (` + sub + `)`, args, nil
}

// fewIDs says whether sub selects at most searchHitLimit rows, counting
// them up to searchHitLimit+1. With estimate, the planner's estimate
// answers first: far more than the limit is "many" without reading
// anything. That suits full-text search only: PostgreSQL keeps the
// frequencies of a tsvector's common words, and counting even up to the
// limit makes the GIN index collect every hit first (140 ms for 190,000
// hits at 1,000,000 incidents). For a set behind an organisation's slug
// the estimate is of the average organisation: the escalations to a
// regional CERT that has none were estimated at 15,000 (those of the
// national CERT), and the list walked every incident to find none.
func (s *Store) fewIDs(ctx context.Context, sub string, estimate bool, args ...any) (bool, error) {
	if estimate {
		many, err := s.expectsMany(ctx, sub, args...)
		if err != nil || many {
			return false, err
		}
	}
	var n int
	err := s.db.WithContext(ctx).Raw(`SELECT count(*) FROM (`+sub+` LIMIT ?) h`, append(slices.Clip(args), searchHitLimit+1)...).Scan(&n).Error
	return n <= searchHitLimit, err
}

// expectsMany says whether the planner expects sub to select more than
// manyIDs × searchHitLimit rows.
func (s *Store) expectsMany(ctx context.Context, sub string, args ...any) (bool, error) {
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	var raw string
	if err := s.db.WithContext(ctx).Raw(`EXPLAIN (FORMAT JSON) `+sub, args...).Row().Scan(&raw); err != nil {
		return false, err
	}
	if err := json.Unmarshal([]byte(raw), &plan); err != nil || len(plan) != 1 {
		return false, fmt.Errorf("read the plan of a set of incidents: %v", err)
	}
	return plan[0].Plan.Rows > manyIDs*float64(searchHitLimit), nil
}

// manyIDs is how many times searchHitLimit the planner must expect before
// fewIDs believes it without counting (its estimates of rare values are
// rough; of common ones, close).
const manyIDs = 5

// timelineCursor is the keyset position after the last event of a page.
type timelineCursor struct {
	At time.Time `json:"t"`
	ID int64     `json:"i"`
}

// Timeline implements incident.Store. Each event comes with its actor's
// name and organisation (joined, so a page of events is one query).
func (s *Store) Timeline(ctx context.Context, p access.Principal, incidentID uuid.UUID, f incident.EventFilter, page incident.Page) ([]incident.Event, string, error) {
	q := visibleEvents(s.db.WithContext(ctx), p, incidentID)
	switch f.ActorOrg {
	case "":
	case incident.SystemActor:
		q = q.Where("e.actor_user_id IS NULL")
	default:
		q = q.Where("ao.slug = ?", f.ActorOrg)
	}
	if kinds := f.Kinds; len(kinds) > 0 {
		ks := make([]string, 0, len(kinds))
		pinned := false
		for _, k := range kinds {
			if k == incident.EventPinned {
				pinned = true
				continue
			}
			ks = append(ks, string(k))
		}
		switch {
		case pinned && len(ks) > 0:
			q = q.Where("(e.kind IN ? OR "+pinnedSQL+")", ks)
		case pinned:
			q = q.Where(pinnedSQL)
		default:
			q = q.Where("e.kind IN ?", ks)
		}
	}
	if page.After != "" {
		var c timelineCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q = q.Where("(e.occurred_at, e.id) > (?, ?)", c.At, c.ID)
	}
	var rows []eventRow
	if err := q.Order("e.occurred_at, e.id").Limit(page.Limit + 1).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "load timeline")
	}
	rows, next := trimPage(rows, page.Limit, func(last eventRow) any { return timelineCursor{At: last.OccurredAt, ID: last.ID} })
	evs := make([]incident.Event, len(rows))
	for i, r := range rows {
		evs[i] = r.event()
	}
	return evs, next, nil
}

// TimelineActors implements incident.Store: one query over the events p
// sees.
func (s *Store) TimelineActors(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]incident.ActorOrg, error) {
	var rows []struct {
		Slug, Name string
	}
	// The distinct actors first, then their organisations: a long
	// timeline has thousands of events and a handful of actors.
	actors := s.db.Table("(?) AS x", visibleEventRows(s.db, p, incidentID).Select("DISTINCT e.actor_user_id")).
		Select("DISTINCT CASE WHEN x.actor_user_id IS NULL THEN ? ELSE ao.slug END AS slug, COALESCE(ao.name, '') AS name", incident.SystemActor).
		Joins("LEFT JOIN users u ON u.id = x.actor_user_id").
		Joins("LEFT JOIN organizations ao ON ao.id = u.org_id")
	err := s.db.WithContext(ctx).Table("(?) AS a", actors).Where("a.slug IS NOT NULL").Order("a.name, a.slug").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load timeline actors")
	}
	out := make([]incident.ActorOrg, len(rows))
	for i, r := range rows {
		out[i] = incident.ActorOrg{Slug: r.Slug, Name: r.Name}
	}
	return out, nil
}

// pinnedSQL holds for an event (incident_events "e") that is pinned.
const pinnedSQL = `EXISTS (SELECT 1 FROM incident_pins ip WHERE ip.incident_id = e.incident_id AND ip.event_id = e.id)`

// visibleEvents is the query of an incident's events (aliased "e") that p
// sees, with the actor's name and organisation and the pin: the incident
// under the visibility rule, an observable's events under the
// observable's label.
func visibleEvents(db *gorm.DB, p access.Principal, incidentID uuid.UUID) *gorm.DB {
	return visibleEventRows(db, p, incidentID).
		Select("e.*, u.name AS actor_name, ao.name AS actor_org_name, ao.slug AS actor_org_slug, " + pinnedSQL + " AS pinned").
		Joins("LEFT JOIN users u ON u.id = e.actor_user_id").
		Joins("LEFT JOIN organizations ao ON ao.id = u.org_id")
}

// visibleEventRows is visibleEvents without its joins: the incident's
// events (aliased "e") that p sees.
func visibleEventRows(db *gorm.DB, p access.Principal, incidentID uuid.UUID) *gorm.DB {
	vis, args := visibleTo(p)
	obsVis, obsArgs := observableVisibleTo(p)
	return db.Table("incident_events e").
		Where("e.incident_id = ?", incidentID).
		Where("EXISTS (SELECT 1 FROM incidents i WHERE i.id = e.incident_id AND "+vis+")", args...).
		Where(observableEventVisible(obsVis), append([]any{observableEventKinds}, obsArgs...)...)
}

// event is the row as the domain's event.
func (r eventRow) event() incident.Event {
	ev := incident.Event{
		ID: r.ID, IncidentID: r.IncidentID, ActorUserID: r.ActorUserID, Actor: r.Actor,
		Kind: incident.EventKind(r.Kind), Data: r.Data, OccurredAt: r.OccurredAt.UTC(), RecordedAt: r.RecordedAt.UTC(),
		Pinned: r.Pinned,
	}
	if r.ActorName != nil {
		ev.ActorName = *r.ActorName
	}
	if r.ActorOrgSlug != nil {
		ev.ActorOrgSlug = *r.ActorOrgSlug
	}
	if r.ActorOrgName != nil {
		ev.ActorOrgName = *r.ActorOrgName
	}
	return ev
}

// VisibleEvent implements incident.PinTx.
func (t *txn) VisibleEvent(ctx context.Context, p access.Principal, incidentID uuid.UUID, eventID int64) (*incident.Event, error) {
	var rows []eventRow
	if err := visibleEvents(t.db.WithContext(ctx), p, incidentID).Where("e.id = ?", eventID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load event")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "event %d not found", eventID)
	}
	ev := rows[0].event()
	return &ev, nil
}

// SetPin implements incident.PinTx.
func (t *txn) SetPin(ctx context.Context, incidentID uuid.UUID, eventID int64, by *uuid.UUID, pinned bool) (bool, error) {
	var res *gorm.DB
	if pinned {
		res = t.db.WithContext(ctx).Exec(`INSERT INTO incident_pins (incident_id, event_id, pinned_by, pinned_at)
			VALUES (?, ?, ?, now()) ON CONFLICT DO NOTHING`, incidentID, eventID, by)
	} else {
		res = t.db.WithContext(ctx).Exec(`DELETE FROM incident_pins WHERE incident_id = ? AND event_id = ?`, incidentID, eventID)
	}
	if res.Error != nil {
		return false, translate(res.Error, "pin event")
	}
	return res.RowsAffected > 0, nil
}

// observableEventKinds are the timeline events that carry an
// observable's value.
var observableEventKinds = []string{string(observable.EventAdded), string(observable.EventUpdated), string(observable.EventRemoved)}

// observableEventVisible is the condition, over incident_events aliased
// "e", under
// which a principal sees an event: any event but an observable's, and an
// observable's event only where the principal may see the observable
// (obsVis, observableVisibleTo). The label it is judged with is the
// stricter of the one the event recorded and the observable's current
// label, while it still exists, so an observable whose label was raised
// takes its earlier events along.
//
// The two label subqueries end in OFFSET 0, which keeps PostgreSQL from
// pulling them up into the condition: pulled up, every mention of o.tlp
// in obsVis became the whole CASE of stricterTLP, and every mention of
// ev.current in it the observable's lookup again (92 subplans for one
// timeline query; 125 ms to plan, and a cost estimate that switched on
// JIT compilation, 19 s, for a timeline of 10,000 events). Fenced, each
// is computed once per event.
func observableEventVisible(obsVis string) string {
	return `(e.kind NOT IN ? OR EXISTS (SELECT 1 FROM incidents i
		CROSS JOIN LATERAL (SELECT ` + stricterTLP("ev.recorded", "ev.current") + ` AS tlp
			FROM (SELECT COALESCE(e.data->>'tlp', 'TLP:RED') AS recorded,
				COALESCE((SELECT eo.tlp FROM incident_observables eo WHERE eo.incident_id = e.incident_id
					AND eo.id::text = e.data->>'observable_id'), 'TLP:CLEAR') AS current OFFSET 0) ev OFFSET 0) o
		WHERE i.id = e.incident_id AND ` + obsVis + `))`
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return &apperr.Error{Code: apperr.Invalid, Message: "the cursor is not valid",
			Fields: []apperr.FieldError{{Field: "cursor", Rule: "format", Message: "use the next_cursor of the previous page"}}}
	}
	return nil
}

// InTx implements incident.Store.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx incident.Tx) error) error {
	return inTx(ctx, s, fn)
}

// txn implements incident.Tx on a GORM transaction.
type txn struct {
	db    *gorm.DB
	sql   *sql.Tx
	store *Store
	// appended are the events appended since they were last dispatched.
	appended []incident.Event
	// held are the incidents a use case wrote in full in this transaction
	// (Hold), for the first dispatch round only.
	held map[uuid.UUID]*incident.Incident
}

// Hold implements incident.Tx.
func (t *txn) Hold(inc *incident.Incident) {
	if t.held == nil {
		t.held = map[uuid.UUID]*incident.Incident{}
	}
	c := *inc
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.Assets == nil {
		c.Assets = []incident.Asset{}
	}
	c.Relations = 0 // read as the system
	t.held[inc.ID] = &c
}

// Held implements incident.Tx.
func (t *txn) Held(id uuid.UUID) *incident.Incident {
	inc := t.held[id]
	delete(t.held, id)
	return inc
}

// SQLTxOf returns the *sql.Tx of a domain transaction handed out by this
// package, for River calls that must join it (completing a job with its effect).
func SQLTxOf(tx incident.Tx) (*sql.Tx, error) {
	t, ok := tx.(*txn)
	if !ok {
		return nil, fmt.Errorf("postgres: %T is not a postgres transaction", tx)
	}
	return t.sql, nil
}

func (t *txn) ClaimIdempotencyKey(ctx context.Context, key incident.IdempotencyKey, resourceID uuid.UUID) (uuid.UUID, string, bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO idempotency_keys (caller, key, request_hash, resource_id)
		VALUES (?, ?, ?, ?) ON CONFLICT (caller, key) DO NOTHING`, key.Caller, key.Key, key.RequestHash, resourceID)
	if res.Error != nil {
		return uuid.Nil, "", false, translate(res.Error, "claim idempotency key")
	}
	if res.RowsAffected == 1 {
		return resourceID, key.RequestHash, true, nil
	}
	var row struct {
		ResourceID  uuid.UUID
		RequestHash string
	}
	err := t.db.WithContext(ctx).Raw(`SELECT resource_id, request_hash FROM idempotency_keys WHERE caller = ? AND key = ?`,
		key.Caller, key.Key).Scan(&row).Error
	return row.ResourceID, row.RequestHash, false, translate(err, "read idempotency key")
}

func (t *txn) NextIncidentNumber(ctx context.Context, year int) (int64, error) {
	var n int64
	err := t.db.WithContext(ctx).Raw("SELECT certdesk_next_incident_number(?)", year).Scan(&n).Error
	return n, translate(err, "next incident number")
}

func (t *txn) InsertIncident(ctx context.Context, inc *incident.Incident) error {
	assets, tags := assetsJSON(inc.Assets), textArray(inc.Tags)
	// A new incident has no timers yet and nothing met: its next deadline
	// is its first legal one (the calendar month of a final report is
	// never the first).
	legal := inc.NextLegalDeadline(inc.Location())
	inc.NextDeadlineAt = legal
	var tz string
	err := t.db.WithContext(ctx).Raw(`INSERT INTO incidents (id, reference, title, description, reporting_org_id,
		coordinating_org_id, reporter_user_id, stage, status, severity, tlp, detected_at, reported_at, created_at,
		updated_at, version, category, type, tags, affected_assets, personal_data_breach, significant,
		description_html, description_html_version, affected_people, legal_deadline_at, next_deadline_at, pap)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING (SELECT time_zone FROM organizations WHERE id = ?)`,
		inc.ID, inc.Reference, inc.Title, inc.Description, inc.ReportingOrgID, inc.CoordinatingOrgID, inc.ReporterUserID,
		string(inc.Stage), string(inc.Status), string(inc.Severity), string(inc.TLP), inc.DetectedAt, inc.ReportedAt,
		inc.CreatedAt, inc.UpdatedAt, inc.Version, inc.Category, inc.Type, tags, assets, inc.PersonalDataBreach,
		inc.Significant, inc.DescriptionHTML, inc.DescriptionHTMLVersion, inc.AffectedPeople, legal, legal, papOrDefault(inc.PAP),
		inc.ReportingOrgID).Scan(&tz).Error
	if isConstraint(err, "incidents_reporting_org_id_fkey") {
		return &apperr.Error{Code: apperr.Invalid, Message: "the reporting organisation does not exist",
			Fields: []apperr.FieldError{{Field: "reporting_org", Rule: "exists", Message: "no such organisation"}}}
	}
	inc.ReportingOrgTimeZone = tz
	return translate(err, "insert incident")
}

// papOrDefault is the PAP label to store: an incident built without one
// (a path that predates PAP) takes the default.
func papOrDefault(p incident.PAP) string {
	if p == "" {
		return string(incident.DefaultPAP)
	}
	return string(p)
}

func assetsJSON(as []incident.Asset) string {
	out := make([]assetJSON, len(as))
	for i, a := range as {
		out[i] = assetJSON{Name: a.Name, Kind: string(a.Kind), Criticality: string(a.Criticality)}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// UpdateIncident writes every mutable column, guarded by the version read
// under the row lock. It also keeps the incident's deadlines
// (legal_deadline_at, next_deadline_at) in the same statement: the legal
// one from the fields just written, the next one the earlier of it and
// the incident's scheduled escalation-policy timers.
func (t *txn) UpdateIncident(ctx context.Context, inc *incident.Incident) error {
	tags := textArray(inc.Tags)
	legal := inc.NextLegalDeadline(inc.Location())
	var out []struct{ NextDeadlineAt *time.Time }
	err := t.db.WithContext(ctx).Raw(`UPDATE incidents SET title = ?, description = ?, stage = ?, status = ?,
		severity = ?, tlp = ?, pap = ?, detected_at = ?, acknowledged_at = ?, closed_at = ?, category = ?, type = ?, tags = ?,
		affected_assets = ?, personal_data_breach = ?, significant = ?, resolution = ?, assignee_id = ?, assignee_team_id = ?,
		description_html = ?, description_html_version = ?, affected_people = ?, summary_status = ?, summary_impact = ?,
		summary_next_steps = ?, summary_updated_at = ?, summary_updated_by = ?, updated_at = ?, version = version + 1,
		legal_deadline_at = CAST(? AS timestamptz), next_deadline_at = `+nextDeadlineSQL("CAST(? AS timestamptz)")+`
		WHERE id = ? AND version = ? RETURNING next_deadline_at`,
		inc.Title, inc.Description, string(inc.Stage), string(inc.Status), string(inc.Severity), string(inc.TLP),
		papOrDefault(inc.PAP), inc.DetectedAt, inc.AcknowledgedAt, inc.ClosedAt, inc.Category, inc.Type, tags, assetsJSON(inc.Assets),
		inc.PersonalDataBreach, inc.Significant, inc.Resolution, inc.AssigneeID, inc.AssigneeTeamID, inc.DescriptionHTML,
		inc.DescriptionHTMLVersion, inc.AffectedPeople, inc.Summary.Status, inc.Summary.Impact, inc.Summary.NextSteps,
		inc.Summary.UpdatedAt, inc.Summary.UpdatedBy, inc.UpdatedAt, legal, legal, inc.ID, inc.Version).Scan(&out).Error
	if err != nil {
		return translate(err, "update incident")
	}
	if len(out) != 1 {
		return &apperr.Error{Code: apperr.Precondition, Message: "the incident changed meanwhile"}
	}
	inc.NextDeadlineAt = utcp(out[0].NextDeadlineAt)
	return nil
}

// nextDeadlineSQL is the value of incidents.next_deadline_at in an UPDATE
// of the incidents row: the earlier of legal (an SQL expression of the
// incident's earliest open legal deadline) and its earliest scheduled
// escalation-policy timer. LEAST ignores NULLs.
func nextDeadlineSQL(legal string) string {
	return `LEAST(` + legal + `, (SELECT min(et.due_at) FROM escalation_timers et
		WHERE et.incident_id = incidents.id AND et.state = 'scheduled'))`
}

// refreshNextDeadline recomputes an incident's next_deadline_at after its
// escalation-policy timers changed, in the timer's transaction.
func (t *txn) refreshNextDeadline(ctx context.Context, incidentID uuid.UUID) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE incidents SET next_deadline_at = `+nextDeadlineSQL("legal_deadline_at")+` WHERE id = ?`,
		incidentID).Error
	return translate(err, "update the next deadline")
}

// TeamRef implements incident.Tx.
func (t *txn) TeamRef(ctx context.Context, id uuid.UUID) (*incident.TeamRef, error) {
	var rows []incident.TeamRef
	if err := t.db.WithContext(ctx).Raw(`SELECT id, org_id, name FROM teams WHERE id = ?`, id).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load team")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "team %s not found", id)
	}
	return &rows[0], nil
}

// CanSee implements incident.Tx: the visibility rule for another user.
func (t *txn) CanSee(ctx context.Context, userID, incidentID uuid.UUID) (bool, error) {
	// Read on the transaction's own connection: a second pool connection
	// while the incident row is locked could starve the pool.
	var rows []userRow
	if err := t.db.WithContext(ctx).Raw(userSelect+" WHERE u.id = ?", userID).Scan(&rows).Error; err != nil {
		return false, translate(err, "load user")
	}
	if len(rows) == 0 || rows[0].DisabledAt != nil {
		return false, nil
	}
	u := rows[0].domain()
	vis, args := visibleTo(u.Principal())
	var ok bool
	err := t.db.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM incidents i WHERE i.id = ? AND "+vis+")",
		append([]any{incidentID}, args...)...).Scan(&ok).Error
	return ok, translate(err, "check visibility")
}

// InsertDeadlineMet implements incident.Tx.
func (t *txn) InsertDeadlineMet(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind, at time.Time, reference string, by *uuid.UUID) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO incident_deadlines_met (incident_id, kind, met_at, reference, met_by)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, incidentID, string(kind), at, reference, by).Error
	return translate(err, "record deadline met")
}

func (t *txn) LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error) {
	where, arg := incidentKey(idOrRef)
	return oneIncident(ctx, t.db, p, where, arg, "FOR UPDATE OF i")
}

// incidentKey picks the column an API identifier names: a UUID or a reference.
func incidentKey(idOrRef string) (string, any) {
	if id, err := uuid.Parse(idOrRef); err == nil {
		return "i.id = ?", id
	}
	if !utf8.ValidString(idOrRef) || strings.ContainsRune(idOrRef, 0) || len(idOrRef) > 64 {
		return "FALSE AND i.reference = ?", "" // no reference looks like this: not found, not a database error
	}
	return "i.reference = ?", idOrRef
}

func (t *txn) InsertParticipant(ctx context.Context, incidentID, userID uuid.UUID, addedBy *uuid.UUID) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO incident_participants (incident_id, user_id, added_by) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, incidentID, userID, addedBy)
	if isConstraint(res.Error, "incident_participants_user_id_fkey") {
		return false, &apperr.Error{Code: apperr.Invalid, Message: "no such user",
			Fields: []apperr.FieldError{{Field: "user", Rule: "exists", Message: "no such user"}}, Err: res.Error}
	}
	return res.RowsAffected == 1, translate(res.Error, "add participant")
}

func (t *txn) InsertShare(ctx context.Context, incidentID, orgID uuid.UUID, kind, note string, by *uuid.UUID) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO incident_shares (incident_id, org_id, kind, note, created_by) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, incidentID, orgID, kind, note, by)
	return res.RowsAffected == 1, translate(res.Error, "share incident")
}

func (t *txn) UserIDByEmail(ctx context.Context, email string) (uuid.UUID, error) {
	var ids []uuid.UUID
	if err := t.db.WithContext(ctx).Raw("SELECT id FROM users WHERE lower(email) = lower(?)", email).Scan(&ids).Error; err != nil {
		return uuid.Nil, translate(err, "find user")
	}
	if len(ids) == 0 {
		return uuid.Nil, apperr.New(apperr.NotFound, "user %q not found", email)
	}
	return ids[0], nil
}

func (t *txn) SetCoordinatingOrg(ctx context.Context, id, orgID uuid.UUID, now time.Time) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE incidents SET coordinating_org_id = ?, updated_at = ?, version = version + 1 WHERE id = ?`,
		orgID, now, id).Error
	return translate(err, "set coordinating organisation")
}

func (t *txn) AppendEvent(ctx context.Context, ev *incident.Event) error {
	data := ev.Data
	if len(data) == 0 {
		data = []byte("{}")
	}
	var out struct {
		ID         int64
		RecordedAt time.Time
	}
	err := t.db.WithContext(ctx).Raw(`INSERT INTO incident_events (incident_id, actor_user_id, actor, kind, data, occurred_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id, recorded_at`,
		ev.IncidentID, ev.ActorUserID, ev.Actor, string(ev.Kind), string(data), ev.OccurredAt).Scan(&out).Error
	if err != nil {
		return translate(err, "append event")
	}
	ev.ID, ev.RecordedAt = out.ID, out.RecordedAt.UTC()
	if t.store.events != nil {
		t.appended = append(t.appended, *ev)
	}
	return nil
}

func (t *txn) Enqueue(ctx context.Context, job incident.Job, opts *incident.JobOpts) error {
	_, err := t.EnqueueJob(ctx, job, opts)
	return err
}

// EnqueueJob implements incident.Tx.
func (t *txn) EnqueueJob(ctx context.Context, job incident.Job, opts *incident.JobOpts) (int64, error) {
	if t.store.jobs == nil {
		return 0, apperr.New(apperr.Internal, "no job queue configured")
	}
	res, err := t.store.jobs.InsertTx(ctx, t.sql, job, insertOpts(opts))
	if err != nil {
		return 0, translate(err, "queue "+job.Kind())
	}
	return res.Job.ID, nil
}

// insertOpts are River's insert options for opts: unique by arguments
// unless opts says otherwise.
func insertOpts(opts *incident.JobOpts) *river.InsertOpts {
	ro := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
	if opts != nil && !opts.ScheduledAt.IsZero() {
		ro.ScheduledAt = opts.ScheduledAt
	}
	if opts != nil && opts.NotUnique {
		ro.UniqueOpts = river.UniqueOpts{}
	}
	return ro
}

// EnqueueJobs queues jobs with one River insert (InsertManyTx: one
// statement) and returns their IDs in the order of jobs; opts[i] (nil
// allowed) are the options of jobs[i], as EnqueueJob's.
func (t *txn) EnqueueJobs(ctx context.Context, jobs []incident.Job, opts []*incident.JobOpts) ([]int64, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	if t.store.jobs == nil {
		return nil, apperr.New(apperr.Internal, "no job queue configured")
	}
	params := make([]river.InsertManyParams, len(jobs))
	for i, job := range jobs {
		var o *incident.JobOpts
		if i < len(opts) {
			o = opts[i]
		}
		params[i] = river.InsertManyParams{Args: job, InsertOpts: insertOpts(o)}
	}
	res, err := t.store.jobs.InsertManyTx(ctx, t.sql, params)
	if err != nil {
		return nil, translate(err, fmt.Sprintf("queue %d jobs", len(jobs)))
	}
	if len(res) != len(jobs) {
		return nil, fmt.Errorf("queue %d jobs: River returned %d", len(jobs), len(res))
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.Job.ID
	}
	return ids, nil
}

// CancelJob implements incident.Tx.
func (t *txn) CancelJob(ctx context.Context, jobID int64) error {
	if t.store.jobs == nil {
		return apperr.New(apperr.Internal, "no job queue configured")
	}
	_, err := t.store.jobs.JobCancelTx(ctx, t.sql, jobID)
	if err != nil && !errors.Is(err, river.ErrNotFound) {
		return translate(err, "cancel job")
	}
	return nil
}

func (t *txn) OrgChain(ctx context.Context, orgID uuid.UUID) ([]org.Organization, error) {
	var rows []orgRow
	err := t.db.WithContext(ctx).Raw(`SELECT o.*, NULL AS parent_slug FROM org_closure c JOIN organizations o ON o.id = c.ancestor_id
		WHERE c.descendant_id = ? ORDER BY c.depth`, orgID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load organisation chain")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "organisation %s not found", orgID)
	}
	out := make([]org.Organization, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
