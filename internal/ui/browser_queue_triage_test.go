package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/stretchr/testify/require"
)

// newReports has the world's city report n more incidents and waits
// until every one is routed to its CERT; it returns their references.
func (w *world) newReports(t *testing.T, n int) []string {
	t.Helper()
	ctx := context.Background()
	rep := w.users["reporter"].Principal()
	var refs []string
	for i := range n {
		inc, _, err := w.h.App.Incidents.Create(ctx, rep, incident.NewIncident{Title: fmt.Sprintf("Phishing mail number %d at the town hall", i+1),
			Severity: incident.Medium, TLP: incident.TLPAmber}, nil)
		require.NoError(t, err)
		refs = append(refs, inc.Reference)
	}
	w.h.Eventually(func() bool {
		for _, ref := range refs {
			got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
			if err != nil || got.CoordinatingOrgID == nil {
				return false
			}
		}
		return true
	}, "the reports are routed to the CERT")
	return refs
}

// Issue 12, test 3: twenty new incidents are acknowledged in one go; a
// colleague closed one of them between the selection and the
// confirmation. Nineteen succeed; the twentieth says why, and nothing
// else asks anything per item.
func TestBrowserBulkAcknowledgeTwentyWithOneClosedMeanwhile(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	refs := append([]string{w.ref}, w.newReports(t, 19)...)
	north, err := w.h.App.Store.OrganizationBySlug(ctx, "cert-north")
	require.NoError(t, err)
	colleague, err := w.h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: north.ID, Email: "cora@cert-north.example",
		Name: "Cora Coordinator", Role: access.Coordinator, Password: password})
	require.NoError(t, err)

	b := newTab(t, w.h.URL)
	b.look(false, 1280)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.EqualValues(t, http.StatusOK, b.open("/queue?tab=new"))
	require.ElementsMatch(t, refs, b.refs(), "the twenty new incidents")
	eval[bool](b, `(document.querySelector("#queue-check-all").click(), true)`)
	require.Contains(t, b.text("[data-bulk-count]"), "20 selected")
	eval[bool](b, `(document.querySelector("#bulk-action").value = "acknowledge", true)`)
	require.EqualValues(t, http.StatusOK, b.submit("#bulk-review"))
	require.Equal(t, 20, eval[int](b, `document.querySelectorAll(".bulk-table tbody tr").length`), "one confirmation names all twenty")

	closed := refs[7]
	_, err = w.h.App.Incidents.Close(ctx, colleague.Principal(), closed, "a duplicate of another report", nil)
	require.NoError(t, err)
	require.EqualValues(t, http.StatusOK, b.submit("#bulk-confirm"))
	require.Equal(t, 19, eval[int](b, `document.querySelectorAll("tr.result-done").length`), "nineteen succeed")
	require.Equal(t, 1, eval[int](b, `document.querySelectorAll("tr.result-failed").length`))
	require.Equal(t, closed, eval[string](b, `document.querySelector("tr.result-failed").dataset.ref`))
	require.Contains(t, b.text("tr.result-failed .outcome-why"), "It was closed before anyone acknowledged it")
	b.screenshot(screensDir(t), "bulk-20-results")
	for _, ref := range refs {
		got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
		require.NoError(t, err)
		require.Equal(t, ref != closed, got.AcknowledgedAt != nil, "%s", ref)
	}
}

// Issue 12, test 2: the first five items of the queue are triaged
// without the mouse — j to the next row, a to acknowledge it in place —
// and each one's state changes on the server; the current row is marked
// for the eye and announced to screen readers by the row itself.
func TestBrowserKeyboardOnlyTriageOfTheFirstFive(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	w.newReports(t, 6)

	b := newTab(t, w.h.URL)
	b.look(false, 1280)
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.EqualValues(t, http.StatusOK, b.open("/queue?tab=new"))
	order := b.refs()
	require.Len(t, order, 7)
	require.LessOrEqual(t, eval[int](b, `document.querySelector(".queue-scroll").scrollWidth - document.querySelector(".queue-scroll").clientWidth`), 0,
		"every column of the queue fits at 1280 px, without scrolling the table sideways")
	for i, ref := range order[:5] {
		b.key("j")
		require.Equal(t, ref, eval[string](b, `document.querySelector("tr.is-current").dataset.ref`), "j moves to row %d", i+1)
		b.key("a")
		require.Eventually(t, func() bool {
			got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
			return err == nil && got.AcknowledgedAt != nil
		}, 5*time.Second, 50*time.Millisecond, "a acknowledges row %d (%s)", i+1, ref)
		require.Eventually(t, func() bool {
			return eval[string](b, `(document.querySelector("tr.is-current") || {dataset: {}}).dataset.ref || ""`) == ref &&
				!eval[bool](b, `document.querySelector("tr.is-current").classList.contains("is-new")`)
		}, 5*time.Second, 50*time.Millisecond, "row %d is replaced in place and stays the current row", i+1)
	}
	for _, ref := range order[5:] {
		got, err := w.h.App.Incidents.Get(ctx, access.System, ref)
		require.NoError(t, err)
		require.Nil(t, got.AcknowledgedAt, "%s: only the first five were acknowledged", ref)
	}
	b.screenshot(screensDir(t), "keyboard-five")
}
