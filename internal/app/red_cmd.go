package app

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/incident"
)

// orgRedCmd is `certdesk org red-recipients set|show`: the users a CERT
// designates to receive TLP:RED incidents (docs/security.md, "TLP:RED
// routing"), as the operator.
func orgRedCmd(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "org red-recipients", []subcommand{
		{"set", "designate a CERT's TLP:RED recipients (its duty officers)", orgRedSet},
		{"show", "show whom the TLP:RED incidents an organisation coordinates reach", orgRedShow},
	}, args)
}

// emailList is a repeatable flag of e-mail addresses; commas separate
// several in one value.
type emailList []string

func (l *emailList) String() string { return strings.Join(*l, ",") }

func (l *emailList) Set(v string) error {
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			*l = append(*l, e)
		}
	}
	return nil
}

var _ flag.Value = (*emailList)(nil)

func orgRedSet(ctx context.Context, env Env, args []string) error {
	const cmd = "org red-recipients set"
	fs := newFlags(env, cmd, "<slug> (--user EMAIL [--user EMAIL …] | --none)",
		"Replaces the CERT's TLP:RED recipients: the users named as participants of every\n"+
			"TLP:RED incident routed to it or raised to TLP:RED while it coordinates. Each must\n"+
			"be an active responder, coordinator or admin of the CERT. --none designates nobody:\n"+
			"its coordinators then receive TLP:RED incidents, and its admins are warned.")
	var users emailList
	fs.Var(&users, "user", "a recipient's e-mail address (repeat, or separate with commas)")
	none := fs.Bool("none", false, "designate nobody")
	slug, help, err := parseSlug(env, cmd, fs, args)
	if help || err != nil {
		return err
	}
	if (len(users) == 0) != *none {
		fmt.Fprintf(env.Stderr, "certdesk %s: give --user (one or more) or --none\n", cmd)
		return ErrUsage
	}
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		r, err := a.Incidents.SetRedRecipients(ctx, access.System, slug, users)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "certdesk: TLP:RED recipients of %s set (%d)\n", slug, len(r.Designated))
		return printRed(env, r)
	})
}

func orgRedShow(ctx context.Context, env Env, args []string) error {
	const cmd = "org red-recipients show"
	fs := newFlags(env, cmd, "<slug>", "Prints whom the TLP:RED incidents the organisation coordinates reach, and why,\nwith the warnings its admins see.")
	slug, help, err := parseSlug(env, cmd, fs, args)
	if help || err != nil {
		return err
	}
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		r, err := a.Incidents.RedRecipients(ctx, access.System, slug)
		if err != nil {
			return err
		}
		return printRed(env, r)
	})
}

// printRed prints the users a TLP:RED incident reaches as a table on
// stdout, and the source and warnings on stderr.
func printRed(env Env, r *incident.RedRouting) error {
	switch r.Source {
	case incident.RedDesignated:
		fmt.Fprintf(env.Stderr, "certdesk: TLP:RED incidents coordinated by %s reach its TLP:RED recipients:\n", r.Org.Slug)
	case incident.RedCoordinators:
		fmt.Fprintf(env.Stderr, "certdesk: TLP:RED incidents coordinated by %s reach its coordinators:\n", r.Org.Slug)
	default:
		fmt.Fprintf(env.Stderr, "certdesk: TLP:RED incidents coordinated by %s reach nobody there\n", r.Org.Slug)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(env.Stderr, "certdesk: warning (%s): %s\n", w.Code, w.Message)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE")
	for _, u := range r.Recipients {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Email, u.Name, u.Role)
	}
	return tw.Flush()
}
