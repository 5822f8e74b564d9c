package escalation_test

import (
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/stretchr/testify/require"
)

func TestDecodePolicy(t *testing.T) {
	t.Parallel()
	p, err := escalation.DecodePolicy([]byte(`{"rules": [
		{"name": "high", "when": {"min_severity": "high"}, "unacknowledged_for": "15m", "repeat_up": true},
		{"name": "sig", "when": {"significant": true}, "unacknowledged_for": "immediately", "action": "notify", "to": "national"}]}`))
	require.NoError(t, err)
	require.Equal(t, escalation.Rule{Name: "high", When: escalation.Condition{MinSeverity: incident.High}, After: 15 * time.Minute,
		Action: escalation.ActionEscalate, To: escalation.ToParent, Kind: escalation.Assist, RepeatUp: true}, p.Rules[0])
	require.Equal(t, escalation.ActionNotify, p.Rules[1].Action)
	require.Equal(t, escalation.Kind(""), p.Rules[1].Kind)
	require.Zero(t, p.Rules[1].After)
	// The document round-trips.
	again, err := p.Document().Policy()
	require.NoError(t, err)
	require.Equal(t, p.Rules, again.Rules)
	require.Equal(t, "15m", p.Document().Rules[0].UnacknowledgedFor)

	for _, tc := range []struct {
		doc, field, rule string
	}{
		{`{}`, "rules", "required"},
		{`{"rules": [], "extra": 1}`, "body", "json"},
		{`{"rules": []} {}`, "body", "single_value"},
		{`{"rules": [{"name": "", "unacknowledged_for": "15m"}]}`, "rules[0].name", "required"},
		{`{"rules": [{"name": "a/b", "unacknowledged_for": "15m"}]}`, "rules[0].name", "format"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "-15m"}]}`, "rules[0].unacknowledged_for", "duration"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "200h"}]}`, "rules[0].unacknowledged_for", "range"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "90.5s"}]}`, "rules[0].unacknowledged_for", "whole_seconds"},
		{`{"rules": [{"name": "x", "unacknowledged_for": ""}]}`, "rules[0].unacknowledged_for", "required"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "1h", "when": {"min_severity": "HIGH"}}]}`, "rules[0].when.min_severity", "enum"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "1h", "when": {"tlp": "TLP:RED"}}]}`, "body", "json"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "1h", "action": "page"}]}`, "rules[0].action", "enum"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "1h", "kind": "own"}]}`, "rules[0].kind", "enum"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "1h", "action": "notify", "kind": "assist"}]}`, "rules[0].kind", "not_allowed"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "immediately", "repeat_up": true}]}`, "rules[0].repeat_up", "needs_duration"},
		{`{"rules": [{"name": "x", "unacknowledged_for": "1h"}, {"name": "x", "unacknowledged_for": "2h"}]}`, "rules[1].name", "unique"},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			_, err := escalation.DecodePolicy([]byte(tc.doc))
			e, ok := apperr.As(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, apperr.Invalid, e.Code)
			require.NotEmpty(t, e.Fields)
			require.Equal(t, tc.field, e.Fields[0].Field, "%+v", e.Fields)
			require.Equal(t, tc.rule, e.Fields[0].Rule, "%+v", e.Fields)
		})
	}
}

func TestConditionMatches(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	inc := &incident.Incident{Severity: incident.High, Significant: true}
	for _, tc := range []struct {
		c    escalation.Condition
		want bool
	}{
		{escalation.Condition{}, true},
		{escalation.Condition{MinSeverity: incident.High}, true},
		{escalation.Condition{MinSeverity: incident.Critical}, false},
		{escalation.Condition{Significant: &yes}, true},
		{escalation.Condition{Significant: &no}, false},
		{escalation.Condition{PersonalDataBreach: &yes}, false},
		{escalation.Condition{PersonalDataBreach: &no, MinSeverity: incident.Low}, true},
	} {
		require.Equal(t, tc.want, tc.c.Matches(inc), "%+v", tc.c)
	}
}
