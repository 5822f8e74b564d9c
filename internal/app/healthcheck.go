package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/config"
)

// ErrUnhealthy is returned by the healthcheck command when the endpoint
// did not answer 200; cmd/certdesk exits with status 1 for it, which is
// what container health checks read as "unhealthy".
var ErrUnhealthy = errors.New("unhealthy")

// healthcheck asks a running serve process for /readyz (or --path) and
// succeeds on 200. It exists because the container image has no shell and
// no HTTP client for a health check to call.
func healthcheck(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "healthcheck", "[flags]", "GETs /readyz of the serve process listening on CERTDESK_ADDR (0.0.0.0 and :: are asked on\n"+
		"the loopback address) and exits 0 on 200, 1 otherwise with the reason on stderr.\n"+
		"For container health checks and Kubernetes exec probes (the image has no shell or curl).")
	path := fs.String("path", "/readyz", "path to ask, e.g. /healthz")
	rawURL := fs.String("url", "", "full URL to ask instead of CERTDESK_ADDR and --path")
	timeout := fs.Duration("timeout", 5*time.Second, "time limit of the request")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	target := *rawURL
	if target == "" {
		cfg, err := config.Load(env.Getenv)
		if err != nil {
			return err
		}
		target = "http://" + loopbackAddr(cfg.Addr) + "/" + strings.TrimPrefix(*path, "/")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(env.Stderr, "certdesk healthcheck: %s: %v\n", target, err)
		return ErrUnhealthy
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		var answer struct {
			Reason string `json:"reason"`
		}
		reason := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &answer) == nil && answer.Reason != "" {
			reason = answer.Reason
		}
		fmt.Fprintf(env.Stderr, "certdesk healthcheck: %s answered %d: %s\n", target, resp.StatusCode, reason)
		return ErrUnhealthy
	}
	fmt.Fprintf(env.Stdout, "ok: %s answered 200\n", target)
	return nil
}

// loopbackAddr turns a listen address into one to connect to: an
// unspecified host (0.0.0.0, ::, empty) becomes the loopback address.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
