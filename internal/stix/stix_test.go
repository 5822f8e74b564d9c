package stix_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/certdesk/certdesk/internal/stix/stixtest"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)

// sample is an export with one observable of every type, sighted and not,
// under every TLP, in a TLP:AMBER incident coordinated by a regional CERT.
func sample(t *testing.T) *observable.Export {
	t.Helper()
	city := org.Organization{ID: uuid.MustParse("11111111-1111-4111-8111-111111111111"), Slug: "city", Name: "City of Rivertown",
		Kind: org.LocalAuthority, ContactEmail: "it@rivertown.example", CreatedAt: t0, UpdatedAt: t0}
	region := org.Organization{ID: uuid.MustParse("22222222-2222-4222-8222-222222222222"), Slug: "region", Name: "CERT North",
		Kind: org.RegionalCERT, CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)}
	inc := &incident.Incident{ID: uuid.MustParse("33333333-3333-4333-8333-333333333333"), Reference: "INC-2026-000042",
		Title: "Ransomware on the file server", Description: "Files renamed to *.locked; note says <pay>.",
		ReportingOrgID: city.ID, CoordinatingOrgID: &region.ID, Stage: incident.Response, Status: incident.Open,
		Severity: incident.High, TLP: incident.TLPAmber, PAP: incident.PAPAmber, ReportedAt: t0, CreatedAt: t0, UpdatedAt: t0.Add(2 * time.Hour),
		Version: 3, ReportingOrgSlug: "city", CoordinatingOrgSlug: "region"}
	values := []struct {
		typ observable.Type
		raw string
	}{
		{observable.IPv4, "198.51.100.7"}, {observable.IPv6, "2001:db8::7"}, {observable.Domain, "evil.example"},
		{observable.URL, "https://evil.example/it's\\here?q=1"}, {observable.Email, "phish@evil.example"},
		{observable.MD5, "d41d8cd98f00b204e9800998ecf8427e"}, {observable.SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{observable.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{observable.Filename, "Rechnung März.pdf.exe"}, {observable.CVE, "CVE-2024-3094"}, {observable.ASN, "AS64500"},
	}
	exp := &observable.Export{Incident: inc, Reporting: city, Coordinating: &region}
	for i, v := range values {
		val, err := observable.Normalize(v.typ, v.raw)
		require.NoError(t, err)
		o := observable.Observable{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(val)), IncidentID: inc.ID, Type: v.typ, Value: val,
			TLP: incident.TLPs[i%len(incident.TLPs)], PAP: incident.PAPs[i%len(incident.PAPs)], Sighted: i%2 == 0, Note: "seen in the proxy log",
			CreatedAt: t0.Add(time.Duration(i) * time.Minute), UpdatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if i%3 == 0 {
			o.Tags = []string{"phishing", "tlp-checked"}
		}
		if i == 4 {
			o.UpdatedAt = o.CreatedAt.Add(time.Hour)
		}
		exp.Observables = append(exp.Observables, o)
	}
	return exp
}

func build(t *testing.T, exp *observable.Export) []byte {
	t.Helper()
	b, err := stix.Build(exp)
	require.NoError(t, err)
	out, err := json.Marshal(b)
	require.NoError(t, err)
	return out
}

type object = map[string]any

func objects(t *testing.T, bundle []byte) []object {
	t.Helper()
	var b struct{ Objects []object }
	require.NoError(t, json.Unmarshal(bundle, &b))
	return b.Objects
}

func TestBundleIsValidSTIX(t *testing.T) {
	t.Parallel()
	bundle := build(t, sample(t))
	require.NoError(t, stixtest.Validate(bundle), "%s", bundle)
	require.NotContains(t, string(bundle), "it@rivertown.example", "identities carry no contact details")

	objs := objects(t, bundle)
	byID := map[string]object{}
	count := map[string]int{}
	for _, o := range objs {
		id := o["id"].(string)
		require.NotContains(t, byID, id, "ids are unique in a bundle")
		byID[id] = o
		count[o["type"].(string)]++
	}
	require.Equal(t, map[string]int{
		"marking-definition": 5 + 4, "identity": 2, "incident": 1,
		"indicator": 10, "vulnerability": 1, "relationship": 11 + 1, "observed-data": 6, "sighting": 6,
		"ipv4-addr": 1, "ipv6-addr": 1, "domain-name": 1, "url": 1, "email-addr": 1, "file": 4, "autonomous-system": 1,
	}, count)

	// Every reference points at an object of the bundle; every object but
	// the identities and the marking definitions is marked.
	for _, o := range objs {
		for k, v := range o {
			var refs []any
			switch {
			case strings.HasSuffix(k, "_ref"):
				refs = []any{v}
			case strings.HasSuffix(k, "_refs"):
				refs = v.([]any)
			}
			for _, r := range refs {
				require.Contains(t, byID, r, "%s of %s points into the bundle", k, o["id"])
			}
		}
		switch o["type"] {
		case "identity", "marking-definition":
		default:
			require.Len(t, o["object_marking_refs"], 2, "%s carries one TLP and one PAP marking", o["id"])
		}
	}

	// The incident: its TLP, its reference, created by the reporter.
	var inc object
	for _, o := range objs {
		if o["type"] == "incident" {
			inc = o
		}
	}
	require.Equal(t, "Ransomware on the file server", inc["name"])
	require.Equal(t, []any{stix.TLPMarkingIDs[incident.TLPAmber], stix.PAPMarkingIDs[incident.PAPAmber]}, inc["object_marking_refs"])
	require.Equal(t, "INC-2026-000042", inc["external_references"].([]any)[0].(object)["external_id"])
	require.Equal(t, "City of Rivertown", byID[inc["created_by_ref"].(string)]["name"])
	require.Equal(t, "2026-03-01T09:30:00.123Z", inc["created"])
	require.Equal(t, []any{"severity:high", "stage:response", "status:open"}, inc["labels"])

	// Indicators: STIX patterns, with quotes and backslashes escaped.
	patterns := map[string]string{}
	for _, o := range objs {
		if o["type"] == "indicator" {
			patterns[o["name"].(string)] = o["pattern"].(string)
			require.Equal(t, "stix", o["pattern_type"])
		}
	}
	require.Equal(t, "[ipv4-addr:value = '198.51.100.7']", patterns["ipv4 198.51.100.7"])
	require.Equal(t, `[url:value = 'https://evil.example/it\'s\\here?q=1']`, patterns[`url https://evil.example/it's\here?q=1`])
	require.Equal(t, "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
		patterns["sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])
	require.Equal(t, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", patterns["md5 d41d8cd98f00b204e9800998ecf8427e"])
	require.Equal(t, "[autonomous-system:number = 64500]", patterns["asn AS64500"])
	require.Equal(t, "[file:name = 'Rechnung März.pdf.exe']", patterns["filename Rechnung März.pdf.exe"])
}

func TestMarkings(t *testing.T) {
	t.Parallel()
	exp := sample(t)
	objs := objects(t, build(t, exp))
	byID := map[string]object{}
	for _, o := range objs {
		byID[o["id"].(string)] = o
	}
	// The five OASIS TLP 2.0 definitions, as published.
	for tlp, id := range stix.TLPMarkingIDs {
		md := byID[id]
		require.NotNil(t, md, "%s is defined in the bundle", tlp)
		require.Equal(t, string(tlp), md["name"])
		require.Equal(t, "2022-10-01T00:00:00.000Z", md["created"])
		ext := md["extensions"].(object)[stix.TLPExtensionID].(object)
		require.Equal(t, "property-extension", ext["extension_type"])
		require.Equal(t, strings.ToLower(strings.TrimPrefix(string(tlp), "TLP:")), ext["tlp_2_0"])
	}
	// An observable's objects carry its TLP; the links to the incident the
	// stricter of its and the incident's.
	for _, o := range objs {
		marks, _ := o["object_marking_refs"].([]any)
		switch o["type"] {
		case "indicator", "ipv4-addr", "url", "vulnerability", "observed-data":
			require.NotEmpty(t, marks)
		case "relationship":
			if strings.HasPrefix(o["source_ref"].(string), "identity--") {
				continue
			}
			src := byID[o["source_ref"].(string)]
			own := src["object_marking_refs"].([]any)[0]
			want := own
			if own == stix.TLPMarkingIDs[incident.TLPClear] || own == stix.TLPMarkingIDs[incident.TLPGreen] {
				want = stix.TLPMarkingIDs[incident.TLPAmber] // the incident's is stricter
			}
			require.Equal(t, []any{want, src["object_marking_refs"].([]any)[1]}, marks, "relationship from %s", src["type"])
		}
	}

	// Only the labels in use are defined.
	exp.Observables = exp.Observables[:1] // TLP:RED, in an AMBER incident
	got := map[string]bool{}
	for _, o := range objects(t, build(t, exp)) {
		if o["type"] == "marking-definition" {
			got[o["name"].(string)] = true
		}
	}
	require.Equal(t, map[string]bool{"TLP:RED": true, "TLP:AMBER": true, "PAP:RED": true, "PAP:AMBER": true}, got)
}

func TestStableIDs(t *testing.T) {
	t.Parallel()
	a, b := build(t, sample(t)), build(t, sample(t))
	require.Equal(t, string(a), string(b), "re-exporting the same data gives the same bytes")

	// The same IP address in another incident: the same SCO ID, other SDO IDs.
	other := sample(t)
	other.Incident.ID = uuid.MustParse("44444444-4444-4444-8444-444444444444")
	for i := range other.Observables {
		other.Observables[i].ID = uuid.New()
	}
	ids := func(bundle []byte) map[string]string {
		out := map[string]string{}
		for _, o := range objects(t, bundle) {
			if o["type"] == "ipv4-addr" || o["type"] == "incident" || o["type"] == "indicator" && strings.HasPrefix(o["name"].(string), "ipv4") {
				out[o["type"].(string)] = o["id"].(string)
			}
		}
		return out
	}
	x, y := ids(a), ids(build(t, other))
	require.Equal(t, x["ipv4-addr"], y["ipv4-addr"])
	require.NotEqual(t, x["incident"], y["incident"])
	require.NotEqual(t, x["indicator"], y["indicator"])

	// SCO IDs follow STIX 2.1 section 2.9: UUIDv5 over the canonical JSON
	// of the ID-contributing properties in the SCO namespace.
	require.Equal(t, "ipv4-addr--"+uuid.NewSHA1(stix.SCONamespace, []byte(`{"value":"198.51.100.7"}`)).String(), x["ipv4-addr"])
	for _, o := range objects(t, a) {
		switch o["type"] {
		case "file":
			var key string
			if h, ok := o["hashes"].(object); ok {
				for algo, v := range h {
					key = `{"hashes":{"` + algo + `":"` + v.(string) + `"}}`
				}
			} else {
				key = `{"name":"` + o["name"].(string) + `"}`
			}
			require.Equal(t, "file--"+uuid.NewSHA1(stix.SCONamespace, []byte(key)).String(), o["id"], key)
		case "autonomous-system":
			require.Equal(t, "autonomous-system--"+uuid.NewSHA1(stix.SCONamespace, []byte(`{"number":64500}`)).String(), o["id"])
		}
	}

	// A change shows in modified, not in the IDs.
	changed := sample(t)
	changed.Incident.Title = "Ransomware, contained"
	changed.Incident.UpdatedAt = changed.Incident.UpdatedAt.Add(time.Hour)
	require.Equal(t, x["incident"], ids(build(t, changed))["incident"])
}

// TestSchemaRefusesBrokenBundles proves that the schemas can fail: each
// case breaks one rule of the specification in a valid bundle.
func TestSchemaRefusesBrokenBundles(t *testing.T) {
	t.Parallel()
	valid := build(t, sample(t))
	first := func(objs []object, typ string) object {
		for _, o := range objs {
			if o["type"] == typ {
				return o
			}
		}
		t.Fatalf("no %s", typ)
		return nil
	}
	for _, tc := range []struct {
		name   string
		break_ func(b object, objs []object)
	}{
		{"indicator without pattern", func(_ object, objs []object) { delete(first(objs, "indicator"), "pattern") }},
		{"indicator without valid_from", func(_ object, objs []object) { delete(first(objs, "indicator"), "valid_from") }},
		{"indicator with an unknown pattern_type", func(_ object, objs []object) { first(objs, "indicator")["pattern_type"] = "regex" }},
		{"stix pattern without brackets", func(_ object, objs []object) {
			first(objs, "indicator")["pattern"] = "ipv4-addr:value = '1.2.3.4'"
		}},
		{"incident without name", func(_ object, objs []object) { delete(first(objs, "incident"), "name") }},
		{"incident without modified", func(_ object, objs []object) { delete(first(objs, "incident"), "modified") }},
		{"spec_version 2.0", func(_ object, objs []object) { first(objs, "incident")["spec_version"] = "2.0" }},
		{"timestamp without Z", func(_ object, objs []object) { first(objs, "incident")["created"] = "2026-03-01T09:30:00+01:00" }},
		{"timestamp without seconds", func(_ object, objs []object) { first(objs, "indicator")["valid_from"] = "2026-03-01T09:30Z" }},
		{"id of another type", func(_ object, objs []object) {
			first(objs, "incident")["id"] = "indicator--" + uuid.NewString()
		}},
		{"id that is no UUID", func(_ object, objs []object) { first(objs, "identity")["id"] = "identity--city-of-rivertown" }},
		{"property the spec does not define", func(_ object, objs []object) { first(objs, "incident")["severity"] = "high" }},
		{"marking ref to a non-marking", func(_ object, objs []object) {
			first(objs, "indicator")["object_marking_refs"] = []any{"identity--" + uuid.NewString()}
		}},
		{"empty labels", func(_ object, objs []object) { first(objs, "incident")["labels"] = []any{} }},
		{"relationship without target", func(_ object, objs []object) { delete(first(objs, "relationship"), "target_ref") }},
		{"sighting without sighting_of_ref", func(_ object, objs []object) { delete(first(objs, "sighting"), "sighting_of_ref") }},
		{"observed-data with 0 observations", func(_ object, objs []object) { first(objs, "observed-data")["number_observed"] = 0 }},
		{"ipv4-addr with a bad value", func(_ object, objs []object) { first(objs, "ipv4-addr")["value"] = "999.1.1.1" }},
		{"file without hashes or name", func(_ object, objs []object) {
			f := first(objs, "file")
			delete(f, "hashes")
			delete(f, "name")
		}},
		{"file with a short MD5", func(_ object, objs []object) {
			for _, o := range objs {
				if h, ok := o["hashes"].(object); ok && h["MD5"] != nil {
					h["MD5"] = "d41d8cd9"
				}
			}
		}},
		{"autonomous-system number as string", func(_ object, objs []object) { first(objs, "autonomous-system")["number"] = "AS64500" }},
		{"TLP marking with the wrong name", func(_ object, objs []object) { first(objs, "marking-definition")["name"] = "TLP:WHITE" }},
		{"TLP marking with a made-up id", func(_ object, objs []object) {
			first(objs, "marking-definition")["id"] = "marking-definition--" + uuid.NewString()
		}},
		{"marking without definition or extensions", func(_ object, objs []object) {
			delete(first(objs, "marking-definition"), "extensions")
		}},
		{"bundle with spec_version", func(b object, _ []object) { b["spec_version"] = "2.1" }},
		{"bundle of another type", func(b object, _ []object) { b["type"] = "report" }},
		{"object of a type certdesk does not emit", func(_ object, objs []object) { first(objs, "incident")["type"] = "x-incident" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b object
			require.NoError(t, json.Unmarshal(valid, &b))
			raw := b["objects"].([]any)
			objs := make([]object, len(raw))
			for i := range raw {
				objs[i] = raw[i].(object)
			}
			tc.break_(b, objs)
			broken, err := json.Marshal(b)
			require.NoError(t, err)
			require.Error(t, stixtest.Validate(broken), "the schema accepts a bundle with %s", tc.name)
		})
	}
}

// TestPAPMarkings: the incident carries its PAP and each observable its
// own, through the PAP marking definitions OASIS publishes (the PAP
// extension of cti-stix-common-objects), and only those in use are in the
// bundle.
func TestPAPMarkings(t *testing.T) {
	t.Parallel()
	exp := sample(t)
	exp.Incident.PAP = incident.PAPGreen
	exp.Observables = exp.Observables[:2]
	exp.Observables[0].PAP = incident.PAPRed   // ipv4: passive use only
	exp.Observables[1].PAP = incident.PAPClear // ipv6: no restriction
	bundle := build(t, exp)
	require.NoError(t, stixtest.Validate(bundle), "%s", bundle)
	byID := map[string]object{}
	defined := map[string]bool{}
	for _, o := range objects(t, bundle) {
		byID[o["id"].(string)] = o
		if o["type"] == "marking-definition" {
			defined[o["name"].(string)] = true
		}
	}
	require.Equal(t, map[string]bool{"TLP:RED": true, "TLP:AMBER+STRICT": true, "TLP:AMBER": true,
		"PAP:RED": true, "PAP:GREEN": true, "PAP:CLEAR": true}, defined)
	for pap, id := range stix.PAPMarkingIDs {
		md := byID[id]
		if md == nil {
			continue
		}
		require.Equal(t, string(pap), md["name"])
		ext := md["extensions"].(object)[stix.PAPExtensionID].(object)
		require.Equal(t, "property-extension", ext["extension_type"])
		require.Equal(t, strings.ToLower(pap.Level()), ext["pap"])
	}
	papOf := func(o object) string { return o["object_marking_refs"].([]any)[1].(string) }
	for _, o := range byID {
		switch o["type"] {
		case "incident":
			require.Equal(t, stix.PAPMarkingIDs[incident.PAPGreen], papOf(o))
		case "indicator":
			want := map[string]incident.PAP{"ipv4 198.51.100.7": incident.PAPRed, "ipv6 2001:db8::7": incident.PAPClear}[o["name"].(string)]
			require.Equal(t, stix.PAPMarkingIDs[want], papOf(o), "%s", o["name"])
		case "ipv4-addr":
			require.Equal(t, stix.PAPMarkingIDs[incident.PAPRed], papOf(o))
		}
	}

	// A definition that is not one OASIS published is refused.
	var doc map[string]any
	require.NoError(t, json.Unmarshal(bundle, &doc))
	for _, o := range doc["objects"].([]any) {
		if o.(map[string]any)["name"] == "PAP:RED" {
			o.(map[string]any)["extensions"].(map[string]any)[stix.PAPExtensionID].(map[string]any)["pap"] = "amber"
		}
	}
	broken, err := json.Marshal(doc)
	require.NoError(t, err)
	require.Error(t, stixtest.Validate(broken), "a PAP:RED definition that says amber")
}
