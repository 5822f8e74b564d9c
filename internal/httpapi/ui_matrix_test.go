package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// The web UI's side of the access matrix. The UI is a second transport
// over the same use cases, so it is driven by the same table of actions
// (writeActions) and judged by the same expectations: uiWriteDriver
// performs a write action through its web form, as a signed-in person,
// where the API driver performs it through the JSON API. An incident the
// person may not see is 404 on a page too, never 403.
//
// Every route of the UI has an entry in uiRoutes: the write action it
// performs (a row of writeActions), an incident page it shows, or why no
// incident decides it. A UI route without an entry fails TestWriteMatrix.

// uiRouteKind says what decides who may use a UI route.
type uiRouteKind int

const (
	// uiPublic works signed out (sign-in, help, languages).
	uiPublic uiRouteKind = iota
	// uiOwn concerns only the signed-in person's own account, sessions
	// or the lists the visibility rule fills (the incident list).
	uiOwn
	// uiIncidentPage shows one incident (GET, the incident in :ref).
	uiIncidentPage
	// uiWrite performs the action of writeActions named Write.
	uiWrite
	// uiIncidentPart shows a part of one incident (GET: a comment's edit
	// or versions page, an evidence download; the incident in :ref, the
	// part in :id, named by Part). Who may not see the incident gets 404;
	// who sees it gets the page or "you cannot do this" (403: another's
	// comment to edit), never 404.
	uiIncidentPart
	// uiIncidentTested is decided by an incident in :ref but is not yet a
	// row of writeActions nor a plain incident page (it needs more than
	// the incident: a legal report's kind and its form); Why names the
	// tests that check who may use it.
	uiIncidentTested
	// uiAdmin is an administration page: an organisation's administrator
	// (org.Service.GetManaged: their organisation and its constituency;
	// another organisation is 404, another role 403) or, for the audit
	// log, the national CERT's administrators; Why names the tests.
	uiAdmin
)

// uiRoute is the entry of one UI route.
type uiRoute struct {
	Kind uiRouteKind
	// Write names the writeActions row a uiWrite route performs.
	Write string
	// Form turns the action's call into the form the page posts (the
	// CSRF token is added by the driver); nil posts no field.
	Form func(call writeCall) url.Values
	// Why says, for uiPublic and uiOwn, why no incident decides it; for
	// uiIncidentTested, which tests check it.
	Why string
	// Params maps the UI route's parameters to the API route's names in
	// writeCall.Params (the UI's ":id" of a comment is the API's
	// ":commentId").
	Params map[string]string
	// Part names what a uiIncidentPart route's :id is: "comment" or
	// "evidence".
	Part string
}

// uiBody posts the action's body field as the form's "body".
func uiBody(call writeCall) url.Values { return url.Values{"body": {fmt.Sprint(call.Fields["body"])}} }

// uiFields posts the action's fields under the form's names (form name →
// the API's field), and the fixed values.
func uiFields(names map[string]string, fixed ...string) func(call writeCall) url.Values {
	return func(call writeCall) url.Values {
		v := url.Values{}
		for form, api := range names {
			if f, ok := call.Fields[api]; ok {
				v.Set(form, fmt.Sprint(f))
			}
		}
		for i := 0; i+1 < len(fixed); i += 2 {
			v.Set(fixed[i], fixed[i+1])
		}
		return v
	}
}

// uiRoutes lists every route of the web UI ("METHOD pattern" as Echo
// registers it), static files aside.
var uiRoutes = map[string]uiRoute{
	"GET /":                                       {Kind: uiPublic, Why: "the start page: signed out it leads to the sign-in"},
	"GET /signin":                                 {Kind: uiPublic, Why: "the sign-in form"},
	"POST /signin":                                {Kind: uiPublic, Why: "signs in: throttled per address and account (docs/security.md); the e-mail step sends a domain with an identity provider there"},
	"GET /signin/oidc/callback":                   {Kind: uiPublic, Why: "the identity provider's answer: a one-time state bound to the browser's pre-session secret, then sso.Service.Finish admits only a user of the provider's organisation; TestOIDCSignIn (ui), TestSignInRefusals (sso)"},
	"POST /language":                              {Kind: uiPublic, Why: "the language chosen before signing in (a cookie)"},
	"GET /help":                                   {Kind: uiPublic, Why: "help and the CERTs' phone numbers"},
	"GET /accessibility":                          {Kind: uiPublic, Why: "the accessibility statement"},
	"POST /signout":                               {Kind: uiOwn, Why: "ends the person's own session"},
	"POST /session/extend":                        {Kind: uiOwn, Why: "extends the person's own session"},
	"GET /account":                                {Kind: uiOwn, Why: "the person's own settings"},
	"POST /account/settings":                      {Kind: uiOwn, Why: "the person's own settings"},
	"GET /account/password":                       {Kind: uiOwn, Why: "the person's own password"},
	"POST /account/password":                      {Kind: uiOwn, Why: "the person's own password (the current one is asked)"},
	"GET /account/sessions":                       {Kind: uiOwn, Why: "the person's own sessions"},
	"POST /account/sessions/:id/end":              {Kind: uiOwn, Why: "ends one of the person's own sessions; another's is 404"},
	"GET /account/passkeys":                       {Kind: uiOwn, Why: "the person's own passkeys"},
	"POST /account/passkeys/register/begin":       {Kind: uiOwn, Why: "a challenge to add a passkey to the person's own account (JSON, CSRF header)"},
	"POST /account/passkeys/register/finish":      {Kind: uiOwn, Why: "adds a passkey to the person's own account, audited passkey.added"},
	"POST /account/passkeys/:id":                  {Kind: uiOwn, Why: "renames one of the person's own passkeys; another's is 404"},
	"POST /account/passkeys/:id/remove":           {Kind: uiOwn, Why: "removes one of the person's own passkeys, audited passkey.removed; another's is 404"},
	"POST /account/security/setup/passkey/begin":  {Kind: uiOwn, Why: "a challenge to add a passkey as the set-up's second factor (a session pending its second factor is refused)"},
	"POST /account/security/setup/passkey/finish": {Kind: uiOwn, Why: "adds a passkey to the person's own account as the session's second factor, audited passkey.added"},
	"POST /signin/passkey/begin":                  {Kind: uiPublic, Why: "a challenge to sign in with a passkey alone, bound to the browser's pre-session"},
	"POST /signin/passkey/finish":                 {Kind: uiPublic, Why: "signs in with a passkey alone where the organisation allows it; failures throttled per address (docs/security.md)"},
	"GET /signin/second-factor/passkey":           {Kind: uiOwn, Why: "the passkey step of the person's own (pending) session"},
	"POST /signin/second-factor/passkey/begin":    {Kind: uiOwn, Why: "a challenge limited to the person's own passkeys"},
	"POST /signin/second-factor/passkey/finish":   {Kind: uiOwn, Why: "records the passkey as the second factor of the person's own session; another person's passkey is refused"},
	"GET /incidents":                              {Kind: uiOwn, Why: "the incident list: incident.Service.List under the visibility rule (the leak crawler reads it as every user)"},
	"GET /incidents/:ref":                         {Kind: uiIncidentPage},
	"GET /incidents/import":                       {Kind: uiOwn, Why: "the MISP import form: no incident is read (?into= is only put in the form)"},
	"POST /incidents/import":                      {Kind: uiOwn, Why: "imports a MISP event through misp.Importer, as POST /api/v1/incidents/misp and /{id}/misp: incident.create, or observable.add on an incident the person sees (else the 404 of a missing reference); TestMISPImportPage, TestMISPImportIntoAnIncidentNotVisible (ui)"},
	"POST /incidents/:ref/comments":               {Kind: uiWrite, Write: "comment.add", Form: uiBody},
	"POST /incidents/:ref/comments/:id": {Kind: uiWrite, Write: "comment.edit", Form: uiBody,
		Params: map[string]string{"id": "commentId"}},
	"POST /incidents/:ref/evidence": {Kind: uiWrite, Write: "evidence.upload"},
	// Marking a request done is a task edit (task.write), as in the API.
	"POST /incidents/:ref/tasks/:id/done":        {Kind: uiWrite, Write: "task.edit", Params: map[string]string{"id": "taskId"}},
	"GET /incidents/:ref/comments/:id/edit":      {Kind: uiIncidentPart, Part: "comment"},
	"GET /incidents/:ref/comments/:id/revisions": {Kind: uiIncidentPart, Part: "comment"},
	"GET /incidents/:ref/evidence/:id":           {Kind: uiIncidentPart, Part: "evidence"},
	"GET /password-reset/:token":                 {Kind: uiPublic, Why: "a one-time reset link: its token is the credential (docs/security.md)"},
	"POST /password-reset/:token":                {Kind: uiPublic, Why: "sets the password of a one-time reset link: its token is the credential"},
	"GET /password-reset/done":                   {Kind: uiPublic, Why: "says the password is set"},
	// The triage queue (a CERT's; 403 for others): lists that
	// incident.Service.List fills under the visibility rule; its bulk
	// actions run triage.Service.Bulk, each item the single call's use
	// case — the API's POST /api/v1/incidents/bulk, whose items
	// TestWriteMatrix judges like the single calls (incident.bulk_acknowledge).
	"GET /queue":                           {Kind: uiOwn, Why: "the triage queue: incident.Service.List under the visibility rule"},
	"GET /queue.csv":                       {Kind: uiOwn, Why: "the triage queue as CSV: incident.Service.List under the visibility rule"},
	"GET /queue/live":                      {Kind: uiOwn, Why: "the queue's new rows since a time: incident.Service.List under the visibility rule"},
	"POST /queue/bulk":                     {Kind: uiOwn, Why: "the bulk confirmation page: it writes nothing and reads the selection under the visibility rule"},
	"POST /queue/bulk/apply":               {Kind: uiOwn, Why: "bulk actions: triage.Service.Bulk, each item the single call's use case and write table (an invisible incident is a not-found item)"},
	"POST /queue/views":                    {Kind: uiOwn, Why: "the person's own saved views"},
	"POST /queue/views/:id/delete":         {Kind: uiOwn, Why: "the person's own saved views; another's is 404"},
	"GET /incidents/:ref/summary":          {Kind: uiIncidentPage},
	"GET /incidents/:ref/report.pdf":       {Kind: uiIncidentPage},
	"GET /incidents/:ref/export.stix.json": {Kind: uiIncidentPage},
	"GET /incidents/:ref/export.misp.json": {Kind: uiIncidentPage},
	"GET /incidents/:ref/observables.csv":  {Kind: uiIncidentPage},
	"GET /dashboard":                       {Kind: uiOwn, Why: "the person's organisation's figures: stats.Service.Dashboard sums only what the visibility rule lets the person see"},
	"GET /dashboard/csv":                   {Kind: uiOwn, Why: "a chart of the person's own dashboard as CSV (stats.Service.Dashboard under the visibility rule)"},
	"GET /dashboard/briefing.pdf":          {Kind: uiOwn, Why: "the monthly briefing of the person's organisation: report.Service.Briefing over what the person may see"},
	// The reporting organisation's journey (internal/ui/report_*.go, legal*.go).
	"GET /reports":                           {Kind: uiOwn, Why: "Our reports: the incidents of the person's own organisation, through incident.Service.List under the visibility rule"},
	"GET /report":                            {Kind: uiOwn, Why: "the guided report's start page: the reports of the person's own organisation not yet sent"},
	"POST /report":                           {Kind: uiOwn, Why: "starts a guided report for the person's own organisation (access.CreateIncident)"},
	"GET /report/sent/:ref":                  {Kind: uiIncidentPage},
	"GET /report/mail/:draft":                {Kind: uiOwn, Why: "a report sent by e-mail (internal/mailin) is a guided report not yet sent of the person's own organisation; another organisation's, and one not made from an e-mail, is 404 (TestMailDraftConfirmedThroughItsLink)"},
	"POST /report/mail/:draft":               {Kind: uiOwn, Why: "confirms (sends) a report sent by e-mail: a guided report of the person's own organisation, sent as access.CreateIncident allows; another organisation's is 404 (TestMailDraftConfirmedThroughItsLink)"},
	"GET /report/:draft/:step":               {Kind: uiOwn, Why: "a guided report not yet sent belongs to the person's own organisation and no incident exists yet; another organisation's is 404 (TestReportPagesOfAnotherOrganisationAreNotFound, TestDraftIsSeenAndResumedOnlyByTheOrganisationsReporters)"},
	"POST /report/:draft/:step":              {Kind: uiOwn, Why: "a guided report not yet sent belongs to the person's own organisation and no incident exists yet; another organisation's is 404 (TestReportPagesOfAnotherOrganisationAreNotFound, TestDraftIsSeenAndResumedOnlyByTheOrganisationsReporters); sending creates the incident as access.CreateIncident allows"},
	"GET /report/:draft/discard":             {Kind: uiOwn, Why: "a guided report not yet sent belongs to the person's own organisation and no incident exists yet; another organisation's is 404 (TestReportPagesOfAnotherOrganisationAreNotFound, TestDraftIsSeenAndResumedOnlyByTheOrganisationsReporters)"},
	"POST /report/:draft/discard":            {Kind: uiOwn, Why: "a guided report not yet sent belongs to the person's own organisation and no incident exists yet; another organisation's is 404 (TestReportPagesOfAnotherOrganisationAreNotFound, TestDraftIsSeenAndResumedOnlyByTheOrganisationsReporters)"},
	"POST /report/:draft/files/add":          {Kind: uiOwn, Why: "adds a file to a guided report not yet sent, which belongs to the person's own organisation; another organisation's is 404 (TestReportPagesOfAnotherOrganisationAreNotFound)"},
	"POST /report/:draft/files/:n/remove":    {Kind: uiOwn, Why: "a guided report not yet sent belongs to the person's own organisation and no incident exists yet; another organisation's is 404 (TestReportPagesOfAnotherOrganisationAreNotFound, TestDraftIsSeenAndResumedOnlyByTheOrganisationsReporters)"},
	"GET /incidents/:ref/legal":              {Kind: uiIncidentPage},
	"GET /incidents/:ref/legal/:kind":        {Kind: uiIncidentTested, Why: "the legal reports' forms: incident.legal_report on the incident (docs/security.md); TestReportPagesOfAnotherOrganisationAreNotFound (ui), TestLegalReportsArePrefilledAndRecordTheDeadlineMet (filing)"},
	"POST /incidents/:ref/legal/:kind":       {Kind: uiIncidentTested, Why: "the legal reports' forms: incident.legal_report on the incident (docs/security.md); TestReportPagesOfAnotherOrganisationAreNotFound (ui), TestLegalReportsArePrefilledAndRecordTheDeadlineMet (filing)"},
	"GET /incidents/:ref/legal/:kind/check":  {Kind: uiIncidentTested, Why: "the legal reports' forms: incident.legal_report on the incident (docs/security.md); TestReportPagesOfAnotherOrganisationAreNotFound (ui), TestLegalReportsArePrefilledAndRecordTheDeadlineMet (filing)"},
	"POST /incidents/:ref/legal/:kind/check": {Kind: uiIncidentTested, Why: "the legal reports' forms: incident.legal_report on the incident (docs/security.md); TestReportPagesOfAnotherOrganisationAreNotFound (ui), TestLegalReportsArePrefilledAndRecordTheDeadlineMet (filing)"},
	// The responder's workspace (issue 12): the incident workbench, case
	// work, playbook runs, escalations, and administration. Their tests
	// drive each form as allowed and refused roles and as another
	// organisation, which gets 404 and changes nothing.
	"POST /incidents/:ref/acknowledge":                  {Kind: uiWrite, Write: "incident.acknowledge"},
	"POST /incidents/:ref/assign":                       {Kind: uiIncidentTested, Why: "the workbench: incident.update (the assignee and team); TestWorkbenchActions, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/classify":                     {Kind: uiIncidentTested, Why: "the workbench: incident.update (the RSIT class); TestWorkbenchActions, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/severity":                     {Kind: uiIncidentTested, Why: "the workbench: incident.update; TestWorkbenchActions, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/pap":                          {Kind: uiIncidentTested, Why: "the workbench: incident.update; TestBrowserPAP, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/stage":                        {Kind: uiWrite, Write: "stage.change", Form: uiFields(map[string]string{"stage": "to"})},
	"POST /incidents/:ref/close":                        {Kind: uiWrite, Write: "incident.close", Form: uiFields(map[string]string{"resolution": "resolution"})},
	"POST /incidents/:ref/reopen":                       {Kind: uiWrite, Write: "incident.reopen", Form: uiFields(map[string]string{"reason": "reason"})},
	"GET /incidents/:ref/tlp":                           {Kind: uiIncidentTested, Why: "the workbench: the TLP change's confirmation page: incident.update, read under the visibility rule; TestWorkbenchActions, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui), TestWorkbenchTLPConfirmation (ui)"},
	"POST /incidents/:ref/tlp":                          {Kind: uiIncidentTested, Why: "the workbench: incident.update (the TLP); TestWorkbenchActions, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui), TestWorkbenchTLPConfirmation (ui)"},
	"POST /incidents/:ref/executive-summary":            {Kind: uiIncidentTested, Why: "the workbench: incident.update (the executive summary); TestWorkbenchActions, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/entries":                      {Kind: uiWrite, Write: "timeline.add", Form: uiFields(map[string]string{"summary": "summary"})},
	"POST /incidents/:ref/pins":                         {Kind: uiWrite, Write: "event.pin", Form: func(call writeCall) url.Values { return url.Values{"pin": {call.Params["eventId"]}} }},
	"POST /incidents/:ref/tasks":                        {Kind: uiWrite, Write: "task.create", Form: uiFields(map[string]string{"title": "title"})},
	"POST /incidents/:ref/tasks/:id/assign":             {Kind: uiIncidentTested, Why: "case work: task.write; TestCaseworkTaskBoard, TestCaseworkObservables, TestCaseworkParticipantsAndShares, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/tasks/:id/status":             {Kind: uiIncidentTested, Why: "case work: task.write; TestCaseworkTaskBoard, TestCaseworkObservables, TestCaseworkParticipantsAndShares, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/observables":                  {Kind: uiWrite, Write: "observable.add", Form: uiFields(map[string]string{"indicators": "value"}, "tlp", "TLP:RED")},
	"POST /incidents/:ref/observables/:id/remove":       {Kind: uiIncidentTested, Why: "case work: observable.change; TestCaseworkTaskBoard, TestCaseworkObservables, TestCaseworkParticipantsAndShares, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/observables/:id/tlp":          {Kind: uiIncidentTested, Why: "case work: observable.change; TestCaseworkTaskBoard, TestCaseworkObservables, TestCaseworkParticipantsAndShares, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/observables/:id/pap":          {Kind: uiIncidentTested, Why: "case work: observable.change; TestBrowserPAP, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/participants":                 {Kind: uiWrite, Write: "participant.add", Form: uiFields(map[string]string{"email": "email"})},
	"POST /incidents/:ref/participants/:id/remove":      {Kind: uiIncidentTested, Why: "case work: incident.share (incident.participant_red on TLP:RED); TestCaseworkTaskBoard, TestCaseworkObservables, TestCaseworkParticipantsAndShares, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/shares":                       {Kind: uiWrite, Write: "incident.share", Form: uiFields(map[string]string{"org": "org", "note": "note"})},
	"POST /incidents/:ref/links":                        {Kind: uiWrite, Write: "incident.link", Form: uiFields(map[string]string{"incident": "incident", "kind": "kind"})},
	"POST /incidents/:ref/links/:id/remove":             {Kind: uiWrite, Write: "incident.unlink", Params: map[string]string{"id": "linkId"}},
	"POST /incidents/:ref/merge":                        {Kind: uiWrite, Write: "incident.merge", Form: uiFields(map[string]string{"into": "into"})},
	"POST /incidents/:ref/merge/undo":                   {Kind: uiWrite, Write: "incident.merge_undo"},
	"GET /campaigns":                                    {Kind: uiOwn, Why: "the campaign view: linking.Service.Campaigns, observables and incidents under the visibility rule"},
	"POST /incidents/:ref/shares/:id/end":               {Kind: uiIncidentTested, Why: "case work: incident.share; TestCaseworkTaskBoard, TestCaseworkObservables, TestCaseworkParticipantsAndShares, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"GET /incidents/:ref/runs/new":                      {Kind: uiIncidentTested, Why: "playbook runs: the playbooks that may start, under the incident's visibility (playbook.run to start); TestPlaybookRunStartWithPreview, TestPlaybookRunAnswerForm, TestPlaybookRunApproval, TestPlaybookRunCancel, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/runs":                         {Kind: uiIncidentTested, Why: "playbook runs: playbook.run; TestPlaybookRunStartWithPreview, TestPlaybookRunAnswerForm, TestPlaybookRunApproval, TestPlaybookRunCancel, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"GET /incidents/:ref/runs/:id":                      {Kind: uiIncidentTested, Why: "playbook runs: a run of the incident, under its visibility; TestPlaybookRunStartWithPreview, TestPlaybookRunAnswerForm, TestPlaybookRunApproval, TestPlaybookRunCancel, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/runs/:id/cancel":              {Kind: uiIncidentTested, Why: "playbook runs: playbook.run; TestPlaybookRunStartWithPreview, TestPlaybookRunAnswerForm, TestPlaybookRunApproval, TestPlaybookRunCancel, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/runs/:id/steps/:step/answer":  {Kind: uiIncidentTested, Why: "playbook runs: playbook.input; TestPlaybookRunStartWithPreview, TestPlaybookRunAnswerForm, TestPlaybookRunApproval, TestPlaybookRunCancel, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/runs/:id/steps/:step/decide":  {Kind: uiIncidentTested, Why: "playbook runs: playbook.approve (the step's role, RequireApprover); TestPlaybookRunStartWithPreview, TestPlaybookRunAnswerForm, TestPlaybookRunApproval, TestPlaybookRunCancel, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"GET /incidents/:ref/escalate":                      {Kind: uiIncidentTested, Why: "escalations: the organisations that may be asked (escalation.Service.Targets, the rules of Request); TestEscalationPages, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"POST /incidents/:ref/escalate":                     {Kind: uiIncidentTested, Why: "escalations: incident.escalate; TestEscalationPages, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"GET /incidents/:ref/escalations":                   {Kind: uiIncidentTested, Why: "escalations: the hand-off history, from the timeline under the incident's visibility; TestEscalationPages, TestAnotherOrganisationGets404OnEveryIncidentRoute (ui)"},
	"GET /escalations":                                  {Kind: uiIncidentTested, Why: "the inbox: escalation.Service.List, the escalations to or from the person's organisation only; TestEscalationPages, TestBrowserEscalationHandOff (ui); the API's escalation rows of writeActions judge the same decisions"},
	"GET /escalations/:id":                              {Kind: uiIncidentTested, Why: "one escalation to or from the person's organisation (escalation.Service.Get; a third organisation's is 404); TestEscalationPages, TestBrowserEscalationHandOff (ui); the API's escalation rows of writeActions judge the same decisions"},
	"POST /escalations/:id/decide":                      {Kind: uiIncidentTested, Why: "escalation.decide on that escalation (its receiving organisation's coordinators and administrators); TestEscalationPages, TestBrowserEscalationHandOff (ui); the API's escalation rows of writeActions judge the same decisions"},
	"POST /escalations/:id/question":                    {Kind: uiIncidentTested, Why: "a comment (incident.comment) to the requester, by the receiving organisation only; TestEscalationPages, TestBrowserEscalationHandOff (ui); the API's escalation rows of writeActions judge the same decisions"},
	"GET /account/tokens":                               {Kind: uiOwn, Why: "the person's own API tokens"},
	"POST /account/tokens":                              {Kind: uiOwn, Why: "creates an API token of the person's own (TestEveryoneManagesTheirOwnAPITokens)"},
	"POST /account/tokens/:id/revoke":                   {Kind: uiOwn, Why: "revokes one of the person's own tokens; another's is 404 (TestEveryoneManagesTheirOwnAPITokens)"},
	"GET /admin":                                        {Kind: uiAdmin, Why: "organisations an administrator manages (org.Service.ManagedOrgs, GetManaged); TestAdminOverviewAndTreeKeepToTheAdministratorsOrganisations, TestAdminCreatesAndChangesOrganisations (ui)"},
	"GET /admin/organisations":                          {Kind: uiAdmin, Why: "organisations an administrator manages (org.Service.ManagedOrgs, GetManaged); TestAdminOverviewAndTreeKeepToTheAdministratorsOrganisations, TestAdminCreatesAndChangesOrganisations (ui)"},
	"GET /admin/organisations/new":                      {Kind: uiAdmin, Why: "organisations an administrator manages (org.Service.ManagedOrgs, GetManaged); TestAdminOverviewAndTreeKeepToTheAdministratorsOrganisations, TestAdminCreatesAndChangesOrganisations (ui)"},
	"POST /admin/organisations":                         {Kind: uiAdmin, Why: "organisations an administrator manages (org.Service.ManagedOrgs, GetManaged); TestAdminOverviewAndTreeKeepToTheAdministratorsOrganisations, TestAdminCreatesAndChangesOrganisations (ui)"},
	"GET /admin/organisations/:slug/edit":               {Kind: uiAdmin, Why: "organisations an administrator manages (org.Service.ManagedOrgs, GetManaged); TestAdminOverviewAndTreeKeepToTheAdministratorsOrganisations, TestAdminCreatesAndChangesOrganisations (ui)"},
	"POST /admin/organisations/:slug":                   {Kind: uiAdmin, Why: "organisations an administrator manages (org.Service.ManagedOrgs, GetManaged); TestAdminOverviewAndTreeKeepToTheAdministratorsOrganisations, TestAdminCreatesAndChangesOrganisations (ui)"},
	"GET /admin/organisations/:slug/users":              {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"POST /admin/organisations/:slug/users":             {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"GET /admin/users":                                  {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"GET /admin/users/:id":                              {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"POST /admin/users/:id":                             {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"GET /admin/users/:id/disable":                      {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"POST /admin/users/:id/disable":                     {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"GET /signin/second-factor":                         {Kind: uiOwn, Why: "asks the person's own pending session (or a step-up) for its second factor; TestSecondFactorPages (ui)"},
	"POST /signin/second-factor":                        {Kind: uiOwn, Why: "checks the code for the person's own session, throttled like sign-ins; TestSecondFactorPages (ui)"},
	"GET /account/security":                             {Kind: uiOwn, Why: "the person's own second factors"},
	"POST /account/security/app/remove":                 {Kind: uiOwn, Why: "removes the person's own app after a code or the password; TestRemoveTOTP (session)"},
	"POST /account/security/recovery-codes":             {Kind: uiOwn, Why: "renews the person's own recovery codes after a recent second factor; TestRecoveryCodesOnce (session)"},
	"GET /account/security/setup":                       {Kind: uiOwn, Why: "sets up the person's own authenticator app; TestSecondFactorPages (ui)"},
	"POST /account/security/setup":                      {Kind: uiOwn, Why: "confirms the person's own app; TestSecondFactorPages (ui)"},
	"GET /account/security/setup/qr.png":                {Kind: uiOwn, Why: "the QR code of the person's own app being set up, no-store; TestSecondFactorPages (ui)"},
	"GET /admin/organisations/:slug/sign-in":            {Kind: uiAdmin, Why: "an organisation's sign-in policy (session.Service.PolicyOf, SavePolicy); TestSignInPolicyPageAcrossOrganisations (ui), TestPolicyAndResetAcrossOrganisations (session)"},
	"POST /admin/organisations/:slug/sign-in":           {Kind: uiAdmin, Why: "an organisation's sign-in policy; TestSignInPolicyPageAcrossOrganisations (ui)"},
	"POST /admin/users/:id/factor-reset":                {Kind: uiAdmin, Why: "a second-factor reset link for users of the organisations the administrator manages; TestSignInPolicyPageAcrossOrganisations (ui), TestPolicyAndResetAcrossOrganisations (session)"},
	"GET /factor-reset/:token":                          {Kind: uiPublic, Why: "a one-time second-factor reset link: its token is the credential (docs/security.md)"},
	"POST /factor-reset/:token":                         {Kind: uiPublic, Why: "uses a one-time second-factor reset link: its token is the credential"},
	"POST /admin/users/:id/reset-link":                  {Kind: uiAdmin, Why: "users of the organisations the administrator manages; TestAdminManagesUsersOfItsOrganisations, TestAdminDisablingAUserEndsTheirSessionsAndTokens (ui)"},
	"GET /admin/teams":                                  {Kind: uiAdmin, Why: "the teams of the administrator's CERT (team.Service); TestAdminManagesTeams (ui)"},
	"POST /admin/teams":                                 {Kind: uiAdmin, Why: "the teams of the administrator's CERT (team.Service); TestAdminManagesTeams (ui)"},
	"POST /admin/teams/:id":                             {Kind: uiAdmin, Why: "the teams of the administrator's CERT (team.Service); TestAdminManagesTeams (ui)"},
	"GET /admin/teams/:id/delete":                       {Kind: uiAdmin, Why: "the teams of the administrator's CERT (team.Service); TestAdminManagesTeams (ui)"},
	"POST /admin/teams/:id/delete":                      {Kind: uiAdmin, Why: "the teams of the administrator's CERT (team.Service); TestAdminManagesTeams (ui)"},
	"POST /admin/teams/:id/members":                     {Kind: uiAdmin, Why: "the teams of the administrator's CERT (team.Service); TestAdminManagesTeams (ui)"},
	"POST /admin/teams/:id/members/:user/remove":        {Kind: uiAdmin, Why: "the teams of the administrator's CERT (team.Service); TestAdminManagesTeams (ui)"},
	"GET /admin/organisations/:slug/red-recipients":     {Kind: uiAdmin, Why: "a CERT's TLP:RED recipients (incident.Service.RedRecipients, SetRedRecipients); TestAdminDesignatesTLPRedRecipients (ui)"},
	"POST /admin/organisations/:slug/red-recipients":    {Kind: uiAdmin, Why: "a CERT's TLP:RED recipients (incident.Service.RedRecipients, SetRedRecipients); TestAdminDesignatesTLPRedRecipients (ui)"},
	"GET /admin/organisations/:slug/escalation-policy":  {Kind: uiAdmin, Why: "an organisation's escalation policy (escalation.Service.GetPolicy, SetPolicy, PreviewPolicy); TestAdminEscalationPolicyPage (ui)"},
	"POST /admin/organisations/:slug/escalation-policy": {Kind: uiAdmin, Why: "an organisation's escalation policy (escalation.Service.GetPolicy, SetPolicy, PreviewPolicy); TestAdminEscalationPolicyPage (ui)"},
	"GET /admin/organisations/:slug/webhook":            {Kind: uiAdmin, Why: "an organisation's webhook (notify.Service.Webhook, ConfigureWebhook through org.Service.GetManaged); TestAdminWebhookPage (ui)"},
	"POST /admin/organisations/:slug/webhook":           {Kind: uiAdmin, Why: "an organisation's webhook (notify.Service.Webhook, ConfigureWebhook through org.Service.GetManaged); TestAdminWebhookPage (ui)"},
	"GET /admin/identity-provider":                      {Kind: uiAdmin, Why: "the administrator's own organisation's identity provider (sso.Service.ConfigOf: own organisation only, the secret never shown); TestOIDCAdminOwnOrganisationOnly (ui), TestProviderConfigOwnOrganisationOnly (sso)"},
	"POST /admin/identity-provider":                     {Kind: uiAdmin, Why: "saves or removes the own organisation's identity provider (sso.Service.Save/Remove: own organisation only, domains of other organisations refused); TestOIDCAdminOwnOrganisationOnly (ui), TestProviderConfigOwnOrganisationOnly (sso)"},
	"GET /admin/deliveries":                             {Kind: uiAdmin, Why: "the notification delivery log: notify.Service.Deliveries, only incidents the administrator may see; TestAdminDeliveriesPage (ui)"},
	"GET /admin/audit":                                  {Kind: uiAdmin, Why: "the audit log: audit.Service.Read (access.ReadAudit: the national CERT's administrators); TestAdminAuditPage (ui)"},
	"GET /admin/playbooks":                              {Kind: uiAdmin, Why: "the playbook catalogue and its validation (administrators and the CERTs' people; others 404); TestPlaybookCatalogue (ui)"},
	"GET /admin/playbooks/:id/cacao.json":               {Kind: uiAdmin, Why: "a catalogue playbook as CACAO v2, for the catalogue page's people (others 404); TestPlaybookCatalogueCACAO (ui)"},
	"GET /admin/jobs":                                   {Kind: uiAdmin, Why: jobsUIWhy},
	"GET /admin/jobs/*":                                 {Kind: uiAdmin, Why: jobsUIWhy},
	"POST /admin/jobs":                                  {Kind: uiAdmin, Why: jobsUIWhy},
	"POST /admin/jobs/*":                                {Kind: uiAdmin, Why: jobsUIWhy},
	"PUT /admin/jobs":                                   {Kind: uiAdmin, Why: jobsUIWhy},
	"PUT /admin/jobs/*":                                 {Kind: uiAdmin, Why: jobsUIWhy},
	"PATCH /admin/jobs":                                 {Kind: uiAdmin, Why: jobsUIWhy},
	"PATCH /admin/jobs/*":                               {Kind: uiAdmin, Why: jobsUIWhy},
}

// jobsUIWhy says what decides River's web UI (ui.JobsPrefix).
const jobsUIWhy = "River's web UI of the background jobs (its page and JSON API): access.OperateJobs, the national CERT's administrators; writes audited; TestJobsUIIsTheNationalAdministratorsAndAudited, TestBrowserJobsUI (ui), TestLeakCrawler (app)"

// uiSkipRoute: the routes that are not the UI's (the API, Slack, the
// operational endpoints) and the UI's static files.
func uiSkipRoute(rt *echo.Route) bool {
	if rt.Method == echo.RouteNotFound || strings.HasPrefix(rt.Path, "/static") {
		return true
	}
	switch {
	case strings.HasPrefix(rt.Path, "/api/"), strings.HasPrefix(rt.Path, "/slack/"):
		return true
	case strings.HasPrefix(rt.Path, "/taxii2/"): // TAXII 2.1, token only: taxii_test.go and the leak crawler
		return true
	}
	switch rt.Path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return false
}

// checkUIRoutes fails when a UI route has no entry in uiRoutes, or an entry
// names no route or no action of the table.
func checkUIRoutes(t *testing.T, h *testapp.Harness, actions []*writeAction) {
	t.Helper()
	names := map[string]bool{}
	for _, a := range actions {
		names[a.Name] = true
	}
	registered := map[string]bool{}
	var missing []string
	for _, rt := range h.App.HTTP.Routes() {
		if uiSkipRoute(rt) {
			continue
		}
		key := rt.Method + " " + rt.Path
		registered[key] = true
		if _, ok := uiRoutes[key]; !ok {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "web UI routes without an entry in uiRoutes (the write action they perform, the incident page they show, or why no incident decides them)")
	for key, r := range uiRoutes {
		require.True(t, registered[key], "uiRoutes has %q, which is not a registered route", key)
		switch r.Kind {
		case uiWrite:
			require.True(t, names[r.Write], "uiRoutes: %s performs %q, which is no row of writeActions", key, r.Write)
		case uiPublic, uiOwn:
			require.NotEmpty(t, r.Why, "uiRoutes: say why no incident decides %s", key)
		case uiIncidentPart:
			require.Contains(t, []string{"comment", "evidence"}, r.Part, "uiRoutes: %s names no part", key)
		case uiIncidentTested, uiAdmin:
			require.NotEmpty(t, r.Why, "uiRoutes: name the tests that check %s", key)
		}
	}
}

// uiWriteDriver performs the table's actions through the web UI's forms,
// each actor signed in with a session of its own.
type uiWriteDriver struct {
	h       *testapp.Harness
	byWrite map[string]string // writeActions name → UI route
	mu      sync.Mutex
	signed  map[string]*uiSession // by user ID
}

// uiSession is one signed-in person: the session cookie and the CSRF token
// its pages carry.
type uiSession struct {
	cookie *http.Cookie
	csrf   string
}

func newUIWriteDriver(h *testapp.Harness) *uiWriteDriver {
	d := &uiWriteDriver{h: h, byWrite: map[string]string{}, signed: map[string]*uiSession{}}
	for key, r := range uiRoutes {
		if r.Kind == uiWrite {
			d.byWrite[r.Write] = key
		}
	}
	return d
}

func (d *uiWriteDriver) Name() string { return "ui" }

// Supports reports whether a page performs the action.
func (d *uiWriteDriver) Supports(a *writeAction) bool { _, ok := d.byWrite[a.Name]; return ok }

var uiCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// session signs actor in: a password chosen through a one-time reset
// link the operator issued, then the session service's sign-in, as the
// sign-in form does.
func (d *uiWriteDriver) session(actor secUser) (*uiSession, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.signed[actor.ID.String()]; ok {
		return s, nil
	}
	ctx := context.Background()
	pw := "matrix-passphrase-" + actor.ID.String()[:8]
	link, _, err := d.h.App.Identity.IssueResetLink(ctx, access.System, actor.ID.String())
	if err != nil {
		return nil, err
	}
	if err := d.h.App.Identity.ResetPassword(ctx, link[strings.LastIndex(link, "/")+1:], pw, "127.0.0.1"); err != nil {
		return nil, err
	}
	secret, _, err := d.h.App.Sessions.SignIn(ctx, actor.Email, pw, session.Client{RemoteAddr: "127.0.0.1", UserAgent: "matrix"})
	if err != nil {
		return nil, err
	}
	s := &uiSession{cookie: &http.Cookie{Name: "certdesk-session", Value: secret}}
	status, body, err := d.do(s, http.MethodGet, "/account", nil, "")
	if err != nil {
		return nil, err
	}
	m := uiCSRF.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		return nil, fmt.Errorf("signed in as %s, /account answered %d without a CSRF token", actor.Email, status)
	}
	s.csrf = m[1]
	d.signed[actor.ID.String()] = s
	return s, nil
}

// do sends one request of s as a same-origin browser does.
func (d *uiWriteDriver) do(s *uiSession, method, path string, body io.Reader, contentType string) (int, string, error) {
	req, err := http.NewRequest(method, d.h.URL+path, body)
	if err != nil {
		return 0, "", err
	}
	req.AddCookie(s.cookie)
	if method != http.MethodGet {
		req.Header.Set("Origin", d.h.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Content-Type", contentType)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// uiPath fills the route's parameters from the call (by the API's names,
// rename maps the UI's to them): :ref and :id name the incident when the
// call names one and no other value.
func uiPath(pattern string, call writeCall, rename map[string]string) string {
	var path []string
	for _, seg := range strings.Split(pattern, "/") {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			seg = call.Params[name]
			if api, ok := rename[name]; ok {
				seg = call.Params[api]
			}
			if (name == "ref" || name == "id") && call.Incident != "" && seg == "" {
				seg = call.Incident
			}
			seg = url.PathEscape(seg)
		}
		path = append(path, seg)
	}
	return strings.Join(path, "/")
}

func (d *uiWriteDriver) Perform(a *writeAction, actor secUser, call writeCall) (writeOutcome, string) {
	s, err := d.session(actor)
	if err != nil {
		return "error", err.Error()
	}
	route := uiRoutes[d.byWrite[a.Name]]
	method, pattern, _ := strings.Cut(d.byWrite[a.Name], " ")
	form := url.Values{}
	if route.Form != nil {
		form = route.Form(call)
	}
	form.Set("csrf", s.csrf)
	var body io.Reader
	contentType := "application/x-www-form-urlencoded"
	if call.File != nil {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, vs := range form {
			for _, v := range vs {
				_ = mw.WriteField(k, v)
			}
		}
		fw, _ := mw.CreateFormFile("file", call.File.Name)
		_, _ = fw.Write(call.File.Content)
		_ = mw.Close()
		body, contentType = &b, mw.FormDataContentType()
	} else {
		body = strings.NewReader(form.Encode())
	}
	status, page, err := d.do(s, method, uiPath(pattern, call, route.Params), body, contentType)
	if err != nil {
		return "error", err.Error()
	}
	switch {
	case status == http.StatusSeeOther || status == http.StatusFound || (status >= 200 && status < 300):
		return wDone, ""
	case status == http.StatusUnprocessableEntity:
		return wInvalid, ""
	case status == http.StatusConflict:
		return wConflict, ""
	case status == http.StatusForbidden:
		return wRefused, ""
	case status == http.StatusNotFound:
		return wHidden, ""
	}
	return writeOutcome(fmt.Sprint(status)), secExcerpt([]byte(page))
}

// uiReadCells checks the incident pages: every actor × incident, the page
// is there (200) when the suite's model says the actor sees the incident,
// and the same 404 as a reference that does not exist when not. The pages
// of an incident's parts (uiIncidentPart) are 404 exactly when the
// incident is not seen.
func uiReadCells(t *testing.T, d *uiWriteDriver, fx *writeFixture) (cells int) {
	t.Helper()
	var pages []string
	for key, r := range uiRoutes {
		if r.Kind == uiIncidentPage || r.Kind == uiIncidentPart {
			pages = append(pages, key)
		}
	}
	// A file of evidence per incident, for the download.
	files := map[string]string{}
	for _, inc := range fx.incs {
		a, err := d.h.App.Evidence.Upload(context.Background(), access.System, inc.ID,
			evidence.NewAttachment{Filename: "read-cells.txt", ContentType: "text/plain"}, strings.NewReader("read cells"))
		require.NoError(t, err)
		files[inc.ID] = a.ID.String()
	}
	sort.Strings(pages)
	type miss struct{ who, page, tlp, want, got string }
	var (
		mu     sync.Mutex
		misses []miss
		wg     sync.WaitGroup
		sem    = make(chan struct{}, 8)
	)
	// The incident page itself is opened by every actor. The other pages
	// read the incident through the same use case, so they are opened by
	// one user per organisation and by every user named a participant
	// somewhere: who sees an incident depends on nothing else, and the
	// race detector makes each page (a PDF among them) costly.
	sampled := map[string]bool{}
	var sample []secUser
	for _, actor := range fx.actors {
		named := false
		for _, inc := range fx.incs {
			named = named || inc.participants[actor.ID]
		}
		if named || !sampled[actor.OrgSlug] {
			sampled[actor.OrgSlug] = true
			sample = append(sample, actor)
		}
	}
	for _, key := range pages {
		_, pattern, _ := strings.Cut(key, " ")
		r := uiRoutes[key]
		actors := sample
		if key == "GET /incidents/:ref" {
			actors = fx.actors
		}
		for _, actor := range actors {
			for _, inc := range fx.incs {
				cells++
				want := http.StatusNotFound
				if fx.tree.sees(actor.ID, actor.OrgSlug, inc) {
					want = http.StatusOK
				}
				call := writeCall{Incident: inc.Ref}
				switch r.Part {
				case "comment":
					call.Params = map[string]string{"id": fx.comments[inc.TLP]}
				case "evidence":
					call.Params = map[string]string{"id": files[inc.ID]}
				}
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					var got string
					s, err := d.session(actor)
					if err == nil {
						var status int
						status, _, err = d.do(s, http.MethodGet, uiPath(pattern, call, nil), nil, "")
						got = fmt.Sprint(status)
						if r.Kind == uiIncidentPart && want == http.StatusOK && status == http.StatusForbidden {
							got = fmt.Sprint(http.StatusOK) // sees the incident, may not use this page: not hidden
						}
					}
					if err != nil {
						got = "error: " + err.Error()
					}
					if got != fmt.Sprint(want) {
						mu.Lock()
						misses = append(misses, miss{actor.OrgSlug + "/" + string(actor.Role), key, string(inc.TLP), fmt.Sprint(want), got})
						mu.Unlock()
					}
				}()
			}
		}
	}
	wg.Wait()
	for _, m := range misses {
		t.Errorf("ui %s as %s on the %s incident: want %s, got %s", m.page, m.who, m.tlp, m.want, m.got)
	}
	return cells
}
