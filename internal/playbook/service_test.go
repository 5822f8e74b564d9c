package playbook_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/certdesk/certdesk/playbooks"
	"github.com/stretchr/testify/require"
)

func shippedFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(playbooks.FS(), name)
	require.NoError(t, err)
	return b
}

// TestMain runs the tests; those that need a database (the service's
// dry runs on real incidents) get one from testdb.
func TestMain(m *testing.M) { testdb.Main(m) }

const broken = `id: broken
name: Broken
version: 1
triggers:
  - on: manual
steps:
  - id: a
    action: no.such.action
`

func fieldErr(t *testing.T, err error) string {
	t.Helper()
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, e.Code, "%v", err)
	require.NotEmpty(t, e.Fields)
	return e.Fields[0].Field + "/" + e.Fields[0].Rule
}

// TestServiceDryRun: the dry run both transports call, on a real incident
// (read with the caller's rights) and on "what if" fields, with the
// answers for unknown and invalid playbooks and for bad input.
func TestServiceDryRun(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("city", org.LocalAuthority, "national")
	h.Org("town", org.LocalAuthority, "national")
	ctx := context.Background()
	reporter, _ := h.User("city", access.Reporter)
	stranger, _ := h.User("town", access.Reporter)
	inc, _, err := h.App.Incidents.Create(ctx, reporter.Principal(), incident.NewIncident{Title: "Encrypted shares",
		Severity: incident.High, Category: "malicious-code", Type: "infected-system", Tags: []string{"ransomware"}}, nil)
	require.NoError(t, err)

	cat := playbook.BuildCatalog(nil, []playbook.Source{{Name: "ransomware.yaml", Data: shippedFile(t, "ransomware.yaml")},
		{Name: "broken.yaml", Data: []byte(broken)}}, nil)
	svc := playbook.NewService(cat, h.App.Incidents, h.Clock.Now)
	ref := inc.Reference

	res, err := svc.DryRun(ctx, reporter.Principal(), "ransomware", playbook.DryRunInput{Incident: &ref})
	require.NoError(t, err)
	require.Equal(t, inc.ID, res.Incident.ID)
	require.Equal(t, "ransomware", res.Playbook.ID)
	require.True(t, res.Triggered["incident.created"], "a high ransomware report triggers it")
	require.True(t, res.Triggered["manual"])
	require.Len(t, res.Triggers, 3)
	require.Positive(t, res.StepsToRun)
	require.Len(t, res.Steps, len(res.Playbook.Steps))
	run := 0
	for _, s := range res.Steps {
		if s.Run {
			run++
		}
	}
	require.Equal(t, run, res.StepsToRun)

	_, err = svc.DryRun(ctx, stranger.Principal(), "ransomware", playbook.DryRunInput{Incident: &ref})
	require.True(t, apperr.Is(err, apperr.NotFound), "an incident the caller may not see: %v", err)

	res, err = svc.DryRun(ctx, stranger.Principal(), "ransomware", playbook.DryRunInput{WhatIf: &playbook.WhatIf{
		Severity: "low", Category: "malicious-code", Tags: []string{"ransomware"}}})
	require.NoError(t, err, "anyone may ask what if")
	require.Nil(t, res.Incident)
	require.False(t, res.Triggered["incident.created"], "severity low does not reach the condition")

	_, err = svc.DryRun(ctx, stranger.Principal(), "ransomware", playbook.DryRunInput{WhatIf: &playbook.WhatIf{Severity: "extreme", Status: "gone"}})
	e, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	fields := map[string]string{}
	for _, f := range e.Fields {
		fields[f.Field] = f.Rule
	}
	require.Equal(t, map[string]string{"incident_fields.severity": "enum", "incident_fields.status": "enum"}, fields)

	blank := "  "
	for name, tc := range map[string]struct {
		id   string
		in   playbook.DryRunInput
		want string
	}{
		"neither":  {"ransomware", playbook.DryRunInput{}, "incident/required"},
		"both":     {"ransomware", playbook.DryRunInput{Incident: &ref, WhatIf: &playbook.WhatIf{}}, "incident_fields/exclusive"},
		"blank ID": {"ransomware", playbook.DryRunInput{Incident: &blank}, "incident/required"},
	} {
		_, err := svc.DryRun(ctx, reporter.Principal(), tc.id, tc.in)
		require.Equal(t, tc.want, fieldErr(t, err), name)
	}
	_, err = svc.DryRun(ctx, reporter.Principal(), "nope", playbook.DryRunInput{})
	require.True(t, apperr.Is(err, apperr.NotFound), "an unknown playbook, whatever the input: %v", err)
	_, err = svc.DryRun(ctx, reporter.Principal(), "broken", playbook.DryRunInput{Incident: &ref})
	require.True(t, apperr.Is(err, apperr.Conflict), "a playbook that does not validate: %v", err)
	_, err = svc.DryRun(ctx, reporter.Principal(), "broken", playbook.DryRunInput{})
	require.Equal(t, "incident/required", fieldErr(t, err), "the input is checked before the playbook's validity")

	_, err = svc.Entry("nope")
	require.True(t, apperr.Is(err, apperr.NotFound))
	require.Len(t, svc.Entries(), 2)
	require.Empty(t, playbook.NewService(nil, h.App.Incidents, nil).Entries(), "no catalogue: an empty one")
}
