package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/certdesk/certdesk/internal/config"
)

// orgSetWebhook runs "certdesk org set-webhook": it gives an organisation
// a signed webhook (or removes it) and prints the new secret once.
func orgSetWebhook(ctx context.Context, env Env, args []string) error {
	const cmd = "org set-webhook"
	fs := newFlags(env, cmd, "--org S (--url U | --clear)",
		"Gives an organisation a webhook: its notifications are POSTed to the URL as JSON,\n"+
			"signed with a secret certdesk generates and prints here, once (see docs/slack.md,\n"+
			"\"Webhook notifications\"). Setting it again makes a new secret. --clear removes it.")
	f := map[string]*string{
		"org": fs.String("org", "", "the organisation's slug (required)"),
		"url": fs.String("url", "", "the receiver's absolute http(s) URL"),
	}
	clear := fs.Bool("clear", false, "remove the organisation's webhook")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if err := noArgs(env, cmd, fs.Args()); err != nil {
		return err
	}
	if err := required(env, cmd, f, "org"); err != nil {
		return err
	}
	rawURL := strings.TrimSpace(*f["url"])
	if (rawURL == "") != *clear {
		fmt.Fprintf(env.Stderr, "certdesk %s: give either --url or --clear\n", cmd)
		return ErrUsage
	}
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		secret, err := a.Notify.SetWebhook(ctx, strings.TrimSpace(*f["org"]), rawURL)
		if err != nil || *clear {
			return err
		}
		_, err = fmt.Fprintln(env.Stdout, secret)
		return err
	})
}
