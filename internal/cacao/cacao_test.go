package cacao_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/cacao"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/playbooks"
)

// schemaBase is the $id prefix of the OASIS schemas, which
// testdata/cacao-json-schemas/schemas holds (Apache-2.0, see its LICENSE).
const schemaBase = "https://raw.githubusercontent.com/oasis-open/cacao-json-schemas/main/schemas/"

// localLoader reads the OASIS schemas from testdata instead of the network;
// with draft2020 it declares them 2020-12 schemas.
type localLoader struct{ draft2020 bool }

func (l localLoader) Load(url string) (any, error) {
	rel, ok := strings.CutPrefix(url, schemaBase)
	if !ok {
		return nil, os.ErrNotExist
	}
	f, err := os.Open(filepath.Join("testdata", "cacao-json-schemas", "schemas", filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if m, ok := v.(map[string]any); ok && l.draft2020 {
		m["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	}
	return v, err
}

// compile compiles the named OASIS schema, under draft-07 (what the
// schemas declare) or, with unevaluated, under 2020-12 so that their
// unevaluatedProperties: false are enforced as well.
func compile(t *testing.T, name string, unevaluated bool) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.UseLoader(localLoader{draft2020: unevaluated})
	s, err := c.Compile(schemaBase + name)
	require.NoError(t, err)
	return s
}

func shipped(t *testing.T) []*playbook.Playbook {
	t.Helper()
	c, err := playbook.LoadCatalog(playbook.CatalogOptions{Shipped: playbooks.FS(), Templates: notify.Templates()})
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	require.NotEmpty(t, c.Valid())
	return c.Valid()
}

func decode(t *testing.T, data []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	return v
}

// TestExportShippedPlaybooksValidate exports every shipped playbook and
// validates it against the OASIS CACAO v2 playbook schema, each command
// against the schema of its command type, and the rules the schemas cannot
// say: every step reference names a step of the workflow, every step is
// reachable from the start, a parallel step has two or more branches.
func TestExportShippedPlaybooksValidate(t *testing.T) {
	t.Parallel()
	playbookSchema := compile(t, "playbook.json", false)
	commandSchemas := map[string]*jsonschema.Schema{
		"manual":   compile(t, "commands/manual.json", false),
		"http-api": compile(t, "commands/http-api.json", false),
	}
	for _, pb := range shipped(t) {
		t.Run(pb.ID, func(t *testing.T) {
			t.Parallel()
			data, err := cacao.Marshal(pb)
			require.NoError(t, err)
			require.NoError(t, playbookSchema.Validate(decode(t, data)))

			var out cacao.Playbook
			require.NoError(t, json.Unmarshal(data, &out))
			require.Equal(t, "cacao-2.0", out.SpecVersion)
			require.Equal(t, "start", out.Workflow[out.WorkflowStart].Type)
			seen := map[string]bool{}
			var walk func(id string)
			walk = func(id string) {
				s, ok := out.Workflow[id]
				require.True(t, ok, "step %s is referenced but not in the workflow", id)
				if seen[id] {
					return
				}
				seen[id] = true
				for _, n := range append([]string{s.OnCompletion, s.OnSuccess, s.OnFailure, s.OnTrue}, s.NextSteps...) {
					if n != "" {
						walk(n)
					}
				}
				if s.Type == "parallel" {
					require.GreaterOrEqual(t, len(s.NextSteps), 2)
				}
				if s.Type == "action" {
					require.NotEmpty(t, s.Commands)
					require.Contains(t, out.AgentDefinitions, s.Agent)
					for _, tg := range s.Targets {
						require.Contains(t, out.TargetDefinitions, tg)
					}
					for _, c := range s.Commands {
						raw, err := json.Marshal(c)
						require.NoError(t, err)
						require.Contains(t, commandSchemas, c.Type)
						require.NoError(t, commandSchemas[c.Type].Validate(decode(t, raw)), "command of %s", s.Name)
					}
				}
				if s.OnCompletion != "" {
					require.Empty(t, s.OnSuccess+s.OnFailure, "on_completion with on_success/on_failure in %s", s.Name)
				}
			}
			walk(out.WorkflowStart)
			require.Len(t, seen, len(out.Workflow), "every step is reachable from the start")

			// Every certdesk step has its action in the workflow.
			names := map[string]bool{}
			for _, s := range out.Workflow {
				if s.Type == "action" {
					names[s.Name] = true
				}
			}
			for _, s := range pb.Steps {
				require.True(t, names[s.ID], "step %s is not exported", s.ID)
			}
		})
	}
}

// TestExportUnevaluatedProperties validates the exports under the 2020-12
// semantics of unevaluatedProperties, which the draft-07 schemas use
// (draft-07 validators ignore the keyword): the export holds no property
// CACAO does not define.
func TestExportUnevaluatedProperties(t *testing.T) {
	t.Parallel()
	s := compile(t, "playbook.json", true)
	for _, pb := range shipped(t) {
		data, err := cacao.Marshal(pb)
		require.NoError(t, err)
		out := decode(t, data).(map[string]any)
		// command-data.json lists only the common command properties under
		// unevaluatedProperties: false, so under 2020-12 no command with a
		// "command" (which manual and http-api require or allow) passes;
		// commands are checked against their type's schema above.
		for _, st := range out["workflow"].(map[string]any) {
			if cmds, ok := st.(map[string]any)["commands"].([]any); ok {
				for i := range cmds {
					cmds[i] = map[string]any{"type": "manual"}
				}
			}
		}
		require.NoError(t, s.Validate(out), pb.ID)
		out["workflow"].(map[string]any)[out["workflow_start"].(string)].(map[string]any)["certdesk_step"] = "x"
		require.Error(t, s.Validate(out), "a property CACAO does not define is refused")
	}
}

// TestExportIsStable exports each playbook twice and from a fresh parse:
// the same bytes, with identifiers that name the playbook and step.
func TestExportIsStable(t *testing.T) {
	t.Parallel()
	for _, pb := range shipped(t) {
		a, err := cacao.Marshal(pb)
		require.NoError(t, err)
		again, errs := playbook.Parse(pb.File, pb.Source)
		require.Empty(t, errs)
		b, err := cacao.Marshal(again)
		require.NoError(t, err)
		require.Equal(t, string(a), string(b), pb.ID)
		require.Contains(t, string(a), cacao.ID("action", pb.ID, pb.Steps[0].ID))
	}
	require.NotEqual(t, cacao.ID("action", "a", "b"), cacao.ID("action", "b", "a"))
}

// TestExportMapping checks how actions, conditions, waits and handlers map,
// on the shipped ransomware playbook.
func TestExportMapping(t *testing.T) {
	t.Parallel()
	var pb *playbook.Playbook
	for _, p := range shipped(t) {
		if p.ID == "ransomware" {
			pb = p
		}
	}
	require.NotNil(t, pb)
	out := cacao.Export(pb)
	step := func(kind, name string) *cacao.Step {
		t.Helper()
		s := out.Workflow[cacao.ID(kind, pb.ID, name)]
		require.NotNil(t, s, "%s %s", kind, name)
		return s
	}
	// The wait for acknowledgement times out into the escalate handler,
	// which is not on the normal path.
	wait := step("action", "wait-ack")
	require.Equal(t, int64(30*60*1000), wait.Timeout)
	require.Equal(t, cacao.ID("action", pb.ID, "escalate@wait-ack"), wait.OnFailure)
	require.NotEmpty(t, wait.OnSuccess)
	require.Empty(t, wait.OnCompletion)
	require.Equal(t, wait.OnSuccess, step("action", "escalate@wait-ack").OnSuccess, "after the handler the run goes on")
	require.Nil(t, out.Workflow[cacao.ID("action", pb.ID, "escalate")], "a handler step is not on the normal path")
	// A task is a manual command for the role's group.
	isolate := step("action", "isolate")
	require.Equal(t, "manual", isolate.Commands[0].Type)
	require.Equal(t, "group", out.AgentDefinitions[isolate.Agent].Type)
	// A step with a when is the true branch of an if-condition.
	for _, s := range pb.Steps {
		if s.When != nil {
			c := step("if-condition", "when:"+s.ID)
			require.Equal(t, s.When.Source, c.Condition)
			require.Equal(t, cacao.ID("action", pb.ID, s.ID), c.OnTrue)
		}
	}
}
