package httpapi_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/misp/misptest"
	"github.com/stretchr/testify/require"
)

type mispImportBody struct {
	Incident struct{ ID, Reference, Title, TLP string }
	Created  bool
	Added    int
	Merged   int
	Skipped  []struct {
		Type, Value, Reason string
	}
	UnknownTypes []string `json:"unknown_types"`
	IgnoredTags  []string `json:"ignored_tags"`
}

// attributeKeys is what must survive a round trip of a MISP event: each
// attribute's type, category, to_ids, distribution, value and tags, and
// the event's tags (the reference attribute names the incident it comes
// from and is left out).
func attributeKeys(t *testing.T, body []byte) (tags []string, attrs []string) {
	t.Helper()
	var f misp.File
	require.NoError(t, json.Unmarshal(body, &f))
	for _, tg := range f.Event.Tag {
		tags = append(tags, tg.Name)
	}
	for _, a := range f.Event.Attribute {
		if a.Comment == misp.ReferenceComment {
			continue
		}
		var names []string
		for _, tg := range a.Tag {
			names = append(names, tg.Name)
		}
		attrs = append(attrs, strings.Join([]string{a.Type, a.Category, a.Value, a.Distribution, a.Comment,
			map[bool]string{true: "ids", false: "no-ids"}[a.ToIDs], strings.Join(names, ",")}, " | "))
	}
	sort.Strings(attrs)
	return tags, attrs
}

// TestMISPImportRoundTrip: export → import as a new incident → export
// gives the same event tags and attributes; unknown attribute types,
// invalid values and certdesk's reference are listed, not dropped
// silently; a value twice is merged.
func TestMISPImportRoundTrip(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Phishing wave at the city hall", "TLP:AMBER")
	r := w.as("a-reporter").Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"category": "fraud", "type": "phishing", "tags": []string{"wave-3"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	for _, o := range []map[string]any{
		{"type": "domain", "value": "login-cityhall.example", "note": "phishing page", "tags": []string{"kit-x"}, "sighted": true},
		{"type": "ipv4", "value": "203.0.113.99", "tlp": "TLP:RED"},
		{"type": "cve", "value": "CVE-2024-3094"},
		{"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e"},
		{"type": "filename", "value": "invoice.pdf.exe"},
		{"type": "email", "value": "phish@evil.example"},
		{"type": "url", "value": "https://login-cityhall.example/owa"},
		{"type": "asn", "value": "AS64500"},
	} {
		w.add(t, "a-reporter", inc.ID, o, http.StatusCreated)
	}
	first := w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/export?format=misp", nil)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)

	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/misp", first.Body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var res mispImportBody
	r.JSON(t, &res)
	require.True(t, res.Created)
	require.Equal(t, 8, res.Added)
	require.Equal(t, "TLP:AMBER", res.Incident.TLP)
	require.Equal(t, "Phishing wave at the city hall", res.Incident.Title)
	require.Len(t, res.Skipped, 1)
	require.Equal(t, misp.SkipReference, res.Skipped[0].Reason)
	require.NotEqual(t, inc.ID, res.Incident.ID)

	second := w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+res.Incident.ID+"/export?format=misp", nil)
	require.Equal(t, http.StatusOK, second.Status, "%s", second.Body)
	require.NoError(t, misptest.Check(second.Body))
	tags1, attrs1 := attributeKeys(t, first.Body)
	tags2, attrs2 := attributeKeys(t, second.Body)
	require.Equal(t, tags1, tags2)
	require.Equal(t, attrs1, attrs2)
	require.Len(t, attrs2, 8)

	// Unknown types, invalid values, a deleted attribute and a value twice,
	// into the existing incident: the values it already holds merge.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(first.Body, &doc))
	ev := doc["Event"].(map[string]any)
	ev["Attribute"] = append(ev["Attribute"].([]any),
		map[string]any{"type": "regkey", "category": "Persistence mechanism", "value": `HKLM\Software\Run\x`},
		map[string]any{"type": "btc", "category": "Financial fraud", "value": "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"},
		map[string]any{"type": "regkey", "category": "Persistence mechanism", "value": `HKLM\Software\Run\y`},
		map[string]any{"type": "domain", "category": "Network activity", "value": "not a domain!"},
		map[string]any{"type": "ip-src|port", "category": "Network activity", "value": "198.51.100.9|443"},
		map[string]any{"type": "filename|sha256", "category": "Payload delivery", "value": "a.exe|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		map[string]any{"type": "domain", "category": "Network activity", "value": "deleted.example", "deleted": true},
		map[string]any{"type": "hostname", "category": "Network activity", "value": "LOGIN-CITYHALL.example", "Tag": []any{map[string]any{"name": "tlp:clear"}}},
	)
	body, err := json.Marshal(doc)
	require.NoError(t, err)
	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/"+res.Incident.Reference+"/misp", body)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var into mispImportBody
	r.JSON(t, &into)
	require.False(t, into.Created)
	require.Equal(t, res.Incident.ID, into.Incident.ID)
	require.Equal(t, 3, into.Added, "198.51.100.9, a.exe and the sha256")
	require.Equal(t, 9, into.Merged, "the eight it holds, and the host name that normalises to one of them")
	require.Equal(t, []string{"btc", "regkey"}, into.UnknownTypes)
	reasons := map[string]int{}
	for _, s := range into.Skipped {
		reasons[s.Reason]++
	}
	require.Equal(t, map[string]int{misp.SkipUnknownType: 3, misp.SkipInvalid: 1, misp.SkipDeleted: 1, misp.SkipReference: 1}, reasons)
	// The tlp:clear attribute merged into an AMBER incident stays AMBER.
	for _, o := range w.list(t, "a-reporter", res.Incident.ID) {
		require.NotEqual(t, "TLP:CLEAR", o.TLP, o.Value)
	}
}

// TestMISPImportRules: the visibility rule and the write table decide, the
// body must be a JSON MISP event, and nothing is written when it fails.
func TestMISPImportRules(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	inc := w.report(t, "a-reporter", "Scan from a hosting provider", "TLP:GREEN")
	event := map[string]any{"Event": map[string]any{"info": "Scanner", "Tag": []any{map[string]any{"name": "tlp:red"}, map[string]any{"name": `rsit:information-gathering="scanner"`}, map[string]any{"name": `misp-galaxy:threat-actor="Some Actor"`}},
		"Attribute": []any{map[string]any{"type": "ip-src", "category": "Network activity", "value": "192.0.2.10"}}}}

	// Another organisation's incident: 404, nothing added.
	r := w.as("b-reporter").Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/misp", event)
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	require.NotContains(t, string(r.Body), "Scan from")
	require.Empty(t, w.list(t, "a-reporter", inc.ID))
	// A viewer sees the incident but may not add observables: 403.
	r = w.as("a-viewer").Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/misp", event)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Empty(t, w.list(t, "a-reporter", inc.ID))
	// Nor create incidents.
	r = w.as("a-viewer").Request(http.MethodPost, "/api/v1/incidents/misp", event)
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)

	// Not JSON, not an event, not JSON at all.
	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/misp", "<xml/>")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/misp", map[string]any{"colour": "red"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/misp", map[string]any{"Event": map[string]any{"uuid": "x", "Attribute": []any{}}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "an event without info: %s", r.Body)
	require.Contains(t, string(r.Body), "Event.info")
	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/misp", "{}", "Content-Type", "text/plain")
	require.Equal(t, http.StatusUnsupportedMediaType, r.Status, "%s", r.Body)
	// Too many attributes.
	many := make([]any, misp.MaxImportAttributes+1)
	for i := range many {
		many[i] = map[string]any{"type": "comment", "category": "Other", "value": "x"}
	}
	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/misp", map[string]any{"Event": map[string]any{"info": "big", "Attribute": many}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)

	// A new incident: TLP and RSIT from the tags, the galaxy tag kept or
	// listed, never lost silently.
	r = w.as("a-reporter").Request(http.MethodPost, "/api/v1/incidents/misp", event)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var res mispImportBody
	r.JSON(t, &res)
	require.Equal(t, "TLP:RED", res.Incident.TLP)
	require.Equal(t, 1, res.Added)
	var got struct {
		Category, Type string
		Tags           []string
	}
	w.as("a-reporter").Request(http.MethodGet, "/api/v1/incidents/"+res.Incident.ID, nil).JSON(t, &got)
	require.Equal(t, "information-gathering", got.Category)
	require.Equal(t, "scanner", got.Type)
	require.Len(t, append(got.Tags, res.IgnoredTags...), 1, "the galaxy tag is a tag or listed as ignored")
	// The TLP:RED import is not seen by the sibling city.
	r = w.as("b-reporter").Request(http.MethodGet, "/api/v1/incidents/"+res.Incident.ID+"/export?format=misp", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
}
