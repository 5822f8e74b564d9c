// Package config reads certdesk's configuration from environment variables.
// It is the only package that reads the environment; docs/configuration.md
// lists every variable with its default.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/identity"
)

// Config is the whole runtime configuration.
type Config struct {
	// DatabaseURL is a PostgreSQL connection string. Empty means: run the
	// embedded PostgreSQL in DataDir/postgres.
	DatabaseURL string
	// Addr is the HTTP listen address.
	Addr string
	// BaseURL is the public URL of the service, used for links in messages.
	BaseURL string
	// DataDir holds the embedded database and other local state.
	DataDir string
	// LogLevel is the minimum level of log records.
	LogLevel slog.Level
	// LogFormat is "text" or "json".
	LogFormat string
	// Workers runs River workers in the serve process when true; false gives
	// an API-only process for scaling out.
	Workers bool
	// WorkerConcurrency is the number of jobs worked at once per process.
	WorkerConcurrency int
	// JobPollInterval is how often workers poll for new jobs.
	JobPollInterval time.Duration
	// JobRescueAfter is how long a job may stay running before it is taken
	// for the job of a dead process and run again; a notification's
	// delivery claim lapses after as long.
	JobRescueAfter time.Duration
	// DBMaxConns caps the connection pool.
	DBMaxConns int
	// MaxBodyBytes limits the size of a JSON request body.
	MaxBodyBytes int64
	// RequestTimeout bounds the time of one request.
	RequestTimeout time.Duration
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration
	// TrustProxy makes the client address come from X-Forwarded-For.
	TrustProxy bool
	// ResetLinkLifetime is how long a password reset link stays usable.
	ResetLinkLifetime time.Duration
	// PGBinDir holds the PostgreSQL binaries for the embedded database;
	// empty means: look in /usr/lib/postgresql/*/bin, then on PATH.
	PGBinDir string
	// MaxUploadBytes limits the size of one evidence attachment.
	MaxUploadBytes int64
	// BlobDir is the content-addressed folder of attachment bytes (the
	// "folder" backend).
	BlobDir string
	// BlobBackend is where attachment bytes live: BackendFolder (BlobDir)
	// or BackendS3 (S3).
	BlobBackend string
	// S3 is the S3-compatible object store of the "s3" backend.
	S3 S3
	// UploadTimeout bounds the time of one attachment upload (it replaces
	// RequestTimeout on that route).
	UploadTimeout time.Duration
	// SlackBotToken is the Slack bot token (xoxb-...); empty: notifications
	// are recorded and logged, never sent to Slack. Never logged.
	SlackBotToken string
	// SlackSigningSecret verifies Slack's inbound requests (interactivity).
	// Never logged.
	SlackSigningSecret string
	// SlackAPIURL is the base URL of Slack's Web API, ending in "/".
	SlackAPIURL string
	// SlackTimeout bounds one call to Slack's Web API; it stays below a
	// delivery job's time limit (one minute).
	SlackTimeout time.Duration
	// SMTPRelay is the SMTP relay (host:port) that e-mail notifications
	// go through, always with STARTTLS; empty: no e-mail is sent.
	SMTPRelay string
	// SMTPFrom is the sender of certdesk's e-mail; required with
	// SMTPRelay.
	SMTPFrom string
	// SMTPUser and SMTPPassword log in to the relay (AUTH PLAIN, after
	// STARTTLS); empty: no login. The password is never logged.
	SMTPUser     string
	SMTPPassword string
	// SMTPCAFile is a PEM file of the certificate authorities trusted for
	// the relay; empty: the system's.
	SMTPCAFile string
	// OutboundAllow lists address ranges that webhooks may reach although
	// they are loopback, private or otherwise refused by internal/outbound.
	OutboundAllow []netip.Prefix
	// WebhookSecret signs the requests of playbook webhook steps
	// (X-Certdesk-Signature); empty: webhook steps fail. Never logged.
	WebhookSecret string
	// SecretsKey (base64 of 32 bytes) encrypts the secrets certdesk keeps
	// and must read back (OpenID Connect client secrets, TOTP keys;
	// internal/sealed, which checks it when the app starts); empty: a key
	// file in DataDir, created at the first start. Never logged.
	SecretsKey string
	// OIDCIssuer, OIDCClientID, OIDCClientSecret, OIDCDomains and
	// OIDCEmailClaim are the installation's OpenID Connect provider, for
	// the people of OIDCDomains whose organisation has none of its own
	// (docs/security.md, "Signing in: your organisation's identity
	// provider"); an empty issuer: none. The secret is never logged.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCDomains      []string
	OIDCEmailClaim   string
	// PlaybookDir is a folder of local playbooks loaded besides the shipped
	// ones (one with a shipped playbook's id replaces it); empty: none.
	PlaybookDir string
	// SkipInvalidPlaybooks starts serve and worker without the playbooks
	// that do not validate (each logged) instead of refusing to start.
	SkipInvalidPlaybooks bool
	// DeadlineReminders are the points, in percent of the time allowed,
	// at which legal deadlines are reminded; empty: none.
	DeadlineReminders []int
	// SessionIdleTimeout ends a web UI session this long after its last
	// request.
	SessionIdleTimeout time.Duration
	// SessionLifetime ends a web UI session this long after sign-in,
	// however busy it is.
	SessionLifetime time.Duration
	// Mail configures the inbound SMTP listener (internal/mailin); off
	// while Mail.Listen is empty.
	Mail Mail
}

// Mail configures the inbound SMTP listener (docs/email.md, "Receiving").
type Mail struct {
	// Listen is the listener's host:port; empty: no listener.
	Listen string
	// Domain is the domain whose mail is accepted (the part after @ of
	// every recipient); required with Listen.
	Domain string
	// MaxBytes is the largest message accepted (announced as SMTP SIZE).
	MaxBytes int64
	// MaxAttachments is the most attachments one message may carry.
	MaxAttachments int
	// AuthservID is the authserv-id of the relay whose
	// Authentication-Results header is trusted; empty: the topmost such
	// header is recorded but not enforced.
	AuthservID string
}

// The evidence backends (CERTDESK_BLOB_BACKEND).
const (
	BackendFolder = "folder"
	BackendS3     = "s3"
)

// S3 configures the S3-compatible object store that holds attachment
// bytes when BlobBackend is BackendS3.
type S3 struct {
	// Endpoint is host[:port], without a scheme.
	Endpoint string
	Bucket   string
	// Region is the bucket's region; empty: the client asks the store.
	Region string
	// AccessKey and SecretKey are static credentials. Never logged.
	AccessKey, SecretKey string
	// TLS speaks HTTPS to the endpoint.
	TLS bool
	// PathStyle puts the bucket in the URL's path instead of its host.
	PathStyle bool
	// Prefix starts every key ("" or ending in "/").
	Prefix string
}

// Var describes one environment variable: its name, default and meaning.
type Var struct {
	Name    string
	Default string
	Help    string
}

// Vars lists every variable Load reads, in documentation order.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL URL; empty runs the embedded PostgreSQL in $CERTDESK_DATA_DIR/postgres"},
	{"CERTDESK_ADDR", "127.0.0.1:8080", "HTTP listen address (host:port)"},
	{"CERTDESK_BASE_URL", "http://<CERTDESK_ADDR>", "public URL of the service, used in links sent to chat (a loopback address is named localhost)"},
	{"CERTDESK_DATA_DIR", "./data", "folder for the embedded database and local state"},
	{"CERTDESK_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"CERTDESK_LOG_FORMAT", "text", "text or json"},
	{"CERTDESK_WORKERS", "true", "run background job workers in the serve process (false: API only)"},
	{"CERTDESK_WORKER_CONCURRENCY", "30", "jobs worked at once per process; at most CERTDESK_DB_MAX_CONNS minus 10"},
	{"CERTDESK_JOB_POLL_INTERVAL", "100ms", "how often workers look for new jobs without a notification (Go duration; they LISTEN too)"},
	{"CERTDESK_JOB_RESCUE_AFTER", "2m", "a job still running this long after it started belonged to a process that died (killed, crashed) and runs again; a job's own time limit is half of it, at most 1m (Go duration, 10s to 1h)"},
	{"CERTDESK_DB_MAX_CONNS", "40", "maximum database connections per process"},
	{"CERTDESK_MAX_BODY_BYTES", "1048576", "largest accepted JSON request body in bytes"},
	{"CERTDESK_REQUEST_TIMEOUT", "30s", "time limit of one HTTP request"},
	{"CERTDESK_SHUTDOWN_TIMEOUT", "30s", "time limit of a graceful shutdown"},
	{"CERTDESK_TRUST_PROXY", "false", "take the client address from X-Forwarded-For (only behind a proxy you run)"},
	{"CERTDESK_RESET_LINK_LIFETIME", "24h", "how long a one-time password reset link stays usable (Go duration, 5m to 168h)"},
	{"PG_BINDIR", "", "folder with initdb and postgres for the embedded database; empty: /usr/lib/postgresql/*/bin, then PATH"},
	{"CERTDESK_MAX_UPLOAD_BYTES", "104857600", "largest accepted evidence attachment in bytes (100 MiB)"},
	{"CERTDESK_BLOB_DIR", "<CERTDESK_DATA_DIR>/blobs", "folder of the attachment files (content-addressed); back it up with the database"},
	{"CERTDESK_BLOB_BACKEND", "folder", "where attachment files live: folder (CERTDESK_BLOB_DIR) or s3 (an S3-compatible object store, CERTDESK_S3_*; no shared disk between replicas)"},
	{"CERTDESK_S3_ENDPOINT", "", "object store host[:port] without a scheme (e.g. s3.eu-central-1.amazonaws.com, minio.internal:9000); required with CERTDESK_BLOB_BACKEND=s3"},
	{"CERTDESK_S3_BUCKET", "", "bucket of the attachment files; it must exist; required with CERTDESK_BLOB_BACKEND=s3"},
	{"CERTDESK_S3_REGION", "", "the bucket's region; empty: asked of the store"},
	{"CERTDESK_S3_ACCESS_KEY", "", "access key ID; required with CERTDESK_BLOB_BACKEND=s3"},
	{"CERTDESK_S3_SECRET_KEY", "", "secret access key; required with CERTDESK_BLOB_BACKEND=s3; never logged"},
	{"CERTDESK_S3_TLS", "true", "speak HTTPS to the object store (false only on a trusted network)"},
	{"CERTDESK_S3_PATH_STYLE", "false", "put the bucket in the URL path (https://host/bucket/key), as most self-hosted stores need; false: chosen by endpoint"},
	{"CERTDESK_S3_PREFIX", "", "prefix of every key (e.g. certdesk/), to share a bucket; letters, digits and . _ - / only"},
	{"CERTDESK_UPLOAD_TIMEOUT", "30m", "time limit of one attachment upload (Go duration)"},
	{"SLACK_BOT_TOKEN", "", "Slack bot token (xoxb-...) for chat notifications; empty: notifications are recorded and logged only"},
	{"SLACK_SIGNING_SECRET", "", "Slack app signing secret, verifies Slack's inbound requests (interactivity)"},
	{"SLACK_API_URL", "https://slack.com/api/", "base URL of Slack's Web API (a local fake in tests or air-gapped sites)"},
	{"SLACK_TIMEOUT", "15s", "time limit of one call to Slack's Web API (Go duration, 1s-50s); a call that runs over is retried"},
	{"CERTDESK_SMTP_RELAY", "", "SMTP relay (host:port, e.g. smtp.example.org:587) for notifications by e-mail, always with STARTTLS; empty: no e-mail is sent"},
	{"CERTDESK_SMTP_FROM", "", "sender of certdesk's e-mail (an address, optionally \"Name <address>\"); required with CERTDESK_SMTP_RELAY"},
	{"CERTDESK_SMTP_USER", "", "user name at the relay (AUTH PLAIN after STARTTLS); empty: no login"},
	{"CERTDESK_SMTP_PASSWORD", "", "password at the relay; never logged"},
	{"CERTDESK_SMTP_CA_FILE", "", "PEM file of the certificate authorities trusted for the relay's STARTTLS certificate; empty: the system's"},
	{"CERTDESK_OUTBOUND_ALLOW", "", "comma-separated CIDRs or addresses that webhooks may reach although private or loopback (e.g. 10.20.0.0/16)"},
	{"CERTDESK_WEBHOOK_SECRET", "", "secret that signs playbook webhook requests (HMAC-SHA256); empty: webhook steps fail"},
	{"CERTDESK_SECRETS_KEY", "", "base64 of 32 random bytes that encrypt stored secrets (OIDC client secrets, TOTP keys); empty: $CERTDESK_DATA_DIR/secrets.key, created at first start (set it when more than one process runs)"},
	{"CERTDESK_OIDC_ISSUER", "", "the installation's OpenID Connect provider (issuer URL) for the e-mail domains of CERTDESK_OIDC_DOMAINS; empty: none (organisations configure their own in the web UI)"},
	{"CERTDESK_OIDC_CLIENT_ID", "", "the client ID certdesk has at the installation's provider (required with CERTDESK_OIDC_ISSUER)"},
	{"CERTDESK_OIDC_CLIENT_SECRET", "", "the client secret certdesk has at the installation's provider (required with CERTDESK_OIDC_ISSUER); never logged"},
	{"CERTDESK_OIDC_DOMAINS", "", "comma-separated e-mail domains whose people sign in through the installation's provider (required with CERTDESK_OIDC_ISSUER)"},
	{"CERTDESK_OIDC_EMAIL_CLAIM", "email", "the ID token's claim that carries the e-mail address at the installation's provider"},
	{"CERTDESK_PLAYBOOK_DIR", "", "folder of local playbooks (*.yaml, *.yml) loaded besides the shipped ones; one with a shipped playbook's id replaces it"},
	{"CERTDESK_SKIP_INVALID_PLAYBOOKS", "false", "start without the playbooks that do not validate (each is logged) instead of refusing to start"},
	{"CERTDESK_DEADLINE_REMINDERS", "50%,90%", "when to remind legal deadlines (NIS2, GDPR), in percent of the time allowed, ascending; off: no reminders (misses are still recorded)"},
	{"CERTDESK_SESSION_IDLE_TIMEOUT", "30m", "a web UI session ends this long after its last request (Go duration, 1m-24h); pages warn before and offer to stay signed in"},
	{"CERTDESK_SESSION_LIFETIME", "12h", "a web UI session ends this long after sign-in however busy (Go duration, 5m-720h, at least the idle timeout)"},
	{"CERTDESK_SMTP_LISTEN", "", "host:port of the inbound SMTP listener (e.g. 127.0.0.1:2525) that turns mail into comments and draft reports; empty: off"},
	{"CERTDESK_MAIL_DOMAIN", "", "the domain the SMTP listener accepts mail for (required with CERTDESK_SMTP_LISTEN)"},
	{"CERTDESK_MAIL_MAX_BYTES", "26214400", "largest inbound message in bytes, announced as SMTP SIZE (25 MiB; 1024 to 1 GiB)"},
	{"CERTDESK_MAIL_MAX_ATTACHMENTS", "10", "most attachments of one inbound message (0-100)"},
	{"CERTDESK_MAIL_AUTHSERV_ID", "", "authserv-id of the relay whose Authentication-Results header is trusted: mail whose sender the relay did not authenticate (SPF or DKIM aligned, or DMARC pass) is refused; none: nothing is checked; required with CERTDESK_SMTP_LISTEN"},
}

// ConnReserve is how many connections of CERTDESK_DB_MAX_CONNS the
// workers leave to everything else (API requests, River's listener and
// fetches): each running job holds a connection for its transaction, and a
// pool the workers fill stalls the whole process.
const ConnReserve = 10

// Error reports a variable whose value is not acceptable.
type Error struct {
	Var    string
	Value  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("config: %s=%q: %s", e.Var, e.Value, e.Reason)
}

// Load reads the configuration with getenv (os.Getenv in production) and
// validates it. The error names the first variable that is wrong.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			for _, d := range Vars {
				if d.Name == name {
					return d.Default
				}
			}
		}
		return v
	}
	var c Config
	var err error
	c.DatabaseURL = get("DATABASE_URL")
	if c.DatabaseURL != "" {
		if u, perr := url.Parse(c.DatabaseURL); perr != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return c, &Error{"DATABASE_URL", redact(c.DatabaseURL), "must be a postgres:// or postgresql:// URL"}
		}
	}
	c.Addr = get("CERTDESK_ADDR")
	if _, port, perr := net.SplitHostPort(c.Addr); perr != nil {
		return c, &Error{"CERTDESK_ADDR", c.Addr, "must be host:port, e.g. 127.0.0.1:8080"}
	} else if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
		return c, &Error{"CERTDESK_ADDR", c.Addr, "port must be a number from 0 to 65535"}
	}
	c.BaseURL = strings.TrimSpace(getenv("CERTDESK_BASE_URL"))
	if c.BaseURL == "" {
		c.BaseURL = "http://" + defaultHost(c.Addr)
	}
	if u, perr := url.Parse(c.BaseURL); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, &Error{"CERTDESK_BASE_URL", c.BaseURL, "must be an absolute http(s) URL"}
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.DataDir = get("CERTDESK_DATA_DIR")
	c.PGBinDir = get("PG_BINDIR")
	c.BlobDir = strings.TrimSpace(getenv("CERTDESK_BLOB_DIR"))
	if c.BlobDir == "" {
		c.BlobDir = filepath.Join(c.DataDir, "blobs")
	}
	if err := loadS3(&c, get); err != nil {
		return c, err
	}
	if c.LogLevel, err = parseLevel(get("CERTDESK_LOG_LEVEL")); err != nil {
		return c, &Error{"CERTDESK_LOG_LEVEL", get("CERTDESK_LOG_LEVEL"), "must be debug, info, warn or error"}
	}
	c.LogFormat = get("CERTDESK_LOG_FORMAT")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, &Error{"CERTDESK_LOG_FORMAT", c.LogFormat, "must be text or json"}
	}
	if c.Workers, err = parseBool("CERTDESK_WORKERS", get("CERTDESK_WORKERS")); err != nil {
		return c, err
	}
	if c.TrustProxy, err = parseBool("CERTDESK_TRUST_PROXY", get("CERTDESK_TRUST_PROXY")); err != nil {
		return c, err
	}
	if c.WorkerConcurrency, err = parseInt("CERTDESK_WORKER_CONCURRENCY", get("CERTDESK_WORKER_CONCURRENCY"), 1, 10000); err != nil {
		return c, err
	}
	if c.DBMaxConns, err = parseInt("CERTDESK_DB_MAX_CONNS", get("CERTDESK_DB_MAX_CONNS"), ConnReserve+1, 10000); err != nil {
		return c, err
	}
	if c.WorkerConcurrency > c.DBMaxConns-ConnReserve {
		return c, &Error{"CERTDESK_WORKER_CONCURRENCY", get("CERTDESK_WORKER_CONCURRENCY"), fmt.Sprintf(
			"must leave %d of the CERTDESK_DB_MAX_CONNS=%d connections to API requests and River's listener and fetches: at most %d",
			ConnReserve, c.DBMaxConns, c.DBMaxConns-ConnReserve)}
	}
	n, err := parseInt("CERTDESK_MAX_BODY_BYTES", get("CERTDESK_MAX_BODY_BYTES"), 1024, 1<<30)
	if err != nil {
		return c, err
	}
	c.MaxBodyBytes = int64(n)
	if n, err = parseInt("CERTDESK_MAX_UPLOAD_BYTES", get("CERTDESK_MAX_UPLOAD_BYTES"), 1024, 1<<40); err != nil {
		return c, err
	}
	c.MaxUploadBytes = int64(n)
	if c.JobPollInterval, err = parseDuration("CERTDESK_JOB_POLL_INTERVAL", get("CERTDESK_JOB_POLL_INTERVAL"), 10*time.Millisecond, time.Minute); err != nil {
		return c, err
	}
	if c.JobRescueAfter, err = parseDuration("CERTDESK_JOB_RESCUE_AFTER", get("CERTDESK_JOB_RESCUE_AFTER"), 10*time.Second, time.Hour); err != nil {
		return c, err
	}
	if c.RequestTimeout, err = parseDuration("CERTDESK_REQUEST_TIMEOUT", get("CERTDESK_REQUEST_TIMEOUT"), time.Second, time.Hour); err != nil {
		return c, err
	}
	if c.UploadTimeout, err = parseDuration("CERTDESK_UPLOAD_TIMEOUT", get("CERTDESK_UPLOAD_TIMEOUT"), time.Second, 24*time.Hour); err != nil {
		return c, err
	}
	c.SlackBotToken = get("SLACK_BOT_TOKEN")
	c.SlackSigningSecret = get("SLACK_SIGNING_SECRET")
	c.SlackAPIURL = get("SLACK_API_URL")
	if u, perr := url.Parse(c.SlackAPIURL); perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, &Error{"SLACK_API_URL", c.SlackAPIURL, "must be an absolute http(s) URL"}
	}
	if !strings.HasSuffix(c.SlackAPIURL, "/") {
		c.SlackAPIURL += "/"
	}
	if c.SlackTimeout, err = parseDuration("SLACK_TIMEOUT", get("SLACK_TIMEOUT"), time.Second, 50*time.Second); err != nil {
		return c, err
	}
	if c.OutboundAllow, err = parsePrefixes("CERTDESK_OUTBOUND_ALLOW", get("CERTDESK_OUTBOUND_ALLOW")); err != nil {
		return c, err
	}
	c.WebhookSecret = get("CERTDESK_WEBHOOK_SECRET")
	if err := c.loadSMTP(get); err != nil {
		return c, err
	}
	c.SecretsKey = get("CERTDESK_SECRETS_KEY")
	if err := c.loadOIDC(get); err != nil {
		return c, err
	}
	c.PlaybookDir = get("CERTDESK_PLAYBOOK_DIR")
	if c.SkipInvalidPlaybooks, err = parseBool("CERTDESK_SKIP_INVALID_PLAYBOOKS", get("CERTDESK_SKIP_INVALID_PLAYBOOKS")); err != nil {
		return c, err
	}
	if c.DeadlineReminders, err = ParseReminders(get("CERTDESK_DEADLINE_REMINDERS")); err != nil {
		return c, &Error{"CERTDESK_DEADLINE_REMINDERS", get("CERTDESK_DEADLINE_REMINDERS"), err.Error()}
	}
	if c.ResetLinkLifetime, err = parseDuration("CERTDESK_RESET_LINK_LIFETIME", get("CERTDESK_RESET_LINK_LIFETIME"),
		identity.MinResetLinkLifetime, identity.MaxResetLinkLifetime); err != nil {
		return c, err
	}
	if c.SessionIdleTimeout, err = parseDuration("CERTDESK_SESSION_IDLE_TIMEOUT", get("CERTDESK_SESSION_IDLE_TIMEOUT"), time.Minute, 24*time.Hour); err != nil {
		return c, err
	}
	if c.SessionLifetime, err = parseDuration("CERTDESK_SESSION_LIFETIME", get("CERTDESK_SESSION_LIFETIME"), 5*time.Minute, 720*time.Hour); err != nil {
		return c, err
	}
	if c.SessionLifetime < c.SessionIdleTimeout {
		return c, &Error{"CERTDESK_SESSION_LIFETIME", get("CERTDESK_SESSION_LIFETIME"), "must be at least CERTDESK_SESSION_IDLE_TIMEOUT (" + c.SessionIdleTimeout.String() + ")"}
	}
	if c.ShutdownTimeout, err = parseDuration("CERTDESK_SHUTDOWN_TIMEOUT", get("CERTDESK_SHUTDOWN_TIMEOUT"), time.Second, time.Hour); err != nil {
		return c, err
	}
	if err := c.loadMail(get); err != nil {
		return c, err
	}
	return c, nil
}

// loadMail reads the inbound SMTP listener's variables.
func (c *Config) loadMail(get func(string) string) error {
	c.Mail.Listen = get("CERTDESK_SMTP_LISTEN")
	c.Mail.Domain = strings.ToLower(strings.TrimSuffix(get("CERTDESK_MAIL_DOMAIN"), "."))
	c.Mail.AuthservID = get("CERTDESK_MAIL_AUTHSERV_ID")
	n, err := parseInt("CERTDESK_MAIL_MAX_BYTES", get("CERTDESK_MAIL_MAX_BYTES"), 1024, 1<<30)
	if err != nil {
		return err
	}
	c.Mail.MaxBytes = int64(n)
	if c.Mail.MaxAttachments, err = parseInt("CERTDESK_MAIL_MAX_ATTACHMENTS", get("CERTDESK_MAIL_MAX_ATTACHMENTS"), 0, 100); err != nil {
		return err
	}
	if c.Mail.Listen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Mail.Listen); err != nil {
		return &Error{"CERTDESK_SMTP_LISTEN", c.Mail.Listen, "must be host:port"}
	}
	if c.Mail.Domain == "" || strings.ContainsAny(c.Mail.Domain, "@ /") || !strings.Contains(c.Mail.Domain, ".") {
		return &Error{"CERTDESK_MAIL_DOMAIN", c.Mail.Domain, "is required with CERTDESK_SMTP_LISTEN: a domain such as certdesk.example.org"}
	}
	// Who sent a message is only known through the relay's check: taking
	// mail without it is a choice made in words, never a default.
	switch c.Mail.AuthservID {
	case "":
		return &Error{"CERTDESK_MAIL_AUTHSERV_ID", "", "is required with CERTDESK_SMTP_LISTEN: the authserv-id of the relay that checks SPF/DKIM/DMARC, or none to take mail whose sender nobody checked (anyone knowing a user's address could comment as them; docs/email.md)"}
	case "none":
		c.Mail.AuthservID = ""
	}
	return nil
}

// loadS3 reads the evidence backend and, for s3, the object store.
func loadS3(c *Config, get func(string) string) error {
	c.BlobBackend = strings.ToLower(get("CERTDESK_BLOB_BACKEND"))
	if c.BlobBackend != BackendFolder && c.BlobBackend != BackendS3 {
		return &Error{"CERTDESK_BLOB_BACKEND", c.BlobBackend, "must be folder or s3"}
	}
	var err error
	if c.S3.TLS, err = parseBool("CERTDESK_S3_TLS", get("CERTDESK_S3_TLS")); err != nil {
		return err
	}
	if c.S3.PathStyle, err = parseBool("CERTDESK_S3_PATH_STYLE", get("CERTDESK_S3_PATH_STYLE")); err != nil {
		return err
	}
	c.S3.Endpoint, c.S3.Bucket, c.S3.Region = get("CERTDESK_S3_ENDPOINT"), get("CERTDESK_S3_BUCKET"), get("CERTDESK_S3_REGION")
	c.S3.AccessKey, c.S3.SecretKey = get("CERTDESK_S3_ACCESS_KEY"), get("CERTDESK_S3_SECRET_KEY")
	c.S3.Prefix = get("CERTDESK_S3_PREFIX")
	if c.S3.Prefix != "" {
		if strings.Trim(c.S3.Prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != "" ||
			strings.HasPrefix(c.S3.Prefix, "/") || strings.Contains(c.S3.Prefix, "//") || strings.Contains(c.S3.Prefix, "..") {
			return &Error{"CERTDESK_S3_PREFIX", c.S3.Prefix, "must be letters, digits and . _ - / only, not start with / nor contain // or .."}
		}
		if !strings.HasSuffix(c.S3.Prefix, "/") {
			c.S3.Prefix += "/"
		}
	}
	if c.BlobBackend != BackendS3 {
		return nil
	}
	if c.S3.Endpoint == "" || strings.Contains(c.S3.Endpoint, "/") {
		return &Error{"CERTDESK_S3_ENDPOINT", c.S3.Endpoint, "must be host[:port] without a scheme, e.g. minio.internal:9000"}
	}
	if _, _, perr := net.SplitHostPort(c.S3.Endpoint); perr != nil && strings.Contains(c.S3.Endpoint, ":") {
		return &Error{"CERTDESK_S3_ENDPOINT", c.S3.Endpoint, "must be host[:port] without a scheme, e.g. minio.internal:9000"}
	}
	if n := len(c.S3.Bucket); n < 3 || n > 63 || strings.Trim(c.S3.Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return &Error{"CERTDESK_S3_BUCKET", c.S3.Bucket, "must be a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens"}
	}
	if c.S3.AccessKey == "" {
		return &Error{"CERTDESK_S3_ACCESS_KEY", "", "is required with CERTDESK_BLOB_BACKEND=s3"}
	}
	if c.S3.SecretKey == "" {
		return &Error{"CERTDESK_S3_SECRET_KEY", "", "is required with CERTDESK_BLOB_BACKEND=s3"}
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

func parseBool(name, s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, &Error{name, s, "must be true or false"}
	}
	return b, nil
}

func parseInt(name, s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, &Error{name, s, fmt.Sprintf("must be a whole number from %d to %d", lo, hi)}
	}
	return n, nil
}

func parseDuration(name, s string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		return 0, &Error{name, s, fmt.Sprintf("must be a duration from %s to %s, e.g. 30s", lo, hi)}
	}
	return d, nil
}

// parsePrefixes reads a comma-separated list of CIDR prefixes; a bare
// address stands for itself (/32 or /128).
func parsePrefixes(name, s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, &Error{name, s, fmt.Sprintf("%q is not a CIDR prefix or an IP address (e.g. 10.20.0.0/16, 192.0.2.7, fd00::/8)", f)}
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// redact hides a password in a URL for error messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// loadOIDC reads the installation's OpenID Connect provider: all of
// issuer, client ID, secret and domains, or none.
func (c *Config) loadOIDC(get func(string) string) error {
	c.OIDCIssuer = strings.TrimRight(get("CERTDESK_OIDC_ISSUER"), "/")
	c.OIDCClientID = get("CERTDESK_OIDC_CLIENT_ID")
	c.OIDCClientSecret = get("CERTDESK_OIDC_CLIENT_SECRET")
	c.OIDCEmailClaim = get("CERTDESK_OIDC_EMAIL_CLAIM")
	c.OIDCDomains = nil
	for _, d := range strings.Split(get("CERTDESK_OIDC_DOMAINS"), ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			c.OIDCDomains = append(c.OIDCDomains, d)
		}
	}
	if c.OIDCIssuer == "" {
		if c.OIDCClientID != "" || c.OIDCClientSecret != "" || len(c.OIDCDomains) > 0 {
			return &Error{"CERTDESK_OIDC_ISSUER", "", "is required with CERTDESK_OIDC_CLIENT_ID, _CLIENT_SECRET or _DOMAINS"}
		}
		return nil
	}
	if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &Error{"CERTDESK_OIDC_ISSUER", c.OIDCIssuer, "must be an absolute https URL"}
	}
	switch {
	case c.OIDCClientID == "":
		return &Error{"CERTDESK_OIDC_CLIENT_ID", "", "is required with CERTDESK_OIDC_ISSUER"}
	case c.OIDCClientSecret == "":
		return &Error{"CERTDESK_OIDC_CLIENT_SECRET", "", "is required with CERTDESK_OIDC_ISSUER"}
	case len(c.OIDCDomains) == 0:
		return &Error{"CERTDESK_OIDC_DOMAINS", "", "is required with CERTDESK_OIDC_ISSUER"}
	}
	return nil
}

// defaultHost is the host and port of the default base URL: the listen
// address, with a loopback IP address named localhost, so that the
// browser's origin is a host name (WebAuthn accepts no IP address as the
// relying party: passkeys work in the demo) and still a secure context.
func defaultHost(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return net.JoinHostPort("localhost", port)
	}
	return addr
}

// loadSMTP reads the e-mail relay's settings.
func (c *Config) loadSMTP(get func(string) string) error {
	c.SMTPRelay = strings.TrimSpace(get("CERTDESK_SMTP_RELAY"))
	c.SMTPFrom = strings.TrimSpace(get("CERTDESK_SMTP_FROM"))
	c.SMTPUser = get("CERTDESK_SMTP_USER")
	c.SMTPPassword = get("CERTDESK_SMTP_PASSWORD")
	c.SMTPCAFile = get("CERTDESK_SMTP_CA_FILE")
	if c.SMTPRelay == "" {
		return nil
	}
	if host, port, err := net.SplitHostPort(c.SMTPRelay); err != nil || host == "" || port == "" {
		return &Error{"CERTDESK_SMTP_RELAY", c.SMTPRelay, "must be host:port, e.g. smtp.example.org:587"}
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		return &Error{"CERTDESK_SMTP_FROM", c.SMTPFrom, "must be an e-mail address when CERTDESK_SMTP_RELAY is set"}
	}
	if c.SMTPPassword != "" && c.SMTPUser == "" {
		return &Error{"CERTDESK_SMTP_USER", "", "must be set with CERTDESK_SMTP_PASSWORD"}
	}
	return nil
}
