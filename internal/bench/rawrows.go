package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// rawReportRows commits, with pgx directly and the same number of
// clients, every row a report leaves behind, with the same two commits
// certdesk makes for it, each sent in one round trip (a pgx batch):
//
//  1. the report: its reference number, the incident (routed to the
//     region), its created and routed events, the reporter as participant,
//     the region's notification, the incident's metrics facts and their
//     roll-up deltas (exactly those stats.Diff gives a new incident of
//     this shape), and the delivery job in river_job;
//  2. the delivery: the notification marked sent and the job completed.
//
// This is the least PostgreSQL can be asked to do for a report as
// certdesk stores it: the baseline of "the same rows" that issue 14's
// intake target is a ratio of. What certdesk adds on top is its reads
// (the token, the organisation chain, the visibility checks), its
// statement-per-row writes and River's fetch.
func (e *env) rawReportRows(ctx context.Context) (rawResult, error) {
	pool, err := e.rawPool(ctx, "rawrows")
	if err != nil {
		return rawResult{}, err
	}
	defer pool.Close()
	national, region, city, userID := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	setup := &pgx.Batch{}
	setup.Queue(`INSERT INTO organizations (id, slug, name, kind) VALUES ($1, 'raw-national', 'Raw national CERT', 'national_cert'),
		($2, 'raw-region', 'Raw regional CERT', 'regional_cert'), ($3, 'raw-city', 'Raw city', 'local_authority')`, national, region, city)
	setup.Queue(`INSERT INTO org_closure (ancestor_id, descendant_id, depth) VALUES ($1, $1, 0), ($2, $2, 0), ($3, $3, 0),
		($1, $2, 1), ($2, $3, 1), ($1, $3, 2)`, national, region, city)
	setup.Queue(`INSERT INTO users (id, org_id, email, name, role) VALUES ($1, $2, 'raw@city.example', 'Raw reporter', 'reporter')`, userID, city)
	if err := pool.SendBatch(ctx, setup).Close(); err != nil {
		return rawResult{}, fmt.Errorf("set up the organisations: %w", err)
	}
	var seq atomic.Int64
	mark, err := e.cpuNow()
	if err != nil {
		return rawResult{}, err
	}
	e.progress("raw PostgreSQL, every row of a report: %d clients, %s", e.opts.Clients, e.opts.Duration)
	lat, took, err := load(ctx, e.opts.Clients, e.opts.Duration, func(ctx context.Context, _ int) error {
		n := seq.Add(1)
		id, nid, now := uuid.New(), uuid.New(), time.Now().UTC()
		ref, title := fmt.Sprintf("RAW-%d", n), fmt.Sprintf("Ransomware at the city hall %d", n)
		f := stats.Facts{IncidentID: id, ReportingOrgID: city, CoordinatingOrgID: &region, TLP: incident.TLPAmber,
			Audience: []uuid.UUID{national, region, city}, Chain: []uuid.UUID{city, region, national}, Open: true,
			Stage: incident.Response, Severity: incident.High, Category: "malicious-code", ReportedAt: now}
		deltas := stats.Diff(nil, &f, func(uuid.UUID) *time.Location { return time.UTC })
		created, _ := json.Marshal(map[string]any{"reference": ref, "title": title, "stage": "response",
			"severity": "high", "tlp": "TLP:AMBER", "reporting_org": "raw-city"})
		routed, _ := json.Marshal(map[string]any{"to": "raw-region"})
		msg, _ := json.Marshal(map[string]any{"text": "New incident " + ref + ": " + title})
		args, _ := json.Marshal(map[string]any{"notification_id": nid})

		b := &pgx.Batch{}
		b.Queue(`BEGIN`)
		b.Queue(`SELECT certdesk_next_incident_number(2026)`)
		b.Queue(`INSERT INTO incidents (id, reference, title, description, reporting_org_id, coordinating_org_id, reporter_user_id,
			stage, status, severity, tlp, reported_at, created_at, updated_at, version, category, type, tags)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'response', 'open', 'high', 'TLP:AMBER', $8, $8, $8, 1, 'malicious-code',
			'infected-system', '{ransomware}')`, id, ref, title, description, city, region, userID, now)
		b.Queue(`INSERT INTO incident_events (incident_id, actor_user_id, actor, kind, data, occurred_at)
			VALUES ($1, $2, 'raw@city.example', 'created', $3, $5), ($1, NULL, 'certdesk', 'routed', $4, $5)`,
			id, userID, created, routed, now)
		b.Queue(`INSERT INTO incident_participants (incident_id, user_id, added_by) VALUES ($1, $2, $2)`, id, userID)
		b.Queue(`INSERT INTO notifications (id, incident_id, event_key, event_kind, recipient_org_id, provider, message, created_at)
			VALUES ($1, $2, $3, 'routed', $4, 'log', $5, $6)`, nid, id, "routed:"+id.String(), region, msg, now)
		b.Queue(`INSERT INTO stats_facts (incident_id, audience, chain, reporting_org_id, coordinating_org_id, tlp, sector, open,
			stage, severity, category, significant, personal_data_breach, reported_at, stage_seconds, deadlines)
			VALUES ($1, $2, $3, $4, $5, 'TLP:AMBER', '', true, 'response', 'high', 'malicious-code', false, false, $6,
			'{0,0,0,0}', '[]')`, id, f.Audience, f.Chain, city, region, now)
		for _, d := range deltas {
			b.Queue(`INSERT INTO stats_delta (org_id, series, day, k1, k2, n, total) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				d.OrgID, string(d.Series), d.Day, d.K1, d.K2, d.N, d.Total)
		}
		b.Queue(`INSERT INTO river_job (args, kind, max_attempts, queue, state, priority) VALUES ($1, 'notify.deliver', 25, 'default', 'available', 1)
			RETURNING id`, args)
		b.Queue(`COMMIT`)
		var jobID int64
		br := pool.SendBatch(ctx, b)
		for i := 0; i < b.Len(); i++ {
			var err error
			if i == b.Len()-2 {
				err = br.QueryRow().Scan(&jobID)
			} else {
				_, err = br.Exec()
			}
			if err != nil {
				_ = br.Close()
				return err
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		done := &pgx.Batch{}
		done.Queue(`BEGIN`)
		done.Queue(`UPDATE notifications SET state = 'sent', attempts = 1, sent_at = $2 WHERE id = $1`, nid, time.Now().UTC())
		done.Queue(`UPDATE river_job SET state = 'completed', attempt = 1, attempted_at = $2, finalized_at = $2 WHERE id = $1`,
			jobID, time.Now().UTC())
		done.Queue(`COMMIT`)
		return pool.SendBatch(ctx, done).Close()
	})
	if err != nil {
		return rawResult{}, err
	}
	if len(lat) == 0 {
		return rawResult{}, fmt.Errorf("no report committed in %s", took)
	}
	end, err := e.cpuNow()
	if err != nil {
		return rawResult{}, err
	}
	res := rawResult{rate: float64(len(lat)) / took.Seconds(), p50: Percentile(lat, 50), p99: Percentile(lat, 99),
		cpu: cpuBetween(mark, end, len(lat))}
	e.progress("raw PostgreSQL, every row of a report: %.0f reports/s, PostgreSQL %.2f ms CPU per report",
		res.rate, Ms(res.cpu.pgPer))
	return res, nil
}
