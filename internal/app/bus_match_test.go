package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// A handler's Match narrows its kinds by the event's data: it gets only
// the events Match accepts, and is not called when there are none.
func TestEventHandlerMatchNarrowsByData(t *testing.T) {
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("region", org.RegionalCERT, "")
	_, tok := h.User("region", access.Coordinator)
	api := h.As(tok)

	var mu sync.Mutex
	var fields []string
	calls := 0
	h.App.Events.Subscribe(incident.Handler{Name: "severity only", Kinds: []incident.EventKind{incident.EventFieldChanged},
		Match: func(ev incident.Event) bool {
			var d struct{ Field string }
			require.NoError(t, json.Unmarshal(ev.Data, &d))
			return d.Field == "severity"
		},
		Handle: func(_ context.Context, _ incident.Tx, _ *incident.Incident, evs []incident.Event) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			for _, ev := range evs {
				var d struct{ Field string }
				require.NoError(t, json.Unmarshal(ev.Data, &d))
				fields = append(fields, d.Field)
			}
			return nil
		}})

	r := api.Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Match", "severity": "low", "tlp": "amber"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	id := r.Map(t)["id"].(string)
	r = api.Request(http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"title": "Match 2", "tags": []string{"x"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Zero(t, calls, "no event matched")
	r = api.Request(http.MethodPatch, "/api/v1/incidents/"+id, map[string]any{"title": "Match 3", "severity": "high"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, 1, calls)
	require.Equal(t, []string{"severity"}, fields, "the title change was left out")
}
