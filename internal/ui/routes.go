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
func (u *UI) Mount(e *echo.Echo) {
	public := []echo.MiddlewareFunc{u.headers, u.identify}
	signedIn := append(public[:len(public):len(public)], u.requireSignIn)
	publicForm := append(public[:len(public):len(public)], u.csrf)
	signedInForm := append(signedIn[:len(signedIn):len(signedIn)], u.csrf)

	e.GET("/static/*", echo.StaticDirectoryHandler(u.static, false), staticCache)

	e.GET("/", u.home, public...)
	e.GET("/signin", u.signinPage, public...)
	e.POST("/signin", u.signinSubmit, publicForm...)
	e.POST("/signout", u.signout, signedInForm...)
	e.POST("/session/extend", u.sessionExtend, signedInForm...)
	e.POST("/language", u.language, publicForm...)
	e.GET("/help", u.help, public...)
	e.GET("/accessibility", u.accessibility, public...)

	e.GET("/incidents", u.incidents, signedIn...)
	e.GET("/incidents/:ref", u.incident, signedIn...)

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
	e.POST(reportFilesRoute, u.reportFileAdd, append(u.uploadLimits(), signedInForm...)...)
	e.POST("/report/:draft/files/:n/remove", u.reportFileRemove, signedInForm...)
	e.GET("/incidents/:ref/legal", u.legal, signedIn...)
	e.GET("/incidents/:ref/legal/:kind", u.legalForm, signedIn...)
	e.POST("/incidents/:ref/legal/:kind", u.legalSave, signedInForm...)
	e.GET("/incidents/:ref/legal/:kind/check", u.legalCheck, signedIn...)
	e.POST("/incidents/:ref/legal/:kind/check", u.legalSend, signedInForm...)

	e.GET("/account", u.account, signedIn...)
	e.POST("/account/settings", u.accountSave, signedInForm...)
	e.GET("/account/password", u.passwordPage, signedIn...)
	e.POST("/account/password", u.passwordSave, signedInForm...)
	e.GET("/account/sessions", u.sessions, signedIn...)
	e.POST("/account/sessions/:id/end", u.sessionEnd, signedInForm...)
}
