package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// fuzzRoute is a write route that takes a JSON body, with its path
// parameters filled in.
type fuzzRoute struct {
	method, template, path, contentType string
}

// jsonWriteRoutes lists every operation of docs/openapi.yaml that takes a
// JSON request body, in a stable order. The fuzzer covers a new route as
// soon as the document describes it.
func jsonWriteRoutes(t testing.TB) []fuzzRoute {
	doc, _ := testapp.Spec(t)
	var out []fuzzRoute
	for tmpl, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			ct := ""
			for _, c := range []string{"application/merge-patch+json", "application/json"} {
				if op.RequestBody.Value.Content.Get(c) != nil {
					ct = c
					break
				}
			}
			if ct != "" {
				out = append(out, fuzzRoute{method: method, template: tmpl, contentType: ct})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].template+" "+out[i].method < out[j].template+" "+out[j].method
	})
	return out
}

var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// fuzzWorld is the directory and the resources the JSON fuzzer writes to:
//
//	national ── region ── city
//	         └─ target    (the organisation PATCH and PUT routes change)
//
// an incident reported by the city and coordinated by the region, with a
// comment, a task, an observable, a playbook run and an escalation to the
// national CERT; a team; a user the user routes change.
type fuzzWorld struct {
	h      *testapp.Harness
	actors []string // tokens: region coordinator, national admin, city reporter
	params map[string]string
	routes []fuzzRoute
}

func newFuzzWorld(t testing.TB) *fuzzWorld {
	h := testapp.New(t, testapp.Options{})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("target", org.Operator, "national")
	_, coordinator := h.User("region", access.Coordinator)
	_, admin := h.User("national", access.Admin)
	_, reporter := h.User("city", access.Reporter)
	target, _ := h.User("target", access.Responder)
	w := &fuzzWorld{h: h, actors: []string{coordinator, admin, reporter}}

	created := func(as, method, path, body string) map[string]any {
		r := h.As(as).Request(method, path, body)
		require.Contains(t, []int{http.StatusOK, http.StatusCreated}, r.Status, "%s %s: %s", method, path, r.Body)
		return r.Map(t)
	}
	inc := created(reporter, http.MethodPost, "/api/v1/incidents", `{"title":"Fuzzed incident","severity":"high","tlp":"amber"}`)
	id := inc["id"].(string)
	h.Eventually(func() bool {
		r := h.As(coordinator).Request(http.MethodGet, "/api/v1/incidents/"+id, nil)
		return r.Status == http.StatusOK
	}, "the incident is routed to the region")
	base := "/api/v1/incidents/" + id
	comment := created(coordinator, http.MethodPost, base+"/comments", `{"body":"first"}`)
	task := created(coordinator, http.MethodPost, base+"/tasks", `{"title":"contain"}`)
	obs := created(coordinator, http.MethodPost, base+"/observables", `{"type":"domain","value":"evil.example"}`)
	run := created(coordinator, http.MethodPost, base+"/playbook-runs", `{"playbook":"ransomware"}`)
	esc := created(coordinator, http.MethodPost, base+"/escalations", `{"kind":"coordinate","reason":"fuzz"}`)
	team := created(admin, http.MethodPost, "/api/v1/teams", `{"name":"Fuzzers"}`)
	stepID := "unknown-step"
	if steps, ok := run["steps"].([]any); ok && len(steps) > 0 {
		stepID, _ = steps[0].(map[string]any)["id"].(string)
	}
	w.params = map[string]string{
		"/api/v1/incidents/{id}": id, "/api/v1/escalations/{id}": esc["id"].(string),
		"/api/v1/playbooks/{id}": "ransomware", "/api/v1/users/{id}": target.ID.String(),
		"/api/v1/teams/{id}": team["id"].(string), "{slug}": "target", "{kind}": "gdpr_notification",
		"{commentId}": comment["id"].(string), "{taskId}": task["id"].(string), "{observable}": obs["id"].(string),
		"{runId}": run["id"].(string), "{stepId}": stepID,
	}
	for _, rt := range jsonWriteRoutes(t) {
		rt.path = pathParam.ReplaceAllStringFunc(rt.template, func(p string) string {
			if v, ok := w.params[p]; ok {
				return v
			}
			for prefix, v := range w.params {
				if strings.HasPrefix(rt.template, prefix) && strings.HasSuffix(prefix, p) {
					return v
				}
			}
			t.Fatalf("%s %s: the fuzzer does not know what to put for %s", rt.method, rt.template, p)
			return ""
		})
		w.routes = append(w.routes, rt)
	}
	return w
}

// FuzzJSONWriteRoutes sends arbitrary bodies to every route that takes a
// JSON body (docs/openapi.yaml), through the real router and middleware,
// as one of three users with valid tokens, on a real PostgreSQL with real
// workers: no answer is a 5xx (a panic would be a 500: the Recover
// middleware), and every answer is one the document describes for that
// route (testapp validates it). One app serves the whole fuzz run; the
// inputs change its data as they go, which is part of the point.
func FuzzJSONWriteRoutes(f *testing.F) {
	w := newFuzzWorld(f)
	valid := map[string]string{
		"/api/v1/incidents":                           `{"title":"x","severity":"low","tlp":"green","tags":["a"]}`,
		"/api/v1/incidents/bulk":                      `{"ids":[],"action":"assign"}`,
		"/api/v1/incidents/{id}":                      `{"severity":"critical","tags":["t1"]}`,
		"/api/v1/incidents/{id}/timeline":             `{"summary":"called the ISP"}`,
		"/api/v1/incidents/{id}/transitions":          `{"to":"containment","reason":"r"}`,
		"/api/v1/incidents/{id}/close":                `{"resolution":"fixed"}`,
		"/api/v1/incidents/{id}/reopen":               `{"reason":"again"}`,
		"/api/v1/incidents/{id}/shares":               `{"org":"target","note":"n"}`,
		"/api/v1/incidents/{id}/participants":         `{"email":"nobody@example.org"}`,
		"/api/v1/incidents/{id}/observables":          `{"type":"ipv4","value":"192.0.2.1","tlp":"amber"}`,
		"/api/v1/incidents/{id}/tasks":                `{"title":"t","due_at":"2030-01-01T00:00:00Z"}`,
		"/api/v1/incidents/{id}/comments":             `{"body":"**b**"}`,
		"/api/v1/incidents/{id}/escalations":          `{"kind":"coordinate"}`,
		"/api/v1/incidents/{id}/playbook-runs":        `{"playbook":"ddos"}`,
		"/api/v1/organizations":                       `{"slug":"new-org","name":"New","kind":"operator","parent":"national"}`,
		"/api/v1/organizations/{slug}":                `{"name":"Renamed"}`,
		"/api/v1/users":                               `{"email":"new@target.example","role":"viewer","org":"target"}`,
		"/api/v1/users/{id}":                          `{"role":"viewer"}`,
		"/api/v1/tokens":                              `{"name":"t"}`,
		"/api/v1/teams":                               `{"name":"Team"}`,
		"/api/v1/teams/{id}":                          `{"name":"Team 2"}`,
		"/api/v1/teams/{id}/members":                  `{"email":"nobody@example.org"}`,
		"/api/v1/escalations/{id}/accept":             `{"reason":"ok"}`,
		"/api/v1/escalations/{id}/decline":            `{"reason":"no"}`,
		"/api/v1/playbooks/{id}/dry-run":              `{"incident":{"severity":"high"}}`,
		"/api/v1/organizations/{slug}/red-recipients": `{"recipients":[]}`,
	}
	for i, rt := range w.routes {
		f.Add(uint8(i), uint8(0), `{}`)
		if v, ok := valid[rt.template]; ok {
			actor := uint8(0) // the region's coordinator writes to the incident
			if !strings.HasPrefix(rt.template, "/api/v1/incidents") {
				actor = 1 // the national CERT's admin writes to the directory
			}
			f.Add(uint8(i), actor, v)
		}
	}
	for _, s := range []string{``, `null`, `[]`, `"x"`, `{"title":`, `{"title":"\u0000"}`, `{"a":1,"a":2}`,
		`{"title":"x"} {}`, `{"tags":[[[[[[[[[[]]]]]]]]]]}`, `{"severity":1e400}`, `{"detected_at":"9999-99-99T99:99:99Z"}`} {
		f.Add(uint8(len(s)), uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, route, actor uint8, body string) {
		if len(body) > 64<<10 {
			return // the API's body limit is tested on its own: keep each input fast
		}
		rt := w.routes[int(route)%len(w.routes)]
		h := w.h.WithT(t).As(w.actors[int(actor)%len(w.actors)])
		r := h.Request(rt.method, rt.path, body, "Content-Type", rt.contentType)
		if r.Status >= 500 {
			t.Fatalf("%s %s with %q: %d %s", rt.method, rt.template, body, r.Status, r.Body)
		}
	})
}

// TestFuzzWorldCoversEveryJSONRoute: the fuzzer knows a value for every
// path parameter of every JSON write route, and there are routes.
func TestFuzzWorldCoversEveryJSONRoute(t *testing.T) {
	routes := jsonWriteRoutes(t)
	require.Greater(t, len(routes), 30, "%v", routes)
	seen := map[string]bool{}
	for _, rt := range routes {
		seen[fmt.Sprintf("%s %s", rt.method, rt.template)] = true
	}
	require.True(t, seen["PATCH /api/v1/incidents/{id}"])
	require.True(t, seen["POST /api/v1/incidents"])
}
