package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
)

// Shape of the large data set, as in docs/performance.md: cities in 16
// regions under one national CERT.
const (
	largeRegions = 16
	largeCities  = 2000
	seedChunk    = 100_000
	// largeSpanSeconds spreads the incidents over two years (about 1,370 a
	// day at 1,000,000), the most recent 2.5 % still open.
	largeSpanSeconds = 2 * 365 * 24 * 3600
)

// large seeds LargeCount incidents with generate_series (the shape of
// docs/performance.md: 2,000 cities in 16 regions under one national CERT,
// TLP mix 37.5 % AMBER, 25 % GREEN, 12.5 % each CLEAR, AMBER+STRICT, RED;
// every incident holds 4 of 20 words), then times first pages and a search
// for a city, a regional CERT and the national CERT over REST.
func (e *env) large(ctx context.Context) error {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.DataDir, cfg.BlobDir, cfg.Workers = e.dir, e.dir+"/blobs-large", false
	a, _, closeDB, err := e.phaseApp(ctx, "large", cfg, 10)
	if err != nil {
		return err
	}
	defer closeDB()
	began := time.Now()
	e.progress("large: seeding %d incidents", e.opts.LargeCount)
	seed := []string{
		`INSERT INTO organizations (slug, name, kind) VALUES ('large-national', 'National CERT', 'national_cert')`,
		fmt.Sprintf(`INSERT INTO organizations (slug, name, kind, parent_id)
			SELECT 'large-region-' || r, 'Region ' || r, 'regional_cert', (SELECT id FROM organizations WHERE slug = 'large-national')
			FROM generate_series(1, %d) r`, largeRegions),
		fmt.Sprintf(`INSERT INTO organizations (slug, name, kind, parent_id)
			SELECT 'large-city-' || c, 'City ' || c, 'local_authority', p.id
			FROM generate_series(1, %d) c JOIN organizations p ON p.slug = 'large-region-' || (c %% %d + 1)`, largeCities, largeRegions),
		`INSERT INTO org_closure (ancestor_id, descendant_id, depth) SELECT id, id, 0 FROM organizations WHERE slug LIKE 'large-%'`,
		`INSERT INTO org_closure (ancestor_id, descendant_id, depth) SELECT parent_id, id, 1 FROM organizations WHERE slug LIKE 'large-%' AND parent_id IS NOT NULL`,
		`INSERT INTO org_closure (ancestor_id, descendant_id, depth) SELECT p.parent_id, o.id, 2
			FROM organizations o JOIN organizations p ON p.id = o.parent_id WHERE o.slug LIKE 'large-city-%' AND p.parent_id IS NOT NULL`,
	}
	for from := 1; from <= e.opts.LargeCount; from += seedChunk {
		to := min(from+seedChunk-1, e.opts.LargeCount)
		seed = append(seed, fmt.Sprintf(`WITH c AS (
				SELECT array_agg(o.id ORDER BY o.slug) AS ids, array_agg(o.parent_id ORDER BY o.slug) AS parents
				FROM organizations o WHERE o.slug LIKE 'large-city-%%'),
			w AS (SELECT ARRAY['ransomware','phishing','botnet','hospital','payroll','scada','water','school','ddos','leak',
				'vpn','exchange','firewall','backup','invoice','citizen','portal','mail','printer','router'] AS words)
			INSERT INTO incidents (id, reference, title, description, reporting_org_id, coordinating_org_id, stage, status,
				severity, tlp, reported_at, created_at, updated_at, version, category, type, tags, acknowledged_at, closed_at,
				significant, personal_data_breach, affected_people)
			SELECT gen_random_uuid(), 'LRG-' || g,
				'Report ' || g || ': ' || w.words[g %% 20 + 1] || ' ' || w.words[(g / 20) %% 20 + 1],
				'Seen at the ' || w.words[(g / 400) %% 20 + 1] || ' and the ' || w.words[(g / 8000) %% 20 + 1] || '.',
				c.ids[g %% %[3]d + 1], c.parents[g %% %[3]d + 1],
				CASE WHEN closed THEN 'recovery' ELSE (ARRAY['preparation','response','response','recovery'])[g / 7 %% 4 + 1] END,
				CASE WHEN closed THEN 'closed' ELSE 'open' END,
				(ARRAY['low','medium','high','critical'])[g %% 4 + 1],
				(ARRAY['TLP:AMBER','TLP:AMBER','TLP:AMBER','TLP:GREEN','TLP:GREEN','TLP:CLEAR','TLP:AMBER+STRICT','TLP:RED'])[g / 3 %% 8 + 1],
				t, t, t, 1, cls.cs[g / 11 %% 6 + 1], cls.ts[g / 11 %% 6 + 1], ARRAY[w.words[g %% 20 + 1]],
				CASE WHEN g %% 20 <> 0 THEN t + make_interval(secs => 60 + (g::bigint * 7919) %% 14400) END,
				CASE WHEN closed THEN t + make_interval(hours => (2 + (g::bigint * 104729) %% 240)::int) END,
				g %% 20 = 3, g %% 25 = 7, CASE WHEN g %% 25 = 7 AND g %% 2 = 0 THEN (g * 31) %% 50000 END
			FROM generate_series(%[1]d, %[2]d) g, c, w,
				(SELECT ARRAY['malicious-code','availability','fraud','intrusions','information-content-security','vulnerable'] AS cs,
				        ARRAY['infected-system','ddos','phishing','system-compromise','data-leak','vulnerable-system'] AS ts) cls,
				LATERAL (SELECT now() - make_interval(secs => (%[4]d - g)::float8 * %[5]d / %[4]d) AS t,
					g %% 10 < 7 AND g < %[4]d - %[4]d / 40 AS closed) ts`,
			from, to, largeCities, e.opts.LargeCount, largeSpanSeconds))
	}
	seed = append(seed,
		// Legal deadlines recorded for most significant incidents (some late).
		`INSERT INTO incident_deadlines_met (incident_id, kind, met_at, reference)
			SELECT id, 'nis2_early_warning', reported_at + make_interval(hours => 2 + abs(hashtext(reference)) % 30), 'EW'
			FROM incidents WHERE significant AND abs(hashtext(reference)) % 5 <> 0`,
		// The earliest open legal deadline, which the application keeps with
		// every change of an incident (deadline=open and deadline=missed,
		// the triage order): the rules of migration 0027 in SQL, once.
		`UPDATE incidents i SET legal_deadline_at = d.due, next_deadline_at = d.due
		FROM (
			SELECT x.id, LEAST(
				CASE WHEN x.significant AND m.ew IS NULL THEN x.reported_at + interval '24 hours' END,
				CASE WHEN x.significant AND m.n IS NULL THEN x.reported_at + interval '72 hours' END,
				CASE WHEN x.significant AND m.f IS NULL THEN x.reported_at + interval '72 hours' + interval '1 month' END,
				CASE WHEN x.personal_data_breach AND m.g IS NULL THEN x.reported_at + interval '72 hours' END) AS due
			FROM incidents x LEFT JOIN LATERAL (
				SELECT max(met_at) FILTER (WHERE kind = 'nis2_early_warning') AS ew, max(met_at) FILTER (WHERE kind = 'nis2_notification') AS n,
					max(met_at) FILTER (WHERE kind = 'nis2_final_report') AS f, max(met_at) FILTER (WHERE kind = 'gdpr_notification') AS g
				FROM incident_deadlines_met WHERE incident_id = x.id) m ON true
			WHERE x.reference LIKE 'LRG-%' AND (x.significant OR x.personal_data_breach)
		) d
		WHERE d.id = i.id`,
		// Escalations from the region to the national CERT for 2 % of them.
		`INSERT INTO escalations (id, incident_id, from_org_id, to_org_id, kind, state, requested_by, requested_at, decided_at)
			SELECT gen_random_uuid(), i.id, i.coordinating_org_id, (SELECT id FROM organizations WHERE slug = 'large-national'),
				'assist', (ARRAY['accepted','accepted','declined','requested'])[abs(hashtext(i.reference)) % 4 + 1], 'bench',
				i.reported_at + interval '1 hour',
				CASE WHEN abs(hashtext(i.reference)) % 4 < 3 THEN i.reported_at + make_interval(mins => 61 + abs(hashtext(i.reference)) % 600) END
			FROM incidents i WHERE i.reference LIKE 'LRG-%' AND abs(hashtext(i.reference)) % 50 = 0 AND i.coordinating_org_id IS NOT NULL`,
		`VACUUM ANALYZE`)
	for _, q := range seed {
		if _, err := a.DB.Pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	seeded := time.Since(began)
	e.progress("large: seeded in %s", seeded.Round(time.Second))

	tokens := map[string]string{}
	principals := map[string]access.Principal{}
	for _, v := range []struct {
		name, slug string
		role       access.Role
	}{
		{"city", "large-city-1", access.Reporter},
		{"regional CERT", "large-region-1", access.Coordinator},
		{"national CERT", "large-national", access.Coordinator},
	} {
		o, err := a.Store.OrganizationBySlug(ctx, v.slug)
		if err != nil {
			return err
		}
		u, err := a.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID, Email: "viewer@" + v.slug + ".example",
			Name: v.name, Role: v.role})
		if err != nil {
			return err
		}
		if tokens[v.name], _, err = a.Identity.CreateToken(ctx, access.System, u.ID, "bench", nil); err != nil {
			return err
		}
		principals[v.name] = u.Principal()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.HTTP, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	get := func(path, token string) (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		t := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		took := time.Since(t)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return took, nil
	}
	for _, q := range []struct{ what, path string }{
		{"list first page", "/api/v1/incidents?limit=50"},
		{"search 'ransomware'", "/api/v1/incidents?limit=50&q=ransomware"},
		{"search 'ransomware hospital'", "/api/v1/incidents?limit=50&q=ransomware+hospital"},
		{"deadline=missed", "/api/v1/incidents?limit=50&deadline=missed"},
	} {
		for _, viewer := range []string{"city", "regional CERT", "national CERT"} {
			if _, err := get(q.path, tokens[viewer]); err != nil { // warm-up
				return err
			}
			var lat []time.Duration
			for range e.opts.LargeRequests {
				d, err := get(q.path, tokens[viewer])
				if err != nil {
					return err
				}
				lat = append(lat, d)
			}
			e.report.Rows = append(e.report.Rows, NewRow(fmt.Sprintf("%s at %d incidents, %s, p99", q.what, e.opts.LargeCount, viewer),
				"ms", Ms(Percentile(lat, 99)), 0, Target{AtMost, 50},
				fmt.Sprintf("p50 %.1f ms of %d requests after one warm-up; seeding took %s", Ms(Percentile(lat, 50)), len(lat), seeded.Round(time.Second))))
		}
	}
	if e.opts.LargeSkipMetrics {
		e.report.Notes = append(e.report.Notes, "the metrics' backfill and the dashboard were not measured (-large-skip-metrics)")
	} else if err := e.dashboard(ctx, a, principals, get, tokens); err != nil {
		return err
	}
	// The web UI's pages for a city among them (its region as in the seed).
	return e.uiLarge(ctx, a, "large-city-1", fmt.Sprintf("large-region-%d", 1%largeRegions+1))
}
