package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", c.Addr)
	require.Equal(t, "http://localhost:8080", c.BaseURL, "a loopback address is named: passkeys need a host name")
	require.Equal(t, "./data", c.DataDir)
	require.Equal(t, "text", c.LogFormat)
	require.True(t, c.Workers)
	require.Equal(t, 100*time.Millisecond, c.JobPollInterval)
	require.Empty(t, c.DatabaseURL)
	require.Equal(t, []int{50, 90}, c.DeadlineReminders)
	require.Equal(t, 30*time.Minute, c.SessionIdleTimeout)
	require.Equal(t, 12*time.Hour, c.SessionLifetime)
}

func TestLoadDeadlineReminders(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]int{"25%, 75%, 95%": {25, 75, 95}, "off": {}, "OFF": {}, "10%": {10}} {
		c, err := Load(env(map[string]string{"CERTDESK_DEADLINE_REMINDERS": in}))
		require.NoError(t, err, in)
		require.Equal(t, want, c.DeadlineReminders, in)
	}
	_, err := Load(env(map[string]string{"CERTDESK_DEADLINE_REMINDERS": "90%,50%"}))
	require.EqualError(t, err, `config: CERTDESK_DEADLINE_REMINDERS="90%,50%": points must be ascending without repeats (50% after 90%)`)
}

func TestLoadRejectsBadValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value string }{
		{"CERTDESK_ADDR", "8080"},
		{"CERTDESK_ADDR", "host:99999"},
		{"CERTDESK_LOG_LEVEL", "loud"},
		{"CERTDESK_LOG_FORMAT", "xml"},
		{"CERTDESK_WORKERS", "maybe"},
		{"CERTDESK_DB_MAX_CONNS", "1"},
		{"CERTDESK_DB_MAX_CONNS", "10"},
		{"CERTDESK_JOB_POLL_INTERVAL", "soon"},
		{"CERTDESK_BASE_URL", "ftp://x"},
		{"DATABASE_URL", "mysql://u:secret@h/db"},
		{"SLACK_API_URL", "slack.example"},
		{"CERTDESK_DEADLINE_REMINDERS", "50"},
		{"CERTDESK_DEADLINE_REMINDERS", "90%,50%"},
		{"CERTDESK_DEADLINE_REMINDERS", "0%"},
		{"CERTDESK_DEADLINE_REMINDERS", "100%"},
		{"CERTDESK_DEADLINE_REMINDERS", "50%,50%"},
		{"CERTDESK_DEADLINE_REMINDERS", "half"},
		{"CERTDESK_RESET_LINK_LIFETIME", "1m"},
		{"CERTDESK_RESET_LINK_LIFETIME", "30d"},
		{"CERTDESK_RESET_LINK_LIFETIME", "169h"},
		{"CERTDESK_SESSION_IDLE_TIMEOUT", "10s"},
		{"CERTDESK_SESSION_IDLE_TIMEOUT", "soon"},
		{"CERTDESK_SESSION_LIFETIME", "1000h"},
		{"CERTDESK_SESSION_LIFETIME", "10m"}, // shorter than the default idle timeout
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(map[string]string{tc.name: tc.value}))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.name)
			require.NotContains(t, err.Error(), "secret", "passwords never appear in errors")
		})
	}
}

func TestResetLinkLifetime(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, 24*time.Hour, c.ResetLinkLifetime)
	c, err = Load(env(map[string]string{"CERTDESK_RESET_LINK_LIFETIME": "2h"}))
	require.NoError(t, err)
	require.Equal(t, 2*time.Hour, c.ResetLinkLifetime)
}

func TestEveryVarHasHelp(t *testing.T) {
	t.Parallel()
	for _, v := range Vars {
		require.NotEmpty(t, v.Help, v.Name)
	}
}

func TestLoadAttachmentSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, int64(100<<20), c.MaxUploadBytes)
	require.Equal(t, "data/blobs", c.BlobDir, "the default lives under CERTDESK_DATA_DIR")
	require.Equal(t, 30*time.Minute, c.UploadTimeout)

	c, err = Load(env(map[string]string{"CERTDESK_DATA_DIR": "/srv/certdesk", "CERTDESK_MAX_UPLOAD_BYTES": "2048", "CERTDESK_UPLOAD_TIMEOUT": "2h"}))
	require.NoError(t, err)
	require.Equal(t, "/srv/certdesk/blobs", c.BlobDir)
	require.Equal(t, int64(2048), c.MaxUploadBytes)
	require.Equal(t, 2*time.Hour, c.UploadTimeout)

	c, err = Load(env(map[string]string{"CERTDESK_BLOB_DIR": "/mnt/shared/blobs"}))
	require.NoError(t, err)
	require.Equal(t, "/mnt/shared/blobs", c.BlobDir)

	for _, bad := range []map[string]string{
		{"CERTDESK_MAX_UPLOAD_BYTES": "0"},
		{"CERTDESK_MAX_UPLOAD_BYTES": "lots"},
		{"CERTDESK_UPLOAD_TIMEOUT": "forever"},
		{"CERTDESK_UPLOAD_TIMEOUT": "100h"},
	} {
		_, err := Load(env(bad))
		require.Error(t, err, "%v", bad)
	}
}

func TestLoadSlackSettings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Empty(t, c.SlackBotToken, "without a token Slack is off")
	require.Equal(t, "https://slack.com/api/", c.SlackAPIURL)

	c, err = Load(env(map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3", "SLACK_API_URL": "http://127.0.0.1:9/api"}))
	require.NoError(t, err)
	require.Equal(t, "xoxb-1", c.SlackBotToken)
	require.Equal(t, "s3", c.SlackSigningSecret)
	require.Equal(t, "http://127.0.0.1:9/api/", c.SlackAPIURL, "a trailing / is added")
}

func TestLoadOutboundAllow(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Empty(t, c.OutboundAllow, "by default webhooks reach public addresses only")

	c, err = Load(env(map[string]string{"CERTDESK_OUTBOUND_ALLOW": " 10.20.0.0/16, 192.0.2.7 ,fd00::/8,,10.1.2.3/8"}))
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.20.0.0/16"),
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("10.0.0.0/8"),
	}, c.OutboundAllow)

	for _, bad := range []string{"10.0.0.0/33", "intranet", "10.0.0.0/8;127.0.0.1", "fe80::1%eth0", "10.0.0/8"} {
		_, err := Load(env(map[string]string{"CERTDESK_OUTBOUND_ALLOW": bad}))
		require.ErrorContains(t, err, "CERTDESK_OUTBOUND_ALLOW", bad)
		require.ErrorContains(t, err, "CIDR", bad)
	}
}

// The workers may not take the pool: each running job holds a connection,
// so the default fits the default pool with 10 to spare, and a
// concurrency that leaves fewer is refused naming both variables.
func TestLoadWorkerConcurrencyFitsThePool(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.LessOrEqual(t, c.WorkerConcurrency, c.DBMaxConns-ConnReserve)
	c, err = Load(env(map[string]string{"CERTDESK_WORKER_CONCURRENCY": "50", "CERTDESK_DB_MAX_CONNS": "60"}))
	require.NoError(t, err)
	require.Equal(t, 50, c.WorkerConcurrency)
	for _, tc := range []map[string]string{
		{"CERTDESK_WORKER_CONCURRENCY": "50"},
		{"CERTDESK_WORKER_CONCURRENCY": "31"},
		{"CERTDESK_WORKER_CONCURRENCY": "51", "CERTDESK_DB_MAX_CONNS": "60"},
	} {
		_, err := Load(env(tc))
		require.Error(t, err, "%v", tc)
		require.ErrorContains(t, err, "CERTDESK_WORKER_CONCURRENCY")
		require.ErrorContains(t, err, "CERTDESK_DB_MAX_CONNS")
	}
}

func TestLoadS3Settings(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, BackendFolder, c.BlobBackend, "the folder unless told otherwise")
	require.True(t, c.S3.TLS, "TLS unless told otherwise")
	require.False(t, c.S3.PathStyle)

	s3 := map[string]string{"CERTDESK_BLOB_BACKEND": "s3", "CERTDESK_S3_ENDPOINT": "minio.internal:9000",
		"CERTDESK_S3_BUCKET": "certdesk-evidence", "CERTDESK_S3_REGION": "eu-central-1",
		"CERTDESK_S3_ACCESS_KEY": "AKIA", "CERTDESK_S3_SECRET_KEY": "s3cr3t", "CERTDESK_S3_TLS": "false",
		"CERTDESK_S3_PATH_STYLE": "true", "CERTDESK_S3_PREFIX": "prod/certdesk"}
	c, err = Load(env(s3))
	require.NoError(t, err)
	require.Equal(t, BackendS3, c.BlobBackend)
	require.Equal(t, S3{Endpoint: "minio.internal:9000", Bucket: "certdesk-evidence", Region: "eu-central-1",
		AccessKey: "AKIA", SecretKey: "s3cr3t", TLS: false, PathStyle: true, Prefix: "prod/certdesk/"}, c.S3)

	for name, bad := range map[string]map[string]string{
		"CERTDESK_BLOB_BACKEND":  {"CERTDESK_BLOB_BACKEND": "nfs"},
		"CERTDESK_S3_ENDPOINT":   {"CERTDESK_S3_ENDPOINT": "https://minio.internal:9000"},
		"CERTDESK_S3_BUCKET":     {"CERTDESK_S3_BUCKET": "Evidence_Bucket"},
		"CERTDESK_S3_ACCESS_KEY": {"CERTDESK_S3_ACCESS_KEY": ""},
		"CERTDESK_S3_SECRET_KEY": {"CERTDESK_S3_SECRET_KEY": ""},
		"CERTDESK_S3_TLS":        {"CERTDESK_S3_TLS": "maybe"},
		"CERTDESK_S3_PREFIX":     {"CERTDESK_S3_PREFIX": "../other"},
	} {
		vars := map[string]string{}
		for k, v := range s3 {
			vars[k] = v
		}
		for k, v := range bad {
			vars[k] = v
		}
		_, err := Load(env(vars))
		var ce *Error
		require.ErrorAs(t, err, &ce, name)
		require.Equal(t, name, ce.Var)
		require.NotContains(t, err.Error(), "s3cr3t", "the secret key is never in an error")
	}
	// Without the s3 backend, the S3 variables are not required.
	_, err = Load(env(map[string]string{"CERTDESK_S3_BUCKET": ""}))
	require.NoError(t, err)
}

// The inbound listener needs the relay that checks senders named, or
// "none" said in words: unchecked mail is never a default.
func TestMailListenerNeedsTheSenderCheckNamed(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"CERTDESK_SMTP_LISTEN": "127.0.0.1:2525", "CERTDESK_MAIL_DOMAIN": "certdesk.example.org"}
	_, err := Load(env(vars))
	var ce *Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "CERTDESK_MAIL_AUTHSERV_ID", ce.Var)
	vars["CERTDESK_MAIL_AUTHSERV_ID"] = "none"
	c, err := Load(env(vars))
	require.NoError(t, err)
	require.Empty(t, c.Mail.AuthservID, "none: nothing enforced")
	vars["CERTDESK_MAIL_AUTHSERV_ID"] = "mx.example.org"
	c, err = Load(env(vars))
	require.NoError(t, err)
	require.Equal(t, "mx.example.org", c.Mail.AuthservID)
}
