// Package app is certdesk's composition root: it reads the configuration,
// opens the database (embedded or external), builds River, the stores, the
// services and the HTTP server, and starts and stops them in order.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Version is the build's version, set with -ldflags "-X ...app.Version=v1.2.3".
var Version = "dev"

// Env is the process environment given to Run.
type Env struct {
	Args   []string // without the program name
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// command is one subcommand of the CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP API, the web UI and the background workers", serve},
		{"worker", "run background workers only (scale out job processing)", workerCmd},
		{"migrate", "apply database migrations (up) or list them (status)", migrate},
		{"healthcheck", "ask a running serve process for /readyz; exit 0 when ready, 1 otherwise", healthcheck},
		{"org", "manage organisations (create, policy, set-webhook)", orgCmd},
		{"user", "manage users (create, reset-link)", userCmd},
		{"token", "manage API tokens (create)", tokenCmd},
		{"playbook", "check playbooks (validate)", playbookCmd},
		{"audit", "verify the audit log's hash chain (verify)", auditCmd},
		{"backup", "write a consistent backup: a pg_dump and the evidence files it names, with a manifest", backupCmd},
		{"restore", "check a backup and restore it into an empty database and evidence store", restoreCmd},
		{"demo", "seed demo organisations, users and incidents; print demo tokens", demoCmd},
		{"slack-fake", "serve a stand-in for Slack's Web API that prints what certdesk posts", slackFakeCmd},
		{"version", "print the version", func(_ context.Context, env Env, _ []string) error {
			_, err := fmt.Fprintln(env.Stdout, "certdesk", Version)
			return err
		}},
	}
}

// ErrUsage reports a command line that could not be understood; the usage
// has been printed.
var ErrUsage = errors.New("usage error")

// Run runs the command line in env and returns when it is done or ctx is
// cancelled (the caller cancels ctx on SIGINT/SIGTERM).
func Run(ctx context.Context, env Env) error {
	if len(env.Args) == 0 || env.Args[0] == "-h" || env.Args[0] == "--help" || env.Args[0] == "help" {
		usage(env.Stdout)
		if len(env.Args) == 0 {
			return ErrUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == env.Args[0] {
			return c.run(ctx, env, env.Args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "certdesk: unknown command %q\n\n", env.Args[0])
	usage(env.Stderr)
	return ErrUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "certdesk: coordinated incident response between organisations")
	fmt.Fprintln(w, "\nUsage: certdesk <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'certdesk <command> --help' for a command's flags.")
	fmt.Fprintln(w, "Configuration comes from environment variables: see docs/configuration.md.")
}

// newFlags returns a flag set for a subcommand whose --help prints summary
// and the flags to env.Stdout.
func newFlags(env Env, name, args, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fs.SetOutput(env.Stdout)
		fmt.Fprintf(env.Stdout, "Usage: certdesk %s %s\n\n%s\n", name, args, summary)
		var has bool
		fs.VisitAll(func(*flag.Flag) { has = true })
		if has {
			fmt.Fprintln(env.Stdout, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args; --help is not an error.
func parse(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, ErrUsage
	}
	return false, nil
}

func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
