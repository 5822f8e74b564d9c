package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// tree seeds national > region > city, and an operator under national,
// each with a reporter; it returns each reporter's token by org slug.
func tree(h *testapp.Harness) map[string]string {
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("grid", org.Operator, "national")
	toks := map[string]string{}
	for _, slug := range []string{"national", "region", "city", "grid"} {
		_, toks[slug] = h.User(slug, access.Reporter)
	}
	return toks
}

// report files an incident as the reporter of orgSlug.
func report(h *testapp.Harness, toks map[string]string, orgSlug, title string, header ...string) *testapp.Response {
	return h.As(toks[orgSlug]).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": title, "severity": "high", "tlp": "amber",
	}, header...)
}

type incidentBody struct {
	ID              string  `json:"id"`
	Reference       string  `json:"reference"`
	ReportingOrg    string  `json:"reporting_org"`
	CoordinatingOrg *string `json:"coordinating_org"`
	TLP             string  `json:"tlp"`
	Version         int     `json:"version"`
}

type timelineBody struct {
	Events []struct {
		Kind  string         `json:"kind"`
		Actor string         `json:"actor"`
		Data  map[string]any `json:"data"`
	} `json:"events"`
	NextCursor *string `json:"next_cursor"`
}

func TestReportIsRoutedToNearestCERT(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{})
	toks := tree(h)
	h = h.As(toks["national"]) // reads as the national CERT, which sees every AMBER incident

	for _, tc := range []struct{ reporter, coordinator string }{
		{"city", "region"},   // a city's report goes to its regional CERT
		{"grid", "national"}, // an operator under the national CERT goes there
		{"region", "region"}, // a CERT's own incident stays with it
	} {
		t.Run(tc.reporter, func(t *testing.T) {
			r := report(h, toks, tc.reporter, "Ransomware at "+tc.reporter)
			require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			var inc incidentBody
			r.JSON(t, &inc)
			require.Regexp(t, `^INC-\d{4}-\d{6}$`, inc.Reference)
			require.Equal(t, tc.reporter, inc.ReportingOrg)
			require.Equal(t, "TLP:AMBER", inc.TLP, "TLP is normalised")
			require.NotNil(t, inc.CoordinatingOrg, "routed in the report's transaction")
			require.Equal(t, tc.coordinator, *inc.CoordinatingOrg)
			require.Equal(t, `"1"`, r.Header.Get("ETag"))
			require.Equal(t, "/api/v1/incidents/"+inc.ID, r.Header.Get("Location"))

			var tl timelineBody
			h.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline", nil).JSON(t, &tl)
			require.Len(t, tl.Events, 2, "created and routed, committed together")
			require.Equal(t, "created", tl.Events[0].Kind)
			require.Equal(t, "routed", tl.Events[1].Kind)
			require.Equal(t, tc.coordinator, tl.Events[1].Data["coordinating_org"])
			require.Equal(t, "certdesk", tl.Events[1].Actor)

			var got incidentBody
			g := h.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference, nil)
			require.Equal(t, http.StatusOK, g.Status)
			g.JSON(t, &got)
			require.Equal(t, inc.ID, got.ID, "an incident can be read by its reference")
			require.Equal(t, tc.coordinator, *got.CoordinatingOrg)
			require.Equal(t, 1, got.Version, "routed as it was inserted: no second write")
		})
	}
}

func TestRouteJobAppliesOnce(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	toks := tree(h)
	h = h.As(toks["national"]) // reads as the national CERT, which sees every AMBER incident
	ctx := context.Background()
	kinds := func(id string) []string {
		var tl timelineBody
		h.Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline", nil).JSON(t, &tl)
		out := []string{}
		for _, e := range tl.Events {
			out = append(out, e.Kind)
		}
		return out
	}

	// A report is routed in its transaction: a route job left over from
	// before (an upgrade with a backlog) changes nothing.
	var inc incidentBody
	report(h, toks, "city", "Phishing wave").JSON(t, &inc)
	require.NoError(t, h.App.Incidents.Route(ctx, mustUUID(t, inc.ID), nil))
	require.Equal(t, []string{"created", "routed"}, kinds(inc.ID))

	// An incident without a coordinator (written before reports were
	// routed as they came): the same job delivered twice (a crash after
	// the effect, before River saw the result) must not route twice.
	city, err := h.App.Store.OrganizationBySlug(ctx, "city")
	require.NoError(t, err)
	now := time.Now().UTC()
	old := &incident.Incident{ID: uuid.New(), Reference: "INC-2025-000001", Title: "Left unrouted", ReportingOrgID: city.ID,
		Stage: incident.Response, Status: incident.Open, Severity: incident.High, TLP: incident.TLPAmber,
		ReportedAt: now, CreatedAt: now, UpdatedAt: now, Version: 1}
	require.NoError(t, h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error { return tx.InsertIncident(ctx, old) }))
	require.NoError(t, h.App.Incidents.Route(ctx, old.ID, nil))
	require.NoError(t, h.App.Incidents.Route(ctx, old.ID, nil))
	require.Equal(t, []string{"routed"}, kinds(old.ID.String()))
	var got incidentBody
	h.Request(http.MethodGet, "/api/v1/incidents/"+old.ID.String(), nil).JSON(t, &got)
	require.Equal(t, "region", *got.CoordinatingOrg)
	require.Equal(t, 2, got.Version, "routing it later is a change: the version moved")
}

func TestConcurrentReportsGetUniqueIncreasingReferences(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	toks := tree(h)
	h = h.As(toks["national"]) // reads as the national CERT, which sees every AMBER incident
	const writers, each = 8, 6
	refs := make([][]string, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := report(h, toks, "city", fmt.Sprintf("report %d/%d", w, i))
				if r.Status != http.StatusCreated {
					t.Errorf("status %d: %s", r.Status, r.Body)
					return
				}
				var inc incidentBody
				r.JSON(t, &inc)
				refs[w] = append(refs[w], inc.Reference)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	re := regexp.MustCompile(`^INC-(\d{4})-(\d{6})$`)
	for _, rs := range refs {
		last := 0
		for _, ref := range rs {
			require.False(t, seen[ref], "duplicate reference %s", ref)
			seen[ref] = true
			n, _ := strconv.Atoi(re.FindStringSubmatch(ref)[2])
			require.Greater(t, n, last, "references increase in the order they are given out")
			last = n
		}
	}
	require.Len(t, seen, writers*each)
	// No transaction rolled back here, so the numbers are exactly 1..N.
	for n := 1; n <= writers*each; n++ {
		found := false
		for ref := range seen {
			found = found || strings.HasSuffix(ref, fmt.Sprintf("-%06d", n))
		}
		require.True(t, found, "number %d was skipped", n)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	toks := tree(h)
	h = h.As(toks["national"]) // reads as the national CERT, which sees every AMBER incident

	t.Run("replay returns the first incident and creates nothing", func(t *testing.T) {
		first := report(h, toks, "city", "Defacement", "Idempotency-Key", "key-1")
		require.Equal(t, http.StatusCreated, first.Status)
		again := report(h, toks, "city", "Defacement", "Idempotency-Key", "key-1")
		require.Equal(t, http.StatusCreated, again.Status)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		var a, b incidentBody
		first.JSON(t, &a)
		again.JSON(t, &b)
		require.Equal(t, a.ID, b.ID)
		require.Equal(t, a.Reference, b.Reference)
		require.Equal(t, 1, countIncidents(t, h, "Defacement"))
	})
	t.Run("same key with another body is a conflict", func(t *testing.T) {
		require.Equal(t, http.StatusCreated, report(h, toks, "city", "DDoS", "Idempotency-Key", "key-2").Status)
		r := report(h, toks, "city", "Something else", "Idempotency-Key", "key-2")
		require.Equal(t, http.StatusConflict, r.Status)
		require.Equal(t, 0, countIncidents(t, h, "Something else"))
	})
	t.Run("concurrent retries create one incident", func(t *testing.T) {
		var wg sync.WaitGroup
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var inc incidentBody
				report(h, toks, "city", "Data leak", "Idempotency-Key", "key-3").JSON(t, &inc)
				ids[i] = inc.ID
			}()
		}
		wg.Wait()
		for _, id := range ids {
			require.Equal(t, ids[0], id)
		}
		require.Equal(t, 1, countIncidents(t, h, "Data leak"))
	})
	t.Run("an overlong key is refused", func(t *testing.T) {
		r := report(h, toks, "city", "x", "Idempotency-Key", strings.Repeat("k", 256))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, "Idempotency-Key", fieldOf(t, r))
	})
}

func countIncidents(t *testing.T, h *testapp.Harness, title string) int {
	t.Helper()
	var n int
	require.NoError(t, h.App.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM incidents WHERE title = $1", title).Scan(&n))
	return n
}

func fieldOf(t *testing.T, r *testapp.Response) string {
	t.Helper()
	p := r.Map(t)
	errs, ok := p["errors"].([]any)
	require.True(t, ok, "problem has a field list: %s", r.Body)
	require.NotEmpty(t, errs)
	return errs[0].(map[string]any)["field"].(string)
}

func TestBadInputGetsProblems(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	toks := tree(h)
	h = h.As(toks["national"]) // reads as the national CERT, which sees every AMBER incident
	big := `{"title":"` + strings.Repeat("a", 2<<20) + `"}`
	for _, tc := range []struct {
		name        string
		body        string
		contentType string
		status      int
		field, rule string
	}{
		{"malformed JSON", `{"title": "x",`, "", 400, "body", "json"},
		{"not an object", `[1,2]`, "", 422, "body", "type"},
		{"two values", `{"title":"a"} {}`, "", 400, "body", "single_value"},
		{"empty body", ``, "", 400, "body", "required"},
		{"unknown field", `{"title":"x","owner":"me"}`, "", 422, "owner", "unknown_field"},
		{"missing title", `{}`, "", 422, "title", "required"},
		{"title too long", `{"title":"` + strings.Repeat("t", 201) + `"}`, "", 422, "title", "max_length"},
		{"wrong type", `{"title":42}`, "", 422, "title", "type"},
		{"unknown severity", `{"title":"x","severity":"apocalyptic"}`, "", 422, "severity", "enum"},
		{"unknown TLP", `{"title":"x","tlp":"TLP:PURPLE"}`, "", 422, "tlp", "enum"},
		{"unknown stage", `{"title":"x","stage":"panic"}`, "", 422, "stage", "enum"},
		{"future detection", `{"title":"x","detected_at":"2999-01-01T00:00:00Z"}`, "", 422, "detected_at", "not_future"},
		{"reporting organisation comes from the caller", `{"title":"x","reporting_org":"atlantis"}`, "", 422, "reporting_org", "unknown_field"},
		{"oversize body", big, "", 413, "", ""},
		{"not JSON", `title=x`, "application/x-www-form-urlencoded", 415, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{}
			if tc.contentType != "" {
				hdr = append(hdr, "Content-Type", tc.contentType)
			}
			r := h.As(toks["city"]).Request(http.MethodPost, "/api/v1/incidents", tc.body, hdr...)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			p := r.Map(t)
			require.EqualValues(t, tc.status, p["status"])
			require.NotEmpty(t, p["request_id"])
			if tc.field != "" {
				e := p["errors"].([]any)[0].(map[string]any)
				require.Equal(t, tc.field, e["field"], "%s", r.Body)
				require.Equal(t, tc.rule, e["rule"], "%s", r.Body)
				require.NotEmpty(t, e["message"])
			}
		})
	}
	t.Run("severity error lists the valid values", func(t *testing.T) {
		r := h.As(toks["city"]).Request(http.MethodPost, "/api/v1/incidents", `{"title":"x","severity":"huge"}`)
		require.Contains(t, string(r.Body), "low, medium, high, critical")
	})
	t.Run("nothing was created by bad requests", func(t *testing.T) {
		require.Equal(t, 0, countIncidents(t, h, "x"))
	})
	t.Run("no or bad token is 401", func(t *testing.T) {
		for _, tok := range []string{"", "cdt_wrong"} {
			r := h.As(tok).Request(http.MethodGet, "/api/v1/me", nil)
			require.Equal(t, http.StatusUnauthorized, r.Status)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		}
	})
	t.Run("unknown incident is 404", func(t *testing.T) {
		for _, id := range []string{testapp.NewID(), "INC-2026-999999", "not-an-id"} {
			r := h.Request(http.MethodGet, "/api/v1/incidents/"+id, nil)
			require.Equal(t, http.StatusNotFound, r.Status)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		}
	})
	t.Run("bad cursor and limit", func(t *testing.T) {
		var inc incidentBody
		report(h, toks, "city", "cursor test").JSON(t, &inc)
		r := h.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?cursor=bm90IGpzb24", nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, "cursor", fieldOf(t, r))
		r = h.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?limit=-1", nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, "limit", fieldOf(t, r))
	})
}

func TestTimelinePages(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{})
	toks := tree(h)
	h = h.As(toks["national"]) // reads as the national CERT, which sees every AMBER incident
	var inc incidentBody
	report(h, toks, "city", "paged").JSON(t, &inc)
	h.Eventually(func() bool {
		var tl timelineBody
		h.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline", nil).JSON(t, &tl)
		return len(tl.Events) == 2
	}, "routed")
	var p1, p2 timelineBody
	h.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?limit=1", nil).JSON(t, &p1)
	require.Len(t, p1.Events, 1)
	require.Equal(t, "created", p1.Events[0].Kind)
	require.NotNil(t, p1.NextCursor)
	h.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline?limit=1&cursor="+*p1.NextCursor, nil).JSON(t, &p2)
	require.Len(t, p2.Events, 1)
	require.Equal(t, "routed", p2.Events[0].Kind)
	require.Nil(t, p2.NextCursor, "the last page says so")
}

func TestReadyzFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	require.Equal(t, http.StatusOK, h.Request(http.MethodGet, "/readyz", nil).Status)
	require.Equal(t, http.StatusOK, h.Request(http.MethodGet, "/healthz", nil).Status)

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testdb.Admin(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	var name string
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, "SELECT current_database()").Scan(&name))
	_, err = admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
	require.NoError(t, err)

	h.Eventually(func() bool { return h.Request(http.MethodGet, "/readyz", nil).Status == http.StatusServiceUnavailable },
		"readyz reports the database down")
	require.Equal(t, http.StatusOK, h.Request(http.MethodGet, "/healthz", nil).Status, "the process itself is alive")
	// A request that needs the database gets a 503 with Retry-After and a
	// problem document, never a 500 (docs/reliability.md, T2).
	r := h.As("cdt_abcdefghijklmnopqrstuvwxyz0123456789").Request(http.MethodGet, "/api/v1/incidents", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Status, "%s", r.Body)
	require.Equal(t, "5", r.Header.Get("Retry-After"))
	require.Equal(t, "urn:certdesk:problem:unavailable", r.Map(t)["type"])

	_, err = admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
	require.NoError(t, err)
	h.Eventually(func() bool { return h.Request(http.MethodGet, "/readyz", nil).Status == http.StatusOK },
		"readyz recovers with the database")
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{})
	toks := tree(h)
	h = h.As(toks["national"]) // reads as the national CERT, which sees every AMBER incident
	report(h, toks, "city", "metrics")
	h.Request(http.MethodGet, "/api/v1/incidents/"+testapp.NewID(), nil)
	h.Eventually(func() bool {
		body := string(h.Request(http.MethodGet, "/metrics", nil).Body)
		return strings.Contains(body, `certdesk_jobs{kind="notify.deliver",state="completed"} 1`)
	}, "job metrics by kind and state")
	body := string(h.Request(http.MethodGet, "/metrics", nil).Body)
	require.Contains(t, body, `certdesk_http_requests_total{method="POST",route="/api/v1/incidents",status="201"} 1`)
	require.Contains(t, body, `certdesk_http_requests_total{method="GET",route="/api/v1/incidents/:id",status="404"} 1`)
	require.Contains(t, body, `certdesk_http_request_duration_seconds_bucket`)
}

func TestOpenAPIIsServed(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	r := h.Request(http.MethodGet, "/api/v1/openapi.yaml", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), "openapi: 3.0.3")
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	require.Contains(t, r.Header.Get("Content-Security-Policy"), "default-src 'self'")
	require.NotEmpty(t, r.Header.Get("X-Request-Id"))
}
