package playbook_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/playbook"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

func TestLoadReportsEveryErrorWithPosition(t *testing.T) {
	t.Parallel()
	pbs, err := playbook.Load(os.DirFS("testdata/broken"))
	var errs playbook.Errors
	require.True(t, errors.As(err, &errs), "want playbook.Errors, got %v", err)
	golden(t, "broken", errs.Error()+"\n")

	// Only the valid file is returned.
	require.Len(t, pbs, 1)
	require.Equal(t, "fine", pbs[0].ID)

	// Every error kind of the issue is present in the one pass.
	for _, want := range []string{
		"unknown key", "action \"launch.missiles\" is not one of", "missing required key",
		"must be a string", "is not one of", "cycle in needs", "unknown step", "there is no step",
		"when: unknown severity", "when: unknown name os", "when: unexpected token",
		"invalid duration", "must be a duration", "invalid YAML", "anchors and aliases",
		"is already used by", "is not a valid JSON Schema", "ranges are not allowed", "not a step this one needs",
	} {
		require.Contains(t, errs.Error(), want)
	}
	for _, e := range errs {
		require.Positive(t, e.Line, e.Error())
		require.Positive(t, e.Column, e.Error())
	}
}

func TestParseErrorsAreSorted(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/broken/every-error.yaml")
	require.NoError(t, err)
	_, errs := playbook.Parse("x.yaml", data)
	require.Greater(t, len(errs), 30)
	for i := 1; i < len(errs); i++ {
		a, b := errs[i-1], errs[i]
		require.True(t, a.Line < b.Line || a.Line == b.Line && a.Column <= b.Column, "%v before %v", a, b)
	}
}

func TestParseTable(t *testing.T) {
	t.Parallel()
	const head = "id: p\nname: P\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n"
	tests := []struct {
		name  string
		steps string
		want  string // "" means valid
	}{
		{"minimal", "  - { id: a, action: notify, with: { to: parent, template: t } }\n", ""},
		{"org slug recipient", "  - { id: a, action: notify, with: { to: city-of-linz, template: t } }\n", ""},
		{"days duration", "  - { id: a, action: task.create, with: { title: T, due: 1d12h } }\n", ""},
		{"negative duration", "  - { id: a, action: task.create, with: { title: T, due: -1h } }\n", "6:58: task.create due: invalid duration"},
		{"wait duration", "  - { id: a, action: wait, with: { for: 2h } }\n", ""},
		{"wait event without timeout", "  - { id: a, action: wait, with: { for: acknowledgement } }\n", "wait for an event needs a timeout"},
		{"wait stage", "  - { id: a, action: wait, with: { for: \"stage:recovery\", timeout: 1h } }\n", ""},
		{"task_done of a notify", "  - { id: a, action: notify, with: { to: parent, template: t } }\n  - { id: b, action: wait, with: { for: \"task_done:a\", timeout: 1h } }\n", "step \"a\" is a notify, not a task.create"},
		{"set needs something", "  - { id: a, action: set, with: {} }\n", "set: with must name at least one"},
		{"set without with", "  - { id: a, action: set }\n", "set: with must name at least one"},
		{"missing with", "  - { id: a, action: approval }\n", "missing required parameter \"role\""},
		{"escalate kind", "  - { id: a, action: escalate, with: { to: parent, kind: assist, reason: r } }\n", ""},
		{"on_failure self", "  - { id: a, action: notify, with: { to: parent, template: t }, on_failure: a }\n", "names the step itself"},
		{"reserved id", "  - { id: fail, action: notify, with: { to: parent, template: t } }\n", "is reserved"},
		{"duplicate key", "  - { id: a, id: b, action: notify, with: { to: parent, template: t } }\n", "duplicate key \"id\""},
		{"step condition reads a step", "  - { id: a, action: input, with: { prompt: P, schema: { type: object } } }\n  - { id: b, needs: [a], when: 'steps.a.output.ok == true', action: notify, with: { to: parent, template: t } }\n", ""},
		{"schema with external ref", "  - { id: a, action: input, with: { prompt: P, schema: { $ref: \"https://example.org/s.json\" } } }\n", "is not a valid JSON Schema"},
		{"webhook", "  - { id: a, action: webhook, with: { url: \"https://hooks.example.org/x\", body: { a: 1 } } }\n", ""},
		{"condition reads a step it does not need", "  - { id: a, action: input, with: { prompt: P, schema: { type: object } } }\n  - { id: b, when: 'steps.a.output.ok == true', action: notify, with: { to: parent, template: t } }\n", "steps.a: not a step this one needs"},
		{"condition reads a transitive need", "  - { id: a, action: input, with: { prompt: P, schema: { type: object } } }\n  - { id: b, needs: [a], action: notify, with: { to: parent, template: t } }\n  - { id: c, needs: [b], when: 'steps.a.output.ok == true', action: notify, with: { to: parent, template: t } }\n", ""},
		{"retry", "  - { id: a, action: notify, with: { to: parent, template: t }, retry: { attempts: 3, backoff: 30s }, timeout: 5m }\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pb, errs := playbook.Parse("p.yaml", []byte(head+tt.steps))
			if tt.want == "" {
				require.Empty(t, errs)
				require.NotNil(t, pb)
				return
			}
			require.NotEmpty(t, errs)
			require.Contains(t, errs.Error(), tt.want)
		})
	}
}

func TestParsedValues(t *testing.T) {
	t.Parallel()
	src := `id: p
name: P
version: 7
triggers:
  - on: incident.created
    when: severity >= "high"
steps:
  - id: a
    stage: response
    action: task.create
    with: { title: T, due: 2h }
    retry: { attempts: 3, backoff: 30s }
    timeout: 5m
    on_failure: continue
    on_timeout: b
  - id: b
    needs: [a]
    action: notify
    with: { to: parent, template: t }
`
	pb, errs := playbook.Parse("p.yaml", []byte(src))
	require.Empty(t, errs)
	require.Equal(t, 7, pb.Version)
	require.Equal(t, "incident.created", pb.Triggers[0].On)
	require.Equal(t, `severity >= "high"`, pb.Triggers[0].When.Source)
	a := pb.Step("a")
	require.Equal(t, "response", a.Stage)
	require.Equal(t, map[string]any{"title": "T", "due": "2h"}, a.With)
	require.Equal(t, playbook.Retry{Attempts: 3, Backoff: 30e9}, a.Retry)
	require.Equal(t, "5m0s", a.Timeout.String())
	require.Equal(t, playbook.Continue, a.OnFailure)
	require.Equal(t, "b", a.OnTimeout)
	b := pb.Step("b")
	require.Equal(t, []string{"a"}, b.Needs)
	require.Equal(t, playbook.Retry{Attempts: 1}, b.Retry)
	require.Equal(t, playbook.Fail, b.OnFailure)
	require.Nil(t, pb.Step("c"))
}

func FuzzParse(f *testing.F) {
	entries, err := os.ReadDir("testdata/broken")
	require.NoError(f, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("testdata/broken", e.Name()))
		require.NoError(f, err)
		f.Add(data)
	}
	shipped, err := filepath.Glob("../../playbooks/*.yaml")
	require.NoError(f, err)
	for _, name := range shipped {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte("steps: [{ id: a, needs: [a, a], when: 'steps.a.output' }]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pb, errs := playbook.Parse("fuzz.yaml", data)
		for _, e := range errs {
			if e.Line < 1 || e.Column < 1 || strings.TrimSpace(e.Msg) == "" {
				t.Fatalf("error without position or message: %#v", e)
			}
		}
		if len(errs) == 0 {
			// A valid playbook can be ordered and dry-run.
			require.Len(t, pb.Order(), len(pb.Steps))
			playbook.DryRun(t.Context(), pb, playbook.Env{})
		}
	})
}
