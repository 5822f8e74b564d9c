package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// CERT North's responder sets the PAP of the demo's ransomware incident
// on the workbench and the PAP of two observables (one by the paste
// form, one by its row's form), sees each as a badge beside its TLP
// label, and filters the queue and the incident list by PAP. Each state is axe-checked and
// screenshotted: light at 1280 pixels, and dark, in German, at 390.
func TestBrowserPAP(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, nil)
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	shot := func(name string) {
		b.look(false, 1280)
		b.axe(name + "-light-1280")
		b.screenshot(dir, name+"-light-1280")
	}
	selectValue := func(sel, value string) {
		eval[chromedp.Void](b, `document.querySelector(`+jsString(sel)+`).value = `+jsString(value))
	}
	require.EqualValues(t, http.StatusOK, b.signIn(w.responder, w.password))
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+w.ref))
	require.Contains(t, b.text(".incident-header .facts"), "PAP:AMBER", "the default, beside TLP")
	require.Equal(t, "PAP:AMBER", eval[string](b, `document.querySelector("#wb-pap").value`))

	// The workbench sets the incident's PAP.
	selectValue("#wb-pap", "PAP:GREEN")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/pap"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "The PAP label is changed.")
	require.Contains(t, b.text(".incident-header .facts"), "PAP:GREEN")
	require.Contains(t, b.text(".incident-header .facts"), "Active actions allowed")
	inc, err := w.h.App.Incidents.Get(context.Background(), access.System, w.ref)
	require.NoError(t, err)
	require.Equal(t, incident.PAPGreen, inc.PAP)

	// Observables: two pasted under PAP:RED, then one of them made
	// PAP:CLEAR by its row's form.
	b.fill("#observables-paste", "185.220.101.44\npap-check.example")
	require.Equal(t, "PAP:GREEN", eval[string](b, `document.querySelector("#observables-pap").value`), "the incident's preselected")
	selectValue("#observables-pap", "PAP:RED")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/observables"] button[type=submit]`))
	rowPAP := func(value string) string {
		return eval[string](b, `(() => { const r = Array.from(document.querySelectorAll(".observable-table tbody tr"))
			.find(r => r.querySelector(".observable-value").textContent === `+jsString(value)+`);
			return r ? r.querySelector(".pap").textContent : "none"; })()`)
	}
	require.Equal(t, "PAP:RED", rowPAP("185[.]220[.]101[.]44"))
	require.Equal(t, "PAP:RED", rowPAP("pap-check[.]example"))
	id := eval[string](b, `Array.from(document.querySelectorAll(".observable-table tbody tr"))
		.find(r => r.querySelector(".observable-value").textContent === "pap-check[.]example").id`)
	selectValue("#"+id+"-pap", "PAP:CLEAR")
	require.EqualValues(t, http.StatusOK, b.submit(`#`+id+` form[action$="/pap"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "The observable's PAP label is set.")
	require.Equal(t, "PAP:CLEAR", rowPAP("pap-check[.]example"))
	require.Equal(t, "PAP:RED", rowPAP("185[.]220[.]101[.]44"))
	b.do(chromedp.ScrollIntoView(chromedp.CSS("#observables")))
	shot("incident")

	// The queue's filter: PAP:GREEN holds the incident, PAP:RED does not.
	require.EqualValues(t, http.StatusOK, b.open("/queue"))
	selectValue("#queue-pap", "PAP:GREEN")
	require.EqualValues(t, http.StatusOK, b.submit(`.queue-filters button[type=submit]`))
	require.Contains(t, b.location(), "pap="+url.QueryEscape("PAP:GREEN"))
	require.Contains(t, b.text(".queue-table tbody"), w.ref)
	require.Contains(t, b.text(`.queue-row[data-ref="`+w.ref+`"]`), "PAP:GREEN", "the badge beside TLP")
	shot("queue-green")
	require.EqualValues(t, http.StatusOK, b.open("/queue?pap=PAP%3ARED"))
	require.NotContains(t, b.text("main"), w.ref)
	// The incident list takes the same filter in its URL.
	require.EqualValues(t, http.StatusOK, b.open("/incidents?pap=green"))
	require.Contains(t, b.text("main table"), w.ref)
	require.Contains(t, b.text("main table"), "PAP:GREEN")
	require.EqualValues(t, http.StatusOK, b.open("/incidents?pap=PAP%3ARED"))
	require.NotContains(t, b.text("main"), w.ref)

	// German, dark, on a phone: the incident page and the filtered queue.
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+w.ref))
	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	require.Contains(t, b.text(".incident-header .facts"), "Aktive Maßnahmen erlaubt")
	require.Equal(t, "Erlaubte Maßnahmen (PAP)", b.text(`form[action$="/pap"] .wb-card-title`))
	for _, page := range []string{"/incidents/" + w.ref, "/queue?pap=PAP%3AGREEN"} {
		require.EqualValues(t, http.StatusOK, b.open(page))
		name := map[bool]string{true: "incident", false: "queue-green"}[page[1] == 'i']
		b.look(true, 390)
		b.axe(name + "-de-dark-390")
		b.screenshot(dir, name+"-de-dark-390")
		require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "%s: no sideways scrolling", name)
	}
}
