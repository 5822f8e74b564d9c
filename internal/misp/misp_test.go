package misp_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/misp/misptest"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

// sample is an export with one observable of every type under every TLP,
// in a TLP:AMBER incident coordinated by a regional CERT.
func sample(t *testing.T) *observable.Export {
	t.Helper()
	city := org.Organization{ID: uuid.MustParse("11111111-1111-4111-8111-111111111111"), Slug: "city", Name: "City of Rivertown", Kind: org.LocalAuthority}
	region := org.Organization{ID: uuid.MustParse("22222222-2222-4222-8222-222222222222"), Slug: "region", Name: "CERT North", Kind: org.RegionalCERT}
	inc := &incident.Incident{ID: uuid.MustParse("33333333-3333-4333-8333-333333333333"), Reference: "INC-2026-000042",
		Title: "Ransomware on the\nfile server " + strings.Repeat("x", 300), ReportingOrgID: city.ID, CoordinatingOrgID: &region.ID,
		Stage: incident.Response, Status: incident.Open, Severity: incident.High, TLP: incident.TLPAmber, PAP: incident.PAPGreen, ReportedAt: t0,
		CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Hour), Category: "malicious-code", Type: "infected-system", Tags: []string{"ransomware"}}
	exp := &observable.Export{Incident: inc, Reporting: city, Coordinating: &region}
	for i, v := range []struct {
		typ observable.Type
		raw string
	}{
		{observable.IPv4, "198.51.100.7"}, {observable.IPv6, "2001:db8::7"}, {observable.Domain, "evil.example"},
		{observable.URL, "https://evil.example/x?q=1"}, {observable.Email, "phish@evil.example"},
		{observable.MD5, "d41d8cd98f00b204e9800998ecf8427e"}, {observable.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{observable.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{observable.Filename, "Rechnung März.pdf.exe"}, {observable.CVE, "CVE-2024-3094"}, {observable.ASN, "AS64500"},
	} {
		val, err := observable.Normalize(v.typ, v.raw)
		require.NoError(t, err)
		tlp := incident.TLPAmber
		if i%2 == 1 {
			tlp = incident.TLPAmberStrict
		}
		pap := incident.PAPGreen
		if i == 0 {
			pap = incident.PAPRed
		}
		exp.Observables = append(exp.Observables, observable.Observable{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(val)),
			IncidentID: inc.ID, Type: v.typ, Value: val, TLP: tlp, PAP: pap, Sighted: i == 0, Note: "seen in the proxy log",
			Tags: []string{"proxy"}, CreatedAt: t0.Add(time.Duration(i) * time.Minute), UpdatedAt: t0.Add(time.Duration(i) * time.Hour)})
	}
	return exp
}

// TestEventFollowsTheDraft checks the export against the draft's required
// keys and types (misptest's schema) and its category and type table.
func TestEventFollowsTheDraft(t *testing.T) {
	t.Parallel()
	body, err := misp.Encode(sample(t))
	require.NoError(t, err)
	require.NoError(t, misptest.Check(body))

	// The checker refuses what the draft does not allow.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	for name, spoil := range map[string]func(ev map[string]any){
		"missing uuid":          func(ev map[string]any) { delete(ev, "uuid") },
		"published as a string": func(ev map[string]any) { ev["published"] = "false" },
		"distribution 9":        func(ev map[string]any) { ev["distribution"] = "9" },
		"wrong category": func(ev map[string]any) {
			ev["Attribute"].([]any)[1].(map[string]any)["category"] = "Person"
		},
		"to_ids missing": func(ev map[string]any) { delete(ev["Attribute"].([]any)[1].(map[string]any), "to_ids") },
	} {
		var cp map[string]any
		require.NoError(t, json.Unmarshal(body, &cp))
		spoil(cp["Event"].(map[string]any))
		b, err := json.Marshal(cp)
		require.NoError(t, err)
		require.Error(t, misptest.Check(b), name)
	}
}

func TestEventContent(t *testing.T) {
	t.Parallel()
	exp := sample(t)
	f, err := misp.Build(exp)
	require.NoError(t, err)
	ev := f.Event
	require.Equal(t, exp.Incident.ID.String(), ev.UUID, "the event is the incident")
	require.NotContains(t, ev.Info, "\n")
	require.LessOrEqual(t, len([]rune(ev.Info)), 256)
	require.Equal(t, "1", ev.ThreatLevelID, "high")
	require.Equal(t, "0", ev.Analysis)
	require.Equal(t, misp.YourOrganisationOnly, ev.Distribution, "amber stays in the organisation")
	require.Equal(t, "2026-03-01", ev.Date)
	require.Equal(t, "City of Rivertown", ev.Orgc.Name)
	require.Equal(t, "CERT North", ev.Org.Name)
	var tags []string
	for _, tg := range ev.Tag {
		tags = append(tags, tg.Name)
	}
	require.Equal(t, []string{"tlp:amber", "PAP:GREEN", `rsit:malicious-code="infected-system"`, "ransomware"}, tags)
	require.Equal(t, "#33ff00", ev.Tag[1].Colour, "the PAP taxonomy's colour")
	require.Len(t, ev.Attribute, 1+len(exp.Observables))
	require.Equal(t, "INC-2026-000042", ev.Attribute[0].Value)
	require.Equal(t, misp.ReferenceComment, ev.Attribute[0].Comment)
	byValue := map[string]misp.Attribute{}
	for _, a := range ev.Attribute[1:] {
		byValue[a.Value] = a
	}
	ip := byValue["198.51.100.7"]
	require.Equal(t, "ip-dst", ip.Type)
	require.True(t, ip.ToIDs)
	require.Equal(t, misp.InheritEvent, ip.Distribution, "the incident's label: the event's distribution")
	require.Equal(t, "tlp:amber", ip.Tag[0].Name)
	require.Equal(t, "PAP:RED", ip.Tag[1].Name, "the observable's own PAP")
	require.Equal(t, "certdesk:sighted", ip.Tag[2].Name)
	require.Equal(t, "PAP:GREEN", byValue["2001:db8::7"].Tag[1].Name)
	v6 := byValue["2001:db8::7"]
	require.Equal(t, "tlp:amber+strict", v6.Tag[0].Name)
	require.Equal(t, misp.YourOrganisationOnly, v6.Distribution)
	require.False(t, byValue["CVE-2024-3094"].ToIDs)
	require.Equal(t, "vulnerability", byValue["CVE-2024-3094"].Type)
	require.Equal(t, "AS", byValue["AS64500"].Type)
	require.Equal(t, exp.Observables[3].ID.String(), byValue[exp.Observables[3].Value].UUID, "an attribute is its observable")
	require.Equal(t, strconv.FormatInt(t0.Add(10*time.Hour).Unix(), 10), ev.Timestamp, "the newest change: the last observable's, 10 hours in")
}

// TestEventIsStable: the same export gives the same bytes.
func TestEventIsStable(t *testing.T) {
	t.Parallel()
	a, err := misp.Encode(sample(t))
	require.NoError(t, err)
	b, err := misp.Encode(sample(t))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
}

func TestDistributionAndTags(t *testing.T) {
	t.Parallel()
	for tlp, want := range map[incident.TLP][2]string{
		incident.TLPClear: {misp.AllCommunities, "tlp:clear"}, incident.TLPGreen: {misp.ThisCommunityOnly, "tlp:green"},
		incident.TLPAmber: {misp.YourOrganisationOnly, "tlp:amber"}, incident.TLPAmberStrict: {misp.YourOrganisationOnly, "tlp:amber+strict"},
		incident.TLPRed: {misp.YourOrganisationOnly, "tlp:red"},
	} {
		require.Equal(t, want[0], misp.DistributionOf(tlp), tlp)
		require.Equal(t, want[1], misp.TLPTag(tlp).Name, tlp)
	}
	require.Equal(t, "rsit:fraud", misp.RSITTag("fraud", ""))
	require.Equal(t, "", misp.RSITTag("", ""))
}
