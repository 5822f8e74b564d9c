// Package ui is certdesk's web interface: server-rendered HTML pages over
// the same domain services as the JSON API, mounted in the same Echo
// server.
//
// Layout (miniflux's internal/ui is the model): every route is in
// routes.go; each page or action has its own file (signin.go,
// signin_submit.go, incident.go, ...); the templates are in
// web/templates (layout.html, partials/, pages/), all parsed when New
// runs, so a broken template stops the server from starting. Every
// user-visible word comes from the message catalogue (internal/i18n,
// web/i18n/<language>.json).
//
// People sign in with their e-mail address and password
// (internal/session); the session travels in a cookie that only this UI
// reads (the API ignores it, and the UI ignores bearer tokens). Every
// state-changing request is a form POST that works without JavaScript and
// carries a CSRF token tied to the session, and is refused when the
// browser says it comes from another site. Pages are sent with a strict
// Content-Security-Policy (no inline script or style) and never cached.
// web/static/app.js only enhances: the warning before the session ends,
// and focus on the error summary; web/static/queue.js enhances the triage
// queue (keyboard, live updates, selecting all).
package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/certdesk/certdesk/internal/mailin"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/passkey"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/readmark"
	"github.com/certdesk/certdesk/internal/report"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/team"
	"github.com/certdesk/certdesk/internal/triage"
	"github.com/certdesk/certdesk/web"
)

// Options are the UI's dependencies. The UI calls domain services only.
type Options struct {
	Logger    *slog.Logger
	Sessions  *session.Service
	Settings  *settings.Service
	Incidents *incident.Service
	Comments  *comment.Service
	Links     *linking.Service // links, merges, duplicate suggestions, campaigns
	Evidence  *evidence.Service
	Tasks     *task.Service
	// Observables serve the incident's exports (STIX 2.1, CSV).
	Observables *observable.Service
	// Identity serves password reset links (the reset page) and the
	// colleagues the triage queue assigns to.
	Identity *identity.Service
	Orgs     *org.Service
	// Escalations serve the escalation pages (escalate, inbox, decisions,
	// hand-off history) and the navigation's count of open requests.
	Escalations *escalation.Service
	// Teams and Triage serve the triage queue: teams to assign to, bulk
	// actions and saved views.
	Teams  *team.Service
	Triage *triage.Service
	// Stats and Reports serve the dashboard, the executive summary and
	// the PDF reports (dashboard.go).
	Stats     *stats.Service
	Reports   *report.Service
	Catalogue *i18n.Catalogue
	// Filings are what the reporting organisation files (guided report,
	// legal reports); Reads the unread markers.
	Filings *filing.Service
	Reads   *readmark.Service
	// MailIn shows the reports sent by e-mail for confirmation
	// (report_mail.go); nil: no inbound e-mail.
	MailIn *mailin.Service
	// Playbooks is the playbook catalogue (its validation, dry runs) and
	// Runs the playbook runs of incidents (docs/ui.md, "Playbook runs").
	Playbooks *playbook.Service
	Runs      *runbook.Service
	// Notify and Audit serve the administration's configuration and logs
	// (admin_webhook.go, admin_deliveries.go, admin_audit.go), with
	// Escalations for the policy editor (admin_policy.go).
	Notify *notify.Service
	Audit  *audit.Service
	// Passkeys serve /account/passkeys and signing in with a passkey,
	// alone or as the second factor (passkey*.go, signin_passkey*.go).
	Passkeys *passkey.Service
	// SSO signs people in through their organisation's OpenID Connect
	// provider (signin_oidc.go) and serves its administration page
	// (admin_sso.go); nil: the sign-in page asks for the password only.
	SSO *sso.Service
	// Jobs is River's web UI of the background jobs, served under
	// JobsPrefix to the national CERT's administrators (jobs.go); nil: not
	// mounted.
	Jobs http.Handler
	// MISP imports MISP event files (misp_import.go); MaxImportBytes
	// bounds such a file (CERTDESK_MAX_BODY_BYTES, as for the API's
	// import); 0 means 1 MiB.
	MISP           *misp.Importer
	MaxImportBytes int64
	// UploadTimeout bounds one evidence upload (CERTDESK_UPLOAD_TIMEOUT),
	// in place of the request timeout; 0 means 30 minutes.
	UploadTimeout time.Duration
	// BaseURL is the public URL of the service. With https, cookies are
	// Secure and carry the __Host- prefix; with plain http (a laptop, a
	// test) they have neither, as browsers refuse Secure cookies there.
	BaseURL string
	// Templates and Static default to web.Templates and web.Static.
	Templates fs.FS
	Static    fs.FS
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// UI is the web interface, ready to be mounted.
type UI struct {
	o            Options
	views        *views
	cookies      cookieNames
	secure       bool
	static       fs.FS
	assetVersion string
	cop          *http.CrossOriginProtection
}

// New checks the options, parses every template and reads the static
// files. Any broken template or a template that names a message the
// catalogue does not have is an error: serve does not start with it.
func New(o Options) (*UI, error) {
	if o.Sessions == nil || o.Settings == nil || o.Incidents == nil || o.Comments == nil || o.Evidence == nil || o.Observables == nil ||
		o.Tasks == nil || o.Identity == nil || o.Orgs == nil || o.Teams == nil || o.Triage == nil || o.Filings == nil || o.Reads == nil || o.Catalogue == nil {
		return nil, fmt.Errorf("ui: Sessions, Settings, Incidents, Comments, Evidence, Tasks, Identity, Orgs, Teams, Triage, Filings, Reads and Catalogue are required")
	}
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = 30 * time.Minute
	}
	if o.Stats == nil || o.Reports == nil || o.Escalations == nil {
		return nil, fmt.Errorf("ui: Stats, Reports and Escalations are required")
	}
	if o.Passkeys == nil {
		return nil, fmt.Errorf("ui: Passkeys is required")
	}
	if o.Playbooks == nil || o.Runs == nil {
		return nil, fmt.Errorf("ui: Playbooks and Runs are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Templates == nil {
		sub, err := fs.Sub(web.Templates, "templates")
		if err != nil {
			return nil, err
		}
		o.Templates = sub
	}
	if o.Static == nil {
		sub, err := fs.Sub(web.Static, "static")
		if err != nil {
			return nil, err
		}
		o.Static = sub
	}
	o.Static = withChartStyles(o.Static)
	u := &UI{o: o, static: o.Static, cop: http.NewCrossOriginProtection()}
	base, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("ui: base URL: %w", err)
	}
	u.secure = base.Scheme == "https"
	u.cookies = newCookieNames(u.secure)
	if u.views, err = parseViews(o.Templates, o.Catalogue); err != nil {
		return nil, err
	}
	if u.assetVersion, err = versionOf(o.Static); err != nil {
		return nil, err
	}
	return u, nil
}

// versionOf hashes the static files, so that their URLs change when they
// do and browsers may cache them for a year.
func versionOf(fsys fs.FS) (string, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("ui: static files: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", fmt.Errorf("ui: static files: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func (u *UI) now() time.Time { return u.o.Now() }

// isUIPath reports whether a path belongs to the web UI (whose errors are
// pages) rather than to the API, Slack, or the operational endpoints.
func isUIPath(p string) bool {
	for _, prefix := range []string{"/api/", "/slack/", "/taxii2/"} {
		if strings.HasPrefix(p, prefix) {
			return false
		}
	}
	switch p {
	case "/api", "/healthz", "/readyz", "/metrics":
		return false
	}
	return true
}
