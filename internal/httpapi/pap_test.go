package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/certdesk/certdesk/internal/stix/stixtest"
	"github.com/stretchr/testify/require"
)

// papBody is what these tests read of an incident or an observable.
type papBody struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Value     string `json:"value"`
	TLP       string `json:"tlp"`
	PAP       string `json:"pap"`
	Version   int    `json:"version"`
}

// TestPAPRoundTrip: PAP on incidents and observables through the API:
// the default, create, patch (with a field_changed event), the list
// filter, the validation errors, and the STIX, MISP and CSV exports, and
// MISP import mapping PAP: tags back.
func TestPAPRoundTrip(t *testing.T) {
	t.Parallel()
	w := obsSetup(t)
	rep := w.as("a-reporter")

	// Default PAP:AMBER; a label on creation, prefix and case optional.
	var def, green papBody
	r := rep.Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Scanner hitting the VPN"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &def)
	require.Equal(t, "PAP:AMBER", def.PAP, "the default")
	r = rep.Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing kit on a hijacked site", "pap": "green"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &green)
	require.Equal(t, "PAP:GREEN", green.PAP)

	// Validation errors name the field and the rule.
	for _, tc := range []struct {
		method, path string
		body         any
		field, rule  string
	}{
		{http.MethodPost, "/api/v1/incidents", map[string]any{"title": "x", "pap": "PAP:PURPLE"}, "pap", "enum"},
		{http.MethodPatch, "/api/v1/incidents/" + def.ID, map[string]any{"pap": "amber+strict"}, "pap", "enum"},
		{http.MethodPatch, "/api/v1/incidents/" + def.ID, map[string]any{"pap": nil}, "pap", "required"},
		{http.MethodPatch, "/api/v1/incidents/" + def.ID, map[string]any{"pap": 3}, "pap", "type"},
		{http.MethodPost, "/api/v1/incidents/" + def.ID + "/observables", map[string]any{"type": "ipv4", "value": "198.51.100.1", "pap": "blue"}, "pap", "enum"},
		{http.MethodGet, "/api/v1/incidents?pap=blue", nil, "pap", "enum"},
	} {
		r := rep.Request(tc.method, tc.path, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s %s: %s", tc.method, tc.path, r.Body)
		errs := r.Map(t)["errors"].([]any)
		require.Len(t, errs, 1, "%s", r.Body)
		fe := errs[0].(map[string]any)
		require.Equal(t, tc.field, fe["field"], "%s", r.Body)
		require.Equal(t, tc.rule, fe["rule"], "%s", r.Body)
	}

	// A patch changes it, with a field_changed event; the same label again
	// changes nothing.
	var patched papBody
	r = rep.Request(http.MethodPatch, "/api/v1/incidents/"+def.ID, map[string]any{"pap": "PAP:RED"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &patched)
	require.Equal(t, "PAP:RED", patched.PAP)
	r = rep.Request(http.MethodPatch, "/api/v1/incidents/"+def.ID, map[string]any{"pap": "red"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var again papBody
	r.JSON(t, &again)
	require.Equal(t, patched.Version, again.Version, "no change, no new version")
	var tl timelineBody
	rep.Request(http.MethodGet, "/api/v1/incidents/"+def.ID+"/timeline?kind=field_changed", nil).JSON(t, &tl)
	require.Len(t, tl.Events, 1)
	require.Equal(t, map[string]any{"field": "pap", "old": "PAP:AMBER", "new": "PAP:RED"},
		map[string]any{"field": tl.Events[0].Data["field"], "old": tl.Events[0].Data["old"], "new": tl.Events[0].Data["new"]})

	// The list filter.
	list := func(q string) []string {
		var l struct{ Incidents []papBody }
		r := rep.Request(http.MethodGet, "/api/v1/incidents?"+q, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(t, &l)
		var refs []string
		for _, i := range l.Incidents {
			refs = append(refs, i.Reference)
		}
		slices.Sort(refs)
		return refs
	}
	require.Equal(t, []string{def.Reference}, list("pap=PAP:RED"))
	require.Equal(t, []string{green.Reference}, list("pap=green"))
	require.Empty(t, list("pap=clear"))

	// Observables: the incident's by default, their own when given; a patch
	// changes it with an observable_updated event naming the change.
	base := "/api/v1/incidents/" + green.ID + "/observables"
	var inherited, own papBody
	r = rep.Request(http.MethodPost, base, map[string]any{"type": "domain", "value": "kit.example"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &inherited)
	require.Equal(t, "PAP:GREEN", inherited.PAP, "the incident's")
	r = rep.Request(http.MethodPost, base, map[string]any{"type": "ipv4", "value": "203.0.113.77", "pap": "PAP:RED"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &own)
	require.Equal(t, "PAP:RED", own.PAP)
	r = rep.Request(http.MethodPatch, base+"/"+inherited.ID, map[string]any{"pap": "clear"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &inherited)
	require.Equal(t, "PAP:CLEAR", inherited.PAP)
	r = rep.Request(http.MethodPatch, base+"/"+inherited.ID, map[string]any{"pap": "PAP:BLUE"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	require.Equal(t, "pap", fieldOf(t, r))
	rep.Request(http.MethodGet, "/api/v1/incidents/"+green.ID+"/timeline?kind=observable_updated", nil).JSON(t, &tl)
	require.Len(t, tl.Events, 1)
	require.Equal(t, map[string]any{"pap": "PAP:CLEAR"}, tl.Events[0].Data["changes"])
	observablePAPs := func(incID string) map[string]string {
		var l struct{ Observables []papBody }
		r := rep.Request(http.MethodGet, "/api/v1/incidents/"+incID+"/observables", nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(t, &l)
		got := map[string]string{}
		for _, b := range l.Observables {
			got[b.Value] = b.PAP
		}
		return got
	}
	got := observablePAPs(green.ID)
	require.Equal(t, map[string]string{"kit.example": "PAP:CLEAR", "203.0.113.77": "PAP:RED"}, got)

	// STIX: the incident and each observable's objects carry the OASIS PAP
	// marking of their label.
	r = rep.Request(http.MethodGet, "/api/v1/incidents/"+green.ID+"/export?format=stix", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.NoError(t, stixtest.Validate(r.Body), "%s", r.Body)
	var bundle struct{ Objects []map[string]any }
	require.NoError(t, json.Unmarshal(r.Body, &bundle))
	defined := map[string]bool{}
	for _, o := range bundle.Objects {
		refs, _ := o["object_marking_refs"].([]any)
		switch o["type"] {
		case "marking-definition":
			defined[o["name"].(string)] = true
		case "incident":
			require.Contains(t, refs, stix.PAPMarkingIDs[incident.PAPGreen])
		case "indicator":
			want := map[string]incident.PAP{"domain kit.example": incident.PAPClear, "ipv4 203.0.113.77": incident.PAPRed}[o["name"].(string)]
			require.Contains(t, refs, stix.PAPMarkingIDs[want], "%s", o["name"])
		}
	}
	require.True(t, defined["PAP:GREEN"] && defined["PAP:RED"] && defined["PAP:CLEAR"], "%v", defined)

	// MISP: PAP: tags on the event and the attributes, mapped back on import.
	r = rep.Request(http.MethodGet, "/api/v1/incidents/"+green.ID+"/export?format=misp", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var file misp.File
	require.NoError(t, json.Unmarshal(r.Body, &file))
	require.True(t, hasTag(file.Event.Tag, "PAP:GREEN"), "%v", file.Event.Tag)
	for _, a := range file.Event.Attribute {
		switch a.Value {
		case "kit.example":
			require.True(t, hasTag(a.Tag, "PAP:CLEAR"), "%v", a.Tag)
		case "203.0.113.77":
			require.True(t, hasTag(a.Tag, "PAP:RED"), "%v", a.Tag)
		}
	}
	imp := rep.Request(http.MethodPost, "/api/v1/incidents/misp", r.Body)
	require.Equal(t, http.StatusCreated, imp.Status, "%s", imp.Body)
	var res struct {
		Incident struct {
			ID string `json:"id"`
		} `json:"incident"`
	}
	imp.JSON(t, &res)
	var imported papBody
	rep.Request(http.MethodGet, "/api/v1/incidents/"+res.Incident.ID, nil).JSON(t, &imported)
	require.Equal(t, "PAP:GREEN", imported.PAP, "the event's PAP: tag")
	require.Equal(t, map[string]string{"kit.example": "PAP:CLEAR", "203.0.113.77": "PAP:RED"}, observablePAPs(res.Incident.ID),
		"the attributes' PAP: tags")

	// CSV: a pap column.
	r = rep.Request(http.MethodGet, "/api/v1/incidents.csv?pap=red", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2, "the header and the one PAP:RED incident")
	col := slices.Index(rows[0], "pap")
	require.Positive(t, col, "%v", rows[0])
	require.Equal(t, "tlp", rows[0][col-1], "beside tlp")
	require.Equal(t, "PAP:RED", rows[1][col])
	require.Equal(t, def.Reference, rows[1][0])
}

func hasTag(tags []misp.Tag, name string) bool {
	return slices.ContainsFunc(tags, func(t misp.Tag) bool { return t.Name == name })
}
