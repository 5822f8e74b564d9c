package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/slackfake"
)

// userFlags collects repeated --user U123=someone@example.org flags.
type userFlags map[string]string

func (u userFlags) String() string { return "" }

func (u userFlags) Set(v string) error {
	id, email, ok := strings.Cut(v, "=")
	if !ok || id == "" || !strings.Contains(email, "@") {
		return errors.New("want SLACKUSERID=e-mail")
	}
	u[id] = email
	return nil
}

// slackFakeCmd serves a stand-in for Slack's Web API that prints what
// certdesk posts, to try chat notifications without a Slack workspace.
func slackFakeCmd(ctx context.Context, env Env, args []string) error {
	users := userFlags{}
	fs := newFlags(env, "slack-fake", "[flags]",
		"Serve a stand-in for Slack's Web API that prints every message certdesk posts or updates.\n"+
			"Point certdesk at it with SLACK_API_URL=http://<addr>/api/ and any SLACK_BOT_TOKEN.\n"+
			"GET http://<addr>/messages lists what it received (?channel= filters).")
	addr := fs.String("addr", "127.0.0.1:9100", "address to listen on")
	fs.Var(users, "user", "a Slack user for users.info, as SLACKUSERID=e-mail (repeatable)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("slack-fake: %w", err)
	}
	fake := slackfake.New(env.Stdout, users)
	srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(env.Stdout, "fake Slack listening on http://%s/\n  SLACK_API_URL=http://%s/api/ SLACK_BOT_TOKEN=xoxb-fake make run\n",
		ln.Addr(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	case err := <-errc:
		return err
	}
}
