package app

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/blob"
	"github.com/certdesk/certdesk/internal/circle"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/httpapi"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/certdesk/certdesk/internal/mail"
	"github.com/certdesk/certdesk/internal/mailin"
	"github.com/certdesk/certdesk/internal/markdown"
	"github.com/certdesk/certdesk/internal/misp"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/objstore"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/outbound"
	"github.com/certdesk/certdesk/internal/passkey"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/readmark"
	"github.com/certdesk/certdesk/internal/report"
	"github.com/certdesk/certdesk/internal/runbook"
	"github.com/certdesk/certdesk/internal/sealed"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/certdesk/certdesk/internal/slack"
	"github.com/certdesk/certdesk/internal/sso"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/taxii"
	"github.com/certdesk/certdesk/internal/team"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/certdesk/certdesk/internal/triage"
	"github.com/certdesk/certdesk/internal/ui"
	"github.com/certdesk/certdesk/internal/worker"
	"github.com/certdesk/certdesk/web"
	"github.com/labstack/echo/v4"
)

// App is certdesk built on an open, migrated database: the job client, the
// store, the services and the HTTP handler. Serve runs one; tests build
// their own on a throwaway database.
type App struct {
	DB        *postgres.DB
	Store     *postgres.Store
	River     *worker.Client
	Incidents *incident.Service
	Comments  *comment.Service
	Links     *linking.Service // links, merges, duplicate suggestions, campaigns
	Identity  *identity.Service
	Orgs      *org.Service
	Evidence  *evidence.Service
	// Blobs holds the bytes of attachments: a folder (*blob.Store) or an
	// S3-compatible object store (*objstore.Store), CERTDESK_BLOB_BACKEND.
	Blobs evidence.BlobStore
	// Observables holds the observable (IOC) use cases and exports.
	Observables *observable.Service
	// MISP imports MISP events as incidents and observables.
	MISP  *misp.Importer
	Tasks *task.Service
	// Notify is the notification outbox; Slack when SLACK_BOT_TOKEN is set.
	Notify *notify.Service
	// Deadlines keeps the timers of legal deadlines (reminders, misses).
	Deadlines *deadline.Service
	// Escalations holds escalations between organisations and their policies.
	Escalations *escalation.Service
	// Runs runs playbooks (triggers, steps, the run API).
	Runs *runbook.Service
	// Teams groups a CERT's users for assignment.
	Teams *team.Service
	// Triage holds the queue's bulk actions and saved views.
	Triage *triage.Service
	// SlackInbound handles Slack's button presses and /incident commands;
	// nil unless SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are both set.
	SlackInbound *slack.Inbound
	// Events hands every timeline event to the services that react to it,
	// inside the transaction that appended it.
	Events *incident.Bus
	HTTP   *echo.Echo

	// Outbound sends signed webhook requests, refusing private addresses
	// unless CERTDESK_OUTBOUND_ALLOW lists them. Its timestamps use now.
	Outbound *outbound.Client
	// Playbooks is the playbook catalogue (shipped and CERTDESK_PLAYBOOK_DIR);
	// Playbooks.Valid() are the playbooks that run.
	Playbooks *playbook.Catalog
	// Catalogue holds the catalogue's use cases (list, one playbook, dry
	// runs) that the API and the web interface call.
	Catalogue *playbook.Service
	// Audit reads the audit log (the API's and the web interface's reader).
	Audit *audit.Service
	// AuditWatch verifies the audit log's hash chain and alerts the
	// national CERT's administrators when it breaks (certdesk audit
	// verify, and the periodic audit.WatchJob).
	AuditWatch *audit.Watcher
	// Stats computes the leadership metrics; StatsMaintainer keeps their
	// roll-ups (docs/metrics.md).
	Stats           *stats.Service
	StatsMaintainer *stats.Maintainer
	// Reports makes the PDF reports (incident report, monthly briefing)
	// and the executive timeline.
	Reports *report.Service
	// Sweeper summarises failed authentications into one audit entry per
	// client address and minute, and removes old throttle windows; River
	// runs it every minute (throttle.SweepJob).
	Sweeper *throttle.Sweeper

	// Limiter counts failed attempts (sign-ins) in PostgreSQL.
	Limiter *throttle.Limiter
	// Sessions signs people in to the web UI and keeps their sessions;
	// Sessions.EndAll ends every session of a user.
	Sessions *session.Service
	// Passkeys registers people's passkeys and checks them at sign-in
	// (alone, or as a session's second factor).
	Passkeys *passkey.Service
	// Secrets seals the secrets certdesk keeps and reads back (OpenID
	// Connect client secrets, TOTP keys).
	Secrets *sealed.Box
	// SSO signs people in through their organisation's OpenID Connect
	// provider and keeps the providers' configuration.
	SSO *sso.Service
	// Settings are people's own settings of the web UI.
	Settings *settings.Service
	// Messages is the message catalogue of every language the UI speaks.
	Messages *i18n.Catalogue
	// UI is the web interface, mounted in HTTP.
	UI *ui.UI
	// Filings holds what the reporting organisation files: drafts of the
	// guided report, the structured report, the legal reports' forms.
	Filings *filing.Service
	// Reads records when people last opened incidents (unread markers).
	Reads *readmark.Service
	// Mail turns inbound e-mail into comments and draft reports; nil
	// without CERTDESK_MAIL_DOMAIN. Serve listens with it on
	// CERTDESK_SMTP_LISTEN.
	Mail *mailin.Service
}

// New wires an App. cfg.Workers decides whether its River client works jobs
// (call River.Start) or only inserts them. now is the clock.
// secretsBox is the installation's sealed.Box: CERTDESK_SECRETS_KEY
// (checked now), or the key file in the data folder, read or created when
// a secret is first sealed or opened.
func secretsBox(cfg config.Config) (*sealed.Box, error) {
	if cfg.SecretsKey == "" {
		path := filepath.Join(cfg.DataDir, "secrets.key")
		return sealed.Deferred(func() ([]byte, error) {
			k, err := sealed.KeyFile(path)
			if err != nil {
				return nil, fmt.Errorf("CERTDESK_SECRETS_KEY is empty and %w", err)
			}
			return k, nil
		}), nil
	}
	key, err := sealed.ParseKey(cfg.SecretsKey)
	if err != nil {
		return nil, fmt.Errorf("CERTDESK_SECRETS_KEY: %w", err)
	}
	return sealed.New(key)
}

func New(cfg config.Config, db *postgres.DB, log *slog.Logger, now func() time.Time) (*App, error) {
	return newApp(cfg, db, log, now, nil)
}

// newApp is New with the playbook catalogue serve and worker have loaded
// and checked before opening the database; nil loads it (invalid playbooks
// are then simply not among Playbooks.Valid()).
func newApp(cfg config.Config, db *postgres.DB, log *slog.Logger, now func() time.Time, playbooks *playbook.Catalog) (*App, error) {
	if playbooks == nil {
		var err error
		if playbooks, err = loadPlaybooks(cfg); err != nil {
			return nil, err
		}
	}
	ws := &worker.Workers{}
	rc, err := worker.New(worker.Options{DB: db.SQL, Pool: db.Pool, Logger: log, Work: cfg.Workers,
		Concurrency: cfg.WorkerConcurrency, PollInterval: cfg.JobPollInterval, RescueAfter: cfg.JobRescueAfter}, ws)
	if err != nil {
		return nil, err
	}
	store := postgres.NewStore(db, rc)
	bus := &incident.Bus{}
	store.OnEvents(bus.Dispatch)
	incidents := incident.NewService(store, now)
	incidents.Renderer, incidents.RenderVersion = markdown.Render, markdown.Version
	a := &App{DB: db, Store: store, River: rc, Incidents: incidents, Events: bus,
		Identity: identity.NewService(store, now), Orgs: org.NewService(store), Playbooks: playbooks, Audit: audit.NewService(store)}
	if a.Secrets, err = secretsBox(cfg); err != nil {
		return nil, err
	}
	if err := a.Identity.SetResetLinks(cfg.BaseURL, cfg.ResetLinkLifetime); err != nil {
		return nil, fmt.Errorf("CERTDESK_RESET_LINK_LIFETIME: %w", err)
	}
	if a.Sweeper, err = throttle.NewSweeper(store, append(identity.AuditSummaries, session.AuditSummary), now); err != nil {
		return nil, err
	}
	ws.Throttle = a.Sweeper
	a.Tasks = task.NewService(store, a.Incidents, now)
	ws.Incidents = a.Incidents
	var notifier notify.Notifier
	var slackClient *slack.Client
	if cfg.SlackBotToken != "" {
		slackClient = slack.New(cfg.SlackBotToken, cfg.SlackAPIURL, cfg.SlackTimeout)
		notifier = slackClient
	}
	if a.Outbound, err = outbound.New(outbound.Options{Allow: cfg.OutboundAllow, Now: now}); err != nil {
		return nil, fmt.Errorf("CERTDESK_OUTBOUND_ALLOW: %w", err)
	}
	var mailer notify.Mailer
	if cfg.SMTPRelay != "" {
		mc, err := mail.New(mail.Config{Relay: cfg.SMTPRelay, From: cfg.SMTPFrom, Username: cfg.SMTPUser, Password: cfg.SMTPPassword,
			CAFile: cfg.SMTPCAFile, Now: now})
		if err != nil {
			return nil, fmt.Errorf("CERTDESK_SMTP_RELAY: %w", err)
		}
		mailer = mc
	}
	if a.Notify, err = notify.NewService(notify.Options{Store: store, Incidents: a.Incidents, Notifier: notifier, Webhooks: a.Outbound, Mailer: mailer, Directory: a.Orgs,
		Logger: log.With("component", "notify"), BaseURL: cfg.BaseURL, Now: now, ClaimLease: cfg.JobRescueAfter}); err != nil {
		return nil, err
	}
	bus.Subscribe(a.Notify.EventHandler())
	ws.Notify = a.Notify
	if a.AuditWatch, err = audit.NewWatcher(store, func(ctx context.Context, header, text string) error {
		nat, err := store.NationalCERT(ctx)
		if err != nil {
			return err
		}
		return a.Notify.AlertAdmins(ctx, *nat, header, text)
	}, log.With("component", "audit"), now); err != nil {
		return nil, err
	}
	ws.AuditWatch = a.AuditWatch
	var slackInbound httpapi.SlackInbound
	if slackClient != nil && cfg.SlackSigningSecret != "" {
		if a.SlackInbound, err = slack.NewInbound(slack.InboundOptions{SigningSecret: cfg.SlackSigningSecret,
			Client: slackClient, Users: store, Incidents: a.Incidents, Failed: a.Identity.Failed,
			Enqueue: func(ctx context.Context, job incident.Job) error {
				return store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error { return tx.Enqueue(ctx, job, nil) })
			},
			BaseURL: cfg.BaseURL, Now: now, Logger: log.With("component", "slack")}); err != nil {
			return nil, err
		}
		slackInbound = a.SlackInbound
	}
	if a.Deadlines, err = deadline.NewService(deadline.Options{Store: store, Reminders: cfg.DeadlineReminders,
		Logger: log.With("component", "deadline"), Now: now}); err != nil {
		return nil, err
	}
	bus.Subscribe(a.Deadlines.Handler())
	ws.Deadlines = a.Deadlines
	if a.Escalations, err = escalation.NewService(escalation.Options{Store: store, Incidents: a.Incidents, Notify: a.Notify,
		Logger: log.With("component", "escalation"), Now: now}); err != nil {
		return nil, err
	}
	for _, h := range a.Escalations.Handlers() {
		bus.Subscribe(h)
	}
	ws.Escalations = a.Escalations
	// The thread's first message follows a change of coordinator, and
	// Slack's Accept and Decline buttons decide escalations as the user
	// who pressed them.
	bus.Subscribe(a.Notify.RootHandler(escalation.EventEscalationAccepted, escalation.EventEscalationReturned))
	// A TLP:RED incident whose coordination moves reaches the new
	// coordinator's TLP:RED recipients (routing names the first ones).
	bus.Subscribe(a.Incidents.RedHandler(escalation.EventEscalationAccepted, escalation.EventEscalationReturned))
	if a.SlackInbound != nil {
		a.SlackInbound.SetDecide(func(ctx context.Context, p access.Principal, id string, accept bool, reason string) error {
			if accept {
				_, err := a.Escalations.Accept(ctx, p, id, reason)
				return err
			}
			_, err := a.Escalations.Decline(ctx, p, id, reason)
			return err
		})
	}
	if a.Blobs, err = openBlobs(cfg, log, now); err != nil {
		return nil, err
	}
	if a.Evidence, err = evidence.NewService(evidence.Options{Store: store, Incidents: a.Incidents, Blobs: a.Blobs,
		MaxBytes: cfg.MaxUploadBytes, Now: now}); err != nil {
		return nil, err
	}
	a.Observables = observable.NewService(store, a.Incidents, now)
	a.MISP = misp.NewImporter(store, a.Incidents, a.Observables)
	a.Catalogue = playbook.NewService(a.Playbooks, a.Incidents, now)
	if a.Runs, err = runbook.NewService(runbook.Options{Store: store, Incidents: a.Incidents, Tasks: a.Tasks, Notify: a.Notify,
		Playbooks: a.Playbooks.Valid(), Outbound: a.Outbound, WebhookSecret: cfg.WebhookSecret, Escalator: a.Escalations,
		Logger: log.With("component", "playbooks"), Now: now}); err != nil {
		return nil, err
	}
	ws.Runs = a.Runs
	bus.Subscribe(a.Runs.Handler())
	// Last: when the TLP is raised or a share ends, whatever reaches
	// outside the incident's new circle ends in the same transaction
	// (it may unassign a removed participant, which the handlers above
	// must not see half-done).
	closer, err := circle.NewService(a.Incidents, a.Escalations, a.Notify)
	if err != nil {
		return nil, err
	}
	bus.Subscribe(closer.Handler())
	// After every other handler: the metrics read the incident as the
	// change (and the handlers' reactions) left it.
	a.StatsMaintainer = stats.NewMaintainer(store.InStatsTx)
	bus.Subscribe(a.StatsMaintainer.Handler())
	store.OnOrgChanged(a.StatsMaintainer.OrgChanged)
	ws.Stats = a.StatsMaintainer
	a.Stats = stats.NewService(store, now)
	if a.Comments, err = comment.NewService(comment.Options{Store: store, Incidents: a.Incidents,
		Render: markdown.Render, RenderVersion: markdown.Version, Text: markdown.HTMLText, Now: now}); err != nil {
		return nil, err
	}
	if a.Links, err = linking.NewService(linking.Options{Store: store, Incidents: a.Incidents, Now: now}); err != nil {
		return nil, err
	}
	a.Teams = team.NewService(store, now)
	a.Triage = triage.NewService(a.Incidents, a.Escalations, store)
	a.Reads = readmark.NewService(store)
	if a.Reports, err = report.NewService(report.Options{Incidents: a.Incidents, Tasks: a.Tasks, Observables: a.Observables,
		Stats: a.Stats, Now: now}); err != nil {
		return nil, err
	}
	if cfg.Mail.Domain != "" {
		if a.Mail, err = mailin.NewService(mailin.Options{Store: store, Users: a.Identity, Incidents: a.Incidents,
			Comments: a.Comments, Evidence: a.Evidence, Domain: cfg.Mail.Domain, MaxBytes: cfg.Mail.MaxBytes,
			MaxAttachments: cfg.Mail.MaxAttachments, AuthservID: cfg.Mail.AuthservID, BaseURL: cfg.BaseURL, Mailer: mailer,
			Logger: log.With("component", "mailin"), Now: now}); err != nil {
			return nil, err
		}
		ws.Mail = a.Mail
	}
	if err := a.wireUI(cfg, log, now); err != nil {
		return nil, err
	}
	a.HTTP = httpapi.New(httpapi.Options{
		Teams: a.Teams, Triage: a.Triage,
		Logger: log, Incidents: a.Incidents, Comments: a.Comments, Identity: a.Identity, Orgs: a.Orgs, Evidence: a.Evidence, Tasks: a.Tasks, Audit: a.Audit,
		Observables: a.Observables, Notify: a.Notify, Playbooks: a.Catalogue, Escalations: a.Escalations, Runs: a.Runs,
		Stats: a.Stats, Reports: a.Reports, Filings: a.Filings, MISP: a.MISP, Links: a.Links,
		TAXII: taxii.NewService(store, a.Observables),
		Slack: slackInbound,
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable: %w", err)
			}
			if err := postgres.SchemaCurrent(ctx, db.SQL); err != nil {
				return fmt.Errorf("%w: %w", httpapi.ErrSchemaPending, err)
			}
			return nil
		},
		Unavailable: func(err error) error {
			if postgres.Unavailable(err) {
				return postgres.UnavailableError(err)
			}
			return nil
		},
		MetricsDB: db.SQL, MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout, UploadTimeout: cfg.UploadTimeout,
		TrustProxy: cfg.TrustProxy, BaseURL: cfg.BaseURL, Pages: a.UI,
	})
	return a, nil
}

// wireUI builds the web UI and what it needs: the message catalogue, the
// sign-in throttle, sessions and settings. A template or message file
// that does not load stops the start.
func (a *App) wireUI(cfg config.Config, log *slog.Logger, now func() time.Time) error {
	messages, err := fs.Sub(web.I18n, "i18n")
	if err != nil {
		return err
	}
	if a.Messages, err = i18n.LoadDir(messages, "en"); err != nil {
		return err
	}
	a.Limiter = throttle.New(a.Store, now)
	if a.Sessions, err = session.New(session.Options{Store: a.Store, Passwords: a.Identity, Limiter: a.Limiter, Factors: a.Store, Secrets: a.Secrets, Logger: log.With("component", "session"),
		IdleTimeout: cfg.SessionIdleTimeout, Lifetime: cfg.SessionLifetime, Now: now}); err != nil {
		return err
	}
	if a.Passkeys, err = passkey.New(passkey.Options{Store: a.Store, Limiter: a.Limiter, BaseURL: cfg.BaseURL, Now: now}); err != nil {
		return err
	}
	var installation *sso.Installation
	if cfg.OIDCIssuer != "" {
		installation = &sso.Installation{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			EmailClaim: cfg.OIDCEmailClaim, Domains: cfg.OIDCDomains}
	}
	if a.SSO, err = sso.New(sso.Options{Store: a.Store, Secrets: a.Secrets, HTTP: a.Outbound.HTTPClient(), RedirectURL: cfg.BaseURL + "/signin/oidc/callback",
		Installation: installation, Limiter: a.Limiter, Logger: log.With("component", "sso"), Now: now}); err != nil {
		return err
	}
	a.Settings = settings.NewService(a.Store, a.Messages.Languages())
	msgs := a.Messages
	if a.Filings, err = filing.NewService(filing.Options{Store: a.Store, Incidents: a.Incidents, Evidence: a.Evidence,
		Observables: a.Observables, Languages: msgs.Languages(), Now: now,
		Messages: func(lang string) filing.Translator { return msgs.Printer(lang).T }}); err != nil {
		return err
	}
	jobs, err := worker.JobsUI(context.Background(), a.River, log.With("component", "riverui"), ui.JobsPrefix)
	if err != nil {
		return err
	}
	a.UI, err = ui.New(ui.Options{Jobs: jobs, Logger: log.With("component", "ui"), Sessions: a.Sessions, Settings: a.Settings,
		Incidents: a.Incidents, Comments: a.Comments, Evidence: a.Evidence, Tasks: a.Tasks, Identity: a.Identity,
		Observables: a.Observables, Orgs: a.Orgs, Escalations: a.Escalations, Teams: a.Teams, Triage: a.Triage, Stats: a.Stats, Reports: a.Reports, Filings: a.Filings, Reads: a.Reads,
		Playbooks: a.Catalogue, Runs: a.Runs, MailIn: a.Mail, Links: a.Links,
		Notify: a.Notify, Audit: a.Audit, Passkeys: a.Passkeys, SSO: a.SSO, MISP: a.MISP, MaxImportBytes: cfg.MaxBodyBytes,
		Catalogue: a.Messages, UploadTimeout: cfg.UploadTimeout, BaseURL: cfg.BaseURL, Now: now})
	return err
}

// openBlobs opens the evidence backend of cfg and removes what uploads cut
// short by a crash left behind: an hour is far longer than any upload
// still running in another process. An object store whose bucket cannot be
// reached stops the start (a misconfiguration found now, not at the first
// upload).
func openBlobs(cfg config.Config, log *slog.Logger, now func() time.Time) (evidence.BlobStore, error) {
	if cfg.BlobBackend == config.BackendS3 {
		s, err := objstore.New(objstore.Options{Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, Region: cfg.S3.Region,
			AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, TLS: cfg.S3.TLS, PathStyle: cfg.S3.PathStyle, Prefix: cfg.S3.Prefix})
		if err != nil {
			return nil, fmt.Errorf("CERTDESK_S3_*: %w", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Check(ctx); err != nil {
			return nil, fmt.Errorf("CERTDESK_S3_*: %w", err)
		}
		if n, err := s.CleanTemp(ctx, now(), time.Hour); err != nil {
			log.Warn("could not clean temporary uploads", "store", s.Where(), "err", err)
		} else if n > 0 {
			log.Info("removed temporary uploads", "store", s.Where(), "count", n)
		}
		return s, nil
	}
	s, err := blob.New(cfg.BlobDir)
	if err != nil {
		return nil, fmt.Errorf("CERTDESK_BLOB_DIR: %w", err)
	}
	if n, err := s.CleanTemp(now(), time.Hour); err != nil {
		log.Warn("could not clean temporary upload files", "dir", s.Root(), "err", err)
	} else if n > 0 {
		log.Info("removed temporary upload files", "dir", s.Root(), "count", n)
	}
	return s, nil
}
