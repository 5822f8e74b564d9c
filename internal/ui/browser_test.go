package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// The link a chat message carries (/incidents/<ref>) asks a signed-out
// responder to sign in and then opens the incident; a city that may not
// see it gets the same 404 page as a reference that does not exist.
func TestBrowserChatLinkOpensTheIncidentAfterSignIn(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	b := newTab(t, w.h.URL)

	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+w.ref))
	require.Equal(t, "/signin?return=%2Fincidents%2F"+w.ref, b.location(), "signed out, the link asks to sign in")
	require.Equal(t, "Sign in", b.text("h1"))

	// A wrong password and an unknown address get the same answer.
	require.EqualValues(t, http.StatusUnauthorized, b.signIn(w.email("responder"), "not-the-password-1"))
	wrong := b.text(".error-summary")
	require.EqualValues(t, http.StatusUnauthorized, b.signIn("nobody@cert-north.example", password))
	require.Equal(t, wrong, b.text(".error-summary"))
	require.Contains(t, wrong, "The e-mail address or the password is not right")
	require.True(t, strings.HasPrefix(eval[string](b, "document.title"), "Error: "), "the title says there is an error")

	require.EqualValues(t, http.StatusOK, b.signIn(w.email("responder"), password))
	require.Equal(t, "/incidents/"+w.ref, b.location(), "back where the link pointed")
	require.Equal(t, "Ransomware encrypted file servers at city hall", b.text("h1"))
	require.Contains(t, b.text(".tlp-banner"), "TLP:AMBER")
	require.Contains(t, b.text(".facts"), "CERT North")
	require.Contains(t, b.text(".timeline"), "Reported the incident")
	require.Contains(t, b.text(".timeline"), "Ana Reporter")
	require.Contains(t, b.text(".deadlines"), "NIS2 early warning")
	require.Contains(t, b.text(".deadlines"), "due in 23 h")

	// The responder's landing page, the triage queue, lists it.
	b.open("/")
	require.Equal(t, "/queue", b.location())
	require.Contains(t, b.text("table"), w.ref)

	// A city under another CERT: the same page as a reference that does
	// not exist.
	s := newTab(t, w.h.URL)
	s.open("/incidents/" + w.ref)
	require.EqualValues(t, http.StatusNotFound, s.signIn(w.email("stranger"), password))
	hidden := s.text("main")
	require.EqualValues(t, http.StatusNotFound, s.open("/incidents/INC-2099-000001"))
	require.Equal(t, hidden, s.text("main"))
	require.Contains(t, hidden, "Page not found")
}

// Ten wrong passwords make the sign-in page answer 429 and say when to
// try again.
func TestBrowserSignInThrottle(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	b := newTab(t, w.h.URL)
	for i := 0; i < session.AccountRule.Limit; i++ {
		require.EqualValues(t, http.StatusUnauthorized, b.signIn(w.email("reporter"), "not-the-password-1"))
	}
	require.EqualValues(t, http.StatusTooManyRequests, b.signIn(w.email("reporter"), password))
	require.Contains(t, b.text(".error-summary"), "Too many failed sign-ins. Try again in ")
}

// Signing out ends the session on the server (the cookie, replayed, signs
// nobody in), and ending a session from the sessions page signs that
// browser out.
func TestBrowserSessionsEnd(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	laptop, phone := newTab(t, w.h.URL), newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, laptop.signIn(w.email("reporter"), password))
	require.EqualValues(t, http.StatusOK, phone.signIn(w.email("reporter"), password))

	laptop.open("/account/sessions")
	require.Equal(t, 2, eval[int](laptop, `document.querySelectorAll("tbody tr").length`))
	require.NotContains(t, laptop.text("tbody tr:first-child"), "This session", "newest first: the phone's")
	require.Contains(t, laptop.text("tbody tr:last-child"), "This session")
	// End the session that is not this one.
	require.EqualValues(t, http.StatusOK, laptop.submit(`tbody tr:not(:has(.tag)) button[type=submit]`))
	require.Contains(t, laptop.text(".notice"), "The session has ended.")
	require.Equal(t, 1, eval[int](laptop, `document.querySelectorAll("tbody tr").length`))

	phone.open("/incidents")
	require.Equal(t, "/signin?ended=1&return=%2Fincidents", phone.location(), "the phone was signed out")
	require.Contains(t, phone.text("main"), "Your session ended.")

	secret := laptop.cookie("certdesk-session")
	require.NotEmpty(t, secret)
	require.EqualValues(t, http.StatusOK, laptop.submit(`.signout-form button`))
	require.Equal(t, "/signin?signedout=1", laptop.location())
	require.Contains(t, laptop.text(".notice"), "You are signed out.")
	got := newClient(t, w.h.URL).get("/incidents", "Cookie", "certdesk-session="+secret)
	require.Equal(t, http.StatusSeeOther, got.status, "the old cookie signs nobody in")
}
