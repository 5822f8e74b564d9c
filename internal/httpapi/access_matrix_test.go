package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file, visibility_test.go and write_matrix_test.go are the security
// suite. They derive who sees what, and how each user relates to each
// incident, from the rules of design.md §2 and the role × action matrix,
// written out again below on purpose: those expectations must not come
// from the code under test (postgres.visibleTo, postgres.relationsOf,
// access.Can). What a role in a relation may write comes from the one
// write table (access.Principal.MayWrite; see write_matrix_test.go), which
// docs/security.md shows and access's own test keeps equal to the
// document.

// ---------------------------------------------------------------------------
// The organisation tree of the security tests.

// secTreeOrgs is the directory every security test seeds:
//
//	national-cert
//	├── region-north
//	│   ├── city-a
//	│   └── city-b
//	└── region-south
//	    ├── city-c
//	    └── sink       (an operator no reading user belongs to: the matrix's
//	                    shares and participants go here, so they change
//	                    nobody's view)
//	partner            (kind partner, outside the tree)
var secTreeOrgs = []struct {
	slug   string
	kind   org.Kind
	parent string
}{
	{"national-cert", org.NationalCERT, ""},
	{"region-north", org.RegionalCERT, "national-cert"},
	{"city-a", org.LocalAuthority, "region-north"},
	{"city-b", org.LocalAuthority, "region-north"},
	{"region-south", org.RegionalCERT, "national-cert"},
	{"city-c", org.LocalAuthority, "region-south"},
	{"sink", org.Operator, "region-south"},
	{"partner", org.Partner, ""},
}

// secTree is the test's own model of the seeded directory.
type secTree struct {
	order  []string
	parent map[string]string
	kind   map[string]org.Kind
}

func seedSecTree(h *testapp.Harness) *secTree {
	tr := &secTree{parent: map[string]string{}, kind: map[string]org.Kind{}}
	for _, o := range secTreeOrgs {
		h.Org(o.slug, o.kind, o.parent)
		tr.order = append(tr.order, o.slug)
		tr.parent[o.slug], tr.kind[o.slug] = o.parent, o.kind
	}
	return tr
}

// isCERT: CERTs are the organisations with a constituency.
func (tr *secTree) isCERT(slug string) bool {
	return tr.kind[slug] == org.NationalCERT || tr.kind[slug] == org.RegionalCERT
}

// under reports whether slug is anc or in anc's constituency.
func (tr *secTree) under(anc, slug string) bool {
	for x := slug; x != ""; x = tr.parent[x] {
		if x == anc {
			return true
		}
	}
	return false
}

// manages reports whether an administrator of adminOrg manages target: its
// own organisation and its constituency, and for the national CERT also
// every partner.
func (tr *secTree) manages(adminOrg, target string) bool {
	if _, ok := tr.kind[target]; !ok {
		return false
	}
	if tr.under(adminOrg, target) {
		return true
	}
	return tr.kind[adminOrg] == org.NationalCERT && tr.kind[target] == org.Partner
}

// seesOrg: members of the tree see the whole directory; a partner sees
// itself and the CERTs only.
func (tr *secTree) seesOrg(viewerOrg, target string) bool {
	if _, ok := tr.kind[target]; !ok {
		return false
	}
	return tr.kind[viewerOrg] != org.Partner || target == viewerOrg || tr.isCERT(target)
}

// ---------------------------------------------------------------------------
// The visibility rule (design.md §2 "Visibility"), as a table.

type secRelation string

const (
	relParticipant      secRelation = "named participant (incl. the reporting user)"
	relReporting        secRelation = "reporting organisation"
	relCoordinating     secRelation = "coordinating organisation"
	relCERTAbove        secRelation = "CERT whose constituency holds the reporting organisation"
	relShared           secRelation = "organisation shared with or escalated to (not a partner)"
	relPartnerShared    secRelation = "partner, shared with explicitly"
	relPartnerEscalated secRelation = "partner, escalated to (not shared explicitly)"
)

// secTLPs are the TLP 2.0 labels, most restrictive first.
var secTLPs = []incident.TLP{incident.TLPRed, incident.TLPAmberStrict, incident.TLPAmber, incident.TLPGreen, incident.TLPClear}

// secVisibility says which TLP labels each relation to an incident opens.
// A viewer with no relation (a sibling city, an unrelated region's CERT, an
// unrelated city, a partner nothing was shared with) sees nothing.
var secVisibility = map[secRelation][]incident.TLP{
	relParticipant:      {incident.TLPRed, incident.TLPAmberStrict, incident.TLPAmber, incident.TLPGreen, incident.TLPClear},
	relReporting:        {incident.TLPAmberStrict, incident.TLPAmber, incident.TLPGreen, incident.TLPClear},
	relCoordinating:     {incident.TLPAmberStrict, incident.TLPAmber, incident.TLPGreen, incident.TLPClear},
	relCERTAbove:        {incident.TLPAmber, incident.TLPGreen, incident.TLPClear},
	relShared:           {incident.TLPAmber, incident.TLPGreen, incident.TLPClear},
	relPartnerShared:    {incident.TLPAmber, incident.TLPGreen, incident.TLPClear},
	relPartnerEscalated: {incident.TLPGreen, incident.TLPClear},
}

// secIncident is the test's model of one incident.
type secIncident struct {
	ID, Ref, Title string
	TLP            incident.TLP
	Reporting      string
	Coordinating   string
	participants   map[uuid.UUID]bool
	shares         map[string]string // org slug → "share" or "escalation"
}

// relations lists how a user of viewerOrg relates to inc.
func (tr *secTree) relations(userID uuid.UUID, viewerOrg string, inc *secIncident) []secRelation {
	var rels []secRelation
	if inc.participants[userID] {
		rels = append(rels, relParticipant)
	}
	if viewerOrg == inc.Reporting {
		rels = append(rels, relReporting)
	}
	if viewerOrg == inc.Coordinating {
		rels = append(rels, relCoordinating)
	}
	if tr.isCERT(viewerOrg) && viewerOrg != inc.Reporting && tr.under(viewerOrg, inc.Reporting) {
		rels = append(rels, relCERTAbove)
	}
	if kind, ok := inc.shares[viewerOrg]; ok {
		switch {
		case tr.kind[viewerOrg] != org.Partner:
			rels = append(rels, relShared)
		case kind == "share":
			rels = append(rels, relPartnerShared)
		default:
			rels = append(rels, relPartnerEscalated)
		}
	}
	return rels
}

// owns reports whether viewerOrg may pass inc on (share it, name
// participants): the reporting or coordinating organisation or a CERT above
// the reporter. Organisations that only received it may not
// (docs/security.md, "Only the incident's owners pass it on").
func (tr *secTree) owns(viewerOrg string, inc *secIncident) bool {
	return viewerOrg == inc.Coordinating || tr.under(viewerOrg, inc.Reporting)
}

// writeRelations are v's relations to inc in the suite's own model: the
// rows of secTree.relations, by access's names, without the partner
// distinction (which only the visibility rule makes). In inc.shares,
// "escalation" is an open escalation (requested or accepted) and
// "returned" the share a returned escalation left.
func (tr *secTree) writeRelations(v secUser, inc *secIncident) access.Relations {
	var rels access.Relations
	if inc.participants[v.ID] {
		rels |= access.Of(access.Participant)
	}
	if v.OrgSlug == inc.Reporting {
		rels |= access.Of(access.Reporting)
	}
	if v.OrgSlug == inc.Coordinating {
		rels |= access.Of(access.Coordinating)
	}
	if tr.isCERT(v.OrgSlug) && v.OrgSlug != inc.Reporting && tr.under(v.OrgSlug, inc.Reporting) {
		rels |= access.Of(access.CERTAbove)
	}
	switch inc.shares[v.OrgSlug] {
	case "share", "returned": // a share, or the share of a returned escalation
		rels |= access.Of(access.SharedWith)
	case "escalation": // an open (requested or accepted) escalation
		rels |= access.Of(access.EscalatedTo)
	}
	return rels
}

// mayWrite is the write table's answer for v doing a on inc, which v sees.
func (tr *secTree) mayWrite(v secUser, inc *secIncident, a access.Action) bool {
	return v.Principal().MayWrite(a, tr.writeRelations(v, inc))
}

// writeStatus is the status TestAccessMatrix expects of a write to inc:
// read is the status of reading it (404: invisible, never 403), then the
// write table, then ok.
func (tr *secTree) writeStatus(v secUser, inc *secIncident, read int, a access.Action, ok int) int {
	switch {
	case inc == nil || read == http.StatusNotFound:
		return http.StatusNotFound
	case !tr.mayWrite(v, inc, a):
		return http.StatusForbidden
	}
	return ok
}

// sees applies the table.
func (tr *secTree) sees(userID uuid.UUID, viewerOrg string, inc *secIncident) bool {
	for _, r := range tr.relations(userID, viewerOrg, inc) {
		if slices.Contains(secVisibility[r], inc.TLP) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// The role × action matrix (docs/security.md, access.go), written out again.

var secAllRoles = []access.Role{access.Reporter, access.Responder, access.Coordinator, access.Viewer, access.Admin}

// The writes to an incident add the relation to the role: the write table
// (secTree.mayWrite). The roles below are those that may do a write in
// some relation; sharing and escalating are also checked against the
// test's own model of ownership (secTree.owns), and commenting is open to
// every relation.
var secRoleMatrix = map[string][]access.Role{
	"incident.create": {access.Reporter, access.Responder, access.Coordinator, access.Admin},
	"incident.read":   secAllRoles,
	"incident.share":  {access.Responder, access.Coordinator, access.Admin}, // shares and participants
	"org.manage":      {access.Admin},
	"user.manage":     {access.Admin},

	"incident.comment":  {access.Reporter, access.Responder, access.Coordinator, access.Admin}, // comments_matrix_test.go
	"incident.escalate": {access.Responder, access.Coordinator, access.Admin},                  // escalations_matrix_test.go
}

func secMay(action string, r access.Role) bool { return slices.Contains(secRoleMatrix[action], r) }

// ---------------------------------------------------------------------------
// Users, incidents and API bodies.

// secUser is a seeded user with an API token.
type secUser struct {
	*identity.User
	Token string
}

func secNewUser(h *testapp.Harness, orgSlug string, role access.Role) secUser {
	u, tok := h.User(orgSlug, role)
	return secUser{User: u, Token: tok}
}

type secIncidentBody struct {
	ID              string  `json:"id"`
	Reference       string  `json:"reference"`
	Title           string  `json:"title"`
	ReportingOrg    string  `json:"reporting_org"`
	CoordinatingOrg *string `json:"coordinating_org"`
	TLP             string  `json:"tlp"`
}

type secIncidentList struct {
	Incidents  []secIncidentBody `json:"incidents"`
	NextCursor *string           `json:"next_cursor"`
}

// secReport files an incident through the API as reporter.
func secReport(t *testing.T, h *testapp.Harness, reporter secUser, title string, tlp incident.TLP) *secIncident {
	t.Helper()
	r := h.As(reporter.Token).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": title, "severity": "high", "tlp": string(tlp),
	})
	require.Equal(t, http.StatusCreated, r.Status, "report %q: %s", title, r.Body)
	var b secIncidentBody
	r.JSON(t, &b)
	require.Equal(t, string(tlp), b.TLP)
	return &secIncident{ID: b.ID, Ref: b.Reference, Title: title, TLP: tlp, Reporting: reporter.OrgSlug,
		participants: map[uuid.UUID]bool{reporter.ID: true}, shares: map[string]string{}}
}

// secWaitRouted waits until every incident has its coordinating
// organisation and records it.
func secWaitRouted(t *testing.T, h *testapp.Harness, incs ...*secIncident) {
	t.Helper()
	ctx := context.Background()
	h.Eventually(func() bool {
		for _, inc := range incs {
			if inc.Coordinating != "" {
				continue
			}
			got, err := h.App.Incidents.Get(ctx, access.System, inc.ID)
			if err != nil || got.CoordinatingOrgSlug == "" {
				return false
			}
			inc.Coordinating = got.CoordinatingOrgSlug
		}
		return true
	}, "every incident is routed")
	// Routing a TLP:RED incident names the coordinating CERT's TLP:RED
	// recipients (or its coordinators) as participants, in the routing
	// transaction (red_routing_test.go tests whom): record them.
	for _, inc := range incs {
		if inc.TLP != incident.TLPRed {
			continue
		}
		rows, err := h.App.DB.SQL.QueryContext(ctx, `SELECT user_id FROM incident_participants WHERE incident_id = $1`, inc.ID)
		require.NoError(t, err)
		for rows.Next() {
			var id uuid.UUID
			require.NoError(t, rows.Scan(&id))
			inc.participants[id] = true
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
	}
}

// secShare shares inc with orgSlug through the API and requires want; a
// 201 is recorded in the model.
func secShare(t *testing.T, h *testapp.Harness, by secUser, inc *secIncident, orgSlug string, want int) {
	t.Helper()
	r := h.As(by.Token).Request(http.MethodPost, "/api/v1/incidents/"+inc.Ref+"/shares", map[string]any{"org": orgSlug, "note": "need to know"})
	require.Equal(t, want, r.Status, "share %s (%s) with %s as %s/%s: %s", inc.Ref, inc.TLP, orgSlug, by.OrgSlug, by.Role, r.Body)
	if r.Status == http.StatusCreated {
		inc.shares[orgSlug] = "share"
	}
}

// ---------------------------------------------------------------------------
// The access matrix.

// secProbe is one request of the matrix and the answer it must get.
type secProbe struct {
	route   string // "METHOD pattern" as Echo registers it
	cell    string // "<org>/<role>/<target>[ variant]"
	token   string
	method  string
	path    string
	body    any
	want    int
	check   func(r *testapp.Response) string // extra assertion on a right status; "" is fine
	variant string
	header  []string // extra request headers in pairs (e.g. a multipart Content-Type)
}

// incidentKeys returns the UUID, reference and title a probe asks for inc
// with: an unknown incident's when inc is nil.
func incidentKeys(inc *secIncident) (id, ref, title string) {
	if inc == nil {
		return uuid.NewString(), "INC-1999-999999", "no such incident"
	}
	return inc.ID, inc.Ref, inc.Title
}

// incidentCheck is the check of a probe of an incident route: a 404 must
// not show the incident's title, and a 200 must contain about (else it
// answers notAbout); more, when not nil, checks further.
func incidentCheck(title, about, notAbout string, more func(r *testapp.Response) string) func(r *testapp.Response) string {
	return func(r *testapp.Response) string {
		if r.Status == http.StatusNotFound && bytes.Contains(r.Body, []byte(title)) {
			return "the 404 shows the incident's title"
		}
		if r.Status == http.StatusOK && !bytes.Contains(r.Body, []byte(about)) {
			return notAbout
		}
		if more != nil {
			return more(r)
		}
		return ""
	}
}

// incidentForFunc returns a matrix target's incident (nil: unknown) and
// the status of reading it as the viewer.
type incidentForFunc func(v secUser, target string) (*secIncident, int)

// secCase builds the probes of one route for one viewer and one target.
type secCase struct {
	targets []string
	build   func(v secUser, target string) []secProbe
}

type secMismatch struct {
	route, cell string
	want, got   int
	note        string
}

// matrixWorld is what TestAccessMatrix seeds once.
type matrixWorld struct {
	h       *testapp.Harness
	tree    *secTree
	orgs    []string // the viewer organisations
	users   map[string]map[access.Role]secUser
	viewers []secUser
	incs    map[incident.TLP]*secIncident
	sink    secUser // the participant every participants probe adds
	// delTokens holds, per viewer and target, the ID of a token made for
	// one DELETE probe; otherTokens are the plain tokens of other users
	// that must survive the matrix.
	delTokens   map[string]string
	otherTokens []string
	markers     map[uuid.UUID]string // user → a token only that user may list
	atts        map[incident.TLP]*secAttachment
	tasks       *matrixTasks    // the task routes' seed (tasks_test.go)
	comments    *matrixComments // comments_matrix_test.go
	seq         atomic.Int64
	// obs holds the correlated observable of each incident
	// (observables_matrix_test.go).
	obs map[incident.TLP]string
	esc *matrixEscalations // escalations_matrix_test.go
	// runs holds the finished matrix playbook run of each incident
	// (playbook_runs_matrix_test.go).
	runs map[incident.TLP]string
	// teams holds a team of each CERT (teams_matrix_test.go).
	teams *matrixTeams
}

func (w *matrixWorld) next() int64 { return w.seq.Add(1) }

// secWarmSpec loads docs/openapi.yaml before the test turns parallel:
// testapp.Spec fills package variables on first use without a lock, so the
// first use must not happen in two parallel tests at once.
func secWarmSpec(t *testing.T) {
	t.Helper()
	testapp.Spec(t)
}

// secSkipRoute reports routes outside the access matrix: probes and the
// public API description, the web UI's pages and static files (they take
// no token; internal/ui tests who sees which page until the matrix gets
// a UI driver), and Slack's routes, which take no token but Slack's
// signature (their refusals are tested in internal/slack: inbound_test.go).
// The TAXII 2.1 routes (/taxii2/) take the API's tokens but speak OASIS's
// protocol, not docs/openapi.yaml's: taxii_test.go tests who sees what
// (TestTAXIIPartnerSeesOnlyWhatIsShared), and the leak crawler crawls them.
func secSkipRoute(rt *echo.Route) bool {
	if rt.Method == echo.RouteNotFound { // the group's catch-all, not an endpoint
		return true
	}
	if !strings.HasPrefix(rt.Path, "/api/") && !strings.HasPrefix(rt.Path, "/slack/") && rt.Path != "/healthz" &&
		rt.Path != "/readyz" && rt.Path != "/metrics" {
		return true // a web UI route
	}
	switch rt.Path {
	case "/healthz", "/readyz", "/metrics", "/api/v1/openapi.yaml", "/":
		return true
	}
	return strings.HasPrefix(rt.Path, "/static") || strings.HasPrefix(rt.Path, "/slack/")
}

func TestAccessMatrix(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	start := time.Now()
	// Each bad-token probe comes from an address of its own (trusted
	// X-Forwarded-For) with a token of its own, so that the throttle on
	// failed authentication (twenty a minute per address and per token
	// prefix) leaves every probe its 401.
	h := testapp.New(t, testapp.Options{Playbooks: matrixPlaybooks(t), Config: func(c *config.Config) { c.TrustProxy = true }})
	w := seedMatrix(t, h)
	table := w.routeTable()

	// Every route has an entry, and every entry is a route.
	registered := map[string]bool{}
	var missing []string
	for _, rt := range h.App.HTTP.Routes() {
		if secSkipRoute(rt) {
			continue
		}
		key := rt.Method + " " + rt.Path
		registered[key] = true
		if _, ok := table[key]; !ok {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "routes without an entry in TestAccessMatrix's route table (add a case builder that says who may call them)")
	for key := range table {
		require.True(t, registered[key], "the route table has %q, which is not a registered route", key)
	}

	// Build every probe.
	var probes []secProbe
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for ki, key := range keys {
		c := table[key]
		method, pattern, _ := strings.Cut(key, " ")
		targets := c.targets
		if targets == nil {
			targets = []string{"-"}
		}
		for _, v := range w.viewers {
			for _, target := range targets {
				for _, p := range c.build(v, target) {
					p.route = key
					p.cell = v.OrgSlug + "/" + string(v.Role) + "/" + target
					if p.variant != "" {
						p.cell += " " + p.variant
					}
					p.token = v.Token
					if p.method == "" {
						p.method = method
					}
					probes = append(probes, p)
				}
			}
		}
		// No token and a bad token: 401 before anything else.
		path := strings.NewReplacer(":id", uuid.NewString(), ":slug", "city-a").Replace(pattern)
		var body any
		if method == http.MethodPost || method == http.MethodPatch {
			body = map[string]any{}
		}
		badFrom := []string{"X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", ki/250, ki%250+1)}
		for _, tok := range []struct{ name, token string }{{"(no token)", ""}, {"(bad token)", "cdt_" + strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "")[:43]}} {
			probes = append(probes, secProbe{route: key, cell: tok.name, token: tok.token, method: method, path: path, body: body, header: badFrom,
				want: http.StatusUnauthorized, check: func(r *testapp.Response) string {
					if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="certdesk"` {
						return "WWW-Authenticate: " + got
					}
					return isProblem(r)
				}})
		}
	}

	mismatches := runProbes(h, probes, 8)

	// Tokens of other users that a DELETE probe aimed at still work.
	for _, plain := range w.otherTokens {
		_, err := h.App.Identity.Authenticate(context.Background(), plain, "127.0.0.1")
		if err != nil {
			mismatches = append(mismatches, secMismatch{route: "DELETE /api/v1/tokens/:id", cell: "(afterwards)",
				note: "another user's token was revoked by a DELETE that answered 404: " + err.Error()})
		}
	}

	byRoute := map[string][]secMismatch{}
	for _, m := range mismatches {
		byRoute[m.route] = append(byRoute[m.route], m)
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			if ms := byRoute[key]; len(ms) > 0 {
				t.Errorf("%d of the cells of %s answered wrongly:\n%s", len(ms), key, mismatchTable(ms))
			}
		})
	}
	t.Logf("access matrix: %d cells over %d routes, %d viewers, in %s", len(probes), len(keys), len(w.viewers), time.Since(start).Round(time.Millisecond))

	// After the matrix (these probes run one at a time).
	t.Run("partners cannot tell hidden organisations from missing ones", func(t *testing.T) {
		// A partner sees itself and the CERTs; any other organisation must
		// look exactly like one that does not exist, in every answer. (assert,
		// not require: every leaking answer is reported.)
		for _, role := range []access.Role{access.Viewer, access.Admin} {
			u := w.users["partner"][role]
			answer := func(method, path string, body map[string]any) string {
				r := h.As(u.Token).Request(method, path, body)
				var p struct {
					Errors []struct{ Field, Rule string }
				}
				_ = json.Unmarshal(r.Body, &p)
				return fmt.Sprintf("%d %v", r.Status, p.Errors)
			}
			for _, hidden := range []string{"city-c", "sink"} {
				for _, kind := range []org.Kind{org.Operator, org.Partner} {
					body := func(parent string) map[string]any {
						return map[string]any{"slug": fmt.Sprintf("probe-%d", w.next()), "name": "Probe", "kind": string(kind), "parent": parent}
					}
					assert.Equal(t, answer(http.MethodPost, "/api/v1/organizations", body("no-such-org")),
						answer(http.MethodPost, "/api/v1/organizations", body(hidden)),
						"partner/%s learns that %s exists by creating a %s below it", role, hidden, kind)
				}
				if role == access.Admin {
					assert.Equal(t, answer(http.MethodPatch, "/api/v1/organizations/partner", map[string]any{"parent": "no-such-org"}),
						answer(http.MethodPatch, "/api/v1/organizations/partner", map[string]any{"parent": hidden}),
						"partner/admin learns that %s exists by moving its organisation below it", hidden)
				}
				assert.Equal(t, answer(http.MethodPost, "/api/v1/users", map[string]any{"org": "no-such-org", "email": "p1@partner.example", "role": "viewer"}),
					answer(http.MethodPost, "/api/v1/users", map[string]any{"org": hidden, "email": "p2@partner.example", "role": "viewer"}),
					"partner/%s learns that %s exists by creating a user in it", role, hidden)
			}
		}
	})

	t.Run("admins move organisations only within their scope", func(t *testing.T) {
		for _, tc := range []struct {
			admin, slug, parent string
			want                int
		}{
			{"region-north", "city-a", "region-south", http.StatusForbidden},       // the new parent is outside its scope
			{"region-south", "city-a", "region-south", http.StatusForbidden},       // the organisation is outside its scope
			{"region-north", "city-c", "region-north", http.StatusForbidden},       // pulling another region's city in
			{"region-north", "region-north", "region-south", http.StatusForbidden}, // moving itself out of its scope
			{"city-a", "city-a", "region-south", http.StatusForbidden},
			{"region-north", "region-north", "city-a", http.StatusUnprocessableEntity}, // a cycle, and a city is no parent
			{"national-cert", "region-north", "", http.StatusUnprocessableEntity},      // only partners are top-level
			{"partner", "partner", "national-cert", http.StatusUnprocessableEntity},    // a partner has no parent
		} {
			r := h.As(w.users[tc.admin][access.Admin].Token).Request(http.MethodPatch, "/api/v1/organizations/"+tc.slug, map[string]any{"parent": tc.parent})
			require.Equal(t, tc.want, r.Status, "%s's admin moves %s below %q: %s", tc.admin, tc.slug, tc.parent, r.Body)
		}
		for _, o := range secTreeOrgs {
			got, err := h.App.Store.OrganizationBySlug(context.Background(), o.slug)
			require.NoError(t, err)
			require.Equal(t, o.parent, got.ParentSlug, "%s did not move", o.slug)
		}
	})
}

// seedMatrix builds the world of TestAccessMatrix: the tree, a user of
// every role in six organisations, one incident per TLP reported by
// city-a's reporter and routed to region-north, GREEN and AMBER shared with
// the partner, and the tokens the DELETE probes revoke.
func seedMatrix(t *testing.T, h *testapp.Harness) *matrixWorld {
	t.Helper()
	ctx := context.Background()
	w := &matrixWorld{h: h, tree: seedSecTree(h), users: map[string]map[access.Role]secUser{},
		incs: map[incident.TLP]*secIncident{}, delTokens: map[string]string{}, markers: map[uuid.UUID]string{}}
	// own org, the parent (and coordinating) CERT, the national CERT, a
	// sibling city, an unrelated region, a partner.
	w.orgs = []string{"city-a", "region-north", "national-cert", "city-b", "region-south", "partner"}
	for _, o := range w.orgs {
		w.users[o] = map[access.Role]secUser{}
		for _, r := range secAllRoles {
			u := secNewUser(h, o, r)
			w.users[o][r] = u
			w.viewers = append(w.viewers, u)
		}
	}
	w.sink = secNewUser(h, "sink", access.Viewer)

	reporter := w.users["city-a"][access.Reporter]
	var all []*secIncident
	for _, tlp := range secTLPs {
		inc := secReport(t, h, reporter, "Matrix "+string(tlp)+" "+uuid.NewString()[:8], tlp)
		w.incs[tlp] = inc
		all = append(all, inc)
	}
	secWaitRouted(t, h, all...)
	w.atts = secAttach(t, h, reporter, all)
	for _, inc := range all {
		require.Equal(t, "region-north", inc.Coordinating, "city-a's report is coordinated by its regional CERT")
	}
	rn := w.users["region-north"][access.Responder]
	secShare(t, h, rn, w.incs[incident.TLPGreen], "partner", http.StatusCreated)
	secShare(t, h, rn, w.incs[incident.TLPAmber], "partner", http.StatusCreated)
	secShare(t, h, rn, w.incs[incident.TLPAmber], "partner", http.StatusCreated) // a repeated share is idempotent
	secShare(t, h, rn, w.incs[incident.TLPAmberStrict], "partner", http.StatusConflict)
	// region-north is not a participant of the RED incident, so it does
	// not see it at all: 404, not 409 (TestParticipantSeesRed has the 409).
	secShare(t, h, rn, w.incs[incident.TLPRed], "partner", http.StatusNotFound)

	// Tokens: a marker per user for GET /tokens, and per viewer one token
	// of its own, one of a colleague and one of a user elsewhere to DELETE.
	mk := func(u secUser, name string) (string, string) {
		plain, tok, err := h.App.Identity.CreateToken(ctx, access.System, u.ID, name, nil)
		require.NoError(t, err)
		return plain, tok.ID.String()
	}
	for _, v := range w.viewers {
		_, w.markers[v.ID] = mk(v, "marker")
	}
	for i, v := range w.viewers {
		_, w.delTokens[v.ID.String()+"/own"] = mk(v, "delete-own")
		colleague := w.users[v.OrgSlug][secAllRoles[(slices.Index(secAllRoles, v.Role)+1)%len(secAllRoles)]]
		plain, id := mk(colleague, "delete-colleague")
		w.delTokens[v.ID.String()+"/colleague"] = id
		w.otherTokens = append(w.otherTokens, plain)
		elsewhere := w.viewers[(i+len(secAllRoles))%len(w.viewers)] // same role, next organisation
		plain, id = mk(elsewhere, "delete-elsewhere")
		w.delTokens[v.ID.String()+"/elsewhere"] = id
		w.otherTokens = append(w.otherTokens, plain)
	}
	w.obs = seedMatrixObservables(t, h, w.incs)
	w.tasks = seedMatrixTasks(t, w)
	w.comments = seedMatrixComments(t, w)
	w.esc = seedMatrixEscalations(t, w)
	w.runs = seedMatrixRuns(t, w)
	w.teams = seedMatrixTeams(t, w)
	return w
}

// routeTable is the access matrix: for every route, the requests to make
// and the status each must get.
func (w *matrixWorld) routeTable() map[string]secCase {
	tr := w.tree
	tlpTargets := make([]string, 0, len(secTLPs)+1)
	for _, tlp := range secTLPs {
		tlpTargets = append(tlpTargets, string(tlp))
	}
	incTargets := append(slices.Clone(tlpTargets), "unknown")
	orgTargets := append(slices.Clone(tr.order), "no-such-org")
	userTargets := []string{"self"}
	for _, o := range w.orgs {
		userTargets = append(userTargets, o+"'s responder")
	}
	userTargets = append(userTargets, "sink's viewer", "unknown")
	userOf := func(v secUser, target string) *identity.User {
		switch {
		case target == "self":
			return v.User
		case target == "sink's viewer":
			return w.sink.User
		case strings.HasSuffix(target, "'s responder"):
			return w.users[strings.TrimSuffix(target, "'s responder")][access.Responder].User
		}
		return nil
	}
	// incident returns the target incident (nil: unknown) and the expected
	// status of reading it.
	incidentFor := func(v secUser, target string) (*secIncident, int) {
		inc := w.incs[incident.TLP(target)]
		if inc == nil || !secMay("incident.read", v.Role) || !tr.sees(v.ID, v.OrgSlug, inc) {
			return inc, http.StatusNotFound
		}
		return inc, http.StatusOK
	}
	// readIncident probes a read route by UUID and by reference.
	readIncident := func(suffix string) func(v secUser, target string) []secProbe {
		return func(v secUser, target string) []secProbe {
			inc, want := incidentFor(v, target)
			id, ref, title := incidentKeys(inc)
			check := incidentCheck(title, id, "the answer is not about the incident asked for", nil)
			return []secProbe{
				{path: "/api/v1/incidents/" + id + suffix, want: want, check: check, variant: "(uuid)"},
				{path: "/api/v1/incidents/" + ref + suffix, want: want, check: check, variant: "(reference)"},
			}
		}
	}
	// writeIncident is the expectation of a write that needs the share
	// right: invisible 404 (never 403), then the role, then ownership (the
	// test's own model), then the TLP rule.
	writeIncident := func(v secUser, inc *secIncident, readStatus int, refusesRestricted bool) int {
		switch {
		case readStatus == http.StatusNotFound:
			return http.StatusNotFound
		case !secMay("incident.share", v.Role):
			return http.StatusForbidden
		case !tr.owns(v.OrgSlug, inc):
			return http.StatusForbidden
		case refusesRestricted && (inc.TLP == incident.TLPRed || inc.TLP == incident.TLPAmberStrict):
			return http.StatusConflict
		}
		return http.StatusCreated
	}
	// changeIncident probes a write on the incident's own record with a
	// body that fails validation after the access checks, so that no probe
	// changes what another one sees: invisible 404, then the write table
	// (403), then ok (422, or the status of a harmless change).
	changeIncident := func(suffix, method string, action access.Action, body any, ok int) func(v secUser, target string) []secProbe {
		return func(v secUser, target string) []secProbe {
			inc, read := incidentFor(v, target)
			id := uuid.NewString()
			if inc != nil {
				id = inc.Ref
			}
			want := tr.writeStatus(v, inc, read, action, ok)
			return []secProbe{{method: method, path: "/api/v1/incidents/" + id + suffix, body: body, want: want, check: func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return isProblem(r)
				}
				return ""
			}}}
		}
	}
	admin := func(v secUser) bool { return secMay("org.manage", v.Role) }
	problemUnless := func(ok int) func(r *testapp.Response) string {
		return func(r *testapp.Response) string {
			if r.Status != ok {
				return isProblem(r)
			}
			return ""
		}
	}

	table := map[string]secCase{
		"PATCH /api/v1/incidents/:id": {targets: incTargets,
			build: changeIncident("", http.MethodPatch, access.UpdateIncident, map[string]any{"title": ""}, http.StatusUnprocessableEntity)},
		"POST /api/v1/incidents/:id/timeline": {targets: incTargets,
			build: changeIncident("/timeline", http.MethodPost, access.AddTimelineEntry, map[string]any{"summary": ""}, http.StatusUnprocessableEntity)},
		// No such event: the write table decides first (403), then 404.
		"POST /api/v1/incidents/:id/timeline/:eventId/pin": {targets: incTargets,
			build: changeIncident("/timeline/9223372036854775807/pin", http.MethodPost, access.PinEvent, nil, http.StatusNotFound)},
		"DELETE /api/v1/incidents/:id/timeline/:eventId/pin": {targets: incTargets,
			build: changeIncident("/timeline/9223372036854775807/pin", http.MethodDelete, access.PinEvent, nil, http.StatusNotFound)},
		"POST /api/v1/incidents/:id/transitions": {targets: incTargets,
			build: changeIncident("/transitions", http.MethodPost, access.TransitionIncident, map[string]any{"to": "nowhere"}, http.StatusUnprocessableEntity)},
		// Links and merges (links_test.go has the cross-organisation cases
		// with two incidents): invisible 404, then the write table on this
		// incident, then the body (an empty other incident) or the state.
		"GET /api/v1/incidents/:id/links":                 {targets: incTargets, build: readIncident("/links")},
		"GET /api/v1/incidents/:id/duplicate-suggestions": {targets: incTargets, build: readIncident("/duplicate-suggestions")},
		"POST /api/v1/incidents/:id/links": {targets: incTargets,
			build: changeIncident("/links", http.MethodPost, access.LinkIncident, map[string]any{"incident": "", "kind": "related"}, http.StatusUnprocessableEntity)},
		"DELETE /api/v1/incidents/:id/links/:linkId": {targets: incTargets,
			build: changeIncident("/links/"+uuid.NewString(), http.MethodDelete, access.LinkIncident, nil, http.StatusNotFound)},
		"POST /api/v1/incidents/:id/merge": {targets: incTargets,
			build: changeIncident("/merge", http.MethodPost, access.MergeIncident, map[string]any{"into": ""}, http.StatusUnprocessableEntity)},
		"POST /api/v1/incidents/:id/merge/undo": {targets: incTargets,
			build: changeIncident("/merge/undo", http.MethodPost, access.MergeIncident, nil, http.StatusConflict)},
		"GET /api/v1/campaigns": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/campaigns", want: http.StatusOK, check: problemUnless(http.StatusOK)}}
		}},
		"POST /api/v1/incidents/:id/close": {targets: incTargets,
			build: changeIncident("/close", http.MethodPost, access.TransitionIncident, map[string]any{"resolution": ""}, http.StatusUnprocessableEntity)},
		"POST /api/v1/incidents/:id/reopen": {targets: incTargets,
			build: changeIncident("/reopen", http.MethodPost, access.TransitionIncident, map[string]any{"reason": ""}, http.StatusUnprocessableEntity)},
		"POST /api/v1/incidents/:id/acknowledge": {targets: incTargets,
			build: changeIncident("/acknowledge", http.MethodPost, access.TransitionIncident, nil, http.StatusOK)},
		"POST /api/v1/incidents/:id/deadlines/:kind/met": {targets: incTargets,
			build: changeIncident("/deadlines/gdpr_notification/met", http.MethodPost, access.TransitionIncident, map[string]any{"reference": ""}, http.StatusUnprocessableEntity)},
		"GET /api/v1/incidents.csv": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/incidents.csv", want: http.StatusOK, check: func(r *testapp.Response) string {
				var wrong []string
				for _, tlp := range secTLPs {
					inc := w.incs[tlp]
					if listed, want := bytes.Contains(r.Body, []byte(inc.Ref)), tr.sees(v.ID, v.OrgSlug, inc); listed != want {
						wrong = append(wrong, fmt.Sprintf("%s in csv=%v want %v", tlp, listed, want))
					}
				}
				return strings.Join(wrong, "; ")
			}}}
		}},
		// The MISP list: every event of an incident the viewer sees, none
		// other (its events go through the export the matrix checks above).
		"GET /api/v1/incidents.misp.json": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/incidents.misp.json?limit=100", want: http.StatusOK, check: func(r *testapp.Response) string {
				var wrong []string
				for _, tlp := range secTLPs {
					inc := w.incs[tlp]
					if listed, want := bytes.Contains(r.Body, []byte(`"uuid":"`+inc.ID+`"`)), tr.sees(v.ID, v.OrgSlug, inc); listed != want {
						wrong = append(wrong, fmt.Sprintf("%s in misp=%v want %v", tlp, listed, want))
					}
				}
				return strings.Join(wrong, "; ")
			}}}
		}},
		"GET /api/v1/taxonomy": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/taxonomy", want: http.StatusOK}}
		}},

		"GET /api/v1/me": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/me", want: http.StatusOK, check: func(r *testapp.Response) string {
				var u struct{ Email, Org string }
				_ = json.Unmarshal(r.Body, &u)
				if u.Email != v.Email || u.Org != v.OrgSlug {
					return fmt.Sprintf("me is %s of %s", u.Email, u.Org)
				}
				return ""
			}}}
		}},

		"GET /api/v1/incidents": {targets: append([]string{"all"}, tlpTargets...), build: func(v secUser, target string) []secProbe {
			path := "/api/v1/incidents?limit=500"
			if target != "all" {
				path += "&tlp=" + url.QueryEscape(target)
			}
			return []secProbe{{path: path, want: http.StatusOK, check: func(r *testapp.Response) string {
				var l secIncidentList
				if err := json.Unmarshal(r.Body, &l); err != nil {
					return err.Error()
				}
				got := map[string]bool{}
				for _, b := range l.Incidents {
					got[b.ID] = true
					if target != "all" && b.TLP != target {
						return fmt.Sprintf("the tlp filter returned %s (%s)", b.Reference, b.TLP)
					}
				}
				var wrong []string
				for _, tlp := range secTLPs {
					inc := w.incs[tlp]
					if target != "all" && string(tlp) != target {
						continue
					}
					if want := tr.sees(v.ID, v.OrgSlug, inc); got[inc.ID] != want {
						wrong = append(wrong, fmt.Sprintf("%s listed=%v want %v", tlp, got[inc.ID], want))
					}
				}
				return strings.Join(wrong, "; ")
			}}}
		}},

		"POST /api/v1/incidents": {targets: append(slices.Clone(tlpTargets), "no title"), build: func(v secUser, target string) []secProbe {
			want := http.StatusForbidden
			if secMay("incident.create", v.Role) {
				want = http.StatusCreated
			}
			if target == "no title" { // the role is checked before the fields
				if want == http.StatusCreated {
					want = http.StatusUnprocessableEntity
				}
				return []secProbe{{path: "/api/v1/incidents", body: map[string]any{"title": "", "tlp": "TLP:GREEN"}, want: want, check: problemUnless(0)}}
			}
			title := fmt.Sprintf("created by %s/%s %s", v.OrgSlug, v.Role, target)
			return []secProbe{{body: map[string]any{"title": title, "severity": "low", "tlp": target}, path: "/api/v1/incidents", want: want,
				check: func(r *testapp.Response) string {
					if r.Status != http.StatusCreated {
						return isProblem(r)
					}
					var b secIncidentBody
					_ = json.Unmarshal(r.Body, &b)
					if b.TLP != target || b.ReportingOrg != v.OrgSlug {
						return fmt.Sprintf("created %s reported by %s", b.TLP, b.ReportingOrg)
					}
					// The reporting user is a participant: it sees its report, even TLP:RED.
					if g := w.h.As(v.Token).Request(http.MethodGet, "/api/v1/incidents/"+b.ID, nil); g.Status != http.StatusOK {
						return fmt.Sprintf("the reporter cannot read its own report: %d", g.Status)
					}
					return ""
				}}}
		}},

		"GET /api/v1/incidents/:id":          {targets: incTargets, build: readIncident("")},
		"GET /api/v1/incidents/:id/timeline": {targets: incTargets, build: readIncident("/timeline")},
		// The leadership metrics and reports (stats_matrix_test.go).
		"GET /api/v1/incidents/:id/report.pdf": {targets: incTargets, build: reportProbes(incidentFor)},
		"GET /api/v1/stats/briefing.pdf":       {build: w.statsProbes("/api/v1/stats/briefing.pdf")},
		"GET /api/v1/stats/dashboard":          {build: w.statsProbes("/api/v1/stats/dashboard?limit=100")},

		"GET /api/v1/incidents/:id/attachments":                     {targets: incTargets, build: w.attachmentCase("list", incidentFor)},
		"POST /api/v1/incidents/:id/attachments":                    {targets: incTargets, build: w.attachmentCase("upload", incidentFor)},
		"GET /api/v1/incidents/:id/attachments/:attachment":         {targets: incTargets, build: w.attachmentCase("metadata", incidentFor)},
		"GET /api/v1/incidents/:id/attachments/:attachment/content": {targets: incTargets, build: w.attachmentCase("content", incidentFor)},
		// The guided report's structured report and the legal reports
		// (reports_matrix_test.go).
		"GET /api/v1/incidents/:id/guided-report":           {targets: incTargets, build: guidedReportProbes(incidentFor)},
		"GET /api/v1/incidents/:id/legal-reports":           {targets: incTargets, build: readIncident("/legal-reports")},
		"GET /api/v1/incidents/:id/legal-reports/:reportId": {targets: incTargets, build: legalReportProbes(incidentFor)},
		// Comments (comments_matrix_test.go).
		"GET /api/v1/incidents/:id/comments":                      {targets: incTargets, build: readIncident("/comments")},
		"POST /api/v1/incidents/:id/comments":                     {targets: incTargets, build: w.postCommentProbes(incidentFor)},
		"PATCH /api/v1/incidents/:id/comments/:commentId":         {targets: incTargets, build: w.editCommentProbes(incidentFor)},
		"GET /api/v1/incidents/:id/comments/:commentId/revisions": {targets: incTargets, build: w.commentRevisionProbes(incidentFor)},

		"POST /api/v1/incidents/:id/shares": {targets: incTargets, build: func(v secUser, target string) []secProbe {
			inc, read := incidentFor(v, target)
			ref := "INC-1999-999999"
			want := http.StatusNotFound
			if inc != nil {
				ref, want = inc.Ref, writeIncident(v, inc, read, true)
			}
			// Shared with sink, whose users read nothing in the matrix: the
			// share changes nobody's view, in whatever order cells run.
			return []secProbe{
				{path: "/api/v1/incidents/" + ref + "/shares", body: map[string]any{"org": "sink", "note": "matrix"},
					want: want, check: problemUnless(http.StatusCreated), variant: "(reference)"},
				// Checks of the body alone come first and reveal nothing.
				{path: "/api/v1/incidents/" + ref + "/shares", body: map[string]any{"note": "no org"},
					want: http.StatusUnprocessableEntity, check: fieldIs("org"), variant: "(no org)"},
			}
		}},

		"POST /api/v1/incidents/:id/participants": {targets: incTargets, build: func(v secUser, target string) []secProbe {
			inc, read := incidentFor(v, target)
			id := uuid.NewString()
			want := http.StatusNotFound
			if inc != nil {
				id, want = inc.ID, writeIncident(v, inc, read, false)
				// Reporters of the reporting organisation name participants
				// on its TLP:RED reports (docs/security.md, "TLP:RED routing").
				if read != http.StatusNotFound && inc.TLP == incident.TLPRed && v.Role == access.Reporter && v.OrgSlug == inc.Reporting {
					want = http.StatusCreated
				}
				// sink is outside every TLP:AMBER+STRICT incident's circle.
				if want == http.StatusCreated && inc.TLP == incident.TLPAmberStrict {
					want = http.StatusConflict
				}
			}
			return []secProbe{
				{path: "/api/v1/incidents/" + id + "/participants", body: map[string]any{"email": w.sink.Email},
					want: want, check: problemUnless(http.StatusCreated), variant: "(uuid)"},
				{path: "/api/v1/incidents/" + id + "/participants", body: map[string]any{"email": ""},
					want: http.StatusUnprocessableEntity, check: fieldIs("email"), variant: "(no email)"},
			}
		}},

		"GET /api/v1/incidents/:id/observables":  {targets: incTargets, build: readIncident("/observables")},
		"POST /api/v1/incidents/:id/observables": {targets: incTargets, build: w.matrixAddObservable(incidentFor, problemUnless)},
		"POST /api/v1/incidents/:id/misp":        {targets: incTargets, build: w.matrixImportMISP(incidentFor, problemUnless)},
		"POST /api/v1/incidents/misp": {build: func(v secUser, _ string) []secProbe {
			want := http.StatusForbidden
			if secMay("incident.create", v.Role) {
				want = http.StatusCreated
			}
			body := map[string]any{"Event": map[string]any{"info": fmt.Sprintf("imported by %s/%s", v.OrgSlug, v.Role),
				"Tag": []any{map[string]any{"name": "tlp:green"}}}}
			return []secProbe{{path: "/api/v1/incidents/misp", body: body, want: want, check: problemUnless(http.StatusCreated)}}
		}},
		"PATCH /api/v1/incidents/:id/observables/:observable":  {targets: incTargets, build: w.matrixPatchObservable(incidentFor, problemUnless)},
		"DELETE /api/v1/incidents/:id/observables/:observable": {targets: incTargets, build: w.matrixDeleteObservable(incidentFor, problemUnless)},
		"GET /api/v1/incidents/:id/export":                     {targets: incTargets, build: w.matrixExport(incidentFor)},
		"GET /api/v1/observables":                              {build: w.matrixCorrelate},
		"GET /api/v1/incidents/:id/tasks":                      {targets: incTargets, build: readIncident("/tasks")},
		"POST /api/v1/incidents/:id/tasks":                     {targets: incTargets, build: w.createTaskProbes(incidentFor)},
		"GET /api/v1/incidents/:id/tasks/:taskId":              {targets: incTargets, build: w.getTaskProbes(incidentFor)},
		"PATCH /api/v1/incidents/:id/tasks/:taskId":            {targets: incTargets, build: w.patchTaskProbes(incidentFor)},
		"GET /api/v1/tasks":                                    {targets: append([]string{"all"}, incTargets...), build: w.taskQueueProbes(incidentFor)},
		// The notification outbox (notifications_matrix_test.go).
		"GET /api/v1/notifications": {targets: append([]string{"all"}, incTargets...), build: w.notificationProbes(incidentFor)},
		// Escalations and policies (escalations_matrix_test.go).
		"POST /api/v1/incidents/:id/escalations":            {targets: incTargets, build: w.requestEscalationProbes(incidentFor)},
		"GET /api/v1/escalations":                           {targets: []string{"all", "inbox", "outbox"}, build: w.listEscalationProbes},
		"GET /api/v1/escalations/:id":                       {targets: []string{"declined", "unknown", "not-a-uuid"}, build: w.getEscalationProbes},
		"POST /api/v1/escalations/:id/accept":               {targets: []string{"declined", "unknown"}, build: w.decideEscalationProbes("accept")},
		"POST /api/v1/escalations/:id/decline":              {targets: []string{"declined", "unknown"}, build: w.decideEscalationProbes("decline")},
		"POST /api/v1/escalations/:id/return":               {targets: []string{"declined", "unknown"}, build: w.decideEscalationProbes("return")},
		"GET /api/v1/organizations/:slug/escalation-policy": {targets: orgTargets, build: w.policyProbes(http.MethodGet)},
		"PUT /api/v1/organizations/:slug/escalation-policy": {targets: orgTargets, build: w.policyProbes(http.MethodPut)},
		"GET /api/v1/organizations/:slug/red-recipients":    {targets: orgTargets, build: w.redRecipientsProbes(http.MethodGet)},
		"PUT /api/v1/organizations/:slug/red-recipients":    {targets: orgTargets, build: w.redRecipientsProbes(http.MethodPut)},
		"GET /api/v1/me/red-recipients":                     {build: w.myRedRecipientsProbes},
		// Playbook runs (playbook_runs_matrix_test.go).
		"GET /api/v1/incidents/:id/playbook-runs":        {targets: incTargets, build: readIncident("/playbook-runs")},
		"POST /api/v1/incidents/:id/playbook-runs":       {targets: incTargets, build: w.startRunProbes(incidentFor)},
		"GET /api/v1/incidents/:id/playbook-runs/:runId": {targets: incTargets, build: w.runProbes(incidentFor, "", access.ReadIncident, nil, http.StatusOK)},
		"POST /api/v1/incidents/:id/playbook-runs/:runId/cancel": {targets: incTargets,
			build: w.runProbes(incidentFor, "/cancel", access.RunPlaybook, nil, http.StatusConflict)},
		"POST /api/v1/incidents/:id/playbook-runs/:runId/approvals/:stepId": {targets: incTargets,
			build: w.runProbes(incidentFor, "/approvals/approve", access.ApproveStep, map[string]any{"decision": "approve"}, http.StatusConflict)},
		"POST /api/v1/incidents/:id/playbook-runs/:runId/inputs/:stepId": {targets: incTargets,
			build: w.runProbes(incidentFor, "/inputs/fill", access.AnswerInput, map[string]any{"answers": map[string]any{}}, http.StatusConflict)},

		"GET /api/v1/playbooks":              {build: w.playbookListProbes},
		"GET /api/v1/playbooks/:id":          {targets: []string{"ransomware", "phishing-campaign", "unknown"}, build: w.playbookGetProbes},
		"GET /api/v1/playbooks/:id/cacao":    {targets: []string{"ransomware", "phishing-campaign", "unknown"}, build: w.playbookCACAOProbes},
		"POST /api/v1/playbooks/:id/dry-run": {targets: incTargets, build: w.playbookDryRunProbes(incidentFor)},

		"GET /api/v1/organizations": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/organizations", want: http.StatusOK, check: func(r *testapp.Response) string {
				got := orgSlugs(r)
				var wrong []string
				for _, o := range tr.order {
					if got[o] != tr.seesOrg(v.OrgSlug, o) {
						wrong = append(wrong, fmt.Sprintf("%s listed=%v", o, got[o]))
					}
				}
				if tr.kind[v.OrgSlug] == org.Partner {
					for s, k := range orgKinds(r) {
						if s != v.OrgSlug && k != string(org.NationalCERT) && k != string(org.RegionalCERT) {
							wrong = append(wrong, fmt.Sprintf("a partner sees %s (%s)", s, k))
						}
					}
				}
				return strings.Join(wrong, "; ")
			}}}
		}},

		"POST /api/v1/organizations": {targets: []string{"parent=national-cert", "parent=region-north", "parent=region-south", "top-level partner", "top-level national_cert"},
			build: func(v secUser, target string) []secProbe {
				n := w.next()
				body := map[string]any{"slug": fmt.Sprintf("matrix-org-%d", n), "name": fmt.Sprintf("Matrix org %d", n)}
				want := http.StatusForbidden
				switch {
				case strings.HasPrefix(target, "parent="):
					parent := strings.TrimPrefix(target, "parent=")
					body["kind"], body["parent"] = string(org.Operator), parent
					if admin(v) && tr.under(v.OrgSlug, parent) {
						want = http.StatusCreated
					}
				case target == "top-level partner":
					body["kind"] = string(org.Partner)
					if admin(v) && tr.kind[v.OrgSlug] == org.NationalCERT {
						want = http.StatusCreated
					}
				default: // only an operator at the CLI creates another root
					body["kind"] = string(org.NationalCERT)
				}
				return []secProbe{{path: "/api/v1/organizations", body: body, want: want, check: problemUnless(http.StatusCreated)}}
			}},

		"GET /api/v1/organizations/:slug": {targets: orgTargets, build: func(v secUser, target string) []secProbe {
			want := http.StatusNotFound
			if tr.seesOrg(v.OrgSlug, target) {
				want = http.StatusOK
			}
			return []secProbe{{path: "/api/v1/organizations/" + target, want: want, check: func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return isProblem(r)
				}
				return ""
			}}}
		}},

		"PATCH /api/v1/organizations/:slug": {targets: orgTargets, build: func(v secUser, target string) []secProbe {
			want := http.StatusOK
			switch {
			case !tr.seesOrg(v.OrgSlug, target):
				want = http.StatusNotFound
			case !admin(v) || !tr.manages(v.OrgSlug, target):
				want = http.StatusForbidden
			}
			return []secProbe{{path: "/api/v1/organizations/" + target, body: map[string]any{"name": target + " (checked by " + v.OrgSlug + ")"},
				want: want, check: func(r *testapp.Response) string {
					if r.Status != http.StatusOK {
						return isProblem(r)
					}
					return ""
				}}}
		}},

		"GET /api/v1/organizations/:slug/constituency": {targets: orgTargets, build: func(v secUser, target string) []secProbe {
			want := http.StatusOK
			switch {
			case !tr.seesOrg(v.OrgSlug, target):
				want = http.StatusNotFound
			case tr.kind[v.OrgSlug] == org.Partner: // partners do not see constituencies
				want = http.StatusForbidden
			}
			return []secProbe{{path: "/api/v1/organizations/" + target + "/constituency", want: want, check: func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return isProblem(r)
				}
				got := orgSlugs(r)
				var wrong []string
				for _, o := range tr.order {
					if want := o != target && tr.under(target, o); got[o] != want {
						wrong = append(wrong, fmt.Sprintf("%s listed=%v", o, got[o]))
					}
				}
				return strings.Join(wrong, "; ")
			}}}
		}},

		"GET /api/v1/users": {build: func(v secUser, _ string) []secProbe {
			want := http.StatusForbidden
			if secMay("user.manage", v.Role) {
				want = http.StatusOK
			}
			return []secProbe{{path: "/api/v1/users", want: want, check: func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return isProblem(r)
				}
				var l struct {
					Users []struct{ ID, Email, Org string }
				}
				_ = json.Unmarshal(r.Body, &l)
				got := map[string]bool{}
				var wrong []string
				for _, u := range l.Users {
					got[u.ID] = true
					if !tr.manages(v.OrgSlug, u.Org) {
						wrong = append(wrong, fmt.Sprintf("lists %s of %s", u.Email, u.Org))
					}
				}
				for _, o := range w.orgs {
					for _, u := range w.users[o] {
						if tr.manages(v.OrgSlug, o) && !got[u.ID.String()] {
							wrong = append(wrong, fmt.Sprintf("misses %s of %s", u.Email, o))
						}
					}
				}
				return strings.Join(wrong, "; ")
			}}}
		}},

		"POST /api/v1/users": {targets: orgTargets, build: func(v secUser, target string) []secProbe {
			body := map[string]any{"org": target, "email": fmt.Sprintf("matrix-user-%d@%s.example", w.next(), target), "role": "viewer"}
			want := http.StatusCreated
			switch {
			case !secMay("user.manage", v.Role):
				want = http.StatusForbidden
			case !tr.seesOrg(v.OrgSlug, target): // unknown, or hidden from a partner: no such organisation
				want = http.StatusUnprocessableEntity
			case !tr.manages(v.OrgSlug, target):
				want = http.StatusForbidden
			}
			return []secProbe{{path: "/api/v1/users", body: body, want: want, check: func(r *testapp.Response) string {
				if r.Status != http.StatusCreated {
					return isProblem(r)
				}
				var u struct{ Org string }
				_ = json.Unmarshal(r.Body, &u)
				if u.Org != target {
					return "created in " + u.Org
				}
				return ""
			}}}
		}},

		"PATCH /api/v1/users/:id": {targets: append(slices.Clone(userTargets), "not-a-uuid", "self role", "self disable"), build: func(v secUser, target string) []secProbe {
			if target == "self role" || target == "self disable" {
				// 403 without user.manage, 409 with it: nobody changes their own
				// role or disables themselves.
				body := map[string]any{"disabled": true}
				if target == "self role" {
					body = map[string]any{"role": string(access.Coordinator)}
					if v.Role == access.Coordinator {
						body["role"] = string(access.Responder)
					}
				}
				want := http.StatusForbidden
				if secMay("user.manage", v.Role) {
					want = http.StatusConflict
				}
				return []secProbe{{path: "/api/v1/users/" + v.ID.String(), body: body, want: want, check: problemUnless(0)}}
			}
			u := userOf(v, target)
			id := target // not-a-uuid
			if target == "unknown" {
				id = uuid.NewString()
			}
			want := http.StatusNotFound // outside one's management a user does not exist
			if u != nil {
				id = u.ID.String()
				if u.ID == v.ID || (secMay("user.manage", v.Role) && tr.manages(v.OrgSlug, u.OrgSlug)) {
					want = http.StatusOK // everyone changes their own name
				}
			}
			return []secProbe{{path: "/api/v1/users/" + id, body: map[string]any{"name": "Checked by " + v.Email},
				want: want, check: func(r *testapp.Response) string {
					if r.Status != http.StatusOK {
						return isProblem(r)
					}
					return ""
				}}}
		}},

		"POST /api/v1/users/:id/reset-link": {targets: append(slices.Clone(userTargets), "not-a-uuid"), build: func(v secUser, target string) []secProbe {
			// Administrators issue links for the users they manage, themselves
			// included; without user.manage it is 403, outside one's
			// management the user does not exist.
			u := userOf(v, target)
			id := target // not-a-uuid
			if target == "unknown" {
				id = uuid.NewString()
			}
			want := http.StatusForbidden
			if secMay("user.manage", v.Role) {
				want = http.StatusNotFound
				if u != nil && tr.manages(v.OrgSlug, u.OrgSlug) {
					want = http.StatusCreated
				}
			}
			if u != nil {
				id = u.ID.String()
			}
			return []secProbe{{path: "/api/v1/users/" + id + "/reset-link", want: want, check: func(r *testapp.Response) string {
				if r.Status != http.StatusCreated {
					return isProblem(r)
				}
				var l struct {
					UserID string `json:"user_id"`
					URL    string `json:"url"`
				}
				_ = json.Unmarshal(r.Body, &l)
				if l.UserID != id || !strings.Contains(l.URL, "/password-reset/cdr_") || r.Header.Get("Cache-Control") != "no-store" {
					return "a link for " + l.UserID + " at " + l.URL + ", Cache-Control " + r.Header.Get("Cache-Control")
				}
				return ""
			}}}
		}},

		"GET /api/v1/tokens": {build: func(v secUser, _ string) []secProbe {
			return []secProbe{{path: "/api/v1/tokens", want: http.StatusOK, check: func(r *testapp.Response) string {
				var l struct{ Tokens []struct{ ID string } }
				_ = json.Unmarshal(r.Body, &l)
				got := map[string]bool{}
				for _, tk := range l.Tokens {
					got[tk.ID] = true
				}
				var wrong []string
				for uid, marker := range w.markers {
					if got[marker] != (uid == v.ID) {
						wrong = append(wrong, fmt.Sprintf("marker of user %s listed=%v", uid, got[marker]))
					}
				}
				if bytes.Contains(r.Body, []byte(`"token"`)) {
					wrong = append(wrong, "a listing shows a token's secret")
				}
				return strings.Join(wrong, "; ")
			}}}
		}},

		"POST /api/v1/tokens": {targets: append(slices.Clone(userTargets), "self by e-mail"), build: func(v secUser, target string) []secProbe {
			// Tokens are created for the caller only; the request has no field
			// that names another user (an operator issues those at the CLI).
			body := map[string]any{"name": "matrix " + target}
			want := http.StatusCreated
			switch u := userOf(v, target); {
			case target == "self":
			case target == "self by e-mail":
				body["user"] = v.Email
			case target == "unknown":
				body["user"] = "nobody-" + uuid.NewString()[:8] + "@nowhere.example"
			default:
				body["user"] = u.Email
			}
			check := fieldIs("user")
			if _, ok := body["user"]; ok {
				want = http.StatusUnprocessableEntity
			} else {
				check = func(r *testapp.Response) string {
					var tk struct{ Token string }
					_ = json.Unmarshal(r.Body, &tk)
					if !strings.HasPrefix(tk.Token, "cdt_") || r.Header.Get("Cache-Control") != "no-store" {
						return "a new token is shown once, not cached"
					}
					return ""
				}
			}
			return []secProbe{{path: "/api/v1/tokens", body: body, want: want, check: check}}
		}},

		"DELETE /api/v1/tokens/:id": {targets: []string{"own", "colleague", "elsewhere", "unknown", "not-a-uuid"}, build: func(v secUser, target string) []secProbe {
			id, ok := w.delTokens[v.ID.String()+"/"+target]
			switch {
			case target == "unknown":
				id = uuid.NewString()
			case !ok:
				id = target
			}
			want := http.StatusNotFound // other users' tokens do not exist for the caller
			if target == "own" {
				want = http.StatusNoContent
			}
			return []secProbe{{path: "/api/v1/tokens/" + id, want: want, check: problemUnless(http.StatusNoContent)}}
		}},

		"GET /api/v1/audit": {build: func(v secUser, _ string) []secProbe {
			want := http.StatusForbidden
			if v.Role == access.Admin && tr.kind[v.OrgSlug] == org.NationalCERT {
				want = http.StatusOK
			}
			return []secProbe{{path: "/api/v1/audit?limit=5", want: want, check: func(r *testapp.Response) string {
				if r.Status != http.StatusOK {
					return isProblem(r)
				}
				return ""
			}}}
		}},
	}
	for _, section := range []string{"response-times", "deadlines", "new-incidents", "open", "sectors", "regions", "escalations", "breaches", "oldest-open"} {
		table["GET /api/v1/stats/"+section] = secCase{build: w.statsProbes("/api/v1/stats/" + section + "?limit=100")}
	}
	for key, c := range w.teamCases(incidentFor, incTargets) {
		table[key] = c
	}
	return table
}

// runProbes sends the probes, parallel at a time, and returns every probe
// whose answer is not the expected one.
func runProbes(h *testapp.Harness, probes []secProbe, parallel int) []secMismatch {
	var (
		mu  sync.Mutex
		out []secMismatch
		wg  sync.WaitGroup
		sem = make(chan struct{}, parallel)
	)
	for _, p := range probes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			// A response that breaks docs/openapi.yaml fails the test inside
			// Request and ends this goroutine; the deferred release keeps the
			// others going.
			defer func() { <-sem; wg.Done() }()
			r := h.As(p.token).Request(p.method, p.path, p.body, p.header...)
			note := ""
			if r.Status == p.want && p.check != nil {
				note = p.check(r)
			} else if r.Status != p.want {
				note = secExcerpt(r.Body)
			}
			if r.Status != p.want || note != "" {
				mu.Lock()
				out = append(out, secMismatch{route: p.route, cell: p.cell, want: p.want, got: r.Status, note: note})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func mismatchTable(ms []secMismatch) string {
	sort.Slice(ms, func(i, j int) bool { return ms[i].cell < ms[j].cell })
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "cell (org/role/target)\twant\tgot\tnote")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", m.cell, m.want, m.got, m.note)
	}
	_ = tw.Flush()
	return b.String()
}

func secExcerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// isProblem checks that an error answer is a problem document.
func isProblem(r *testapp.Response) string {
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		return "error answered as " + ct
	}
	return ""
}

// fieldIs checks that a 422 names field first.
func fieldIs(field string) func(r *testapp.Response) string {
	return func(r *testapp.Response) string {
		var p struct {
			Errors []struct{ Field, Rule string }
		}
		_ = json.Unmarshal(r.Body, &p)
		if len(p.Errors) == 0 || p.Errors[0].Field != field {
			return fmt.Sprintf("the 422 does not name %s: %s", field, secExcerpt(r.Body))
		}
		return isProblem(r)
	}
}

func orgSlugs(r *testapp.Response) map[string]bool {
	out := map[string]bool{}
	for s := range orgKinds(r) {
		out[s] = true
	}
	return out
}

func orgKinds(r *testapp.Response) map[string]string {
	var l struct {
		Organizations []struct{ Slug, Kind string }
	}
	_ = json.Unmarshal(r.Body, &l)
	out := map[string]string{}
	for _, o := range l.Organizations {
		out[o.Slug] = o.Kind
	}
	return out
}
