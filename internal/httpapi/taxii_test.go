package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/certdesk/certdesk/internal/taxii"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// taxiiWorld is a small constituency with a partner CERT: city-a and
// city-b under the regional CERT north, and partner, which city-a's
// incidents are shared with one by one.
type taxiiWorld struct {
	h      *testapp.Harness
	tokens map[string]string
	orgs   map[string]*org.Organization
}

func taxiiSetup(t *testing.T) *taxiiWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks})
	w := &taxiiWorld{h: h, tokens: map[string]string{}, orgs: map[string]*org.Organization{}}
	w.orgs["national"] = h.Org("national", org.NationalCERT, "")
	w.orgs["north"] = h.Org("north", org.RegionalCERT, "national")
	w.orgs["city-a"] = h.Org("city-a", org.LocalAuthority, "north")
	w.orgs["city-b"] = h.Org("city-b", org.LocalAuthority, "north")
	w.orgs["partner"] = h.Org("partner", org.Partner, "")
	for name, u := range map[string]struct {
		org  string
		role access.Role
	}{
		"a-reporter": {"city-a", access.Reporter}, "b-reporter": {"city-b", access.Reporter},
		"north-coordinator": {"north", access.Coordinator}, "partner-viewer": {"partner", access.Viewer},
	} {
		_, w.tokens[name] = h.User(u.org, u.role)
	}
	return w
}

type taxiiIncident struct{ ID, Reference string }

// report files an incident and waits until it is routed to its CERT.
func (w *taxiiWorld) report(t *testing.T, user, title, tlp string) taxiiIncident {
	t.Helper()
	r := w.h.As(w.tokens[user]).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "tlp": tlp})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc taxiiIncident
	r.JSON(t, &inc)
	w.h.Eventually(func() bool {
		got, err := w.h.App.Incidents.Get(context.Background(), access.System, inc.ID)
		return err == nil && got.CoordinatingOrgSlug != ""
	}, "the incident is routed")
	return inc
}

func (w *taxiiWorld) observe(t *testing.T, inc taxiiIncident, body map[string]any) {
	t.Helper()
	r := w.h.As(w.tokens["a-reporter"]).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/observables", body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
}

func (w *taxiiWorld) share(t *testing.T, inc taxiiIncident, orgSlug string) {
	t.Helper()
	r := w.h.As(w.tokens["north-coordinator"]).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/shares",
		map[string]any{"org": orgSlug, "note": "for the partner's feed"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
}

// taxiiAnswer is one TAXII response.
type taxiiAnswer struct {
	status int
	header http.Header
	body   []byte
}

// get sends a TAXII request as a standard client does (taxii2-client sends
// exactly this Accept), outside testapp's OpenAPI check: TAXII is specified
// by OASIS, not by docs/openapi.yaml.
func (w *taxiiWorld) get(t *testing.T, user, path string, header ...string) taxiiAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, w.h.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", taxii.MediaType)
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+w.tokens[user])
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return taxiiAnswer{status: resp.StatusCode, header: resp.Header, body: body}
}

// ok requires a 200 TAXII answer and decodes it.
func (a taxiiAnswer) ok(t *testing.T, v any) {
	t.Helper()
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	require.Equal(t, taxii.MediaType, a.header.Get("Content-Type"))
	require.NoError(t, json.Unmarshal(a.body, v), "%s", a.body)
}

// failed requires a TAXII error message with the status.
func (a taxiiAnswer) failed(t *testing.T, status int) {
	t.Helper()
	require.Equal(t, status, a.status, "%s", a.body)
	require.Equal(t, taxii.MediaType, a.header.Get("Content-Type"), "errors are TAXII error messages too")
	var e struct {
		Title      string `json:"title"`
		HTTPStatus string `json:"http_status"`
	}
	require.NoError(t, json.Unmarshal(a.body, &e), "%s", a.body)
	require.NotEmpty(t, e.Title)
	require.Equal(t, http.StatusText(status), e.Title)
}

type taxiiEnvelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

type stixHead struct {
	ID, Type, Modified, Created string
	SpecVersion                 string `json:"spec_version"`
	ExternalReferences          []struct {
		ExternalID string `json:"external_id"`
	} `json:"external_references"`
}

func heads(t *testing.T, objs []json.RawMessage) []stixHead {
	t.Helper()
	out := make([]stixHead, len(objs))
	for i, o := range objs {
		require.NoError(t, json.Unmarshal(o, &out[i]))
	}
	return out
}

// incidentRefs lists the certdesk references of the incident objects.
func incidentRefs(t *testing.T, objs []json.RawMessage) []string {
	t.Helper()
	var refs []string
	for _, h := range heads(t, objs) {
		if h.Type == "incident" {
			require.NotEmpty(t, h.ExternalReferences)
			refs = append(refs, h.ExternalReferences[0].ExternalID)
		}
	}
	return refs
}

const taxiiCollections = "/taxii2/certdesk/collections/"

// pageAll pages through path (objects or manifest) limit at a time,
// following next, and returns every page's envelope.
func (w *taxiiWorld) pageAll(t *testing.T, user, path string, limit int) []taxiiEnvelope {
	t.Helper()
	var pages []taxiiEnvelope
	next := ""
	for i := 0; ; i++ {
		require.Less(t, i, 200, "the pages end")
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if next != "" {
			q.Set("next", next)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		a := w.get(t, user, path+sep+q.Encode())
		var env taxiiEnvelope
		a.ok(t, &env)
		require.LessOrEqual(t, len(env.Objects), limit, "a page holds at most limit objects")
		if len(env.Objects) > 0 {
			first, last := a.header.Get("X-TAXII-Date-Added-First"), a.header.Get("X-TAXII-Date-Added-Last")
			require.NotEmpty(t, first)
			require.NotEmpty(t, last)
			require.LessOrEqual(t, first, last)
		}
		pages = append(pages, env)
		if !env.More {
			require.Empty(t, env.Next, "no next without more")
			return pages
		}
		require.NotEmpty(t, env.Next, "more comes with next")
		next = env.Next
	}
}

// TestTAXIIServer walks every TAXII 2.1 endpoint as a partner CERT's client
// does (discovery, API root, collections, objects, one object, its
// versions, manifest) and checks the specification's requirements: the
// media type and its negotiation (406), 401 without a token, 404 for a
// collection the caller's organisation may not see (the same answer as for
// one that does not exist), pagination with limit, more and next, added_after
// with the X-TAXII-Date-Added-First and -Last headers, the match filters,
// and the parameter errors (400).
func TestTAXIIServer(t *testing.T) {
	t.Parallel()
	w := taxiiSetup(t)
	green := w.report(t, "a-reporter", "Phishing wave at the city hall", "TLP:GREEN")
	w.observe(t, green, map[string]any{"type": "domain", "value": "login-cityhall.example", "sighted": true})
	w.observe(t, green, map[string]any{"type": "ipv4", "value": "198.51.100.7"})
	w.observe(t, green, map[string]any{"type": "cve", "value": "CVE-2024-3094"})
	amber := w.report(t, "a-reporter", "Ransomware note on a school server", "TLP:AMBER")
	w.observe(t, amber, map[string]any{"type": "sha256", "value": strings.Repeat("ab", 32)})
	w.share(t, green, "partner")
	w.share(t, amber, "partner")
	cityA := w.orgs["city-a"].ID.String()
	col := taxiiCollections + cityA + "/"

	t.Run("discovery and API root", func(t *testing.T) {
		var d struct {
			Title    string   `json:"title"`
			Default  string   `json:"default"`
			APIRoots []string `json:"api_roots"`
		}
		w.get(t, "partner-viewer", "/taxii2/").ok(t, &d)
		require.NotEmpty(t, d.Title)
		require.Len(t, d.APIRoots, 1)
		require.True(t, strings.HasSuffix(d.APIRoots[0], "/taxii2/certdesk/"), d.APIRoots[0])
		require.Equal(t, d.APIRoots[0], d.Default)
		var root struct {
			Title            string   `json:"title"`
			Versions         []string `json:"versions"`
			MaxContentLength int64    `json:"max_content_length"`
		}
		w.get(t, "partner-viewer", "/taxii2/certdesk/").ok(t, &root)
		require.NotEmpty(t, root.Title)
		require.Equal(t, []string{"application/taxii+json;version=2.1"}, root.Versions)
		require.Positive(t, root.MaxContentLength)
		require.Equal(t, "no-store", w.get(t, "partner-viewer", "/taxii2/").header.Get("Cache-Control"))
		w.get(t, "partner-viewer", "/taxii2/elsewhere/").failed(t, http.StatusNotFound)
	})

	t.Run("authentication", func(t *testing.T) {
		for _, p := range []string{"/taxii2/", "/taxii2/certdesk/", taxiiCollections, col, col + "objects/", col + "manifest/"} {
			a := w.get(t, "", p)
			a.failed(t, http.StatusUnauthorized)
			require.Contains(t, a.header.Get("WWW-Authenticate"), "Bearer", p)
			a = w.get(t, "", p, "Authorization", "Bearer not-a-token")
			a.failed(t, http.StatusUnauthorized)
			a = w.get(t, "", p, "Authorization", "Token not-a-token")
			a.failed(t, http.StatusUnauthorized)
		}
		// taxii2-client's TokenAuth sends the token as "Token <token>".
		var cs map[string]any
		w.get(t, "", taxiiCollections, "Authorization", "Token "+w.tokens["partner-viewer"]).ok(t, &cs)
		require.NotEmpty(t, cs["collections"])
	})

	t.Run("media type negotiation", func(t *testing.T) {
		for _, accept := range []string{"application/json", "application/taxii+json;version=2.0", "text/html", "application/stix+json;version=2.1"} {
			w.get(t, "partner-viewer", "/taxii2/", "Accept", accept).failed(t, http.StatusNotAcceptable)
			w.get(t, "partner-viewer", col+"objects/", "Accept", accept).failed(t, http.StatusNotAcceptable)
		}
		for _, accept := range []string{"application/taxii+json", "application/taxii+json; version=2.1", "*/*",
			"application/json;q=0.9, application/taxii+json;version=2.1", ""} {
			var d map[string]any
			w.get(t, "partner-viewer", "/taxii2/", "Accept", accept).ok(t, &d)
		}
	})

	t.Run("collections", func(t *testing.T) {
		type collection struct {
			ID         string   `json:"id"`
			Title      string   `json:"title"`
			Alias      string   `json:"alias"`
			CanRead    bool     `json:"can_read"`
			CanWrite   bool     `json:"can_write"`
			MediaTypes []string `json:"media_types"`
		}
		var cs struct {
			Collections []collection `json:"collections"`
		}
		w.get(t, "partner-viewer", taxiiCollections).ok(t, &cs)
		require.Len(t, cs.Collections, 1, "the partner sees one organisation's shared incidents")
		c := cs.Collections[0]
		require.Equal(t, cityA, c.ID)
		require.Equal(t, "city-a", c.Alias)
		require.True(t, c.CanRead)
		require.False(t, c.CanWrite)
		require.Equal(t, []string{stix.MediaType}, c.MediaTypes)
		var one collection
		w.get(t, "partner-viewer", col).ok(t, &one)
		require.Equal(t, c, one)

		var none map[string]any
		w.get(t, "b-reporter", taxiiCollections).ok(t, &none)
		require.Empty(t, none, "an API root without collections the caller may see answers an empty resource")

		// city-b exists but shared nothing with the partner: the same 404 as
		// a collection that does not exist.
		hidden := w.get(t, "partner-viewer", taxiiCollections+w.orgs["city-b"].ID.String()+"/")
		ghost := w.get(t, "partner-viewer", taxiiCollections+uuid.NewString()+"/")
		hidden.failed(t, http.StatusNotFound)
		ghost.failed(t, http.StatusNotFound)
		require.Equal(t, taxiiNorm(ghost.body), taxiiNorm(hidden.body))
		for _, sub := range []string{"objects/", "manifest/", "objects/indicator--" + uuid.NewString() + "/"} {
			hidden = w.get(t, "partner-viewer", taxiiCollections+w.orgs["city-b"].ID.String()+"/"+sub)
			ghost = w.get(t, "partner-viewer", taxiiCollections+uuid.NewString()+"/"+sub)
			hidden.failed(t, http.StatusNotFound)
			require.Equal(t, taxiiNorm(ghost.body), taxiiNorm(hidden.body))
		}
		w.get(t, "partner-viewer", taxiiCollections+"not-a-uuid/").failed(t, http.StatusNotFound)
	})

	var all taxiiEnvelope
	t.Run("objects", func(t *testing.T) {
		a := w.get(t, "partner-viewer", col+"objects/")
		a.ok(t, &all)
		require.False(t, all.More)
		require.ElementsMatch(t, []string{green.Reference, amber.Reference}, incidentRefs(t, all.Objects))
		types := map[string]int{}
		seen := map[string]bool{}
		for _, h := range heads(t, all.Objects) {
			types[h.Type]++
			require.Equal(t, "2.1", h.SpecVersion)
			key := h.ID + "|" + h.Modified
			require.False(t, seen[key], "each object version once per page: %s", key)
			seen[key] = true
		}
		for _, typ := range []string{"incident", "identity", "indicator", "vulnerability", "observed-data", "sighting",
			"relationship", "marking-definition", "domain-name", "ipv4-addr", "file"} {
			require.Positive(t, types[typ], "a %s object", typ)
		}
		require.NotEmpty(t, a.header.Get("X-TAXII-Date-Added-First"))
		require.NotEmpty(t, a.header.Get("X-TAXII-Date-Added-Last"))

		// Pages of 1, 2 and 7 objects hold the same object versions. An
		// object that two incidents share (a marking, the reporting
		// organisation's identity) is once in a page, and may be in
		// several pages.
		want := map[string]string{}
		for i, h := range heads(t, all.Objects) {
			want[h.ID+"|"+h.Modified] = string(all.Objects[i])
		}
		for _, limit := range []int{1, 2, 7} {
			pages := w.pageAll(t, "partner-viewer", col+"objects/", limit)
			require.Greater(t, len(pages), 1)
			got := map[string]string{}
			for _, p := range pages {
				for i, h := range heads(t, p.Objects) {
					got[h.ID+"|"+h.Modified] = string(p.Objects[i])
				}
			}
			require.Equal(t, want, got, "limit %d", limit)
		}

		// The filters.
		var ind taxiiEnvelope
		w.get(t, "partner-viewer", col+"objects/?match[type]=indicator").ok(t, &ind)
		require.Len(t, ind.Objects, 3)
		for _, h := range heads(t, ind.Objects) {
			require.Equal(t, "indicator", h.Type)
		}
		var two taxiiEnvelope
		w.get(t, "partner-viewer", col+"objects/?match[type]=incident,vulnerability").ok(t, &two)
		require.Len(t, two.Objects, 3)
		incID := ""
		for _, h := range heads(t, two.Objects) {
			if h.Type == "incident" {
				incID = h.ID
			}
		}
		var byID taxiiEnvelope
		w.get(t, "partner-viewer", col+"objects/?match[id]="+incID+"&match[version]=last&match[spec_version]=2.1").ok(t, &byID)
		require.Len(t, byID.Objects, 1)
		var none taxiiEnvelope
		w.get(t, "partner-viewer", col+"objects/?match[spec_version]=2.0").ok(t, &none)
		require.Empty(t, none.Objects)
		require.False(t, none.More)

		// One object, and its versions.
		var obj taxiiEnvelope
		a = w.get(t, "partner-viewer", col+"objects/"+incID+"/")
		a.ok(t, &obj)
		require.Len(t, obj.Objects, 1)
		require.Equal(t, incID, heads(t, obj.Objects)[0].ID)
		require.NotEmpty(t, a.header.Get("X-TAXII-Date-Added-First"))
		var versions struct {
			More     bool     `json:"more"`
			Versions []string `json:"versions"`
		}
		w.get(t, "partner-viewer", col+"objects/"+incID+"/versions/").ok(t, &versions)
		require.Equal(t, []string{heads(t, obj.Objects)[0].Modified}, versions.Versions)
		w.get(t, "partner-viewer", col+"objects/indicator--"+uuid.NewString()+"/").failed(t, http.StatusNotFound)
		w.get(t, "partner-viewer", col+"objects/indicator--"+uuid.NewString()+"/versions/").failed(t, http.StatusNotFound)
	})

	t.Run("manifest", func(t *testing.T) {
		type record struct {
			ID        string `json:"id"`
			DateAdded string `json:"date_added"`
			Version   string `json:"version"`
			MediaType string `json:"media_type"`
		}
		var m struct {
			More    bool     `json:"more"`
			Objects []record `json:"objects"`
		}
		a := w.get(t, "partner-viewer", col+"manifest/")
		a.ok(t, &m)
		require.Len(t, m.Objects, len(all.Objects))
		hs := heads(t, all.Objects)
		for i, r := range m.Objects {
			require.Equal(t, hs[i].ID, r.ID)
			require.Equal(t, stix.MediaType, r.MediaType)
			require.NotEmpty(t, r.DateAdded)
			require.NotEmpty(t, r.Version)
			if hs[i].Modified != "" {
				require.Equal(t, hs[i].Modified, r.Version)
			}
		}
		require.Equal(t, m.Objects[0].DateAdded, a.header.Get("X-TAXII-Date-Added-First"))
		require.Equal(t, m.Objects[len(m.Objects)-1].DateAdded, a.header.Get("X-TAXII-Date-Added-Last"))
		pages := w.pageAll(t, "partner-viewer", col+"manifest/", 4)
		got := map[string]bool{}
		for _, p := range pages {
			for _, r := range heads(t, p.Objects) {
				got[r.ID] = true
			}
		}
		want := map[string]bool{}
		for _, r := range m.Objects {
			want[r.ID] = true
		}
		require.Equal(t, want, got)
	})

	t.Run("added_after", func(t *testing.T) {
		a := w.get(t, "partner-viewer", col+"objects/")
		last := a.header.Get("X-TAXII-Date-Added-Last")
		require.NotEmpty(t, last)
		var env taxiiEnvelope
		after := w.get(t, "partner-viewer", col+"objects/?added_after="+url.QueryEscape(last))
		after.ok(t, &env)
		require.Empty(t, env.Objects, "nothing was added after the last object")
		require.False(t, env.More)
		require.Empty(t, after.header.Get("X-TAXII-Date-Added-First"))

		// A new observable on the GREEN incident re-adds that incident's
		// objects, and only those.
		w.observe(t, green, map[string]any{"type": "url", "value": "https://login-cityhall.example/new"})
		w.get(t, "partner-viewer", col+"objects/?added_after="+url.QueryEscape(last)).ok(t, &env)
		require.Equal(t, []string{green.Reference}, incidentRefs(t, env.Objects))
		require.Contains(t, string(joined(env.Objects)), "https://login-cityhall.example/new")
		var m struct {
			Objects []struct {
				DateAdded string `json:"date_added"`
			} `json:"objects"`
		}
		w.get(t, "partner-viewer", col+"manifest/?added_after="+url.QueryEscape(last)).ok(t, &m)
		require.Len(t, m.Objects, len(env.Objects))
		for _, r := range m.Objects {
			require.Greater(t, r.DateAdded, last)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		post := func(user, path string) taxiiAnswer {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, w.h.URL+path, strings.NewReader(`{"objects":[]}`))
			require.NoError(t, err)
			req.Header.Set("Accept", taxii.MediaType)
			req.Header.Set("Content-Type", taxii.MediaType)
			req.Header.Set("Authorization", "Bearer "+w.tokens[user])
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return taxiiAnswer{status: resp.StatusCode, header: resp.Header, body: body}
		}
		post("partner-viewer", col+"objects/").failed(t, http.StatusForbidden)
		post("partner-viewer", taxiiCollections+w.orgs["city-b"].ID.String()+"/objects/").failed(t, http.StatusNotFound)
		// A method a resource does not take: a TAXII error too.
		post("partner-viewer", col+"manifest/").failed(t, http.StatusNotFound)
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=x", "added_after=yesterday", "next=garbage", "match[version]=latest",
			"colour=blue", "cursor=x"} {
			w.get(t, "partner-viewer", col+"objects/?"+q).failed(t, http.StatusBadRequest)
			w.get(t, "partner-viewer", col+"manifest/?"+q).failed(t, http.StatusBadRequest)
		}
		w.get(t, "partner-viewer", taxiiCollections+"?limit=3").failed(t, http.StatusBadRequest)
	})
}

func joined(objs []json.RawMessage) []byte {
	var b bytes.Buffer
	for _, o := range objs {
		b.Write(o)
	}
	return b.Bytes()
}

var taxiiUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func taxiiNorm(b []byte) string { return taxiiUUID.ReplaceAllString(string(b), "ID") }

// TestTAXIIPartnerSeesOnlyWhatIsShared proves, across organisations, that
// a feed holds exactly what the visibility rule lets the caller's
// organisation see: the partner's token gets city-a's incidents shared with
// it (a TLP:GREEN one, a TLP:AMBER one shared explicitly), never an
// unshared TLP:AMBER one, another city's incident, a TLP:RED incident or a
// TLP:RED observable — not as objects, not as manifest records, not by ID
// — and the reporting city's own feed leaves out what only named people may
// see (TLP:RED), while the regional CERT's holds both cities.
func TestTAXIIPartnerSeesOnlyWhatIsShared(t *testing.T) {
	t.Parallel()
	w := taxiiSetup(t)
	shared := w.report(t, "a-reporter", "Shared defacement", "TLP:GREEN")
	w.observe(t, shared, map[string]any{"type": "domain", "value": "shared-deface.example"})
	w.observe(t, shared, map[string]any{"type": "ipv4", "value": "203.0.113.66", "tlp": "TLP:RED", "note": "red-note-canary"})
	sharedAmber := w.report(t, "a-reporter", "Shared AMBER intrusion", "TLP:AMBER")
	w.observe(t, sharedAmber, map[string]any{"type": "domain", "value": "shared-amber.example"})
	unshared := w.report(t, "a-reporter", "Unshared AMBER canary-title", "TLP:AMBER")
	w.observe(t, unshared, map[string]any{"type": "domain", "value": "unshared-amber.example"})
	unsharedGreen := w.report(t, "a-reporter", "Unshared GREEN canary-title", "TLP:GREEN")
	red := w.report(t, "a-reporter", "Red canary-title", "TLP:RED")
	w.observe(t, red, map[string]any{"type": "domain", "value": "red-incident.example"})
	other := w.report(t, "b-reporter", "Other city canary-title", "TLP:GREEN")
	r := w.h.As(w.tokens["b-reporter"]).Request(http.MethodPost, "/api/v1/incidents/"+other.ID+"/observables",
		map[string]any{"type": "domain", "value": "other-city.example"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	w.share(t, shared, "partner")
	w.share(t, sharedAmber, "partner")

	cityA, cityB := w.orgs["city-a"].ID.String(), w.orgs["city-b"].ID.String()
	feed := func(user, id string) []json.RawMessage {
		t.Helper()
		var env taxiiEnvelope
		w.get(t, user, taxiiCollections+id+"/objects/").ok(t, &env)
		return env.Objects
	}
	secrets := []string{"canary-title", "203.0.113.66", "red-note-canary", "unshared-amber.example", "red-incident.example",
		"other-city.example", unshared.Reference, red.Reference, other.Reference, unsharedGreen.Reference}
	clean := func(where string, body []byte) {
		t.Helper()
		for _, s := range secrets {
			require.NotContains(t, string(body), s, "%s carries %s", where, s)
		}
	}

	partner := feed("partner-viewer", cityA)
	require.ElementsMatch(t, []string{shared.Reference, sharedAmber.Reference}, incidentRefs(t, partner))
	for _, p := range []string{"/taxii2/", "/taxii2/certdesk/", taxiiCollections, taxiiCollections + cityA + "/",
		taxiiCollections + cityA + "/objects/", taxiiCollections + cityA + "/manifest/",
		taxiiCollections + cityA + "/objects/?match[type]=indicator,ipv4-addr,incident"} {
		clean(p, w.get(t, "partner-viewer", p).body)
	}
	for _, p := range w.pageAll(t, "partner-viewer", taxiiCollections+cityA+"/objects/", 2) {
		clean("a page", joined(p.Objects))
	}
	w.get(t, "partner-viewer", taxiiCollections+cityB+"/objects/").failed(t, http.StatusNotFound)

	// The objects of what the partner may not see, found in the regional
	// CERT's feed, answer 404 to the partner by ID.
	north := feed("north-coordinator", cityA)
	require.ElementsMatch(t, []string{shared.Reference, sharedAmber.Reference, unshared.Reference, unsharedGreen.Reference},
		incidentRefs(t, north), "the regional CERT's feed: all of city-a's but TLP:RED")
	require.NotContains(t, string(joined(north)), "203.0.113.66", "a TLP:RED observable is in no feed")
	partnerIDs := map[string]bool{}
	for _, h := range heads(t, partner) {
		partnerIDs[h.ID] = true
	}
	hiddenIDs := 0
	for _, h := range heads(t, north) {
		if partnerIDs[h.ID] {
			continue
		}
		hiddenIDs++
		a := w.get(t, "partner-viewer", taxiiCollections+cityA+"/objects/"+h.ID+"/")
		a.failed(t, http.StatusNotFound)
		clean("object "+h.ID, a.body)
		var env taxiiEnvelope
		w.get(t, "partner-viewer", taxiiCollections+cityA+"/objects/?match[id]="+h.ID).ok(t, &env)
		require.Empty(t, env.Objects, h.ID)
	}
	require.Positive(t, hiddenIDs)
	require.ElementsMatch(t, []string{other.Reference}, incidentRefs(t, feed("north-coordinator", cityB)))

	// The reporting city's own feed: its own incidents but the TLP:RED
	// one, which only its named participants see (in the API, not here).
	own := feed("a-reporter", cityA)
	require.ElementsMatch(t, []string{shared.Reference, sharedAmber.Reference, unshared.Reference, unsharedGreen.Reference},
		incidentRefs(t, own))
	require.NotContains(t, string(joined(own)), "red-incident.example")
	require.NotContains(t, string(joined(own)), "203.0.113.66")
	r = w.h.As(w.tokens["a-reporter"]).Request(http.MethodGet, "/api/v1/incidents/"+red.ID, nil)
	require.Equal(t, http.StatusOK, r.Status, "the reporter is a named participant of the TLP:RED incident")
}

// TestTAXIIPagesAcrossBatches: a collection larger than one read of the
// store (50 incidents) pages through every incident exactly once, with
// each page's next, and answers one filtered page across the batches.
// The workers stay stopped, so that no routing changes an incident (and
// its feed time) while the pages are read.
func TestTAXIIPagesAcrossBatches(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true, Playbooks: testapp.NoPlaybooks})
	w := &taxiiWorld{h: h, tokens: map[string]string{}, orgs: map[string]*org.Organization{}}
	w.orgs["north"] = h.Org("north", org.RegionalCERT, "")
	w.orgs["city-a"] = h.Org("city-a", org.LocalAuthority, "north")
	_, w.tokens["a-reporter"] = h.User("city-a", access.Reporter)
	_, w.tokens["north-viewer"] = h.User("north", access.Viewer)
	const n = 61
	refs := map[string]bool{}
	for i := range n {
		r := h.As(w.tokens["a-reporter"]).Request(http.MethodPost, "/api/v1/incidents",
			map[string]any{"title": "Batch incident " + strconv.Itoa(i), "tlp": "TLP:GREEN"})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		var inc taxiiIncident
		r.JSON(t, &inc)
		refs[inc.Reference] = true
	}
	col := taxiiCollections + w.orgs["city-a"].ID.String() + "/objects/"

	got := map[string]int{}
	for _, p := range w.pageAll(t, "north-viewer", col, 13) {
		for _, ref := range incidentRefs(t, p.Objects) {
			got[ref]++
		}
	}
	require.Len(t, got, n)
	for ref, k := range got {
		require.True(t, refs[ref], ref)
		require.Equal(t, 1, k, "%s once", ref)
	}

	var env taxiiEnvelope
	w.get(t, "north-viewer", col+"?match[type]=incident&limit=1000").ok(t, &env)
	require.False(t, env.More)
	require.Len(t, env.Objects, n)
	w.get(t, "north-viewer", col+"?match[type]=incident&limit=60").ok(t, &env)
	require.True(t, env.More)
	require.Len(t, env.Objects, 60)
	w.get(t, "north-viewer", col+"?match[type]=incident&limit=60&next="+url.QueryEscape(env.Next)).ok(t, &env)
	require.False(t, env.More)
	require.Len(t, env.Objects, 1)
}
