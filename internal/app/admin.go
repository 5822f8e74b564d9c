package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// The administrator commands (org, user, token) act as the operator
// (access.System): whoever runs the CLI against the database is trusted.
// Each opens the database like migrate does and applies pending migrations
// first, so that they work on a fresh database.

// subcommand is one action of an administrator command ("create").
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// dispatch runs the subcommand named by args[0], or prints the list of
// subcommands for --help (no error) and for anything else (ErrUsage).
func dispatch(ctx context.Context, env Env, name string, subs []subcommand, args []string) error {
	if len(args) > 0 {
		for _, s := range subs {
			if s.name == args[0] {
				return s.run(ctx, env, args[1:])
			}
		}
	}
	help := len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help")
	w := env.Stderr
	if help {
		w = env.Stdout
	} else if len(args) > 0 {
		fmt.Fprintf(env.Stderr, "certdesk %s: unknown subcommand %q\n\n", name, args[0])
	}
	fmt.Fprintf(w, "Usage: certdesk %s <subcommand> [flags]\n\nSubcommands:\n", name)
	for _, s := range subs {
		fmt.Fprintf(w, "  %-8s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nRun 'certdesk %s <subcommand> --help' for its flags.\n", name)
	if help {
		return nil
	}
	return ErrUsage
}

func orgCmd(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "org", []subcommand{{"create", "create an organisation", orgCreate},
		{"policy", "show or set an organisation's escalation policy", orgPolicyCmd},
		{"red-recipients", "show or set a CERT's TLP:RED recipients (duty officers)", orgRedCmd},
		{"set-webhook", "give an organisation a signed webhook (prints its secret once) or remove it", orgSetWebhook}}, args)
}

func userCmd(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "user", []subcommand{{"create", "create a user in an organisation", userCreate},
		{"reset-link", "issue a one-time password reset link for a user (printed once)", userResetLink}}, args)
}

func tokenCmd(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "token", []subcommand{{"create", "create an API token for a user (printed once)", tokenCreate}}, args)
}

// required checks that every named flag has a value. It prints one line per
// missing flag and returns ErrUsage naming them.
func required(env Env, cmd string, flags map[string]*string, order ...string) error {
	var missing []string
	for _, name := range order {
		if strings.TrimSpace(*flags[name]) == "" {
			missing = append(missing, "--"+name)
			fmt.Fprintf(env.Stderr, "certdesk %s: --%s is required\n", cmd, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	fmt.Fprintf(env.Stderr, "Run 'certdesk %s --help' for the flags.\n", cmd)
	return fmt.Errorf("certdesk %s: %s required: %w", cmd, strings.Join(missing, ", "), ErrUsage)
}

// noArgs refuses positional arguments after the flags.
func noArgs(env Env, cmd string, args []string) error {
	if len(args) == 0 {
		return nil
	}
	fmt.Fprintf(env.Stderr, "certdesk %s: unexpected argument %q (flags go before it?)\n", cmd, args[0])
	return ErrUsage
}

// withOperatorApp opens the configured database, applies pending
// migrations, builds an App whose job client only inserts jobs (no workers
// run), and calls fn with it.
func withOperatorApp(ctx context.Context, env Env, fn func(ctx context.Context, cfg config.Config, a *App) error) error {
	cfg, err := config.Load(env.Getenv)
	if err != nil {
		return err
	}
	log, db, closeDB, err := openDatabase(ctx, cfg, env, true)
	if err != nil {
		return err
	}
	defer closeDB()
	cfg.Workers = false
	a, err := New(cfg, db, log, time.Now)
	if err != nil {
		return err
	}
	return cliError(fn(ctx, cfg, a))
}

// fieldsError is an application error shown on a terminal: main prints
// "certdesk: " before an error, so every field error comes out on a line of
// its own as "certdesk: slug: ...". It unwraps to the *apperr.Error.
type fieldsError struct{ err *apperr.Error }

func (e fieldsError) Error() string {
	if len(e.err.Fields) == 0 {
		if e.err.Code == apperr.Internal {
			return e.err.Error()
		}
		return e.err.Message
	}
	lines := make([]string, len(e.err.Fields))
	for i, f := range e.err.Fields {
		lines[i] = f.Field + ": " + f.Message
	}
	return strings.Join(lines, "\ncertdesk: ")
}

func (e fieldsError) Unwrap() error { return e.err }

// cliError turns an application error into its terminal form; other
// errors pass unchanged.
func cliError(err error) error {
	var ae *apperr.Error
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	var fe fieldsError
	if errors.As(err, &fe) {
		return err
	}
	return fieldsError{ae}
}

func orgCreate(ctx context.Context, env Env, args []string) error {
	const cmd = "org create"
	fs := newFlags(env, cmd, "--slug S --name N --kind K [flags]",
		"Creates an organisation as the operator and prints its slug.\n"+
			"Kinds: national_cert and partner have no parent; regional_cert, local_authority\n"+
			"and operator need a CERT (--parent) above them.")
	f := map[string]*string{
		"slug":          fs.String("slug", "", "short unique name: lower-case letters, digits and dashes (required)"),
		"name":          fs.String("name", "", "display name (required)"),
		"kind":          fs.String("kind", "", "national_cert, regional_cert, local_authority, operator or partner (required)"),
		"parent":        fs.String("parent", "", "slug of the CERT above it"),
		"country":       fs.String("country", "", "ISO 3166-1 alpha-2 country code, e.g. DE"),
		"region":        fs.String("region", "", "region or state"),
		"sector":        fs.String("sector", "", "NIS2 sector, e.g. public-administration, drinking-water"),
		"nis2-class":    fs.String("nis2-class", "", "NIS2 entity class: essential or important"),
		"chat-channel":  fs.String("chat-channel", "", "Slack channel ID, e.g. C0123456789"),
		"contact-email": fs.String("contact-email", "", "contact e-mail address"),
		"contact-phone": fs.String("contact-phone", "", "telephone number for emergencies, e.g. \"+49 30 1234 5678\" (the web UI's help page shows a CERT's)"),
		"time-zone":     fs.String("time-zone", "", "IANA time zone, e.g. Europe/Berlin (default UTC)"),
	}
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if err := noArgs(env, cmd, fs.Args()); err != nil {
		return err
	}
	if err := required(env, cmd, f, "slug", "name", "kind"); err != nil {
		return err
	}
	o := &org.Organization{
		Slug: strings.TrimSpace(*f["slug"]), Name: *f["name"], Kind: org.Kind(strings.TrimSpace(*f["kind"])),
		Country: strings.TrimSpace(*f["country"]), Region: strings.TrimSpace(*f["region"]),
		Sector: strings.TrimSpace(*f["sector"]), NIS2Class: strings.TrimSpace(*f["nis2-class"]),
		ChatChannel: strings.TrimSpace(*f["chat-channel"]), ContactEmail: strings.TrimSpace(*f["contact-email"]),
		ContactPhone: strings.TrimSpace(*f["contact-phone"]), TimeZone: strings.TrimSpace(*f["time-zone"]),
	}
	parent := strings.TrimSpace(*f["parent"])
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		if err := a.Orgs.Create(ctx, operatorActor, o, parent); err != nil {
			return err
		}
		_, err := fmt.Fprintln(env.Stdout, o.Slug)
		return err
	})
}

// operatorActor is the operator running the CLI, in the directory's terms.
var operatorActor = org.Actor{System: true, Name: access.System.Name()}

func userCreate(ctx context.Context, env Env, args []string) error {
	const cmd = "user create"
	fs := newFlags(env, cmd, "--org SLUG --email E --role R [flags]",
		"Creates a user as the operator and prints the user's id.\n"+
			"Roles: reporter, responder, coordinator, viewer, admin. A user without a\n"+
			"password signs in with API tokens only (certdesk token create).")
	f := map[string]*string{
		"org":   fs.String("org", "", "slug of the user's organisation (required)"),
		"email": fs.String("email", "", "e-mail address, the user's sign-in name (required)"),
		"role":  fs.String("role", "", "reporter, responder, coordinator, viewer or admin (required)"),
		"name":  fs.String("name", "", "display name"),
	}
	pwStdin := fs.Bool("password-stdin", false, "read the password from standard input (one line; the password policy applies)")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if err := noArgs(env, cmd, fs.Args()); err != nil {
		return err
	}
	if err := required(env, cmd, f, "org", "email", "role"); err != nil {
		return err
	}
	in := identity.NewUser{Email: strings.TrimSpace(*f["email"]), Name: *f["name"], Role: access.Role(strings.TrimSpace(*f["role"]))}
	var pwFields apperr.Fields
	if *pwStdin {
		pw, err := readPassword(env.Stdin)
		if err != nil {
			return err
		}
		if err := identity.CheckPassword(pw, in.Email); err != nil {
			e, _ := apperr.As(err)
			pwFields = e.Fields
		}
		in.Password = pw
	}
	slug := strings.TrimSpace(*f["org"])
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		var fields apperr.Fields
		o, err := a.Store.OrganizationBySlug(ctx, slug)
		switch {
		case apperr.Is(err, apperr.NotFound):
			fields.Add("org", "exists", "no organisation has the slug %q", slug)
			in.OrgID = uuid.Max // lets Validate check the other fields
		case err != nil:
			return err
		default:
			in.OrgID = o.ID
		}
		check := in
		check.Password = "" // checked above, so that an empty password is refused too
		if err := check.Validate(); err != nil {
			e, _ := apperr.As(err)
			fields = append(fields, e.Fields...)
		}
		fields = append(fields, pwFields...)
		if err := fields.Err(); err != nil {
			return err
		}
		u, err := a.Identity.CreateUser(ctx, access.System, in)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "certdesk: created %s (%s) in %s\n", u.Email, u.Role, u.OrgSlug)
		_, err = fmt.Fprintln(env.Stdout, u.ID)
		return err
	})
}

func userResetLink(ctx context.Context, env Env, args []string) error {
	const cmd = "user reset-link"
	fs := newFlags(env, cmd, "--email E",
		"Issues a one-time password reset link for a user as the operator. The link goes\n"+
			"to standard output and nothing else does: pass it to the user, who opens it and\n"+
			"sets a password. It works once, until it expires (CERTDESK_RESET_LINK_LIFETIME,\n"+
			"default 24h); a newer link voids it. Only the user ever chooses the password.")
	f := map[string]*string{
		"email": fs.String("email", "", "e-mail of the user (required)"),
	}
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if err := noArgs(env, cmd, fs.Args()); err != nil {
		return err
	}
	if err := required(env, cmd, f, "email"); err != nil {
		return err
	}
	email := strings.TrimSpace(*f["email"])
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		u, err := a.Identity.UserByEmail(ctx, access.System, email)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Fields{{Field: "email", Rule: "exists", Message: fmt.Sprintf("no user has the e-mail %q", email)}}.Err()
		} else if err != nil {
			return err
		}
		url, l, err := a.Identity.IssueResetLink(ctx, access.System, u.ID.String())
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "certdesk: password reset link for %s, usable once until %s.\n"+
			"certdesk: it is shown only once, on standard output: pass it to the user now.\n", u.Email, l.ExpiresAt.Format(time.RFC3339))
		_, err = fmt.Fprintln(env.Stdout, url)
		return err
	})
}

// readPassword reads one password from r: everything up to the end of
// input, without the trailing newline.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

func tokenCreate(ctx context.Context, env Env, args []string) error {
	const cmd = "token create"
	fs := newFlags(env, cmd, "--user EMAIL [--name N] [--expires 90d|2160h|RFC3339]",
		"Creates an API token for a user as the operator. The token goes to standard\n"+
			"output and nothing else does, so scripts can capture it: it is shown only once.")
	f := map[string]*string{
		"user":    fs.String("user", "", "e-mail of the token's user (required)"),
		"name":    fs.String("name", "cli", "what the token is for, shown in token listings"),
		"expires": fs.String("expires", "", "lifetime in days (90d) or as a Go duration (2160h), or an RFC 3339 time; default 90d, at most 366d"),
	}
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if err := noArgs(env, cmd, fs.Args()); err != nil {
		return err
	}
	if err := required(env, cmd, f, "user"); err != nil {
		return err
	}
	email := strings.TrimSpace(*f["user"])
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		var expires *time.Time
		if s := strings.TrimSpace(*f["expires"]); s != "" {
			t, err := parseExpiry(s, time.Now())
			if err != nil {
				return apperr.Fields{{Field: "expires", Rule: "format", Message: err.Error()}}.Err()
			}
			expires = &t
		}
		u, err := a.Identity.UserByEmail(ctx, access.System, email)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Fields{{Field: "user", Rule: "exists", Message: fmt.Sprintf("no user has the e-mail %q", email)}}.Err()
		} else if err != nil {
			return err
		}
		plain, tok, err := a.Identity.CreateToken(ctx, access.System, u.ID, *f["name"], expires)
		if err != nil {
			return err
		}
		exp := "never"
		if tok.ExpiresAt != nil {
			exp = tok.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(env.Stderr, "certdesk: API token %q (%s…) for %s, expires %s.\n"+
			"certdesk: it is shown only once, on standard output: store it now.\n", tok.Name, tok.Prefix, u.Email, exp)
		_, err = fmt.Fprintln(env.Stdout, plain)
		return err
	})
}

// parseExpiry reads a token expiry: a number of days ("90d"), a Go
// duration ("2160h"), both from now, or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("expires must be days (90d), a duration (2160h) or an RFC 3339 time (2026-12-31T00:00:00Z), not %q", s)
}
