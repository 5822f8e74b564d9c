package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// The event bus hands handlers the events of a transaction before it
// commits: what they write commits with the change, events they append are
// dispatched in turn, and a failing handler undoes the change.
func TestEventHandlersRunInTheChangesTransaction(t *testing.T) {
	h := testapp.New(t, testapp.Options{NoWorkers: true}) // no routing jobs: nothing dispatches concurrently
	h.Org("region", org.RegionalCERT, "")
	_, tok := h.User("region", access.Coordinator)
	api := h.As(tok)

	var mu sync.Mutex
	var seen []incident.EventKind
	fail := false
	h.App.Events.Subscribe(incident.Handler{Name: "echo", Kinds: []incident.EventKind{incident.EventAcknowledged, incident.EventStageChanged},
		Handle: func(ctx context.Context, tx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				require.NotZero(t, ev.ID, "handlers see events with their IDs")
				require.Equal(t, inc.ID, ev.IncidentID)
				seen = append(seen, ev.Kind)
			}
			if fail {
				return errors.New("handler failed")
			}
			if evs[0].Kind == incident.EventAcknowledged {
				require.NotNil(t, inc.AcknowledgedAt, "the handler sees the incident as changed")
				data, _ := json.Marshal(map[string]any{"summary": "handler reacted"})
				return tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, Actor: "test", Kind: incident.EventManual,
					Data: data, OccurredAt: *inc.AcknowledgedAt})
			}
			return nil
		}})
	h.App.Events.Subscribe(incident.Handler{Name: "manual", Kinds: []incident.EventKind{incident.EventManual},
		Handle: func(ctx context.Context, tx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
			mu.Lock()
			defer mu.Unlock()
			for _, ev := range evs {
				seen = append(seen, ev.Kind)
			}
			return nil
		}})

	r := api.Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Bus", "severity": "high", "tlp": "amber"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.Map(t)["id"].(string)
	require.Empty(t, seen, "created is not a kind either handler wants")

	r = api.Request(http.MethodPost, "/api/v1/incidents/"+id+"/acknowledge", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, []incident.EventKind{incident.EventAcknowledged, incident.EventManual}, seen,
		"the event a handler appended is dispatched in a second round")
	tl := api.Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?kind=manual", nil)
	require.Contains(t, string(tl.Body), "handler reacted", "what the handler wrote committed with the change")

	before := api.Request(http.MethodGet, "/api/v1/incidents/"+id, nil).Map(t)["stage"]
	mu.Lock()
	fail = true
	mu.Unlock()
	r = api.Request(http.MethodPost, "/api/v1/incidents/"+id+"/transitions", map[string]any{"to": "recovery"})
	require.Equal(t, http.StatusInternalServerError, r.Status, "%s", r.Body)
	got := api.Request(http.MethodGet, "/api/v1/incidents/"+id, nil).Map(t)
	require.Equal(t, before, got["stage"], "a failing handler rolls the change back")
}

// Handlers that keep answering each other's events stop with an error
// instead of looping forever.
func TestEventHandlerLoopIsBounded(t *testing.T) {
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("region", org.RegionalCERT, "")
	_, tok := h.User("region", access.Coordinator)
	api := h.As(tok)
	h.App.Events.Subscribe(incident.Handler{Name: "loop", Kinds: []incident.EventKind{incident.EventManual},
		Handle: func(ctx context.Context, tx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
			return tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, Actor: "test", Kind: incident.EventManual,
				Data: json.RawMessage(`{"summary":"again"}`), OccurredAt: evs[0].OccurredAt})
		}})
	r := api.Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Loop", "severity": "low", "tlp": "green"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.Map(t)["id"].(string)
	r = api.Request(http.MethodPost, "/api/v1/incidents/"+id+"/timeline", map[string]any{"summary": "start"})
	require.Equal(t, http.StatusInternalServerError, r.Status, "%s", r.Body)
	tl := api.Request(http.MethodGet, "/api/v1/incidents/"+id+"/timeline?kind=manual", nil).Map(t)
	require.Empty(t, tl["events"], "nothing of the looping transaction committed")
}
