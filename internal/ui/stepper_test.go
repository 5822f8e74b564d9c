package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The stage stepper: the stage the incident is in is "now", earlier
// stages it passed through carry the time it entered them, earlier ones
// it never went through are "not needed", later ones "not yet", and
// "closed" is the last step while the incident is closed.
func TestStepsOf(t *testing.T) {
	t.Parallel()
	l := i18n.NewLocale(catalogue(t).Printer("en"), time.UTC, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	at := func(h int) time.Time { return time.Date(2026, 3, 10, h, 0, 0, 0, time.UTC) }
	ev := func(kind incident.EventKind, h int, data map[string]any) incident.Event {
		b, _ := json.Marshal(data)
		return incident.Event{Kind: kind, OccurredAt: at(h), Data: b}
	}
	created := ev(incident.EventCreated, 6, map[string]any{"stage": "response"})
	toRecovery := ev(incident.EventStageChanged, 9, map[string]any{"from": "response", "to": "recovery"})
	back := ev(incident.EventStageChanged, 10, map[string]any{"from": "recovery", "to": "response", "reason": "reinfected"})
	closedAt := at(11)
	for name, tc := range map[string]struct {
		inc  incident.Incident
		evs  []incident.Event
		want string
	}{
		"reported in response": {incident.Incident{Stage: incident.Response, Status: incident.Open}, []incident.Event{created},
			"prevention:skipped preparation:skipped response:current@06:00 recovery:not_yet closed:not_yet"},
		"moved on to recovery": {incident.Incident{Stage: incident.Recovery, Status: incident.Open}, []incident.Event{created, toRecovery},
			"prevention:skipped preparation:skipped response:done@06:00 recovery:current@09:00 closed:not_yet"},
		"moved back, the last entry counts": {incident.Incident{Stage: incident.Response, Status: incident.Open},
			[]incident.Event{created, toRecovery, back},
			"prevention:skipped preparation:skipped response:current@10:00 recovery:not_yet closed:not_yet"},
		"closed": {incident.Incident{Stage: incident.Recovery, Status: incident.Closed, ClosedAt: &closedAt},
			[]incident.Event{created, toRecovery, ev(incident.EventClosed, 11, nil)},
			"prevention:skipped preparation:skipped response:done@06:00 recovery:done@09:00 closed:current@11:00"},
		"no lifecycle entry readable: the report time": {incident.Incident{Stage: incident.Prevention, Status: incident.Open, ReportedAt: at(7)}, nil,
			"prevention:current@07:00 preparation:not_yet response:not_yet recovery:not_yet closed:not_yet"},
	} {
		var got []string
		for _, s := range stepsOf(l, &tc.inc, tc.evs) {
			step := strings.TrimPrefix(strings.TrimPrefix(s.Key, "stage."), "status.") + ":" + s.State
			if s.When != "" {
				step += "@" + string(s.When)[strings.Index(string(s.When), ">")+1:][:5]
			}
			got = append(got, step)
		}
		require.Equal(t, tc.want, strings.Join(got, " "), name)
	}
}

// The timeline as a story: days in the reader's time zone, and runs of
// routine automatic entries folded within a day, never across days.
func TestTimelineDays(t *testing.T) {
	t.Parallel()
	cat := catalogue(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	l := i18n.NewLocale(cat.Printer("en"), berlin, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	u := &UI{o: Options{Catalogue: cat}}
	person := incident.Event{Kind: incident.EventManual, Data: json.RawMessage(`{"summary":"checked"}`)}
	user := func(e incident.Event, at time.Time) incident.Event {
		x := uuid.New()
		e.ActorUserID, e.ActorName, e.ActorOrgName, e.OccurredAt = &x, "Ana", "City", at
		return e
	}
	auto := func(at time.Time) incident.Event {
		return incident.Event{Kind: "playbook_step", Data: json.RawMessage(`{"step":"isolate"}`), OccurredAt: at}
	}
	evs := []incident.Event{
		user(person, time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)), // 23:00 CET, yesterday
		auto(time.Date(2026, 3, 9, 22, 30, 0, 0, time.UTC)),        // 23:30 CET, yesterday
		auto(time.Date(2026, 3, 9, 23, 30, 0, 0, time.UTC)),        // 00:30 CET, today
		auto(time.Date(2026, 3, 10, 1, 0, 0, 0, time.UTC)),
		user(person, time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)),
	}
	days := u.timelineDays(l, evs)
	require.Len(t, days, 2)
	require.Equal(t, "Yesterday", days[0].Heading)
	require.Len(t, days[0].Items, 2, "a lone automatic entry stays on its own")
	require.Equal(t, "Added a note", days[0].Items[0].Entry.What)
	require.Equal(t, "checked", days[0].Items[0].Entry.Detail)
	require.Equal(t, "Ana", days[0].Items[0].Entry.Who)
	require.Equal(t, "City", days[0].Items[0].Entry.Org)
	require.Contains(t, string(days[0].Items[0].Entry.When), ">23:00 CET<")
	require.Equal(t, "Today", days[1].Heading)
	require.Len(t, days[1].Items, 2)
	require.Len(t, days[1].Items[0].Group, 2, "two automatic entries of the day are folded")
	require.Equal(t, "Ran the playbook step “isolate”", days[1].Items[0].Group[0].What)
	require.Equal(t, "certdesk (automatic)", days[1].Items[0].Group[0].Who)
}
