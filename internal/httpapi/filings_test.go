package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	guided "github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// The CERT reads, through the API, the structured report a city sent
// with the guided report (the questions as asked, in the city's
// language) and the legal reports it filed; a CERT of another region
// gets the same 404 as for an incident that does not exist. Every answer
// is checked against docs/openapi.yaml by the harness.
func TestAPIReadsTheGuidedReportAndTheLegalReports(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true, Playbooks: testapp.NoPlaybooks})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("south", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "north")
	reporter, reporterToken := h.User("city", access.Reporter)
	_, northToken := h.User("north", access.Responder)
	_, southToken := h.User("south", access.Responder)
	ctx := context.Background()
	svc := h.App.Filings
	p := reporter.Principal()

	d, err := svc.Start(ctx, p)
	require.NoError(t, err)
	id := d.ID.String()
	for _, s := range []struct {
		step string
		form guided.Form
	}{
		{"noticed", guided.Form{"noticed_unknown": {"yes"}}},
		{"what", guided.Form{"what": {"data_leak"}, "what_details": {"Export auf einem offenen Speicher gefunden."}}},
		{"services", guided.Form{"services": {"no"}}},
		{"personal", guided.Form{"personal": {"yes"}}},
		{"personal-data", guided.Form{"data_categories": {"contact", "identity"}}},
		{"personal-numbers", guided.Form{"people_count": {"12000"}}},
		{"personal-dpo", guided.Form{}},
		{"personal-impact", guided.Form{}},
		{"personal-told", guided.Form{"told": {"unknown"}}},
		{"malicious", guided.Form{"malicious": {"unknown"}}},
		{"cross-border", guided.Form{"cross_border": {"no"}}},
		{"severe", guided.Form{"severe": {"no"}}},
		{"damage", guided.Form{"damage": {"yes"}}},
		{"assets", guided.Form{}},
		{"contact", guided.Form{"contact_name": {"Ana"}, "contact_email": {"ana@city.example"}}},
		{"sharing", guided.Form{"tlp": {"TLP:AMBER"}}},
		{"indicators", guided.Form{}},
	} {
		_, _, err := svc.SaveStep(ctx, p, id, s.step, s.form, time.UTC)
		require.NoError(t, err, s.step)
	}
	_, err = svc.FilesDone(ctx, p, id)
	require.NoError(t, err)
	inc, _, err := svc.Submit(ctx, p, id, "de", guided.Final{Title: "Datenleck Melderegister"})
	require.NoError(t, err)
	require.Equal(t, incident.High, inc.Severity, "considerable damage to others: high")
	require.NoError(t, h.App.Incidents.Route(ctx, inc.ID, nil))

	north, south, city := h.As(northToken), h.As(southToken), h.As(reporterToken)

	r := north.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/guided-report", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var sr struct {
		Reference      string `json:"reference"`
		Language       string `json:"language"`
		PeopleAffected *int64 `json:"people_affected"`
		Questions      []struct {
			Field, Question, Answer string
			Values                  []string
		} `json:"questions"`
	}
	r.JSON(t, &sr)
	require.Equal(t, inc.Reference, sr.Reference)
	require.Equal(t, "de", sr.Language)
	require.EqualValues(t, 12000, *sr.PeopleAffected)
	require.Equal(t, "noticed", sr.Questions[0].Field, "in the order asked")
	var what, cats bool
	for _, q := range sr.Questions {
		switch q.Field {
		case "what":
			what = true
			require.Equal(t, "Was ist passiert?", q.Question)
			require.Equal(t, []string{"data_leak"}, q.Values)
		case "data_categories":
			cats = true
			require.Equal(t, []string{"contact", "identity"}, q.Values)
		}
	}
	require.True(t, what && cats)
	require.Equal(t, http.StatusOK, city.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID.String()+"/guided-report", nil).Status)
	require.Equal(t, http.StatusNotFound, south.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/guided-report", nil).Status)

	// An incident created through the API has no structured report.
	other, _, err := h.App.Incidents.Create(ctx, p, incident.NewIncident{Title: "Phishing"}, nil)
	require.NoError(t, err)
	r = north.Request(http.MethodGet, "/api/v1/incidents/"+other.Reference+"/guided-report", nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	require.Contains(t, string(r.Body), "has no structured report")

	// The legal reports: none yet, then the GDPR notification, filed late.
	r = north.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/legal-reports", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Empty(t, r.Map(t)["legal_reports"])
	h.Advance(80 * time.Hour)
	pg, err := svc.LegalForm(ctx, p, inc.Reference, incident.GDPRNotification, "de")
	require.NoError(t, err)
	form := guided.Form{"late_reason": {"Die Datenschutzbeauftragte war im Urlaub."}}
	for k, v := range pg.Answers {
		form[k] = v
	}
	_, _, err = svc.SaveLegal(ctx, p, inc.Reference, incident.GDPRNotification, form)
	require.NoError(t, err)
	filed, err := svc.FileLegal(ctx, p, inc.Reference, incident.GDPRNotification, "de")
	require.NoError(t, err)

	r = north.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/legal-reports", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var list struct {
		LegalReports []struct {
			ID, Kind, Language, LateReason string
			Late                           bool
			Phase                          int
			Questions                      []struct{ Field, Question string }
		} `json:"legal_reports"`
	}
	r.JSON(t, &list)
	require.Len(t, list.LegalReports, 1)
	lr := list.LegalReports[0]
	require.Equal(t, filed.ID.String(), lr.ID)
	require.Equal(t, "gdpr_notification", lr.Kind)
	require.True(t, lr.Late)
	require.Equal(t, 1, lr.Phase)
	require.Equal(t, "Was ist mit den personenbezogenen Daten geschehen?", lr.Questions[0].Question)

	r = north.Request(http.MethodGet, "/api/v1/incidents/"+inc.ID.String()+"/legal-reports/"+filed.ID.String(), nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "Die Datenschutzbeauftragte war im Urlaub.", r.Map(t)["late_reason"])
	r = north.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Contains(t, string(r.Body), incident.LegalReportReference(filed.ID), "the deadline is met with the report")

	require.Equal(t, http.StatusNotFound, north.Request(http.MethodGet, "/api/v1/incidents/"+other.Reference+"/legal-reports/"+filed.ID.String(), nil).Status,
		"a report of another incident")
	require.Equal(t, http.StatusNotFound, south.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/legal-reports", nil).Status)
	require.Equal(t, http.StatusNotFound, south.Request(http.MethodGet, "/api/v1/incidents/"+inc.Reference+"/legal-reports/"+filed.ID.String(), nil).Status)
}
