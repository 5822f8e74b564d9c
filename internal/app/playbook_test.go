package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/testdb"
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
	good := "id: ok\nname: OK\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n  - { id: a, action: notify, with: { to: parent, template: patch_reminder } }\n"
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

	// Notify templates must exist (the catalogue's check).
	tpl := filepath.Join(t.TempDir(), "tpl.yaml")
	require.NoError(t, os.WriteFile(tpl, []byte(strings.Replace(good, "patch_reminder", "patch_remind", 1)), 0o644))
	e, out, _ = env(nil, "playbook", "validate", tpl)
	require.Error(t, app.Run(ctx, e))
	require.Equal(t, tpl+`:6:60: notify template "patch_remind" is not a notification template (known: data_breach_reported, `+
		`ddos_ongoing, defacement_reported, patch_reminder, phishing_warning, ransomware_started, vulnerability_advisory)`+"\n", out.String())

	// Without arguments: the shipped playbooks and CERTDESK_PLAYBOOK_DIR.
	e, out, _ = env(map[string]string{"CERTDESK_PLAYBOOK_DIR": dir}, "playbook", "validate")
	require.NoError(t, app.Run(ctx, e))
	require.Equal(t, "7 playbooks valid\n", out.String())
	e, out, errb = env(map[string]string{"CERTDESK_PLAYBOOK_DIR": filepath.Dir(badFile)}, "playbook", "validate")
	require.Error(t, app.Run(ctx, e))
	require.Contains(t, out.String(), badFile+`:7:22: needs: unknown step "zz"`)
	require.Contains(t, errb.String(), "3 problem(s) in 1 file(s)")
	e, _, _ = env(map[string]string{"CERTDESK_PLAYBOOK_DIR": filepath.Join(dir, "nope")}, "playbook", "validate")
	require.ErrorContains(t, app.Run(ctx, e), "CERTDESK_PLAYBOOK_DIR")

	e, _, _ = env(nil, "playbook", "validate", filepath.Join(dir, "missing.yaml"))
	require.Error(t, app.Run(ctx, e))
	e, _, _ = env(nil, "playbook", "frobnicate")
	require.ErrorIs(t, app.Run(ctx, e), app.ErrUsage)
}

// syncBuffer is a bytes.Buffer a running server and a test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// badPlaybookDir is a CERTDESK_PLAYBOOK_DIR with one valid and one invalid
// playbook (two problems).
func badPlaybookDir(t *testing.T) (dir, bad string) {
	t.Helper()
	dir = t.TempDir()
	good := "id: local-ok\nname: OK\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n  - { id: a, action: notify, with: { to: parent, template: patch_reminder } }\n"
	broken := "id: local-bad\nname: Bad\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n  - { id: a, action: notify, with: { to: parent, template: nope } }\n  - { id: b, needs: [zz], action: set, with: { severity: high } }\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte(good), 0o644))
	bad = filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(broken), 0o644))
	return dir, bad
}

// TestServeRefusesInvalidPlaybooks: serve and worker stop before opening
// the database and name the file and every problem.
func TestServeRefusesInvalidPlaybooks(t *testing.T) {
	t.Parallel()
	dir, bad := badPlaybookDir(t)
	for _, cmd := range []string{"serve", "worker"} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		// A data folder of the test's own: had the check not stopped it, an
		// embedded database would start there rather than in ./data.
		e, _, _ := env(map[string]string{"CERTDESK_PLAYBOOK_DIR": dir, "CERTDESK_ADDR": "127.0.0.1:0",
			"CERTDESK_DATA_DIR": t.TempDir(), "PG_BINDIR": t.TempDir()}, cmd)
		err := app.Run(ctx, e)
		cancel()
		var ie *app.InvalidPlaybooksError
		require.ErrorAs(t, err, &ie, cmd)
		require.Equal(t, []string{bad}, ie.Files)
		require.Contains(t, err.Error(), "1 invalid playbook file(s) ("+bad+")")
		require.Contains(t, err.Error(), "--skip-invalid-playbooks")
		require.Contains(t, err.Error(), bad+`:6:60: notify template "nope" is not a notification template`)
		require.Contains(t, err.Error(), bad+`:7:22: needs: unknown step "zz"`)
	}
}

// TestServeSkipsInvalidPlaybooks: with the flag or the variable, serve
// starts without the invalid playbook and logs a warning naming it.
func TestServeSkipsInvalidPlaybooks(t *testing.T) {
	t.Parallel()
	dir, bad := badPlaybookDir(t)
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
	}{
		{"flag", map[string]string{}, []string{"serve", "--skip-invalid-playbooks"}},
		{"variable", map[string]string{"CERTDESK_SKIP_INVALID_PLAYBOOKS": "true"}, []string{"serve"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.vars["DATABASE_URL"] = testdb.New(t)
			tc.vars["CERTDESK_PLAYBOOK_DIR"] = dir
			tc.vars["CERTDESK_ADDR"] = "127.0.0.1:0"
			var out, errb syncBuffer
			e := app.Env{Args: tc.args, Getenv: func(k string) string { return tc.vars[k] }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- app.Run(ctx, e) }()
			deadline := time.After(60 * time.Second)
			for !strings.Contains(out.String(), "is serving at") {
				select {
				case err := <-done:
					t.Fatalf("serve stopped: %v\n%s", err, errb.String())
				case <-deadline:
					t.Fatalf("serve did not start:\n%s", errb.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			logs := errb.String()
			require.Contains(t, logs, "skipping an invalid playbook")
			require.Contains(t, logs, bad)
			require.Contains(t, logs, `needs: unknown step \"zz\"`)
			require.Contains(t, logs, `msg="playbooks loaded" valid=7 skipped=1`)
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
		})
	}
}
