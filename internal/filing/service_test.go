package filing_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// bundle is a city under a regional CERT with two reporters (colleagues),
// a viewer, the CERT's responder, and a reporter of a city under another
// CERT.
type bundle struct {
	h                                                *testapp.Harness
	svc                                              *filing.Service
	ana, ben, viewer, responder, stranger, southCERT *identity.User
	berlin                                           *time.Location
}

func setup(t *testing.T) *bundle {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true, Playbooks: testapp.NoPlaybooks})
	h.Org("national", org.NationalCERT, "")
	h.Org("north", org.RegionalCERT, "national")
	h.Org("south", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "north")
	h.Org("other-city", org.LocalAuthority, "south")
	b := &bundle{h: h, svc: h.App.Filings}
	b.ana, _ = h.User("city", access.Reporter)
	b.ben, _ = h.User("city", access.Reporter)
	b.viewer, _ = h.User("city", access.Viewer)
	b.responder, _ = h.User("north", access.Responder)
	b.stranger, _ = h.User("other-city", access.Reporter)
	b.southCERT, _ = h.User("south", access.Responder)
	var err error
	b.berlin, err = time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	return b
}

// answers are the answers of a complete guided report, by step: a
// ransomware attack noticed two hours ago that disrupts services and
// involves health data of about 1,200 residents.
func (b *bundle) answers() map[string]filing.Form {
	noticed := b.h.Clock.Now().Add(-2 * time.Hour).In(b.berlin)
	num := func(n int) []string { return []string{strconv.Itoa(n)} }
	return map[string]filing.Form{
		"noticed": {"noticed-day": num(noticed.Day()), "noticed-month": num(int(noticed.Month())), "noticed-year": num(noticed.Year()),
			"noticed-hour": num(noticed.Hour()), "noticed-minute": num(noticed.Minute())},
		"what":             {"what": {"ransomware"}, "what_details": {"Files on two servers renamed to *.lockbit."}},
		"services":         {"services": {"yes"}, "services_which": {"Citizens' office appointments"}},
		"personal":         {"personal": {"yes"}},
		"personal-data":    {"data_categories": {"contact", "health"}},
		"personal-numbers": {"people_count": {"1.200"}, "records_count": {"5000"}, "people_who": {"residents"}},
		"personal-dpo":     {"dpo_name": {"Dana Protect"}, "dpo_email": {"dpo@city.example"}},
		"personal-impact":  {"consequences": {"Distress"}, "measures": {"Servers isolated"}},
		"personal-told":    {"told": {"not_yet"}},
		"malicious":        {"malicious": {"yes"}},
		"cross-border":     {"cross_border": {"no"}},
		"severe":           {"severe": {"yes"}},
		"damage":           {"damage": {"unknown"}},
		"assets":           {"assets": {"file server city hall\n- payroll system\n"}},
		"contact":          {"contact_name": {"Ana"}, "contact_phone": {"+49 421 5550 4000"}},
		"sharing":          {"tlp": {"TLP:AMBER"}},
		"indicators":       {"indicators": {"evil[.]example 203.0.113.7, hxxp://evil[.]example/x not-an-indicator"}},
	}
}

// fill answers every step of the draft as u.
func (b *bundle) fill(t *testing.T, u *identity.User, id string) *filing.Draft {
	t.Helper()
	ctx := context.Background()
	ans := b.answers()
	var d *filing.Draft
	for _, st := range filing.Steps {
		var err error
		switch {
		case st.Name == filing.StepCheck:
			continue
		case st.Name == filing.StepFiles:
			_, err = b.svc.AddFile(ctx, u.Principal(), id, evidence.NewAttachment{Filename: "README-RESTORE.txt"},
				strings.NewReader("your files are encrypted"))
			require.NoError(t, err)
			d, err = b.svc.FilesDone(ctx, u.Principal(), id)
		default:
			d, _, err = b.svc.SaveStep(ctx, u.Principal(), id, st.Name, ans[st.Name], b.berlin)
		}
		require.NoError(t, err, st.Name)
	}
	return d
}

// A draft belongs to its organisation: a colleague who may report sees it
// among the open drafts and continues it; someone of another organisation,
// a viewer of the same one, and a CERT above get the same "not found" as
// for a draft that does not exist.
func TestDraftIsSeenAndResumedOnlyByTheOrganisationsReporters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, err := b.svc.Start(ctx, b.ana.Principal())
	require.NoError(t, err)
	_, _, err = b.svc.SaveStep(ctx, b.ana.Principal(), d.ID.String(), "what", filing.Form{"what": {"phishing"}}, b.berlin)
	require.NoError(t, err)

	open, err := b.svc.OpenDrafts(ctx, b.ben.Principal())
	require.NoError(t, err)
	require.Len(t, open, 1, "the colleague sees the draft")
	require.Equal(t, b.ana.ID, open[0].CreatedByID)
	require.Equal(t, "what", open[0].LastStep)
	got, _, err := b.svc.SaveStep(ctx, b.ben.Principal(), d.ID.String(), "services", filing.Form{"services": {"no"}}, b.berlin)
	require.NoError(t, err, "the colleague continues it")
	require.Equal(t, "phishing", got.Answers.Get("what"), "the first answer stays")
	require.Equal(t, b.ben.ID, got.UpdatedByID)

	for name, u := range map[string]*identity.User{"another city's reporter": b.stranger, "a viewer of the city": b.viewer,
		"the CERT above": b.responder} {
		_, err := b.svc.Draft(ctx, u.Principal(), d.ID.String())
		require.True(t, apperr.Is(err, apperr.NotFound), "%s reads: %v", name, err)
		_, _, err = b.svc.SaveStep(ctx, u.Principal(), d.ID.String(), "services", filing.Form{"services": {"yes"}}, b.berlin)
		require.True(t, apperr.Is(err, apperr.NotFound), "%s writes: %v", name, err)
		_, _, err = b.svc.Submit(ctx, u.Principal(), d.ID.String(), "en", filing.Final{})
		require.True(t, apperr.Is(err, apperr.NotFound), "%s sends: %v", name, err)
		require.True(t, apperr.Is(b.svc.Discard(ctx, u.Principal(), d.ID.String()), apperr.NotFound), name)
		others, err := b.svc.OpenDrafts(ctx, u.Principal())
		require.NoError(t, err)
		require.Empty(t, others, "%s lists none", name)
	}
	_, err = b.svc.Draft(ctx, b.ana.Principal(), "not-a-uuid")
	require.True(t, apperr.Is(err, apperr.NotFound))
}

// A step with errors saves nothing, names each input and gives the
// answers back as typed; the answers of other steps stay, also when a
// changed answer makes steps no longer apply (going back loses nothing).
func TestSaveStepValidatesAndKeepsOtherAnswers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := b.ana.Principal()
	d, err := b.svc.Start(ctx, p)
	require.NoError(t, err)
	id := d.ID.String()

	for name, tc := range map[string]struct {
		step  string
		form  filing.Form
		field string
		rule  string
	}{
		"no date and no \"I don't know\"": {"noticed", filing.Form{}, "noticed-day", "required"},
		"a date without a year":           {"noticed", filing.Form{"noticed-day": {"3"}, "noticed-month": {"4"}}, "noticed-year", "incomplete"},
		"31 February":                     {"noticed", filing.Form{"noticed-day": {"31"}, "noticed-month": {"2"}, "noticed-year": {"2026"}}, "noticed-day", "date"},
		"tomorrow":                        {"noticed", dateForm(b.h.Clock.Now().Add(48*time.Hour), b.berlin), "noticed-day", "future"},
		"an hour of 25":                   {"noticed", filing.Form{"noticed-day": {"3"}, "noticed-month": {"4"}, "noticed-year": {"2025"}, "noticed-hour": {"25"}}, "noticed-hour", "time"},
		"no choice":                       {"what", filing.Form{}, "what", "required"},
		"an unknown choice":               {"what", filing.Form{"what": {"aliens"}}, "what", "enum"},
		"something else without words":    {"what", filing.Form{"what": {"other"}}, "what_details", "required"},
		"not a number":                    {"personal-numbers", filing.Form{"people_count": {"many"}}, "people_count", "number"},
		"no way to call back":             {"contact", filing.Form{"contact_name": {"Ana"}}, "contact_phone", "one_of"},
		"a bad e-mail":                    {"contact", filing.Form{"contact_name": {"Ana"}, "contact_email": {"ana"}}, "contact_email", "email"},
	} {
		_, typed, err := b.svc.SaveStep(ctx, p, id, tc.step, tc.form, b.berlin)
		ae, ok := apperr.As(err)
		require.True(t, ok && ae.Code == apperr.Invalid, "%s: %v", name, err)
		require.Equal(t, tc.field, ae.Fields[0].Field, name)
		require.Equal(t, tc.rule, ae.Fields[0].Rule, name)
		for k := range tc.form {
			if k == "what" && tc.rule == "enum" {
				continue
			}
			require.NotEmpty(t, typed[k], "%s: %s is given back as typed", name, k)
		}
	}
	got, err := b.svc.Draft(ctx, p, id)
	require.NoError(t, err)
	require.Empty(t, got.Answers, "nothing was saved")

	// "I don't know" is an answer; a date in the person's zone is kept as
	// the instant and as typed.
	_, _, err = b.svc.SaveStep(ctx, p, id, "noticed", filing.Form{"noticed_unknown": {"yes"}, "noticed-day": {"1"}}, b.berlin)
	require.NoError(t, err)
	got, _, err = b.svc.SaveStep(ctx, p, id, "noticed", filing.Form{"noticed-day": {"3"}, "noticed-month": {"4"}, "noticed-year": {"2025"}}, b.berlin)
	require.NoError(t, err)
	require.Equal(t, "2025-04-02T22:00:00Z", got.Answers.Get("noticed"), "midnight in Berlin, the day only")
	require.Equal(t, "3", got.Answers.Get("noticed-day"))
	require.False(t, got.Answers.Has("noticed_unknown"), "the step's earlier answers are replaced")

	// Personal data: yes, then the categories; then no: the categories stay
	// in the draft (Back finds them) but the step no longer applies.
	_, _, err = b.svc.SaveStep(ctx, p, id, "personal", filing.Form{"personal": {"yes"}}, b.berlin)
	require.NoError(t, err)
	_, _, err = b.svc.SaveStep(ctx, p, id, "personal-data", filing.Form{"data_categories": {"health", "contact"}}, b.berlin)
	require.NoError(t, err)
	got, _, err = b.svc.SaveStep(ctx, p, id, "personal", filing.Form{"personal": {"no"}}, b.berlin)
	require.NoError(t, err)
	require.Equal(t, []string{"health", "contact"}, got.Answers["data_categories"])
	require.Equal(t, "malicious", filing.Next("personal", got.Answers), "the personal-data questions are skipped")
	require.False(t, filing.Decide(got.Answers).PersonalData)

	// A revealed field is dropped when its option is not chosen.
	got, _, err = b.svc.SaveStep(ctx, p, id, "services", filing.Form{"services": {"no"}, "services_which": {"web"}}, b.berlin)
	require.NoError(t, err)
	require.False(t, got.Answers.Has("services_which"))
}

func dateForm(t time.Time, zone *time.Location) filing.Form {
	t = t.In(zone)
	return filing.Form{"noticed-day": {strconv.Itoa(t.Day())}, "noticed-month": {strconv.Itoa(int(t.Month()))}, "noticed-year": {strconv.Itoa(t.Year())}}
}

// Sending a complete report creates the incident from the answers in one
// transaction: detected_at (the legal clocks), the RSIT class and type,
// the NIS2 and GDPR flags, the suggested severity, the TLP, the assets,
// the file as evidence and the indicators; and keeps the structured
// report — the questions as asked in the reporter's language, and the
// answers — which the CERT reads.
func TestSubmitCreatesTheIncidentAndKeepsTheStructuredReport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, err := b.svc.Start(ctx, b.ana.Principal())
	require.NoError(t, err)
	// The form asks for the minute the incident was noticed (two hours
	// before the answers are written): detected_at is that minute.
	before := b.h.Clock.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	filled := b.fill(t, b.ana, d.ID.String())
	after := b.h.Clock.Now().Add(-2 * time.Hour)
	require.Equal(t, "", filing.FirstMissing(filled.Answers, filled.Done))

	inc, replayed, err := b.svc.Submit(ctx, b.ana.Principal(), d.ID.String(), "de", filing.Final{})
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, "malicious-code", inc.Category)
	require.Equal(t, "infected-system", inc.Type)
	require.True(t, inc.Significant, "severe disruption: yes")
	require.True(t, inc.PersonalDataBreach)
	require.NotNil(t, inc.AffectedPeople, "the people affected are the incident's figure too")
	require.EqualValues(t, 1200, *inc.AffectedPeople)
	require.Equal(t, incident.Critical, inc.Severity, "services down and severe: critical")
	require.Equal(t, incident.TLPAmber, inc.TLP)
	require.NotNil(t, inc.DetectedAt)
	require.False(t, inc.DetectedAt.Before(before), "detected_at %s is the minute noticed, not before %s", inc.DetectedAt, before)
	require.False(t, inc.DetectedAt.After(after), "detected_at %s is the minute noticed, not after %s", inc.DetectedAt, after)
	require.Zero(t, inc.DetectedAt.Second(), "the form asks for the minute")
	require.Equal(t, "Ransomware: Dateien unlesbar, Lösegeldforderung", inc.Title, "the suggested title, in the reporter's language")
	require.Len(t, inc.Assets, 2)
	require.Equal(t, "payroll system", inc.Assets[1].Name)

	_, atts, _, err := b.h.App.Evidence.List(ctx, b.responder.Principal(), inc.Reference, incident.Page{})
	require.NoError(t, err)
	require.Len(t, atts, 1)
	require.Equal(t, "README-RESTORE.txt", atts[0].Filename)
	_, obs, _, err := b.h.App.Observables.List(ctx, b.responder.Principal(), inc.Reference, incident.Page{})
	require.NoError(t, err)
	var values []string
	for _, o := range obs {
		values = append(values, string(o.Type)+":"+o.Value)
	}
	require.ElementsMatch(t, []string{"domain:evil.example", "ipv4:203.0.113.7", "url:http://evil.example/x"}, values)

	// The CERT reads the structured report.
	_, r, err := b.svc.Report(ctx, b.responder.Principal(), inc.Reference)
	require.NoError(t, err)
	require.Equal(t, "de", r.Language)
	require.NotNil(t, r.PeopleAffected)
	require.EqualValues(t, 1200, *r.PeopleAffected, "1.200 as a German writes it")
	require.EqualValues(t, 5000, *r.RecordsAffected)
	byField := map[string]incident.ReportItem{}
	for _, it := range r.Items {
		byField[it.Field] = it
	}
	require.Equal(t, "Was ist passiert?", byField["what"].Question, "asked in German")
	require.Equal(t, "Dateien sind unlesbar geworden und eine Lösegeldforderung ist erschienen", byField["what"].Answer)
	require.Equal(t, []string{"ransomware"}, byField["what"].Values)
	require.Equal(t, "Sind personenbezogene Daten betroffen?", byField["personal"].Question)
	require.Contains(t, byField["data_categories"].Answer, "Gesundheitsdaten (besondere Kategorie)")
	require.Equal(t, "Etwa 1.200", byField["people_count"].Answer)
	require.Equal(t, "README-RESTORE.txt", byField["files"].Answer)
	require.Contains(t, byField["indicators"].Answer, "evil[.]example", "indicators are shown defanged")
	require.Equal(t, "Kritisch", byField["severity"].Answer)

	// Nobody else reads it.
	_, _, err = b.svc.Report(ctx, b.stranger.Principal(), inc.Reference)
	require.True(t, apperr.Is(err, apperr.NotFound))
	_, _, err = b.svc.Report(ctx, b.southCERT.Principal(), inc.ID.String())
	require.True(t, apperr.Is(err, apperr.NotFound))

	// The draft is gone from the list and cannot be changed.
	open, err := b.svc.OpenDrafts(ctx, b.ben.Principal())
	require.NoError(t, err)
	require.Empty(t, open)
	_, _, err = b.svc.SaveStep(ctx, b.ben.Principal(), d.ID.String(), "what", filing.Form{"what": {"phishing"}}, b.berlin)
	require.True(t, apperr.Is(err, apperr.Conflict))
}

// A double submit — two clicks, a reload, a colleague on another device,
// all at once — creates one incident: every send of the draft returns it.
func TestSubmitTwiceCreatesOneIncident(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, err := b.svc.Start(ctx, b.ana.Principal())
	require.NoError(t, err)
	b.fill(t, b.ana, d.ID.String())

	const sends = 6
	var wg sync.WaitGroup
	refs := make([]string, sends)
	replays := make([]bool, sends)
	for i := 0; i < sends; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			u := b.ana
			if i%2 == 1 {
				u = b.ben
			}
			inc, replayed, err := b.svc.Submit(ctx, u.Principal(), d.ID.String(), "en", filing.Final{Title: "Ransomware at city hall"})
			if err == nil {
				refs[i], replays[i] = inc.Reference, replayed
			}
		}(i)
	}
	wg.Wait()
	fresh := 0
	for i := range refs {
		require.NotEmpty(t, refs[i], "send %d", i)
		require.Equal(t, refs[0], refs[i])
		if !replays[i] {
			fresh++
		}
	}
	require.Equal(t, 1, fresh, "one send created it, the others returned it")
	list, _, err := b.h.App.Incidents.List(ctx, access.System, incident.Filter{ReportingOrg: "city"}, incident.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, list, 1)
}

// A report with a question that applies and has no answer is not sent:
// the error names the step to answer.
func TestSubmitNamesTheQuestionLeftOpen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, err := b.svc.Start(ctx, b.ana.Principal())
	require.NoError(t, err)
	_, _, err = b.svc.SaveStep(ctx, b.ana.Principal(), d.ID.String(), "noticed", filing.Form{"noticed_unknown": {"yes"}}, b.berlin)
	require.NoError(t, err)
	_, _, err = b.svc.Submit(ctx, b.ana.Principal(), d.ID.String(), "en", filing.Final{})
	ae, ok := apperr.As(err)
	require.True(t, ok && ae.Code == apperr.Invalid, "%v", err)
	require.Equal(t, "what", ae.Details["step"])
}

// sentReport sends a complete guided report as ana and returns its incident.
func (b *bundle) sentReport(t *testing.T) *incident.Incident {
	t.Helper()
	ctx := context.Background()
	d, err := b.svc.Start(ctx, b.ana.Principal())
	require.NoError(t, err)
	b.fill(t, b.ana, d.ID.String())
	inc, _, err := b.svc.Submit(ctx, b.ana.Principal(), d.ID.String(), "en", filing.Final{})
	require.NoError(t, err)
	return inc
}

// The legal reports: each form is pre-filled from what is known (the
// guided report, the reports filed before, the incident); filing one
// records its deadline as met with its content and a timeline event,
// which the CERT reads; the NIS2 reports follow each other; a double send
// files once; the GDPR notification takes further phases; a late report
// must say why.
func TestLegalReportsArePrefilledAndRecordTheDeadlineMet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	inc := b.sentReport(t)
	p := b.ana.Principal()

	_, err := b.svc.LegalForm(ctx, p, inc.Reference, incident.NIS2Notification, "en")
	require.True(t, apperr.Is(err, apperr.Conflict), "the notification waits for the early warning: %v", err)
	_, err = b.svc.LegalForm(ctx, b.stranger.Principal(), inc.Reference, incident.NIS2EarlyWarning, "en")
	require.True(t, apperr.Is(err, apperr.NotFound))
	_, err = b.svc.LegalForm(ctx, b.viewer.Principal(), inc.Reference, incident.NIS2EarlyWarning, "en")
	require.True(t, apperr.Is(err, apperr.Forbidden), "a viewer reads, never files: %v", err)

	ew, err := b.svc.LegalForm(ctx, p, inc.Reference, incident.NIS2EarlyWarning, "en")
	require.NoError(t, err)
	require.True(t, ew.Prefilled)
	require.Equal(t, "yes", ew.Answers.Get("malicious"), "from the guided report")
	require.Equal(t, "no", ew.Answers.Get("cross_border"))
	require.Contains(t, ew.Answers.Get("ew_summary"), "Files on two servers renamed")
	require.False(t, ew.Late)

	form := filing.Form{}
	for k, v := range ew.Answers {
		form[k] = v
	}
	form["ew_summary"] = []string{"Ransomware on two file servers; isolated."}
	_, _, err = b.svc.SaveLegal(ctx, p, inc.Reference, incident.NIS2EarlyWarning, form)
	require.NoError(t, err)
	filed, err := b.svc.FileLegal(ctx, p, inc.Reference, incident.NIS2EarlyWarning, "en")
	require.NoError(t, err)
	require.Equal(t, 1, filed.Phase)
	_, err = b.svc.FileLegal(ctx, p, inc.Reference, incident.NIS2EarlyWarning, "en")
	require.Error(t, err, "a second send files nothing")

	got, err := b.h.App.Incidents.Get(ctx, b.responder.Principal(), inc.Reference)
	require.NoError(t, err)
	met, ok := got.DeadlinesMet[incident.NIS2EarlyWarning]
	require.True(t, ok, "the deadline is met")
	require.Equal(t, incident.LegalReportReference(filed.ID), met.Reference)
	_, rs, err := b.h.App.Incidents.LegalReports(ctx, b.responder.Principal(), inc.Reference)
	require.NoError(t, err)
	require.Len(t, rs, 1, "the CERT reads what was filed")
	require.Equal(t, "What has happened, in short?", rs[0].Items[0].Question)
	require.Equal(t, "Ransomware on two file servers; isolated.", rs[0].Items[0].Answer)

	// The notification: pre-filled from the early warning just filed.
	nt, err := b.svc.LegalForm(ctx, p, inc.Reference, incident.NIS2Notification, "en")
	require.NoError(t, err)
	require.Equal(t, "Ransomware on two file servers; isolated.", nt.Answers.Get("nt_update"))
	require.Equal(t, "critical", nt.Answers.Get("severity"))
	require.Contains(t, nt.Answers.Get("nt_indicators"), "203[.]0[.]113[.]7", "the incident's indicators")
	require.Contains(t, nt.Answers.Get("nt_impact"), "Citizens' office appointments")

	// GDPR: filed once, then further information as phase 2; late after
	// 72 hours needs the reasons.
	b.h.Advance(73 * time.Hour)
	gd, err := b.svc.LegalForm(ctx, p, inc.Reference, incident.GDPRNotification, "en")
	require.NoError(t, err)
	require.True(t, gd.Late)
	require.Equal(t, []string{"contact", "health"}, gd.Answers["data_categories"], "nothing asked twice")
	require.Equal(t, "Dana Protect", gd.Answers.Get("dpo_name"))
	form = filing.Form{}
	for k, v := range gd.Answers {
		form[k] = v
	}
	_, _, err = b.svc.SaveLegal(ctx, p, inc.Reference, incident.GDPRNotification, form)
	ae, ok := apperr.As(err)
	require.True(t, ok && ae.Code == apperr.Invalid && ae.Fields[0].Field == "late_reason", "%v", err)
	form["late_reason"] = []string{"The data protection officer was on leave."}
	_, _, err = b.svc.SaveLegal(ctx, p, inc.Reference, incident.GDPRNotification, form)
	require.NoError(t, err)
	first, err := b.svc.FileLegal(ctx, p, inc.Reference, incident.GDPRNotification, "en")
	require.NoError(t, err)
	require.True(t, first.Late())
	require.Equal(t, "The data protection officer was on leave.", first.LateReason)
	more, err := b.svc.LegalForm(ctx, p, inc.Reference, incident.GDPRNotification, "en")
	require.NoError(t, err)
	require.Equal(t, 2, more.Phase)
	require.False(t, more.Late, "a further phase needs no reasons")
	require.Equal(t, "Dana Protect", more.Answers.Get("dpo_name"), "pre-filled from phase 1")
	form = filing.Form{}
	for k, v := range more.Answers {
		form[k] = v
	}
	form["gd_nature"], form["told"] = []string{"Now known: read only."}, []string{"yes"}
	_, _, err = b.svc.SaveLegal(ctx, p, inc.Reference, incident.GDPRNotification, form)
	require.NoError(t, err)
	second, err := b.svc.FileLegal(ctx, p, inc.Reference, incident.GDPRNotification, "en")
	require.NoError(t, err)
	require.Equal(t, 2, second.Phase)

	_, evs, _, err := b.h.App.Incidents.Timeline(ctx, b.responder.Principal(), inc.Reference, nil, incident.Page{Limit: 200})
	require.NoError(t, err)
	kinds := map[incident.EventKind]int{}
	for _, ev := range evs {
		kinds[ev.Kind]++
	}
	require.Equal(t, 2, kinds[incident.EventDeadlineMet], "early warning and GDPR, on the timeline")
	require.Equal(t, 1, kinds[incident.EventLegalReportFiled], "GDPR phase 2")

	overview, err := b.svc.Legal(ctx, b.responder.Principal(), inc.Reference)
	require.NoError(t, err)
	states := map[incident.DeadlineKind]filing.TaskState{}
	for _, tk := range overview.Tasks {
		states[tk.Kind] = tk.State
	}
	require.Equal(t, map[incident.DeadlineKind]filing.TaskState{incident.NIS2EarlyWarning: filing.TaskDone,
		incident.NIS2Notification: filing.TaskOverdue, incident.NIS2FinalReport: filing.TaskCannotStart,
		incident.GDPRNotification: filing.TaskDone}, states)
}
