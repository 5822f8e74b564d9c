package playbook_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
)

func env(mod func(*incident.Incident)) playbook.Env {
	inc := incident.Incident{
		Severity: incident.High, Stage: incident.Response, Status: incident.Open, TLP: incident.TLPAmber,
		Category: "malicious-code", Type: "infected-system", Tags: []string{"ransomware"},
		ReportingOrgSlug: "city-a", CoordinatingOrgSlug: "cert-region",
	}
	if mod != nil {
		mod(&inc)
	}
	return playbook.NewEnv(inc)
}

func TestConditionOrdering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		mod  func(*incident.Incident)
		want bool
	}{
		{`severity >= "high"`, nil, true},
		{`severity >= "medium"`, nil, true},
		{`severity > "high"`, nil, false},
		{`severity >= "critical"`, nil, false},
		{`severity < "critical"`, nil, true},
		{`"medium" < severity`, nil, true},
		{`"critical" <= severity`, func(i *incident.Incident) { i.Severity = incident.Critical }, true},
		{`severity >= "HIGH"`, nil, true},
		{`severity <= "low"`, func(i *incident.Incident) { i.Severity = incident.Low }, true},
		// Lexically "low" > "high"; by rank it is not.
		{`severity > "high"`, func(i *incident.Incident) { i.Severity = incident.Low }, false},
		{`severity == "high"`, nil, true},
		{`severity in ["high", "critical"]`, nil, true},
		// TLP: RED is the most restrictive.
		{`tlp >= "TLP:AMBER"`, nil, true},
		{`tlp > "TLP:AMBER"`, nil, false},
		{`tlp <= "TLP:GREEN"`, nil, false},
		{`tlp >= "amber+strict"`, func(i *incident.Incident) { i.TLP = incident.TLPRed }, true},
		{`tlp < "TLP:AMBER+STRICT"`, func(i *incident.Incident) { i.TLP = incident.TLPRed }, false},
		{`tlp <= "TLP:GREEN"`, func(i *incident.Incident) { i.TLP = incident.TLPClear }, true},
		{`tlp > "white"`, func(i *incident.Incident) { i.TLP = incident.TLPGreen }, true},
		{`tlp == "TLP:AMBER"`, nil, true},
		// The rest of the language.
		{`severity >= "high" && category == "malicious-code"`, nil, true},
		{`"ransomware" in tags`, nil, true},
		{`"phishing" in tags`, nil, false},
		{`flags.personal_data_breach`, nil, false},
		{`flags.personal_data_breach || flags.significant`, func(i *incident.Incident) { i.Significant = true }, true},
		{`!flags.significant && stage == "response" && status == "open"`, nil, true},
		{`type == "infected-system" && reporting_org == "city-a" && coordinating_org == "cert-region"`, nil, true},
		{`len(tags) == 1 && any(tags, # startsWith "ransom")`, nil, true},
		{`lower(category) matches "^malicious"`, nil, true},
		{`category endsWith "code" && category contains "cious" && not ("x" in tags)`, nil, true},
		{`(coordinating_org ?? "none") == "cert-region" && count(tags, # == "ransomware") == 1`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			c, err := playbook.CompileCondition(tt.src, nil)
			require.NoError(t, err)
			got, err := c.Eval(t.Context(), env(tt.mod))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestConditionRejects(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat(`1 < 2 || `, 60) + "true"
	tests := []struct {
		name, src, want string
	}{
		{"function not given", `os.Exit(1)`, "unknown name os"},
		{"builtin not allowed", `repeat("a", 1000000000) == ""`, "unknown name repeat"},
		{"now is not data", `now().Year() > 2000`, "unknown name now"},
		{"unknown variable", `secret == "x"`, "unknown name secret"},
		{"unknown field", `flags.admin`, "has no field admin"},
		{"range", `all(1..1000000000, # > 0)`, "ranges are not allowed"},
		{"huge", huge, "maximum allowed nodes"},
		{"too long", `"` + strings.Repeat("a", 1200) + `" == type`, "longer than"},
		{"not a boolean", `severity`, "expected bool"},
		{"unknown severity", `severity >= "urgent"`, `unknown severity "urgent"`},
		{"unknown tlp", `tlp >= "TLP:PURPLE"`, `unknown tlp "TLP:PURPLE"`},
		{"ordering with a number", `severity > 2`, "cannot use int"},
		{"syntax", `severity >=`, "unexpected token"},
		{"empty", ` `, "empty"},
		{"unknown step", `steps.x.output.y == 1`, `steps.x: not a step this one needs`},
		{"dynamic step", `steps[type].output == nil`, "indexed by a step id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := playbook.CompileCondition(tt.src, []string{"a"})
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestConditionStepOutputs(t *testing.T) {
	t.Parallel()
	c, err := playbook.CompileCondition(`steps.ask.output.exfiltration == true && steps["ask"].output.count > 10`, []string{"ask"})
	require.NoError(t, err)
	e := env(nil)
	e.Steps = map[string]playbook.StepResult{"ask": {Output: map[string]any{"exfiltration": true, "count": 12}}}
	ok, err := c.Eval(t.Context(), e)
	require.NoError(t, err)
	require.True(t, ok)

	e.Steps["ask"] = playbook.StepResult{Output: map[string]any{"exfiltration": false, "count": 12}}
	ok, err = c.Eval(t.Context(), e)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"30m": "30m0s", "2h": "2h0m0s", "3d": "72h0m0s", "1d12h": "36h0m0s", "90s": "1m30s"} {
		d, err := playbook.ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, d.String(), in)
	}
	for _, in := range []string{"", "0s", "-1h", "soon", "1x", "d", "99999d", "1d-2d", "1d-1h", "+1h", "3"} {
		_, err := playbook.ParseDuration(in)
		require.Error(t, err, in)
	}
}
