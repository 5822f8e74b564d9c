package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var _ stats.Tx = (*txn)(nil)

// statsLock is the advisory lock (transaction-scoped) that compaction and
// the rebuild of an organisation's rows take, so that they never interleave.
const statsLock = 0x5374617473 // "Stats"

// InStatsTx runs fn in one transaction (stats.Maintainer's own work:
// backfill and compaction).
func (s *Store) InStatsTx(ctx context.Context, fn func(ctx context.Context, tx stats.Tx) error) error {
	return inTx(ctx, s, fn)
}

// OnOrgChanged makes every change of an organisation's parent, sector or
// time zone call fn in the transaction of the change (stats.Maintainer's
// OrgChanged). Set it once, when the application is wired.
func (s *Store) OnOrgChanged(fn func(ctx context.Context, tx stats.Tx, c stats.OrgChange) error) {
	s.orgChanged = fn
}

// LockIncidentsForStats implements stats.Tx.
func (t *txn) LockIncidentsForStats(ctx context.Context, ids []uuid.UUID) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT id FROM incidents WHERE id IN ? ORDER BY id FOR UPDATE`, ids).Scan(&out).Error
	return out, translate(err, "lock incidents")
}

// statsSourceRow is an incident with what its facts are computed from.
type statsSourceRow struct {
	ID                 uuid.UUID
	ReportingOrgID     uuid.UUID
	CoordinatingOrgID  *uuid.UUID
	TLP                string `gorm:"column:tlp"`
	Stage              string
	Status             string
	Severity           string
	Category           string
	Significant        bool
	PersonalDataBreach bool
	AffectedPeople     *int64
	ReportedAt         time.Time
	DetectedAt         *time.Time
	AcknowledgedAt     *time.Time
	ClosedAt           *time.Time
	TZ                 string `gorm:"column:tz"`
	Sector             string
	Chain              []byte
	Met                []byte
	Events             []byte
	Stored             []byte
}

// factsJSON is a stats_facts row as to_jsonb writes it.
type factsJSON struct {
	IncidentID         uuid.UUID      `json:"incident_id"`
	Audience           []uuid.UUID    `json:"audience"`
	Chain              []uuid.UUID    `json:"chain"`
	ReportingOrgID     uuid.UUID      `json:"reporting_org_id"`
	CoordinatingOrgID  *uuid.UUID     `json:"coordinating_org_id"`
	TLP                string         `json:"tlp"`
	Sector             string         `json:"sector"`
	Open               bool           `json:"open"`
	Stage              string         `json:"stage"`
	Severity           string         `json:"severity"`
	Category           string         `json:"category"`
	Significant        bool           `json:"significant"`
	PersonalDataBreach bool           `json:"personal_data_breach"`
	AffectedPeople     *int64         `json:"affected_people"`
	ReportedAt         time.Time      `json:"reported_at"`
	AcknowledgedAt     *time.Time     `json:"acknowledged_at"`
	ContainedAt        *time.Time     `json:"contained_at"`
	ClosedAt           *time.Time     `json:"closed_at"`
	StageSeconds       []int64        `json:"stage_seconds"`
	Deadlines          []deadlineJSON `json:"deadlines"`
}

type deadlineJSON struct {
	Kind  string     `json:"kind"`
	DueAt time.Time  `json:"due_at"`
	MetAt *time.Time `json:"met_at"`
}

func (r *factsJSON) domain() *stats.Facts {
	f := &stats.Facts{IncidentID: r.IncidentID, ReportingOrgID: r.ReportingOrgID, CoordinatingOrgID: r.CoordinatingOrgID,
		TLP: incident.TLP(r.TLP), Audience: r.Audience, Chain: r.Chain, Sector: r.Sector, Open: r.Open,
		Stage: incident.Stage(r.Stage), Severity: incident.Severity(r.Severity), Category: r.Category,
		Significant: r.Significant, PersonalDataBreach: r.PersonalDataBreach, AffectedPeople: r.AffectedPeople,
		ReportedAt: r.ReportedAt.UTC(), AcknowledgedAt: utcp(r.AcknowledgedAt), ContainedAt: utcp(r.ContainedAt),
		ClosedAt: utcp(r.ClosedAt)}
	if len(f.Audience) == 0 {
		f.Audience = nil
	}
	if len(f.Chain) == 0 {
		f.Chain = nil
	}
	copy(f.StageSeconds[:], r.StageSeconds)
	for _, d := range r.Deadlines {
		f.Deadlines = append(f.Deadlines, stats.FactDeadline{Kind: incident.DeadlineKind(d.Kind), DueAt: d.DueAt.UTC(), MetAt: utcp(d.MetAt)})
	}
	return f
}

// statsSourceSelect reads incidents with their reporting organisation's
// chain (with kinds), zone and sector, their deadlines met, their stage
// events and their stored facts.
const statsSourceSelect = `SELECT i.id, i.reporting_org_id, i.coordinating_org_id, i.tlp, i.stage, i.status, i.severity,
	i.category, i.significant, i.personal_data_breach, i.affected_people, i.reported_at, i.detected_at,
	i.acknowledged_at, i.closed_at, ro.time_zone AS tz, ro.sector,
	(SELECT jsonb_agg(jsonb_build_object('id', c.ancestor_id, 'kind', a.kind) ORDER BY c.depth)
	   FROM org_closure c JOIN organizations a ON a.id = c.ancestor_id WHERE c.descendant_id = i.reporting_org_id) AS chain,
	(SELECT jsonb_object_agg(m.kind, m.met_at) FROM incident_deadlines_met m WHERE m.incident_id = i.id) AS met,
	(SELECT jsonb_agg(jsonb_build_object('kind', e.kind, 'at', e.occurred_at, 'stage', e.data->'stage',
	        'from', e.data->'from', 'to', e.data->'to') ORDER BY e.occurred_at, e.id)
	   FROM incident_events e WHERE e.incident_id = i.id AND e.kind IN ?) AS events,
	(SELECT to_jsonb(f) FROM stats_facts f WHERE f.incident_id = i.id) AS stored
FROM incidents i JOIN organizations ro ON ro.id = i.reporting_org_id
WHERE i.id IN ?`

// StatsSources implements stats.Tx.
func (t *txn) StatsSources(ctx context.Context, ids []uuid.UUID) ([]stats.SourceAndFacts, error) {
	kinds := make([]string, len(stats.StageEventKinds))
	for i, k := range stats.StageEventKinds {
		kinds[i] = string(k)
	}
	var rows []statsSourceRow
	if err := t.db.WithContext(ctx).Raw(statsSourceSelect+" ORDER BY i.id", kinds, ids).Scan(&rows).Error; err != nil {
		return nil, translate(err, "read incidents for the metrics")
	}
	out := make([]stats.SourceAndFacts, 0, len(rows))
	for _, r := range rows {
		s, err := r.source()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (r *statsSourceRow) source() (stats.SourceAndFacts, error) {
	inc := &incident.Incident{ID: r.ID, ReportingOrgID: r.ReportingOrgID, CoordinatingOrgID: r.CoordinatingOrgID,
		TLP: incident.TLP(r.TLP), Stage: incident.Stage(r.Stage), Status: incident.Status(r.Status),
		Severity: incident.Severity(r.Severity), Category: r.Category, Significant: r.Significant,
		PersonalDataBreach: r.PersonalDataBreach, AffectedPeople: r.AffectedPeople, ReportedAt: r.ReportedAt.UTC(),
		DetectedAt: utcp(r.DetectedAt), AcknowledgedAt: utcp(r.AcknowledgedAt), ClosedAt: utcp(r.ClosedAt),
		ReportingOrgTimeZone: r.TZ}
	var chain []struct {
		ID   uuid.UUID `json:"id"`
		Kind string    `json:"kind"`
	}
	var met map[string]time.Time
	var evs []struct {
		Kind  string          `json:"kind"`
		At    time.Time       `json:"at"`
		Stage json.RawMessage `json:"stage"`
		From  json.RawMessage `json:"from"`
		To    json.RawMessage `json:"to"`
	}
	for _, d := range []struct {
		b []byte
		v any
	}{{r.Chain, &chain}, {r.Met, &met}, {r.Events, &evs}} {
		if len(d.b) > 0 {
			if err := json.Unmarshal(d.b, d.v); err != nil {
				return stats.SourceAndFacts{}, fmt.Errorf("decode metrics source of %s: %w", r.ID, err)
			}
		}
	}
	if len(met) > 0 {
		inc.DeadlinesMet = map[incident.DeadlineKind]incident.DeadlineMet{}
		for k, at := range met {
			inc.DeadlinesMet[incident.DeadlineKind(k)] = incident.DeadlineMet{At: at.UTC()}
		}
	}
	src := stats.Source{Incident: inc, Sector: r.Sector}
	for _, c := range chain {
		src.Chain = append(src.Chain, stats.ChainOrg{ID: c.ID, Kind: org.Kind(c.Kind)})
	}
	for _, e := range evs {
		data := map[string]json.RawMessage{}
		for k, v := range map[string]json.RawMessage{"stage": e.Stage, "from": e.From, "to": e.To} {
			if len(v) > 0 && string(v) != "null" {
				data[k] = v
			}
		}
		b, _ := json.Marshal(data)
		src.StageEvents = append(src.StageEvents, incident.Event{IncidentID: r.ID, Kind: incident.EventKind(e.Kind),
			Data: b, OccurredAt: e.At.UTC()})
	}
	out := stats.SourceAndFacts{Source: src}
	if len(r.Stored) > 0 {
		var fj factsJSON
		if err := json.Unmarshal(r.Stored, &fj); err != nil {
			return out, fmt.Errorf("decode stored facts of %s: %w", r.ID, err)
		}
		out.Stored = fj.domain()
	}
	return out, nil
}

// uuidArray passes UUIDs as a PostgreSQL uuid[] literal (with ::uuid[]).
func uuidArray(ids []uuid.UUID) textArray {
	out := make(textArray, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// SaveFacts implements stats.Tx: it upserts the facts and replaces the
// incidents' unmet deadlines, in one statement per 500 incidents. The
// unmet deadlines that stay are upserted and only the others deleted, so
// that no row is changed by two parts of the statement.
func (t *txn) SaveFacts(ctx context.Context, fs []*stats.Facts) error {
	for chunk := range slices.Chunk(fs, 500) {
		var vals []string
		var args []any
		ids := make([]uuid.UUID, len(chunk))
		var unmet []string
		var unmetArgs []any
		for i, f := range chunk {
			ids[i] = f.IncidentID
			dl := make([]deadlineJSON, 0, len(f.Deadlines))
			for _, d := range f.Deadlines {
				dl = append(dl, deadlineJSON{Kind: string(d.Kind), DueAt: d.DueAt, MetAt: d.MetAt})
				if d.MetAt == nil {
					unmet = append(unmet, "(?::uuid, ?::text, ?::timestamptz)")
					unmetArgs = append(unmetArgs, f.IncidentID, string(d.Kind), d.DueAt)
				}
			}
			dj, _ := json.Marshal(dl)
			ss := make(textArray, 4)
			for j, s := range f.StageSeconds {
				ss[j] = fmt.Sprint(s)
			}
			vals = append(vals, "(?, ?::uuid[], ?::uuid[], ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::bigint[], ?::jsonb)")
			args = append(args, f.IncidentID, uuidArray(f.Audience), uuidArray(f.Chain), f.ReportingOrgID, f.CoordinatingOrgID,
				string(f.TLP), f.Sector, f.Open, string(f.Stage), string(f.Severity), f.Category, f.Significant,
				f.PersonalDataBreach, f.AffectedPeople, f.ReportedAt, f.AcknowledgedAt, f.ContainedAt, f.ClosedAt, ss, string(dj))
		}
		q := `WITH facts AS (INSERT INTO stats_facts (incident_id, audience, chain, reporting_org_id,
			coordinating_org_id, tlp, sector, open, stage, severity, category, significant, personal_data_breach,
			affected_people, reported_at, acknowledged_at, contained_at, closed_at, stage_seconds, deadlines)
			VALUES ` + strings.Join(vals, ", ") + `
			ON CONFLICT (incident_id) DO UPDATE SET audience = excluded.audience, chain = excluded.chain,
			reporting_org_id = excluded.reporting_org_id, coordinating_org_id = excluded.coordinating_org_id,
			tlp = excluded.tlp, sector = excluded.sector, open = excluded.open, stage = excluded.stage,
			severity = excluded.severity, category = excluded.category, significant = excluded.significant,
			personal_data_breach = excluded.personal_data_breach, affected_people = excluded.affected_people,
			reported_at = excluded.reported_at, acknowledged_at = excluded.acknowledged_at,
			contained_at = excluded.contained_at, closed_at = excluded.closed_at,
			stage_seconds = excluded.stage_seconds, deadlines = excluded.deadlines RETURNING 1),
		gone AS (DELETE FROM stats_unmet_deadlines WHERE incident_id IN ?`
		args = append(args, ids)
		if len(unmet) > 0 {
			q += ` AND (incident_id, kind) NOT IN (SELECT u.incident_id, u.kind FROM (VALUES ` + strings.Join(unmet, ", ") + `) AS u (incident_id, kind, due_at))
			RETURNING 1),
		kept AS (INSERT INTO stats_unmet_deadlines (incident_id, kind, due_at) VALUES ` + strings.Join(unmet, ", ") + `
			ON CONFLICT (incident_id, kind) DO UPDATE SET due_at = excluded.due_at RETURNING 1`
			args = append(append(args, unmetArgs...), unmetArgs...)
		} else {
			q += ` RETURNING 1`
		}
		q += `) SELECT 1`
		if err := t.db.WithContext(ctx).Exec(q, args...).Error; err != nil {
			return translate(err, "save incident facts")
		}
	}
	return nil
}

// zoneCache keeps loaded time zones by name (their rules do not change
// while the process runs).
var zoneCache sync.Map

// loadZone returns the named zone, UTC when unknown.
func loadZone(name string) *time.Location {
	if l, ok := zoneCache.Load(name); ok {
		return l.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc = time.UTC
	}
	zoneCache.Store(name, loc)
	return loc
}

// OrgZones implements stats.Tx.
func (t *txn) OrgZones(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*time.Location, error) {
	return orgZones(ctx, t.db, ids)
}

func orgZones(ctx context.Context, db *gorm.DB, ids []uuid.UUID) (map[uuid.UUID]*time.Location, error) {
	out := map[uuid.UUID]*time.Location{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID       uuid.UUID
		TimeZone string
	}
	if err := db.WithContext(ctx).Raw(`SELECT id, time_zone FROM organizations WHERE id IN ?`, ids).Scan(&rows).Error; err != nil {
		return nil, translate(err, "read time zones")
	}
	for _, r := range rows {
		out[r.ID] = loadZone(r.TimeZone)
	}
	return out, nil
}

// AddDeltas implements stats.Tx.
func (t *txn) AddDeltas(ctx context.Context, ds []stats.Delta) error {
	for chunk := range slices.Chunk(ds, 1000) {
		vals := make([]string, len(chunk))
		args := make([]any, 0, 7*len(chunk))
		for i, d := range chunk {
			vals[i] = "(?, ?, ?::date, ?, ?, ?, ?)"
			args = append(args, d.OrgID, string(d.Series), d.Day.Format(time.DateOnly), d.K1, d.K2, d.N, d.Total)
		}
		if err := t.db.WithContext(ctx).Exec(`INSERT INTO stats_delta (org_id, series, day, k1, k2, n, total) VALUES `+
			strings.Join(vals, ", "), args...).Error; err != nil {
			return translate(err, "add roll-up deltas")
		}
	}
	return nil
}

// IncidentsReportedBy implements stats.Tx.
func (t *txn) IncidentsReportedBy(ctx context.Context, orgs []uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT id FROM incidents WHERE reporting_org_id IN ? ORDER BY id`, orgs).Scan(&ids).Error
	return ids, translate(err, "list incidents of organisations")
}

// Subtree implements stats.Tx.
func (t *txn) Subtree(ctx context.Context, orgID uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT descendant_id FROM org_closure WHERE ancestor_id = ? ORDER BY descendant_id`, orgID).Scan(&ids).Error
	return ids, translate(err, "read subtree")
}

// BlockFactChanges implements stats.Tx.
func (t *txn) BlockFactChanges(ctx context.Context) error { return t.blockFactChanges(ctx) }

// blockFactChanges keeps every other transaction from changing facts
// until this one ends, and from compacting (SHARE ROW EXCLUSIVE conflicts
// with the writers' ROW EXCLUSIVE and with itself).
func (t *txn) blockFactChanges(ctx context.Context) error {
	if err := t.db.WithContext(ctx).Exec(`SELECT pg_advisory_xact_lock(?)`, statsLock).Error; err != nil {
		return translate(err, "lock the roll-ups")
	}
	return translate(t.db.WithContext(ctx).Exec(`LOCK TABLE stats_facts IN SHARE ROW EXCLUSIVE MODE`).Error, "lock the facts")
}

// RebuildOrg implements stats.Tx.
func (t *txn) RebuildOrg(ctx context.Context, orgID uuid.UUID, cells func(*stats.Facts) []stats.Cell) error {
	if err := t.blockFactChanges(ctx); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM stats_delta WHERE org_id = ?`, `DELETE FROM stats_rollup WHERE org_id = ?`} {
		if err := t.db.WithContext(ctx).Exec(q, orgID).Error; err != nil {
			return translate(err, "rebuild roll-ups")
		}
	}
	rows, err := t.db.WithContext(ctx).Raw(`SELECT to_jsonb(f) FROM stats_facts f WHERE ?::uuid = ANY (f.audience)`, orgID).Rows()
	if err != nil {
		return translate(err, "rebuild roll-ups")
	}
	sum := map[stats.Key]*stats.Delta{}
	var order []stats.Key
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return translate(err, "rebuild roll-ups")
		}
		var fj factsJSON
		if err := json.Unmarshal(b, &fj); err != nil {
			rows.Close()
			return fmt.Errorf("rebuild roll-ups: %w", err)
		}
		for _, c := range cells(fj.domain()) {
			d, ok := sum[c.Key()]
			if !ok {
				d = &stats.Delta{OrgID: orgID, Cell: stats.Cell{Series: c.Series, Day: c.Day, K1: c.K1, K2: c.K2}}
				sum[c.Key()] = d
				order = append(order, c.Key())
			}
			d.N += c.N
			d.Total += c.Total
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err, "rebuild roll-ups")
	}
	ds := make([]stats.Delta, 0, len(order))
	for _, k := range order {
		ds = append(ds, *sum[k])
	}
	return t.AddDeltas(ctx, ds)
}

// IncidentsWithoutFacts implements stats.Tx.
func (t *txn) IncidentsWithoutFacts(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := t.db.WithContext(ctx).Raw(`SELECT i.id FROM incidents i
		WHERE i.id > ? AND NOT EXISTS (SELECT 1 FROM stats_facts f WHERE f.incident_id = i.id)
		ORDER BY i.id LIMIT ? FOR UPDATE OF i SKIP LOCKED`, after, limit).Scan(&ids).Error
	return ids, translate(err, "find incidents without facts")
}

// Compact implements stats.Tx: the deltas visible now move into the totals
// in one statement, and rows that fell to zero go.
func (t *txn) Compact(ctx context.Context) (int64, error) {
	if err := t.db.WithContext(ctx).Exec(`SELECT pg_advisory_xact_lock(?)`, statsLock).Error; err != nil {
		return 0, translate(err, "lock the roll-ups")
	}
	res := t.db.WithContext(ctx).Exec(`WITH moved AS (DELETE FROM stats_delta RETURNING org_id, series, day, k1, k2, n, total)
		INSERT INTO stats_rollup AS r (org_id, series, day, k1, k2, n, total)
		SELECT org_id, series, day, k1, k2, sum(n), sum(total) FROM moved GROUP BY org_id, series, day, k1, k2
		ON CONFLICT (org_id, series, day, k1, k2) DO UPDATE SET n = r.n + excluded.n, total = r.total + excluded.total`)
	if res.Error != nil {
		return 0, translate(res.Error, "compact roll-ups")
	}
	if err := t.db.WithContext(ctx).Exec(`DELETE FROM stats_rollup WHERE n = 0 AND total = 0`).Error; err != nil {
		return 0, translate(err, "compact roll-ups")
	}
	return res.RowsAffected, nil
}
