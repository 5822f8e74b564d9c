package playbook_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/playbooks"
)

func parse(t *testing.T, src string) *playbook.Playbook {
	t.Helper()
	pb, errs := playbook.Parse("t.yaml", []byte(src))
	require.Empty(t, errs)
	return pb
}

// plan renders a dry run as "id" for steps that run and "-id" for skipped ones.
func plan(ps []playbook.PlannedStep) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.ID
		if !p.Run {
			s[i] = "-" + p.ID
		}
	}
	return strings.Join(s, " ")
}

const dag = `id: dag
name: DAG
version: 1
triggers:
  - on: incident.created
    when: severity >= "high"
  - on: incident.stage_changed
    when: stage == "recovery"
  - on: manual
steps:
  - { id: d, needs: [b, c], action: notify, with: { to: parent, template: t } }
  - { id: b, needs: [a], action: notify, with: { to: parent, template: t } }
  - { id: a, action: notify, with: { to: parent, template: t } }
  - { id: c, needs: [a], when: flags.personal_data_breach, action: notify, with: { to: parent, template: t } }
  - { id: e, action: notify, with: { to: parent, template: t } }
  - { id: f, needs: [c], when: 'severity >= "critical"', action: notify, with: { to: parent, template: t } }
  - { id: g, needs: [f], when: 'steps.f.output.ok == true', action: notify, with: { to: parent, template: t } }
`

func TestDryRunOrderAndSkips(t *testing.T) {
	t.Parallel()
	pb := parse(t, dag)
	tests := []struct {
		name string
		mod  func(*incident.Incident)
		want string
	}{
		{"high, no breach", nil, "a b -c d e -f -g"},
		{"breach", func(i *incident.Incident) { i.PersonalDataBreach = true }, "a b c d e -f -g"},
		{"critical breach", func(i *incident.Incident) { i.PersonalDataBreach = true; i.Severity = incident.Critical }, "a b c d e f -g"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := playbook.DryRun(t.Context(), pb, env(tt.mod))
			// Topological, ties in file order: a is the first ready step although it is third in the file.
			require.Equal(t, tt.want, plan(got))
			for _, p := range got {
				if !p.Run {
					require.Contains(t, p.Reason, "when is false")
				}
			}
		})
	}
	// Outputs given to the dry run are seen by conditions.
	e := env(func(i *incident.Incident) { i.PersonalDataBreach = true; i.Severity = incident.Critical })
	e.Steps = map[string]playbook.StepResult{"f": {Output: map[string]any{"ok": true}}}
	require.Equal(t, "a b c d e f g", plan(playbook.DryRun(t.Context(), pb, e)))

	// The dry run carries what the engine needs.
	got := playbook.DryRun(t.Context(), pb, env(nil))
	require.Equal(t, playbook.PlannedStep{ID: "d", Action: "notify", Needs: []string{"b", "c"}, Run: true}, got[3])
}

func TestTriggered(t *testing.T) {
	t.Parallel()
	pb := parse(t, dag)
	require.True(t, pb.Triggered(t.Context(), "incident.created", env(nil)))
	require.False(t, pb.Triggered(t.Context(), "incident.created", env(func(i *incident.Incident) { i.Severity = incident.Medium })))
	require.False(t, pb.Triggered(t.Context(), "incident.updated", env(nil)))
	require.False(t, pb.Triggered(t.Context(), "incident.stage_changed", env(nil)))
	require.True(t, pb.Triggered(t.Context(), "incident.stage_changed", env(func(i *incident.Incident) { i.Stage = incident.Recovery })))
	require.True(t, pb.Triggered(t.Context(), "manual", env(func(i *incident.Incident) { i.Severity = incident.Low })))
	require.False(t, pb.Triggered(t.Context(), "incident.escalated", env(nil)))
}

// demoIncidents are incidents like the demo data, one per shipped playbook,
// with the steps a dry run is expected to run and to skip.
var demoIncidents = []struct {
	playbook string
	inc      incident.Incident
	skipped  []string
}{
	{"ransomware", incident.Incident{
		Title: "Files encrypted on the town hall file server", Severity: incident.Critical, Stage: incident.Response,
		Status: incident.Open, TLP: incident.TLPAmber, Category: "malicious-code", Type: "infected-system",
		Tags: []string{"ransomware", "lockbit"}, Significant: true, ReportingOrgSlug: "city-of-north", CoordinatingOrgSlug: "cert-north",
	}, []string{"raise-severity", "mark-breach", "escalate"}},
	{"phishing-campaign", incident.Incident{
		Title: "Fake webmail login sent to municipalities", Severity: incident.Medium, Stage: incident.Response,
		Status: incident.Open, TLP: incident.TLPGreen, Category: "fraud", Type: "phishing",
		ReportingOrgSlug: "county-south", CoordinatingOrgSlug: "cert-south",
	}, []string{"reset-credentials"}},
	{"ddos", incident.Incident{
		Title: "Appointment portal unreachable", Severity: incident.High, Stage: incident.Response,
		Status: incident.Open, TLP: incident.TLPClear, Category: "availability", Type: "ddos",
		ReportingOrgSlug: "city-of-north", CoordinatingOrgSlug: "cert-north",
	}, []string{"significant", "escalate"}},
	{"personal-data-breach", incident.Incident{
		Title: "Citizen register export mailed to the wrong recipient", Severity: incident.High, Stage: incident.Response,
		Status: incident.Open, TLP: incident.TLPAmberStrict, Category: "information-content-security", Type: "data-leak",
		PersonalDataBreach: true, ReportingOrgSlug: "city-of-north", CoordinatingOrgSlug: "cert-north",
	}, []string{"approve-data-subjects", "inform-data-subjects", "nis2-early-warning", "nis2-notification", "nis2-final-report", "escalate"}},
	{"defacement", incident.Incident{
		Title: "Political slogans on the school board website", Severity: incident.Medium, Stage: incident.Response,
		Status: incident.Open, TLP: incident.TLPClear, Category: "intrusions", Type: "defacement",
		ReportingOrgSlug: "school-board", CoordinatingOrgSlug: "cert-north",
	}, []string{"mark-breach"}},
	{"vulnerability-advisory", incident.Incident{
		Title: "Critical VPN appliance vulnerability", Severity: incident.High, Stage: incident.Prevention,
		Status: incident.Open, TLP: incident.TLPGreen, Category: "vulnerable", Type: "vulnerable-system",
		ReportingOrgSlug: "cert-north", CoordinatingOrgSlug: "cert-north",
	}, []string{"urgent-patch", "chase"}},
}

func TestShippedPlaybooks(t *testing.T) {
	t.Parallel()
	pbs, err := playbook.Load(playbooks.FS())
	require.NoError(t, err)
	names, err := fs.Glob(playbooks.FS(), "*.yaml")
	require.NoError(t, err)
	require.Len(t, pbs, len(names))
	require.GreaterOrEqual(t, len(pbs), 6)

	byID := map[string]*playbook.Playbook{}
	for _, pb := range pbs {
		byID[pb.ID] = pb
		require.NotEmpty(t, pb.Description, pb.ID)
	}
	require.Len(t, demoIncidents, len(pbs), "every shipped playbook has a demo incident")
	for _, d := range demoIncidents {
		t.Run(d.playbook, func(t *testing.T) {
			pb := byID[d.playbook]
			require.NotNil(t, pb)
			e := playbook.NewEnv(d.inc)
			require.True(t, pb.Triggered(t.Context(), "incident.created", e), "the demo incident triggers it")
			require.True(t, pb.Triggered(t.Context(), "manual", e))
			got := playbook.DryRun(t.Context(), pb, e)
			require.Len(t, got, len(pb.Steps))
			var skipped []string
			pos := map[string]int{}
			for i, p := range got {
				pos[p.ID] = i
				if !p.Run {
					require.NotContains(t, p.Reason, "condition failed", p.ID)
					if _, handler := pb.Handlers()[p.ID]; handler {
						require.Contains(t, p.Reason, "runs only on timeout/failure of", p.ID)
					}
					skipped = append(skipped, p.ID)
				}
			}
			require.ElementsMatch(t, d.skipped, skipped)
			for _, p := range got {
				for _, n := range p.Needs {
					require.Less(t, pos[n], pos[p.ID], "%s runs after %s", p.ID, n)
				}
			}
		})
	}
	// No shipped playbook starts on an unrelated incident.
	other := playbook.NewEnv(incident.Incident{Severity: incident.Low, Stage: incident.Response, Status: incident.Open,
		TLP: incident.TLPAmber, Category: "other", Type: "other"})
	for _, pb := range pbs {
		require.False(t, pb.Triggered(t.Context(), "incident.created", other), pb.ID)
	}
}

// TestSchemaMatchesFormat checks docs/playbook.schema.json against the
// format: every shipped playbook validates, and files the validator rejects
// for their shape are rejected by the schema too.
func TestSchemaMatchesFormat(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../docs/playbook.schema.json")
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("playbook.schema.json", doc))
	schema, err := c.Compile("playbook.schema.json")
	require.NoError(t, err)

	toJSON := func(data []byte) any {
		var v any
		require.NoError(t, yaml.Unmarshal(data, &v))
		b, err := json.Marshal(v)
		require.NoError(t, err)
		j, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
		require.NoError(t, err)
		return j
	}
	names, err := fs.Glob(playbooks.FS(), "*.yaml")
	require.NoError(t, err)
	for _, n := range names {
		data, err := fs.ReadFile(playbooks.FS(), n)
		require.NoError(t, err)
		require.NoError(t, schema.Validate(toJSON(data)), n)
	}

	const head = "id: p\nname: P\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n"
	for i, bad := range []string{
		"  - { id: a, action: launch }\n",
		"  - { id: a, action: notify, with: { to: parent } }\n",
		"  - { id: a, action: notify, with: { to: parent, template: t, cc: x } }\n",
		"  - { id: a, action: task.create, with: { title: T, due: soon } }\n",
		"  - { id: a, action: task.create, with: { title: T, assignee_role: chief } }\n",
		"  - { id: a, action: wait, with: { for: later } }\n",
		"  - { id: a, action: set, with: {} }\n",
		"  - { id: a, action: escalate, with: { to: parent, kind: panic, reason: r } }\n",
		"  - { id: a, action: webhook, with: { url: ftp://x } }\n",
		"  - { id: A, action: notify, with: { to: parent, template: t } }\n",
		"  - { id: a, action: notify, with: { to: parent, template: t }, colour: red }\n",
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			_, errs := playbook.Parse("p.yaml", []byte(head+bad))
			require.NotEmpty(t, errs, "the validator rejects it")
			require.Error(t, schema.Validate(toJSON([]byte(head+bad))), "the schema rejects it")
		})
	}
}

// A handler step (the target of an on_timeout or on_failure) runs only when
// jumped to: the dry run says so and which steps jump to it.
func TestDryRunHandlerSteps(t *testing.T) {
	t.Parallel()
	pbs, err := playbook.Load(playbooks.FS())
	require.NoError(t, err)
	for _, pb := range pbs {
		if pb.ID != "ransomware" {
			continue
		}
		require.Equal(t, map[string][]string{"escalate": {"wait-ack"}}, pb.Handlers())
		require.Len(t, pb.Hash, 64)
		require.Equal(t, playbook.HashSource(pb.Source), pb.Hash)
		for _, p := range playbook.DryRun(t.Context(), pb, playbook.NewEnv(demoIncidents[0].inc)) {
			if p.ID == "escalate" {
				require.False(t, p.Run)
				require.Equal(t, "runs only on timeout/failure of wait-ack", p.Reason)
				return
			}
		}
	}
	t.Fatal("the ransomware playbook has no escalate step")
}
