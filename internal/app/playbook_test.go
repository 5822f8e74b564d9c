package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/app"
)

func TestPlaybookValidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// The shipped playbooks.
	e, out, _ := env(nil, "playbook", "validate")
	require.NoError(t, app.Run(ctx, e))
	require.Regexp(t, `^\d+ playbooks valid\n$`, out.String())

	// Help.
	e, out, _ = env(nil, "playbook", "validate", "--help")
	require.NoError(t, app.Run(ctx, e))
	require.Contains(t, out.String(), "file:line:col")
	e, out, _ = env(nil, "playbook", "--help")
	require.NoError(t, app.Run(ctx, e))
	require.Contains(t, out.String(), "validate")

	// A folder and a file with problems: every problem, with positions, and an error.
	dir := t.TempDir()
	good := "id: ok\nname: OK\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n  - { id: a, action: notify, with: { to: parent, template: t } }\n"
	bad := "id: bad\nname: Bad\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n  - { id: a, action: notify, with: { to: parent } }\n  - { id: b, needs: [zz], action: fly }\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte(good), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644))
	badFile := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(badFile, []byte(bad), 0o644))

	e, out, _ = env(nil, "playbook", "validate", dir)
	require.NoError(t, app.Run(ctx, e))
	require.Equal(t, "1 playbooks valid\n", out.String())

	e, out, errb := env(nil, "playbook", "validate", dir, badFile)
	require.Error(t, app.Run(ctx, e))
	require.Equal(t, badFile+`:6:36: notify parameters: missing required key "template"`+"\n"+
		badFile+`:7:22: needs: unknown step "zz"`+"\n"+
		badFile+`:7:35: action "fly" is not one of: task.create, notify, escalate, set, wait, approval, input, webhook`+"\n", out.String())
	require.Contains(t, errb.String(), "3 problem(s)")

	e, _, _ = env(nil, "playbook", "validate", filepath.Join(dir, "missing.yaml"))
	require.Error(t, app.Run(ctx, e))
	e, _, _ = env(nil, "playbook", "frobnicate")
	require.ErrorIs(t, app.Run(ctx, e), app.ErrUsage)
}
