package app_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/pgembed"
	"github.com/stretchr/testify/require"
)

// TestHealthcheckCommand checks `certdesk healthcheck`, the container
// image's health check: 200 succeeds, a 503 or no listener is ErrUnhealthy
// (exit status 1) with the reason on stderr, and an unspecified listen
// address (0.0.0.0, as in the image) is asked on the loopback address.
// TestServeShutsDownGracefully runs it against the real server.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	var ready atomic.Bool
	ready.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" && r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() && r.URL.Path == "/readyz" {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"unavailable","reason":"certdesk migration 99 (x) is pending: run 'certdesk migrate up'"}`))
			return
		}
		w.Write([]byte(`{"status":"ready"}`))
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	vars := map[string]string{"CERTDESK_ADDR": "0.0.0.0:" + port}

	e, out, _ := env(vars, "healthcheck")
	require.NoError(t, app.Run(context.Background(), e))
	require.Contains(t, out.String(), "ok: http://127.0.0.1:"+port+"/readyz answered 200")

	ready.Store(false)
	e, _, errb := env(vars, "healthcheck")
	require.ErrorIs(t, app.Run(context.Background(), e), app.ErrUnhealthy)
	require.Contains(t, errb.String(), "answered 503: certdesk migration 99 (x) is pending")

	e, _, _ = env(vars, "healthcheck", "--path", "healthz")
	require.NoError(t, app.Run(context.Background(), e), "liveness does not need the database")

	e, _, _ = env(nil, "healthcheck", "--url", srv.URL+"/nowhere")
	require.ErrorIs(t, app.Run(context.Background(), e), app.ErrUnhealthy)

	srv.Close()
	e, _, errb = env(vars, "healthcheck", "--timeout", "2s")
	require.ErrorIs(t, app.Run(context.Background(), e), app.ErrUnhealthy, "nothing listening")
	require.Contains(t, errb.String(), "certdesk healthcheck: http://127.0.0.1:"+port+"/readyz")
}

// TestNoDatabaseURLWithoutPostgreSQL is the container image's start without
// DATABASE_URL: no PostgreSQL binaries for the embedded server, so the
// command stops at once with an error that names DATABASE_URL and the
// documentation.
func TestNoDatabaseURLWithoutPostgreSQL(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"PG_BINDIR": t.TempDir(), "CERTDESK_DATA_DIR": t.TempDir()}
	for _, cmd := range [][]string{{"serve"}, {"worker"}, {"migrate", "up"}} {
		e, _, _ := env(vars, cmd...)
		err := app.Run(context.Background(), e)
		require.ErrorIs(t, err, pgembed.ErrNoBinaries, cmd)
		require.ErrorContains(t, err, "DATABASE_URL is not set", cmd)
		require.ErrorContains(t, err, "docs/operations.md", cmd)
	}
}
