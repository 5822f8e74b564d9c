package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/escalation"
	"go.yaml.in/yaml/v3"
)

// orgPolicyCmd is `certdesk org policy set|show`: an organisation's
// escalation policy (docs/escalation.md), as the operator.
func orgPolicyCmd(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "org policy", []subcommand{
		{"set", "replace an organisation's escalation policy from a JSON or YAML file", orgPolicySet},
		{"show", "print an organisation's escalation policy as JSON", orgPolicyShow},
	}, args)
}

// parseSlug parses cmd's flags and takes the organisation's slug, which
// is required, from before or after them. help is true when the usage was
// printed (err is then nil).
func parseSlug(env Env, cmd string, fs *flag.FlagSet, args []string) (slug string, help bool, err error) {
	rest := args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		slug, rest = args[0], args[1:]
	}
	if help, err := parse(fs, rest); help || err != nil {
		return "", help, err
	}
	if slug == "" && fs.NArg() > 0 {
		slug, rest = fs.Arg(0), fs.Args()[1:]
	} else {
		rest = fs.Args()
	}
	if err := noArgs(env, cmd, rest); err != nil {
		return "", false, err
	}
	if slug == "" {
		fmt.Fprintf(env.Stderr, "certdesk %s: the organisation's slug is required\n", cmd)
		return "", false, fmt.Errorf("certdesk %s: slug required: %w", cmd, ErrUsage)
	}
	return slug, false, nil
}

func orgPolicySet(ctx context.Context, env Env, args []string) error {
	const cmd = "org policy set"
	fs := newFlags(env, cmd, "<slug> --file policy.json|policy.yaml",
		"Replaces the organisation's escalation policy with the rules in the file (JSON, or\n"+
			"YAML with the same members; docs/escalation.md describes them) and prints it.\n"+
			`A file with "rules: []" removes every rule.`)
	f := map[string]*string{"file": fs.String("file", "", "the policy document, JSON or YAML (required)")}
	slug, help, err := parseSlug(env, cmd, fs, args)
	if help || err != nil {
		return err
	}
	if err := required(env, cmd, f, "file"); err != nil {
		return err
	}
	raw, err := os.ReadFile(*f["file"])
	if err != nil {
		return fmt.Errorf("read the policy: %w", err)
	}
	doc, err := policyJSON(*f["file"], raw)
	if err != nil {
		return cliError(err)
	}
	pol, err := escalation.DecodePolicy(doc)
	if err != nil {
		return cliError(err)
	}
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		op, err := a.Escalations.SetPolicy(ctx, access.System, slug, pol)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "certdesk: escalation policy of %s set (%d rules)\n", slug, len(op.Policy.Rules))
		return printPolicy(env, op)
	})
}

// policyJSON returns the document as JSON: YAML files (.yaml, .yml, or
// anything that is not JSON) are converted member for member.
func policyJSON(name string, raw []byte) ([]byte, error) {
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".json" || (ext != ".yaml" && ext != ".yml" && json.Valid(bytes.TrimSpace(raw))) {
		return raw, nil
	}
	var v any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		return nil, apperr.Fields{{Field: "file", Rule: "yaml", Message: "the policy is not valid YAML: " + err.Error()}}.Err()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, apperr.Fields{{Field: "file", Rule: "yaml", Message: "the policy must be a mapping with a rules list: " + err.Error()}}.Err()
	}
	return b, nil
}

func orgPolicyShow(ctx context.Context, env Env, args []string) error {
	const cmd = "org policy show"
	fs := newFlags(env, cmd, "<slug>", "Prints the organisation's escalation policy as JSON, and which organisation's\npolicy applies to its incidents.")
	slug, help, err := parseSlug(env, cmd, fs, args)
	if help || err != nil {
		return err
	}
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		op, err := a.Escalations.GetPolicy(ctx, access.System, slug)
		if err != nil {
			return err
		}
		if op.AppliesFrom == nil {
			fmt.Fprintf(env.Stderr, "certdesk: no policy applies to incidents reported by %s\n", slug)
		} else if op.AppliesFrom.Slug != slug {
			fmt.Fprintf(env.Stderr, "certdesk: incidents reported by %s follow the policy of %s\n", slug, op.AppliesFrom.Slug)
		}
		return printPolicy(env, op)
	})
}

func printPolicy(env Env, op *escalation.OrgPolicy) error {
	b, err := json.MarshalIndent(op.Policy.Document(), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, string(b))
	return err
}

// demoPolicy is the national CERT's escalation policy in the demo: it
// covers every organisation below, none of which has its own.
var demoPolicy = escalation.PolicyDocument{Rules: []escalation.RuleDocument{
	{Name: "high-unacknowledged", When: escalation.ConditionDocument{MinSeverity: "high"}, UnacknowledgedFor: "15m",
		Action: "escalate", To: escalation.ToParent, Kind: string(escalation.Assist), RepeatUp: true},
	{Name: "significant-to-national", When: escalation.ConditionDocument{Significant: ptr(true)}, UnacknowledgedFor: escalation.Immediately,
		Action: "notify", To: escalation.ToNational},
}}

func ptr[T any](v T) *T { return &v }

// seedDemoPolicy sets the demo policy unless the national CERT has one.
func (a *App) seedDemoPolicy(ctx context.Context) error {
	cur, err := a.Escalations.GetPolicy(ctx, access.System, "national-cert")
	if err != nil {
		return fmt.Errorf("demo: escalation policy: %w", err)
	}
	if len(cur.Policy.Rules) > 0 {
		return nil
	}
	pol, err := demoPolicy.Policy()
	if err != nil {
		return fmt.Errorf("demo: escalation policy: %w", err)
	}
	if _, err := a.Escalations.SetPolicy(ctx, access.System, "national-cert", pol); err != nil {
		return fmt.Errorf("demo: escalation policy: %w", err)
	}
	return nil
}
