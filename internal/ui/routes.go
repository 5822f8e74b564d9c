package ui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Mount adds every route of the UI to e. Routes are listed here and
// nowhere else; each handler has its own file.
//
//   - public: identify (who is asking, their language) and the page
//     headers; the page works signed out.
//   - signedIn: as public, and a signed-out request goes to the sign-in
//     page, which returns it here afterwards.
//   - form: a state-changing POST: as signedIn (or public), and the CSRF
//     and cross-site checks.
//   - upload: the evidence upload and the guided report's files,
//     multipart forms with their own body and time limits (OwnLimits);
//     the handler checks the CSRF token, the body's first part
//     (uploadParts).
//   - public and signedIn pass the pending-session gate (factors_gate.go):
//     a session that still owes a second factor reaches only the pages
//     that take it.
//   - reset: the password reset pages, without cookies or session; the
//     form's only credential is the link's token.
func (u *UI) Mount(e *echo.Echo) {
	public := []echo.MiddlewareFunc{u.headers, u.identify, u.gate}
	signedIn := append(public[:len(public):len(public)], u.requireSignIn)
	publicForm := append(public[:len(public):len(public)], u.csrf)
	signedInForm := append(signedIn[:len(signedIn):len(signedIn)], u.csrf)
	upload := append(signedIn[:len(signedIn):len(signedIn)], u.crossSite, u.uploadLimits)
	reset := []echo.MiddlewareFunc{u.headers, u.resetIdentify}
	resetForm := append(reset[:len(reset):len(reset)], u.crossSite)

	e.GET("/static/*", echo.StaticDirectoryHandler(u.static, false), staticCache)

	e.GET("/", u.home, public...)
	e.GET("/signin", u.signinPage, public...)
	e.POST("/signin", u.signinSubmit, publicForm...)
	// The organisation's identity provider sends people back here
	// (signin_oidc.go): a GET without CSRF token; the one-time state,
	// bound to the browser's pre-session secret, is its check.
	e.GET("/signin/oidc/callback", u.oidcCallback, public...)
	e.POST("/signout", u.signout, signedInForm...)
	e.POST("/session/extend", u.sessionExtend, signedInForm...)
	e.POST("/language", u.language, publicForm...)
	e.GET("/help", u.help, public...)
	e.GET("/accessibility", u.accessibility, public...)
	e.GET("/password-reset/done", u.passwordResetDone, reset...)
	e.GET("/password-reset/:token", u.passwordResetPage, reset...)
	e.POST("/password-reset/:token", u.passwordResetSave, resetForm...)

	e.GET("/queue", u.queue, signedIn...)
	e.GET("/queue.csv", u.queueCSV, signedIn...)
	e.GET("/queue/live", u.queueLive, append([]echo.MiddlewareFunc{u.headers, u.background, u.identify, u.gate}, u.requireSignIn)...)
	e.POST("/queue/bulk", u.queueBulk, signedInForm...)
	e.POST("/queue/bulk/apply", u.queueBulkApply, signedInForm...)
	e.POST("/queue/views", u.queueViewSave, signedInForm...)
	e.POST("/queue/views/:id/delete", u.queueViewDelete, signedInForm...)

	e.GET("/incidents", u.incidents, signedIn...)
	e.GET("/incidents/:ref", u.incident, signedIn...)
	// A MISP event file as a new incident or into one (misp_import.go).
	e.GET(mispImportRoute, u.mispImportPage, signedIn...)
	e.POST(mispImportRoute, u.mispImport, upload...)
	e.POST("/incidents/:ref/comments", u.commentSave, signedInForm...)
	e.GET("/incidents/:ref/comments/:id/edit", u.commentEdit, signedIn...)
	e.POST("/incidents/:ref/comments/:id", u.commentUpdate, signedInForm...)
	e.GET("/incidents/:ref/comments/:id/revisions", u.commentRevisions, signedIn...)
	e.POST("/incidents/:ref/evidence", u.evidenceUpload, upload...)
	e.GET("/incidents/:ref/evidence/:id", u.evidenceDownload, signedIn...)
	e.POST("/incidents/:ref/tasks/:id/done", u.taskDone, signedInForm...)

	e.GET("/incidents/:ref/summary", u.incidentSummary, signedIn...)
	e.GET("/incidents/:ref/report.pdf", u.incidentReportPDF, signedIn...)
	e.GET("/incidents/:ref/export.stix.json", u.incidentSTIX, signedIn...)
	e.GET("/incidents/:ref/export.misp.json", u.incidentMISP, signedIn...)
	e.GET("/incidents/:ref/observables.csv", u.incidentObservablesCSV, signedIn...)

	// The CERT's workbench on the incident page (docs/ui.md, "The
	// incident workbench"): each action a form post that comes back to
	// the incident page; the TLP change is confirmed on a page of its own.
	e.POST("/incidents/:ref/acknowledge", u.workbenchAcknowledge, signedInForm...)
	e.POST("/incidents/:ref/assign", u.workbenchAssign, signedInForm...)
	e.POST("/incidents/:ref/classify", u.workbenchClassify, signedInForm...)
	e.POST("/incidents/:ref/severity", u.workbenchSeverity, signedInForm...)
	e.POST("/incidents/:ref/pap", u.workbenchPAP, signedInForm...)
	e.POST("/incidents/:ref/stage", u.workbenchStage, signedInForm...)
	e.POST("/incidents/:ref/close", u.workbenchClose, signedInForm...)
	e.POST("/incidents/:ref/reopen", u.workbenchReopen, signedInForm...)
	e.GET("/incidents/:ref/tlp", u.workbenchTLP, signedIn...)
	e.POST("/incidents/:ref/tlp", u.workbenchTLPSave, signedInForm...)
	e.POST("/incidents/:ref/executive-summary", u.workbenchSummary, signedInForm...)
	e.POST("/incidents/:ref/entries", u.workbenchEntry, signedInForm...)
	e.POST("/incidents/:ref/pins", u.workbenchPin, signedInForm...)

	e.GET("/dashboard", u.dashboard, signedIn...)
	e.GET("/dashboard/csv", u.dashboardCSV, signedIn...)
	e.GET("/dashboard/briefing.pdf", u.briefingPDF, signedIn...)

	// The reporting organisation's journey (docs/ui.md, "The guided
	// report"): the guided report, its confirmation, "Our reports", and
	// the legal reports of an incident.
	e.GET("/reports", u.ourReports, signedIn...)
	e.GET("/report", u.reportStart, signedIn...)
	e.POST("/report", u.reportNew, signedInForm...)
	e.GET("/report/sent/:ref", u.reportSent, signedIn...)
	e.GET("/report/mail/:draft", u.reportMail, signedIn...)
	e.POST("/report/mail/:draft", u.reportMailConfirm, signedInForm...)
	e.GET("/report/:draft/:step", u.reportStep, signedIn...)
	e.POST("/report/:draft/:step", u.reportStepSave, signedInForm...)
	e.GET("/report/:draft/discard", u.reportDiscardPage, signedIn...)
	e.POST("/report/:draft/discard", u.reportDiscard, signedInForm...)
	e.POST(reportFilesRoute, u.reportFileAdd, upload...)
	e.POST("/report/:draft/files/:n/remove", u.reportFileRemove, signedInForm...)
	e.GET("/incidents/:ref/legal", u.legal, signedIn...)
	e.GET("/incidents/:ref/legal/:kind", u.legalForm, signedIn...)
	e.POST("/incidents/:ref/legal/:kind", u.legalSave, signedInForm...)
	e.GET("/incidents/:ref/legal/:kind/check", u.legalCheck, signedIn...)
	e.POST("/incidents/:ref/legal/:kind/check", u.legalSend, signedInForm...)

	// The CERT's case work on the incident page (docs/ui.md, "Case
	// work"): the task board, observables, participants and shares. :id is
	// a task's, an observable's or a participant's ID, or a shared
	// organisation's slug.
	e.POST("/incidents/:ref/tasks", u.caseworkTaskCreate, signedInForm...)
	e.POST("/incidents/:ref/tasks/:id/status", u.caseworkTaskMove, signedInForm...)
	e.POST("/incidents/:ref/tasks/:id/assign", u.caseworkTaskAssign, signedInForm...)
	e.POST("/incidents/:ref/observables", u.caseworkObservablesAdd, signedInForm...)
	e.POST("/incidents/:ref/observables/:id/tlp", u.caseworkObservableTLP, signedInForm...)
	e.POST("/incidents/:ref/observables/:id/pap", u.caseworkObservablePAP, signedInForm...)
	e.POST("/incidents/:ref/observables/:id/remove", u.caseworkObservableRemove, signedInForm...)
	e.POST("/incidents/:ref/participants", u.caseworkParticipantAdd, signedInForm...)
	e.POST("/incidents/:ref/participants/:id/remove", u.caseworkParticipantRemove, signedInForm...)
	e.POST("/incidents/:ref/shares", u.caseworkShareAdd, signedInForm...)
	e.POST("/incidents/:ref/shares/:id/end", u.caseworkShareEnd, signedInForm...)
	// Linked incidents (links.go): links, merge and its undo.
	e.POST("/incidents/:ref/links", u.linkAdd, signedInForm...)
	e.POST("/incidents/:ref/links/:id/remove", u.linkRemove, signedInForm...)
	e.POST("/incidents/:ref/merge", u.mergeInto, signedInForm...)
	e.POST("/incidents/:ref/merge/undo", u.mergeUndo, signedInForm...)
	e.GET("/campaigns", u.campaigns, signedIn...)

	// Playbook runs (docs/ui.md, "Playbook runs"): start one by hand with
	// a preview, a run's graph and history, its inputs and approvals,
	// cancel; the playbook catalogue with its validation.
	e.GET("/incidents/:ref/runs/new", u.runNew, signedIn...)
	e.POST("/incidents/:ref/runs", u.runStart, signedInForm...)
	e.GET("/incidents/:ref/runs/:id", u.run, signedIn...)
	e.POST("/incidents/:ref/runs/:id/cancel", u.runCancel, signedInForm...)
	e.POST("/incidents/:ref/runs/:id/steps/:step/answer", u.runAnswer, signedInForm...)
	e.POST("/incidents/:ref/runs/:id/steps/:step/decide", u.runDecide, signedInForm...)
	e.GET("/admin/playbooks", u.adminPlaybooks, signedIn...)
	e.GET("/admin/playbooks/:id/cacao.json", u.adminPlaybookCACAO, signedIn...)

	// The administration's configuration and logs (docs/ui.md,
	// "Administration: configuration and logs").
	e.GET("/admin/organisations/:slug/escalation-policy", u.adminPolicy, signedIn...)
	e.POST("/admin/organisations/:slug/escalation-policy", u.adminPolicySave, signedInForm...)
	e.GET("/admin/organisations/:slug/webhook", u.adminWebhook, signedIn...)
	e.POST("/admin/organisations/:slug/webhook", u.adminWebhookSave, signedInForm...)
	e.GET("/admin/deliveries", u.adminDeliveries, signedIn...)
	// The administrator's own organisation's identity provider (admin_sso.go).
	e.GET("/admin/identity-provider", u.adminSSO, signedIn...)
	e.POST("/admin/identity-provider", u.adminSSOSave, signedInForm...)
	e.GET("/admin/audit", u.adminAudit, signedIn...)
	if u.o.Jobs != nil {
		// River's own web UI: a page and its JSON calls, which carry no
		// CSRF token, so its writes are refused from other sites only by
		// the browser's word (Sec-Fetch-Site, Origin).
		jobs := append(signedIn[:len(signedIn):len(signedIn)], u.crossSite)
		methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch}
		e.Match(methods, JobsPrefix, u.jobs, jobs...)
		e.Match(methods, JobsPrefix+"/*", u.jobs, jobs...)
	}

	// Administration I, the directory (docs/ui.md, "Administration"):
	// the overview, organisations, users, teams, TLP:RED recipients, and
	// everyone's own API tokens.
	e.GET("/admin", u.adminIndex, signedIn...)
	e.GET("/admin/organisations", u.adminOrgs, signedIn...)
	e.GET("/admin/organisations/new", u.adminOrgNew, signedIn...)
	e.POST("/admin/organisations", u.adminOrgCreate, signedInForm...)
	e.GET("/admin/organisations/:slug/edit", u.adminOrgEdit, signedIn...)
	e.POST("/admin/organisations/:slug", u.adminOrgSave, signedInForm...)
	e.GET("/admin/organisations/:slug/red-recipients", u.adminRed, signedIn...)
	e.POST("/admin/organisations/:slug/red-recipients", u.adminRedSave, signedInForm...)
	e.GET("/admin/users", u.adminUsers, signedIn...)
	e.GET("/admin/organisations/:slug/users", u.adminOrgUsers, signedIn...)
	e.POST("/admin/organisations/:slug/users", u.adminUserCreate, signedInForm...)
	e.GET("/admin/users/:id", u.adminUser, signedIn...)
	e.POST("/admin/users/:id", u.adminUserSave, signedInForm...)
	e.GET("/admin/users/:id/disable", u.adminUserDisablePage, signedIn...)
	e.POST("/admin/users/:id/disable", u.adminUserDisable, signedInForm...)
	e.POST("/admin/users/:id/reset-link", u.adminUserResetLink, signedInForm...)
	e.GET("/admin/teams", u.adminTeams, signedIn...)
	e.POST("/admin/teams", u.adminTeamCreate, signedInForm...)
	e.POST("/admin/teams/:id", u.adminTeamRename, signedInForm...)
	e.GET("/admin/teams/:id/delete", u.adminTeamDeletePage, signedIn...)
	e.POST("/admin/teams/:id/delete", u.adminTeamDelete, signedInForm...)
	e.POST("/admin/teams/:id/members", u.adminTeamMemberAdd, signedInForm...)
	e.POST("/admin/teams/:id/members/:user/remove", u.adminTeamMemberRemove, signedInForm...)

	// Escalations (docs/ui.md, "Escalations"): escalating an incident,
	// its hand-off history, the inbox and the decision page of one
	// escalation with its decisions and the question to the requester.
	e.GET("/incidents/:ref/escalate", u.escalateStart, signedIn...)
	e.POST("/incidents/:ref/escalate", u.escalateSubmit, signedInForm...)
	e.GET("/incidents/:ref/escalations", u.escalationHistory, signedIn...)
	e.GET("/escalations", u.escalations, signedIn...)
	e.GET("/escalations/:id", u.escalation, signedIn...)
	e.POST("/escalations/:id/decide", u.escalationDecide, signedInForm...)
	e.POST("/escalations/:id/question", u.escalationQuestion, signedInForm...)

	// Second factors (docs/ui.md, "Second factors"): the page that asks a
	// pending session (or a step-up) for its factor, the person's own
	// factors and the authenticator app's set-up, an organisation's
	// sign-in policy, and the links that reset a person's factors (like
	// the password reset links, without cookies).
	e.GET(SecondFactorPath, u.secondFactorPage, signedIn...)
	e.POST(SecondFactorPath, u.secondFactorSubmit, signedInForm...)
	e.GET("/account/security", u.accountSecurity, signedIn...)
	e.POST("/account/security/app/remove", u.accountSecurityRemove, signedInForm...)
	e.POST("/account/security/recovery-codes", u.accountSecurityCodes, signedInForm...)
	e.GET(SetupPath, u.securitySetup, signedIn...)
	e.POST(SetupPath, u.securitySetupConfirm, signedInForm...)
	e.GET(SetupPath+"/qr.png", u.securitySetupQR, signedIn...)
	e.GET("/admin/organisations/:slug/sign-in", u.adminSignInPolicy, signedIn...)
	e.POST("/admin/organisations/:slug/sign-in", u.adminSignInPolicySave, signedInForm...)
	e.POST("/admin/users/:id/factor-reset", u.adminUserFactorReset, signedInForm...)
	e.GET("/factor-reset/:token", u.factorResetPage, reset...)
	e.POST("/factor-reset/:token", u.factorResetSave, resetForm...)

	e.GET("/account", u.account, signedIn...)
	e.POST("/account/settings", u.accountSave, signedInForm...)
	e.GET("/account/password", u.passwordPage, signedIn...)
	e.POST("/account/password", u.passwordSave, signedInForm...)
	e.GET("/account/sessions", u.sessions, signedIn...)
	e.POST("/account/sessions/:id/end", u.sessionEnd, signedInForm...)
	// Passkeys (docs/ui.md, "Passkeys"): the person's own, and signing in
	// with one alone or as the second factor. The JSON calls are made by
	// web/static/passkey.js with the X-CSRF-Token header. The second
	// factor's routes accept a session that is still pending.
	e.GET("/account/passkeys", u.passkeys, signedIn...)
	e.POST("/account/passkeys/register/begin", u.passkeyRegisterBegin, signedInForm...)
	e.POST("/account/passkeys/register/finish", u.passkeyRegisterFinish, signedInForm...)
	e.POST("/account/passkeys/:id", u.passkeyRename, signedInForm...)
	e.POST("/account/passkeys/:id/remove", u.passkeyRemove, signedInForm...)
	e.POST("/account/security/setup/passkey/begin", u.setupPasskeyBegin, signedInForm...)
	e.POST("/account/security/setup/passkey/finish", u.setupPasskeyFinish, signedInForm...)
	e.POST("/signin/passkey/begin", u.signinPasskeyBegin, publicForm...)
	e.POST("/signin/passkey/finish", u.signinPasskeyFinish, publicForm...)
	e.GET("/signin/second-factor/passkey", u.secondFactorPasskey, signedIn...)
	e.POST("/signin/second-factor/passkey/begin", u.secondFactorPasskeyBegin, signedInForm...)
	e.POST("/signin/second-factor/passkey/finish", u.secondFactorPasskeyFinish, signedInForm...)
	e.GET("/account/tokens", u.tokens, signedIn...) // administration I: everyone's own API tokens
	e.POST("/account/tokens", u.tokenCreate, signedInForm...)
	e.POST("/account/tokens/:id/revoke", u.tokenRevoke, signedInForm...)
}
