// Package httpapi is certdesk's JSON API over HTTP (Echo). Handlers bind
// and check the shape of requests, call a domain service, and render its
// result; errors go through one handler that writes RFC 9457 problem+json.
package httpapi

import (
	"context"
	"database/sql"
	"errors"
	"github.com/certdesk/certdesk/docs"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/report"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/taxii"
	"github.com/certdesk/certdesk/internal/team"
	"github.com/certdesk/certdesk/internal/triage"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Options are the dependencies of the API.
type Options struct {
	Logger      *slog.Logger
	Incidents   *incident.Service
	Comments    *comment.Service
	Links       *linking.Service // links, merges, duplicate suggestions, campaigns
	Identity    *identity.Service
	Orgs        *org.Service
	Evidence    *evidence.Service
	Observables *observable.Service
	MISP        *misp.Importer // imports MISP events
	TAXII       *taxii.Service // the TAXII 2.1 server's feeds (/taxii2/)
	Tasks       *task.Service
	Notify      *notify.Service
	Runs        *runbook.Service
	Playbooks   *playbook.Service // the playbook catalogue's use cases
	Escalations *escalation.Service
	Teams       *team.Service
	Triage      *triage.Service
	Stats       *stats.Service
	Reports     *report.Service // the PDF reports
	Filings     *filing.Service // the guided reports' structured reports, the legal reports
	Slack       SlackInbound    // nil: the /slack routes answer 404
	Audit       *audit.Service
	Ready       func(ctx context.Context) error // nil error: ready to serve
	// Unavailable turns an error that means the database cannot be
	// reached (connection refused, shutting down, a connection dropped)
	// into the apperr.Unavailable error shown to the caller, and returns
	// nil for any other error; nil: no such errors are recognised. The
	// error handler asks it about every error that is not already an
	// application error, so that a database outage answers 503 with
	// Retry-After and never 500, whichever path the error took.
	Unavailable func(error) error
	// ReadyTimeout bounds the readiness check; zero: 2 seconds.
	ReadyTimeout   time.Duration
	MetricsDB      *sql.DB // the database whose job table /metrics reports; may be nil
	MaxBodyBytes   int64
	RequestTimeout time.Duration
	UploadTimeout  time.Duration // the upload route's own time limit; 0: RequestTimeout
	TrustProxy     bool
	BaseURL        string
	// Pages is the web UI (internal/ui), mounted in the same server; nil:
	// no web UI.
	Pages Pages
}

// Pages is the web UI as the server sees it: it adds its routes, and it
// renders the errors of its paths as pages (everything but /api/, /slack/
// and the operational endpoints, which keep problem+json).
type Pages interface {
	Mount(e *echo.Echo)
	// RenderError renders err as a page when the request is the UI's and
	// reports whether it did.
	RenderError(err error, c echo.Context) bool
	// OwnLimits reports whether the route (method and Echo path) sets its
	// own body and time limits (an upload), so that the global ones skip
	// it.
	OwnLimits(method, path string) bool
}

// New returns the Echo server with every route and middleware.
func New(o Options) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(o.Logger, o.Pages, o.Unavailable)
	if o.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	m := newMetrics(o.MetricsDB)
	e.Use(requestID)
	e.Use(requestLogger(o.Logger))
	e.Use(m.middleware)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			o.Logger.ErrorContext(c.Request().Context(), "panic", "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection: "0", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
	}))
	// The upload routes set their own body and time limits (uploadLimits,
	// and the web UI's).
	ownLimits := func(c echo.Context) bool {
		return apiOwnLimits(c) || o.Pages != nil && o.Pages.OwnLimits(c.Request().Method, c.Path())
	}
	e.Use(unlessOwnLimits(ownLimits, limitBody(o.MaxBodyBytes)))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: o.RequestTimeout, Skipper: ownLimits}))

	h := &handlers{o: o}
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", m.handler())
	e.GET("/api/v1/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", docs.OpenAPI)
	})

	// Slack's requests carry Slack's signature, not a token.
	e.POST("/slack/interactions", h.slackInteraction)
	e.POST("/slack/commands", h.slackCommand)

	// Every /api/v1 route but the API description needs a token. Their
	// answers carry incident content, or say who may see it: no cache
	// keeps them. Query parameters a route does not define are refused.
	api := e.Group("/api/v1", noStore, h.authenticate, knownQuery)
	api.GET("/me", h.me)
	api.GET("/incidents", h.listIncidents)
	api.GET("/incidents.csv", h.exportCSV)
	api.GET("/incidents.misp.json", h.exportMISPList)
	api.POST("/incidents/misp", h.importMISPNew)
	api.POST("/incidents/:id/misp", h.importMISPInto)
	api.POST("/incidents", h.createIncident)
	api.POST("/incidents/bulk", h.bulkIncidents)
	api.GET("/incidents/:id", h.getIncident)
	api.PATCH("/incidents/:id", h.patchIncident)
	api.GET("/incidents/:id/timeline", h.timeline)
	api.POST("/incidents/:id/timeline", h.addEntry)
	api.POST("/incidents/:id/timeline/:eventId/pin", h.pinEvent)
	api.DELETE("/incidents/:id/timeline/:eventId/pin", h.pinEvent)
	api.POST("/incidents/:id/transitions", h.transition)
	api.POST("/incidents/:id/close", h.closeIncident)
	api.POST("/incidents/:id/reopen", h.reopenIncident)
	api.POST("/incidents/:id/acknowledge", h.acknowledge)
	api.POST("/incidents/:id/deadlines/:kind/met", h.deadlineMet)
	api.GET("/incidents/:id/guided-report", h.getGuidedReport)
	api.GET("/incidents/:id/legal-reports", h.listLegalReports)
	api.GET("/incidents/:id/legal-reports/:reportId", h.getLegalReport)
	api.GET("/taxonomy", h.taxonomy)
	api.POST("/incidents/:id/shares", h.shareIncident)
	api.POST("/incidents/:id/participants", h.addParticipant)
	api.GET("/incidents/:id/attachments", h.listAttachments)
	api.POST("/incidents/:id/attachments", h.uploadAttachment, h.uploadLimits()...)
	api.GET("/incidents/:id/attachments/:attachment", h.getAttachment)
	api.GET("/incidents/:id/attachments/:attachment/content", h.downloadAttachment)
	api.GET("/incidents/:id/observables", h.listObservables)
	api.POST("/incidents/:id/observables", h.addObservable)
	api.PATCH("/incidents/:id/observables/:observable", h.patchObservable)
	api.DELETE("/incidents/:id/observables/:observable", h.deleteObservable)
	api.GET("/incidents/:id/export", h.exportIncident)
	api.GET("/observables", h.searchObservables)
	api.GET("/incidents/:id/tasks", h.listTasks)
	api.POST("/incidents/:id/tasks", h.createTask)
	api.GET("/incidents/:id/tasks/:taskId", h.getTask)
	api.PATCH("/incidents/:id/tasks/:taskId", h.patchTask)
	api.GET("/tasks", h.taskQueue)
	api.GET("/incidents/:id/links", h.listLinks)
	api.POST("/incidents/:id/links", h.createLink)
	api.DELETE("/incidents/:id/links/:linkId", h.deleteLink)
	api.POST("/incidents/:id/merge", h.mergeIncident)
	api.POST("/incidents/:id/merge/undo", h.undoMerge)
	api.GET("/incidents/:id/duplicate-suggestions", h.duplicateSuggestions)
	api.GET("/campaigns", h.campaigns)
	api.GET("/incidents/:id/comments", h.listComments)
	api.POST("/incidents/:id/comments", h.createComment)
	api.PATCH("/incidents/:id/comments/:commentId", h.patchComment)
	api.GET("/incidents/:id/comments/:commentId/revisions", h.listCommentRevisions)
	api.GET("/organizations", h.listOrgs)
	api.POST("/organizations", h.createOrg)
	api.GET("/organizations/:slug", h.getOrg)
	api.PATCH("/organizations/:slug", h.patchOrg)
	api.GET("/organizations/:slug/constituency", h.constituency)
	api.GET("/users", h.listUsers)
	api.POST("/users", h.createUser)
	api.PATCH("/users/:id", h.patchUser)
	api.POST("/users/:id/reset-link", h.issueResetLink)
	api.GET("/tokens", h.listTokens)
	api.POST("/tokens", h.createToken)
	api.DELETE("/tokens/:id", h.revokeToken)
	api.GET("/audit", h.auditLog)
	api.GET("/notifications", h.listNotifications)
	api.GET("/incidents/:id/playbook-runs", h.listRuns)
	api.POST("/incidents/:id/playbook-runs", h.startRun)
	api.GET("/incidents/:id/playbook-runs/:runId", h.getRun)
	api.POST("/incidents/:id/playbook-runs/:runId/cancel", h.cancelRun)
	api.POST("/incidents/:id/playbook-runs/:runId/approvals/:stepId", h.decideStep)
	api.POST("/incidents/:id/playbook-runs/:runId/inputs/:stepId", h.answerStep)
	api.GET("/playbooks", h.listPlaybooks)
	api.GET("/playbooks/:id", h.getPlaybook)
	api.GET("/playbooks/:id/cacao", h.exportPlaybookCACAO)
	api.POST("/playbooks/:id/dry-run", h.dryRunPlaybook)
	api.POST("/incidents/:id/escalations", h.requestEscalation)
	api.GET("/escalations", h.listEscalations)
	api.GET("/escalations/:id", h.getEscalation)
	api.POST("/escalations/:id/accept", h.acceptEscalation)
	api.POST("/escalations/:id/decline", h.declineEscalation)
	api.POST("/escalations/:id/return", h.returnEscalation)
	api.GET("/organizations/:slug/escalation-policy", h.getEscalationPolicy)
	api.PUT("/organizations/:slug/escalation-policy", h.putEscalationPolicy)
	api.GET("/organizations/:slug/red-recipients", h.getRedRecipients)
	api.PUT("/organizations/:slug/red-recipients", h.putRedRecipients)
	api.GET("/me/red-recipients", h.myRedRecipients)
	api.GET("/teams", h.listTeams)
	api.POST("/teams", h.createTeam)
	api.GET("/teams/:id", h.getTeam)
	api.PATCH("/teams/:id", h.renameTeam)
	api.DELETE("/teams/:id", h.deleteTeam)
	api.POST("/teams/:id/members", h.addTeamMember)
	api.DELETE("/teams/:id/members/:userId", h.removeTeamMember)
	api.GET("/stats/dashboard", h.statsDashboard)
	api.GET("/stats/briefing.pdf", h.briefing)
	api.GET("/incidents/:id/report.pdf", h.incidentReport)
	for name := range statsSections {
		api.GET("/stats/"+name, h.statsSection(name))
	}

	// TAXII 2.1 (docs/taxii.md): the API's tokens, TAXII's media type.
	if o.TAXII != nil {
		h.mountTAXII(e)
	}

	// The web UI: its pages, forms and static files (internal/ui).
	if o.Pages != nil {
		o.Pages.Mount(e)
	}
	return e
}

type handlers struct{ o Options }

// ErrSchemaPending is wrapped by a Ready error that means migrations are
// pending (as opposed to the database being unreachable).
var ErrSchemaPending = errors.New("schema pending")

func (h *handlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// defaultReadyTimeout bounds /readyz when Options.ReadyTimeout is zero: a
// load balancer's probe gets its answer (503) well before its own time
// limit when the database does not answer.
const defaultReadyTimeout = 2 * time.Second

func (h *handlers) readyz(c echo.Context) error {
	timeout := h.o.ReadyTimeout
	if timeout <= 0 {
		timeout = defaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), timeout)
	defer cancel()
	if err := h.o.Ready(ctx); err != nil {
		// The detail (driver errors, host names) goes to the log only.
		h.o.Logger.WarnContext(c.Request().Context(), "not ready", "err", err)
		reason := "database unreachable"
		if errors.Is(err, ErrSchemaPending) {
			reason = "database migrations pending"
		}
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogRoutePath: true,
		LogRemoteIP: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("path", v.URIPath), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("request_id", v.RequestID), slog.String("remote_ip", v.RemoteIP))
			return nil
		},
	})
}

// requestIDPattern is what certdesk accepts as a client's X-Request-Id: a
// short token that is safe to echo and to log.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID gives every request an ID, answered in X-Request-Id, logged
// and shown in problem documents. A client's X-Request-Id is kept only
// when it matches requestIDPattern; anything else is replaced by a new
// random one, on the request too, so that the request log never records
// the client's value.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		id := req.Header.Get(echo.HeaderXRequestID)
		if !requestIDPattern.MatchString(id) {
			id = uuid.NewString()
			req.Header.Set(echo.HeaderXRequestID, id)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// noStore tells every cache (a browser's, a proxy's) to keep no copy of
// the answer: "Cache-Control: no-store", on errors too. A handler may
// set a stricter value of its own.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
}

// limitBody refuses bodies over n bytes with 413: at once when the
// Content-Length says so, else when reading passes the limit.
func limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > n {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, n)
			return next(c)
		}
	}
}
