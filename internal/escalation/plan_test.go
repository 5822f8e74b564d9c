package escalation_test

import (
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	city := org.Organization{ID: uuid.New(), Slug: "city", Kind: org.LocalAuthority}
	region := org.Organization{ID: uuid.New(), Slug: "cert-north", Kind: org.RegionalCERT}
	national := org.Organization{ID: uuid.New(), Slug: "national", Kind: org.NationalCERT}
	partner := org.Organization{ID: uuid.New(), Slug: "partner", Kind: org.Partner}
	south := org.Organization{ID: uuid.New(), Slug: "cert-south", Kind: org.RegionalCERT}
	chain := []org.Organization{city, region, national}
	named := map[string]org.Organization{"partner": partner, "cert-south": south}
	pol, err := escalation.DecodePolicy([]byte(`{"rules": [
		{"name": "high", "when": {"min_severity": "high"}, "unacknowledged_for": "30m", "repeat_up": true},
		{"name": "sig", "when": {"significant": true}, "unacknowledged_for": "immediately", "action": "notify", "to": "national"},
		{"name": "help", "unacknowledged_for": "2h", "to": "partner", "kind": "coordinate"},
		{"name": "south", "unacknowledged_for": "1h", "to": "cert-south"}]}`))
	require.NoError(t, err)
	type got struct {
		rule  string
		level int
		after time.Duration
		to    string
	}
	steps := func(inc incident.Incident) []got {
		var out []got
		for _, s := range escalation.Plan(pol, &inc, chain, named) {
			out = append(out, got{s.Rule, s.Level, s.After, s.To.Slug})
		}
		return out
	}
	require.Equal(t, []got{{"sig", 1, 0, "national"}, {"high", 1, 30 * time.Minute, "cert-north"},
		{"high", 2, time.Hour, "national"}, {"help", 1, 2 * time.Hour, "partner"}},
		steps(incident.Incident{Severity: incident.Critical, Significant: true, TLP: incident.TLPAmber}),
		"a CERT that is not above the reporter is not on its ladder")
	require.Equal(t, []got{{"help", 1, 2 * time.Hour, "partner"}},
		steps(incident.Incident{Severity: incident.Low, TLP: incident.TLPGreen}), "only the rules that match")
	require.Empty(t, steps(incident.Incident{Severity: incident.Critical, Significant: true, TLP: incident.TLPRed}),
		"TLP:RED reaches named people, never organisations")
	chain = []org.Organization{national}
	require.Equal(t, []got{{"help", 1, 2 * time.Hour, "partner"}},
		steps(incident.Incident{Severity: incident.High, Significant: true, TLP: incident.TLPAmber}),
		"the national CERT reporting has no CERT above it")
}
