package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/session"
)

// timelineTarget is the server time of a long timeline's first page over
// the API (issue 14: an incident with 10,000 events, < 20 ms).
const timelineTarget = 20

// timelineSeed appends n events to one incident ($1), spread over the
// days since it was created: what a long case collects over weeks of
// work (notes, field changes, comments, tasks, notifications, now and
// then an observable), by its CERT's responder ($2, $3) and by certdesk
// itself.
const timelineSeed = `INSERT INTO incident_events (incident_id, actor_user_id, actor, kind, data, occurred_at, recorded_at)
	SELECT $1, CASE WHEN k.kind IN ('notified', 'deadline_reminder') THEN NULL ELSE $2::uuid END,
		CASE WHEN k.kind IN ('notified', 'deadline_reminder') THEN 'certdesk' ELSE $3 END,
		k.kind,
		CASE k.kind
			WHEN 'manual' THEN jsonb_build_object('summary', 'Call with the city''s IT, step ' || g)
			WHEN 'field_changed' THEN jsonb_build_object('field', 'severity', 'old', 'high', 'new', 'critical')
			WHEN 'comment_added' THEN jsonb_build_object('excerpt', 'Servers FS01 and FS03 restored from the backup of day ' || g / 400)
			WHEN 'task_created' THEN jsonb_build_object('title', 'Check host ' || g)
			WHEN 'observable_added' THEN jsonb_build_object('type', 'ipv4', 'value', '192.0.2.' || g % 250, 'tlp', 'TLP:GREEN')
			WHEN 'deadline_reminder' THEN jsonb_build_object('kind', 'nis2_incident_notification')
			ELSE jsonb_build_object('channel', 'C0BENCHREG1')
		END,
		t, t
	FROM generate_series(1, $4::int) g
	CROSS JOIN LATERAL (SELECT (ARRAY['manual', 'field_changed', 'comment_added', 'task_created', 'notified', 'manual',
		'observable_added', 'comment_added', 'notified', 'deadline_reminder'])[g % 10 + 1] AS kind) k
	CROSS JOIN LATERAL (SELECT $5::timestamptz + make_interval(secs => g * 60) AS t) ts`

// timeline measures the first page of an incident with TimelineEvents
// events, through the API (GET /api/v1/incidents/{id}/timeline, a bearer
// token) and as the incident's web page (/incidents/<ref>, signed in as a
// responder of the CERT that coordinates it), TimelineRequests times each
// in-process through the whole handler stack (no network): server time
// p50 and p99, the API's p99 against 20 ms.
func (e *env) timeline(ctx context.Context) error {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	// No workers: the report's notification stays queued. The report is
	// routed to bench-region in its own transaction; the bench sets the
	// coordinating CERT again all the same.
	cfg.DataDir, cfg.BlobDir, cfg.Workers = e.dir, e.dir+"/blobs-timeline", false
	a, _, closeDB, err := e.phaseApp(ctx, "timeline", cfg, 10)
	if err != nil {
		return err
	}
	defer closeDB()
	a.Runs.SetPlaybooks(nil)
	if _, err := e.reporter(ctx, a, ""); err != nil {
		return err
	}
	region, err := a.Store.OrganizationBySlug(ctx, "bench-region")
	if err != nil {
		return err
	}
	reporter, err := a.Identity.UserByEmail(ctx, access.System, "reporter@bench-city.example")
	if err != nil {
		return err
	}
	const pw = "bench-lantern-harbour-2026"
	responder, err := a.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: region.ID, Email: "responder@bench-region.example",
		Name: "Regional responder", Role: access.Responder, Password: pw})
	if err != nil {
		return err
	}
	token, _, err := a.Identity.CreateToken(ctx, access.System, responder.ID, "bench", nil)
	if err != nil {
		return err
	}
	inc, _, err := a.Incidents.Create(ctx, reporter.Principal(), incident.NewIncident{Title: "Ransomware on the file servers",
		Description: description, Severity: incident.High, Category: "malicious-code", Type: "infected-system"}, nil)
	if err != nil {
		return err
	}
	n := e.opts.TimelineEvents
	e.progress("timeline: seeding %d events of one incident", n)
	began := time.Now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE incidents SET coordinating_org_id = $2 WHERE id = $1`, []any{inc.ID, region.ID}},
		{timelineSeed, []any{inc.ID, responder.ID, responder.Email, n, inc.CreatedAt}},
		{`VACUUM ANALYZE incident_events`, nil},
		{`VACUUM ANALYZE incidents`, nil},
	} {
		if _, err := a.DB.Pool.Exec(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("seed the timeline: %w", err)
		}
	}
	seeded := time.Since(began)

	secret, _, err := a.Sessions.SignIn(ctx, responder.Email, pw, session.Client{RemoteAddr: "127.0.0.1", UserAgent: "certdesk-bench"})
	if err != nil {
		return fmt.Errorf("sign in %s: %w", responder.Email, err)
	}
	for _, pg := range []struct {
		what, path, header, value string
		target                    float64
	}{
		{"timeline first page over the API", "/api/v1/incidents/" + inc.ID.String() + "/timeline", "Authorization", "Bearer " + token, timelineTarget},
		{"UI /incidents/:ref with a long timeline", "/incidents/" + inc.Reference, "Cookie", "certdesk-session=" + secret, uiDemoTarget},
	} {
		serve := func() (*httptest.ResponseRecorder, time.Duration) {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, pg.path, nil)
			req.Header.Set(pg.header, pg.value)
			rec := httptest.NewRecorder()
			t := time.Now()
			a.HTTP.ServeHTTP(rec, req)
			return rec, time.Since(t)
		}
		var first *httptest.ResponseRecorder
		for range 3 { // warm-up
			first, _ = serve()
		}
		if first.Code != http.StatusOK {
			return fmt.Errorf("GET %s: %d %s", pg.path, first.Code, first.Body.String())
		}
		lat := make([]time.Duration, 0, e.opts.TimelineRequests)
		for range e.opts.TimelineRequests {
			_, d := serve()
			lat = append(lat, d)
		}
		note := fmt.Sprintf("GET %s, %d requests in-process after 3 warm-ups; one incident with %d events (seeded in %s), its coordinating CERT's responder",
			pg.path, len(lat), n, seeded.Round(time.Millisecond))
		e.report.Rows = append(e.report.Rows,
			NewRow(fmt.Sprintf("%s, %d events, server time p50", pg.what, n), "ms", Ms(Percentile(lat, 50)), 0, Target{}, ""),
			NewRow(fmt.Sprintf("%s, %d events, server time p99", pg.what, n), "ms", Ms(Percentile(lat, 99)), 0, Target{AtMost, pg.target}, note))
	}
	return nil
}
