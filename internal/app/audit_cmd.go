package app

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/config"
)

// ErrAuditBroken reports that `certdesk audit verify` found the audit
// chain broken (main exits non-zero); the first row that does not match
// has been printed.
var ErrAuditBroken = fmt.Errorf("the audit log does not verify")

// auditCmd is `certdesk audit verify`.
func auditCmd(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "audit", []subcommand{
		{"verify", "walk the audit log's hash chain; name the first row that does not match", auditVerify},
	}, args)
}

func auditVerify(ctx context.Context, env Env, args []string) error {
	const cmd = "audit verify"
	fs := newFlags(env, cmd, "",
		"Recomputes the hash of every audit row from its columns and the row before it\n"+
			"(docs/reliability.md, \"The audit log is tamper-evident\") and checks the chain's\n"+
			"recorded head. Prints the rows checked and the head (keep it: a copy outside the\n"+
			"database lets you detect a rewritten chain), or the first row that does not match,\n"+
			"and then exits non-zero. Sends no alert: the periodic audit.verify job does.")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	if err := noArgs(env, cmd, fs.Args()); err != nil {
		return err
	}
	return withOperatorApp(ctx, env, func(ctx context.Context, _ config.Config, a *App) error {
		v, err := audit.Verify(ctx, a.Store)
		if err != nil {
			return err
		}
		if v.Fault != nil {
			fmt.Fprintf(env.Stdout, "BROKEN after %d good rows: %s\n", v.Rows, v.Fault.Detail)
			return fmt.Errorf("%w: %s", ErrAuditBroken, v.Fault.Detail)
		}
		_, err = fmt.Fprintf(env.Stdout, "ok: %d rows, head position %d, hash %s\n", v.Rows, v.Head.Seq, hex.EncodeToString(v.Head.Hash))
		return err
	})
}
