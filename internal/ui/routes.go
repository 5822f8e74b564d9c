package ui

import (
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
//   - reset: the password reset pages, without cookies or session; the
//     form's only credential is the link's token.
func (u *UI) Mount(e *echo.Echo) {
	public := []echo.MiddlewareFunc{u.headers, u.identify}
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
	e.GET("/queue/live", u.queueLive, append([]echo.MiddlewareFunc{u.headers, u.background, u.identify}, u.requireSignIn)...)
	e.POST("/queue/bulk", u.queueBulk, signedInForm...)
	e.POST("/queue/bulk/apply", u.queueBulkApply, signedInForm...)
	e.POST("/queue/views", u.queueViewSave, signedInForm...)
	e.POST("/queue/views/:id/delete", u.queueViewDelete, signedInForm...)

	e.GET("/incidents", u.incidents, signedIn...)
	e.GET("/incidents/:ref", u.incident, signedIn...)
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
	e.GET("/incidents/:ref/observables.csv", u.incidentObservablesCSV, signedIn...)

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

	e.GET("/account", u.account, signedIn...)
	e.POST("/account/settings", u.accountSave, signedInForm...)
	e.GET("/account/password", u.passwordPage, signedIn...)
	e.POST("/account/password", u.passwordSave, signedInForm...)
	e.GET("/account/sessions", u.sessions, signedIn...)
	e.POST("/account/sessions/:id/end", u.sessionEnd, signedInForm...)
}
