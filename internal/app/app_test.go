package app_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func env(vars map[string]string, args ...string) (app.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return app.Env{Args: args, Getenv: func(k string) string { return vars[k] }, Stdin: strings.NewReader(""),
		Stdout: &out, Stderr: &errb}, &out, &errb
}

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "worker", "migrate", "healthcheck", "version", "backup", "restore"} {
		e, out, _ := env(nil, cmd, "--help")
		if cmd == "version" {
			e.Args = []string{"version"}
		}
		require.NoError(t, app.Run(context.Background(), e), cmd)
		require.NotEmpty(t, out.String(), cmd)
	}
	e, out, _ := env(nil, "--help")
	require.NoError(t, app.Run(context.Background(), e))
	for _, cmd := range []string{"serve", "worker", "migrate", "version", "backup", "restore"} {
		require.Contains(t, out.String(), cmd)
	}
}

func TestUnknownCommandAndBadConfig(t *testing.T) {
	t.Parallel()
	e, _, errb := env(nil, "fly")
	require.ErrorIs(t, app.Run(context.Background(), e), app.ErrUsage)
	require.Contains(t, errb.String(), `unknown command "fly"`)

	e, _, _ = env(map[string]string{"CERTDESK_LOG_FORMAT": "xml"}, "serve")
	err := app.Run(context.Background(), e)
	require.ErrorContains(t, err, "CERTDESK_LOG_FORMAT")

	e, _, _ = env(nil, "migrate", "sideways")
	require.ErrorIs(t, app.Run(context.Background(), e), app.ErrUsage)
}

func TestMigrateStatusAndUp(t *testing.T) {
	t.Parallel()
	url := testdb.New(t)
	e, out, _ := env(map[string]string{"DATABASE_URL": url}, "migrate", "up")
	require.NoError(t, app.Run(context.Background(), e))
	require.Contains(t, out.String(), "up to date")
	e, out, _ = env(map[string]string{"DATABASE_URL": url}, "migrate", "status")
	require.NoError(t, app.Run(context.Background(), e))
	require.Contains(t, out.String(), "0001_incidents.sql")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Greater(t, len(lines), 2)
	for _, line := range lines[1:] {
		require.Equal(t, "applied", strings.Fields(line)[2], line)
	}
}

// TestServeShutsDownGracefully runs the real Serve on a test database,
// reports an incident through it, and stops it as SIGTERM would.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Parallel()
	url := testdb.New(t)
	// A free port for the SMTP listener (serve starts it with HTTP).
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	smtpAddr := free.Addr().String()
	require.NoError(t, free.Close())
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"DATABASE_URL": url, "CERTDESK_ADDR": "127.0.0.1:0", "CERTDESK_JOB_POLL_INTERVAL": "20ms",
			"CERTDESK_SMTP_LISTEN": smtpAddr, "CERTDESK_MAIL_DOMAIN": "certdesk.test",
			"CERTDESK_MAIL_AUTHSERV_ID": "none"}[k]
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, out, _ := env(nil)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, e, ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve stopped early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not become ready")
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, out.String(), "is serving at http://"+addr)
	he, hout, _ := env(map[string]string{"CERTDESK_ADDR": addr}, "healthcheck")
	require.NoError(t, app.Run(context.Background(), he), "certdesk healthcheck against the real server")
	require.Contains(t, hout.String(), "/readyz answered 200")
	mc, err := net.Dial("tcp", smtpAddr)
	require.NoError(t, err, "serve listens for mail on CERTDESK_SMTP_LISTEN")
	greeting, err := bufio.NewReader(mc).ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(greeting, "220 certdesk.test "), greeting)
	mc.Close()

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	_, err = http.Get("http://" + addr + "/healthz")
	require.Error(t, err, "the listener is closed after shutdown")
	_, err = net.Dial("tcp", smtpAddr)
	require.Error(t, err, "so is the SMTP listener")
}

// TestConfigurationIsDocumented keeps docs/configuration.md in step with
// the variables the service reads.
func TestConfigurationIsDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	require.NoError(t, err)
	for _, v := range config.Vars {
		require.Contains(t, string(b), v.Name, "docs/configuration.md must describe %s", v.Name)
		if v.Default != "" {
			require.Contains(t, string(b), v.Default, "docs/configuration.md must give the default of %s", v.Name)
		}
	}
}
