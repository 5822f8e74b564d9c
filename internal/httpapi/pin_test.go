package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/stretchr/testify/require"
)

// A responder of the coordinating CERT pins a manual entry as a key
// event: the timeline marks it, `kind=pinned` selects it beside the key
// kinds, pinning twice changes nothing, and the pin comes off again;
// each change is audited once. The reporter (not a worker), a viewer of
// the CERT and an organisation that does not see the incident may not.
func TestPinKeyEventOnTheTimeline(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "Ransomware on the city hall file server"})
	other := w.report(t, map[string]any{"title": "Phishing wave"})
	base := "/api/v1/incidents/" + inc.ID

	var entry struct {
		ID     int64 `json:"id"`
		Pinned bool  `json:"pinned"`
	}
	r := w.h.As(w.responder).Request(http.MethodPost, base+"/timeline", map[string]any{"summary": "Attacker first seen on the VPN gateway"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r.JSON(t, &entry)
	require.False(t, entry.Pinned)
	pin := fmt.Sprintf("%s/timeline/%d/pin", base, entry.ID)

	type event struct {
		ID     int64  `json:"id"`
		Kind   string `json:"kind"`
		Pinned bool   `json:"pinned"`
	}
	timeline := func(query string) []event {
		var tl struct {
			Events []event `json:"events"`
		}
		r := w.h.As(w.responder).Request(http.MethodGet, base+"/timeline"+query, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(t, &tl)
		return tl.Events
	}
	pinned := func() int {
		entries, _, err := w.h.App.Audit.Read(context.Background(), access.System, audit.Query{Action: audit.EventPinned, TargetID: inc.Reference})
		require.NoError(t, err)
		return len(entries)
	}

	for _, c := range []struct {
		who  string
		want int
	}{{w.reporter, http.StatusForbidden}, {w.viewer, http.StatusForbidden}} {
		require.Equal(t, c.want, w.h.As(c.who).Request(http.MethodPost, pin, nil).Status)
	}
	_, sibling := w.h.User("sibling", access.Responder)
	require.Equal(t, http.StatusNotFound, w.h.As(sibling).Request(http.MethodPost, pin, nil).Status, "an incident it does not see")
	require.Zero(t, pinned(), "nothing pinned by those refused")
	require.Empty(t, timeline("?kind=pinned"))

	for range 2 {
		r = w.h.As(w.responder).Request(http.MethodPost, pin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(t, &entry)
		require.True(t, entry.Pinned)
	}
	require.Equal(t, 1, pinned(), "the second pin changed nothing")
	require.Equal(t, []event{{ID: entry.ID, Kind: "manual", Pinned: true}}, timeline("?kind=pinned"))
	key := timeline("?kind=created,pinned")
	require.Len(t, key, 2, "the key kinds and the pins in one read")
	require.Equal(t, "created", key[0].Kind)
	for _, ev := range timeline("") {
		require.Equal(t, ev.ID == entry.ID, ev.Pinned, "only the pinned entry is marked")
	}

	// An event of another incident, or none, is not this incident's.
	var otherTL struct {
		Events []event `json:"events"`
	}
	w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents/"+other.ID+"/timeline", nil).JSON(t, &otherTL)
	require.NotEmpty(t, otherTL.Events)
	for _, path := range []string{fmt.Sprintf("%s/timeline/%d/pin", base, otherTL.Events[0].ID), base + "/timeline/0/pin", base + "/timeline/first/pin"} {
		require.Equal(t, http.StatusNotFound, w.h.As(w.responder).Request(http.MethodPost, path, nil).Status, path)
	}

	r = w.h.As(w.responder).Request(http.MethodDelete, pin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.JSON(t, &entry)
	require.False(t, entry.Pinned)
	require.Empty(t, timeline("?kind=pinned"))
	unpinned, _, err := w.h.App.Audit.Read(context.Background(), access.System, audit.Query{Action: audit.EventUnpinned, TargetID: inc.Reference})
	require.NoError(t, err)
	require.Len(t, unpinned, 1)
}
