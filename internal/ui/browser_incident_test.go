package ui_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// principal is a world user's principal, read again (with its
// organisation's kind).
func (w *world) principal(t *testing.T, name string) access.Principal {
	t.Helper()
	u, err := w.h.App.Identity.UserByEmail(context.Background(), access.System, w.email(name))
	require.NoError(t, err)
	return u.Principal()
}

// request has the responder of CERT North ask the reporter for something
// (a task assigned to them) and returns the task.
func (w *world) request(t *testing.T, title string) *task.Task {
	t.Helper()
	tk, err := w.h.App.Tasks.Create(context.Background(), w.principal(t, "responder"), w.ref, task.NewTask{Title: title,
		Description: "Upload it as evidence, please.", Assignee: w.email("reporter")})
	require.NoError(t, err)
	return tk
}

// comment adds a comment as the named user.
func (w *world) comment(t *testing.T, name, body string) {
	t.Helper()
	_, _, err := w.h.App.Comments.Add(context.Background(), w.principal(t, name), w.ref, body, nil)
	require.NoError(t, err)
}

// attach adds a file of evidence as the named user.
func (w *world) attach(t *testing.T, name, filename, description, content string) *evidence.Attachment {
	t.Helper()
	a, err := w.h.App.Evidence.Upload(context.Background(), w.principal(t, name), w.ref,
		evidence.NewAttachment{Filename: filename, ContentType: "text/plain", Description: description}, strings.NewReader(content))
	require.NoError(t, err)
	return a
}

// textOf is the text of the first element matching sel in the page as it
// is now ("" when there is none), spaces collapsed.
func textOf(b *tab, sel string) string {
	b.t.Helper()
	js, _ := json.Marshal(sel)
	return strings.Join(strings.Fields(eval[string](b, `(document.querySelector(`+string(js)+`) || {textContent: ""}).textContent`)), " ")
}

// tempFile writes content into a file named name in the test's folder.
func tempFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, content, 0o644))
	return p
}

// The reporting city's officer works on their incident page: the stage
// stepper and the legal clocks are in view; they write a comment in
// Markdown and see it rendered (and on the timeline), change it and find
// the earlier version; upload evidence with JavaScript on and off and
// download it through the same checks as the API; mark the CERT's request
// done; and a too large file or an empty comment come back with an error
// summary.
func TestBrowserReporterWorksOnTheIncidentPage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{Config: func(c *config.Config) { c.MaxUploadBytes = 64 << 10 }}})
	req := w.request(t, "Send us the ransom note")
	w.comment(t, "responder", "Thank you. Please **do not restore from the tapes** yet.")
	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	shot := func(name string) { b.axe(name); b.screenshot(dir, name) }
	require.EqualValues(t, http.StatusOK, b.open("/incidents/"+w.ref))
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), password))
	require.Equal(t, "/incidents/"+w.ref, b.location())

	// Where it stands: the stepper and the clocks.
	steps := b.text(".steps")
	require.Contains(t, steps, "Prevention Not needed")
	require.Contains(t, steps, "Preparation Not needed")
	require.Contains(t, steps, "Response Now")
	require.Contains(t, steps, "Recovery Not yet")
	require.Contains(t, steps, "Closed Not yet")
	require.Contains(t, b.text(".facts"), "NoticedNot given", "a time the report did not give is not a time to come")
	require.Equal(t, "Response", b.text(`.step[aria-current="step"] .step-name`))
	require.Contains(t, b.text(".deadlines"), "NIS2 early warning due in 23 h")
	require.Contains(t, b.text(".deadlines"), "NIS2 incident notification due in 2 d 23 h")
	shot("01-stepper-clocks-request")

	// What the CERT asks: the request, marked done.
	require.Equal(t, "What the CERT asks of you", b.text("#requests-title"))
	require.Contains(t, b.text(".request-list"), "Send us the ransom note To do")
	require.Contains(t, b.text(".page-nav"), "What the CERT asks of you (1)")
	require.EqualValues(t, http.StatusOK, b.submit(`.request-form button`))
	require.Contains(t, b.text(".notice"), "The request is marked as done.")
	require.Contains(t, b.text(".request-list"), "Send us the ransom note Done")
	require.Zero(t, eval[int](b, `document.querySelectorAll(".request-form").length`), "nothing left to mark done")
	got, err := w.h.App.Tasks.Get(context.Background(), access.System, w.ref, req.ID.String())
	require.NoError(t, err)
	require.Equal(t, task.Done, got.Status)
	require.Contains(t, b.text(".timeline"), "Completed the task “Send us the ransom note”")
	shot("02-request-done")

	// An empty comment comes back with the error summary linked to the field.
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`form[action$="/comments"] button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "Write a comment before sending it")
	require.Equal(t, "#comment-body", eval[string](b, `document.querySelector(".error-summary a").getAttribute("href")`))
	require.True(t, strings.HasPrefix(eval[string](b, "document.title"), "Error: "))
	shot("03-comment-empty")

	// A comment in Markdown, rendered.
	b.fill("#comment-body", "Servers **FS01** and FS03 are affected:\n\n- FS01 since 06:40\n- FS03 since 06:52")
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/comments"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "Your comment is added.")
	require.Equal(t, "FS01", textOf(b, ".comment:last-child .prose strong"))
	require.Equal(t, 2, eval[int](b, `document.querySelectorAll(".comment:last-child .prose li").length`))
	require.Contains(t, textOf(b, ".comment:last-child .comment-head"), "Ana Reporter")
	require.Contains(t, textOf(b, ".comment:last-child .comment-head"), "City of Northbridge")
	require.Contains(t, b.text(".timeline"), "Wrote a comment")
	require.Contains(t, b.text(".timeline"), "Servers FS01 and FS03 are affected")
	shot("04-comment-added")

	// Changed, with the earlier version reachable.
	require.EqualValues(t, http.StatusOK, b.submit(`.comment:last-child a[href$="/edit"]`))
	require.Equal(t, "Change your comment", b.text("h1"))
	b.fill("#body", "Servers **FS01** and FS03 are affected; FS02 is clean.")
	require.EqualValues(t, http.StatusOK, b.submit(`main form button[type=submit]`))
	require.Contains(t, b.text(".notice"), "Your comment is changed.")
	require.Contains(t, textOf(b, ".comment:last-child .prose"), "FS02 is clean")
	require.EqualValues(t, http.StatusOK, b.submit(`.comment:last-child a[href$="/revisions"]`))
	require.Contains(t, b.text(".revision-current"), "FS02 is clean")
	require.Contains(t, b.text("main"), "Version 1")
	require.Contains(t, b.text("main"), "FS01 since 06:40")
	shot("05-comment-versions")

	// Evidence, with JavaScript on: listed with its name, size, checksum and uploader.
	b.open("/incidents/" + w.ref)
	require.Contains(t, b.text("#evidence-file-hint"), "Up to 64 KB.")
	note := []byte("Your files are encrypted. Contact us within 72 hours.\n")
	b.fill("#evidence-description", "Ransom note from FS01")
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#evidence-file"), []string{tempFile(t, "README-RESTORE.txt", note)}))
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/evidence"] button[type=submit]`))
	require.Contains(t, b.text(".notice"), "The file is added to the evidence.")
	sum := sha256.Sum256(note)
	row := textOf(b, ".evidence-table tbody tr:last-child")
	for _, want := range []string{"README-RESTORE.txt", "Ransom note from FS01", "54 bytes", hex.EncodeToString(sum[:]), "Ana Reporter, City of Northbridge"} {
		require.Contains(t, row, want)
	}
	require.Contains(t, b.text(".timeline"), "Added evidence README-RESTORE.txt")
	shot("06-evidence-added")

	// Downloaded through the page's link, with the API's headers.
	href := eval[string](b, `document.querySelector(".evidence-table tbody tr:last-child a").getAttribute("href")`)
	dl := newClient(t, w.h.URL).get(href, "Cookie", "certdesk-session="+b.cookie("certdesk-session"))
	require.Equal(t, http.StatusOK, dl.status)
	require.Equal(t, string(note), dl.body)
	require.Equal(t, "application/octet-stream", dl.header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="README-RESTORE.txt"; filename*=UTF-8''README-RESTORE.txt`, dl.header.Get("Content-Disposition"))
	require.Equal(t, "nosniff", dl.header.Get("X-Content-Type-Options"))
	require.Equal(t, "default-src 'none'; sandbox", dl.header.Get("Content-Security-Policy"))
	require.Equal(t, "private, no-store", dl.header.Get("Cache-Control"))

	// And with JavaScript off: the same plain form.
	b.scripts(false)
	b.open("/incidents/" + w.ref)
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#evidence-file"), []string{tempFile(t, "firewall.log", []byte("deny tcp 203.0.113.7:445\n"))}))
	require.EqualValues(t, http.StatusOK, b.submit(`form[action$="/evidence"] button[type=submit]`))
	require.Contains(t, textOf(b, ".evidence-table tbody tr:last-child"), "firewall.log")

	// A file over the limit, and no file at all: the page again, with the error.
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#evidence-file"), []string{tempFile(t, "disk.img", make([]byte, 100<<10))}))
	require.EqualValues(t, http.StatusRequestEntityTooLarge, b.submit(`form[action$="/evidence"] button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "The file is larger than 64 KB")
	b.screenshot(dir, "07-evidence-too-large") // no axe: it needs scripts
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`form[action$="/evidence"] button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "Choose a file to upload")
	require.Equal(t, 2, eval[int](b, `document.querySelectorAll(".evidence-table tbody tr").length`), "nothing more was stored")
}

// The same page for others: the CERT's responder sees the requests as
// asked of the city, may comment and upload, and reads the city's
// comment; leadership (a viewer) reads everything and is offered no form;
// a city under another CERT gets the same 404 page for the incident, its
// evidence and its comments, and its forms change nothing.
func TestBrowserIncidentPageForTheCERTAndOthers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{})
	w.request(t, "Tell us when the backups were last connected")
	w.comment(t, "reporter", "The tapes were last connected on **Friday**.")
	att := w.attach(t, "reporter", "ransom-note.txt", "", "pay us")

	r := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, r.signIn(w.email("responder"), password))
	require.EqualValues(t, http.StatusOK, r.open("/incidents/"+w.ref))
	require.Equal(t, "What the CERT asks of City of Northbridge", r.text("#requests-title"))
	require.Contains(t, r.text(".request-list"), "Asked of Ana Reporter · asked by Rui Responder", "people by their names")
	require.Contains(t, r.text(".comment"), "The tapes were last connected on Friday.")
	require.Contains(t, r.text(".comment"), "Ana Reporter")
	require.Zero(t, eval[int](r, `document.querySelectorAll('.comment a[href$="/edit"]').length`), "not the responder's comment to edit")
	require.Equal(t, 1, eval[int](r, `document.querySelectorAll('form[action$="/comments"]').length`))
	require.Equal(t, 1, eval[int](r, `document.querySelectorAll('form[action$="/evidence"]').length`))
	r.axe("incident as the CERT's responder")

	// Leadership reads, and is offered nothing to change.
	nat, err := w.h.App.Store.OrganizationBySlug(context.Background(), "national")
	require.NoError(t, err)
	viewer, err := w.h.App.Identity.CreateUser(context.Background(), access.System, identity.NewUser{OrgID: nat.ID,
		Email: "viewer@national.example", Name: "Vera Viewer", Role: access.Viewer, Password: password})
	require.NoError(t, err)
	v := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, v.signIn(viewer.Email, password))
	require.EqualValues(t, http.StatusOK, v.open("/incidents/"+w.ref))
	require.Contains(t, v.text(".comment"), "Friday")
	require.Zero(t, eval[int](v, `document.querySelectorAll("main form").length`), "no form for a viewer")

	// A city under another CERT: the same 404 page everywhere.
	s := newClient(t, w.h.URL)
	s.signIn(w.email("stranger"), password)
	missing := s.get("/incidents/INC-2099-000001")
	require.Equal(t, http.StatusNotFound, missing.status)
	for _, path := range []string{"/incidents/" + w.ref, "/incidents/" + w.ref + "/evidence/" + att.ID.String(),
		"/incidents/" + w.incID + "/evidence/" + att.ID.String()} {
		got := s.get(path)
		require.Equal(t, http.StatusNotFound, got.status, path)
		require.Equal(t, normalise(missing.body, "/incidents/INC-2099-000001", "PATH"), normalise(got.body, path, "PATH"), path)
	}
	token := s.get("/incidents").csrf(t)
	for _, path := range []string{"/incidents/" + w.ref + "/comments", "/incidents/" + w.ref + "/tasks/" + att.ID.String() + "/done"} {
		got := s.post(path, map[string][]string{"csrf": {token}, "body": {"hello"}})
		require.Equal(t, http.StatusNotFound, got.status, path)
	}
	_, cs, _, err := w.h.App.Comments.List(context.Background(), access.System, w.ref, pageOf(10))
	require.NoError(t, err)
	require.Len(t, cs, 1, "the stranger's comment was not added")
}

// A password reset link opens a page without cookies that asks for the
// new password twice and applies the password policy with field errors;
// it works once, then says it is done and links to sign in, where the new
// password works. A used or expired link gets a page that says so.
func TestBrowserPasswordReset(t *testing.T) {
	t.Parallel()
	w := newWorld(t, worldOpts{app: testapp.Options{NoWorkers: true}})
	ctx := context.Background()
	link, _, err := w.h.App.Identity.IssueResetLink(ctx, access.System, w.users["reporter"].ID.String())
	require.NoError(t, err)
	path := strings.TrimPrefix(link, w.h.URL)

	b := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusOK, b.open(path))
	require.Equal(t, "Choose a new password", b.text("h1"))
	require.Contains(t, b.text(".summary-list"), w.email("reporter"))
	require.Empty(t, eval[string](b, "document.cookie"), "the page sets no cookie")
	require.Empty(t, b.cookie("certdesk-pre"))
	require.Equal(t, "no-referrer", eval[string](b, `document.querySelector('meta[name="referrer"]').content`))

	// The policy, with field errors; the link stays usable.
	b.fill("#password", "short", "#password_repeat", "short")
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`main form button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "The new password must be at least 12 characters long")
	require.Equal(t, "#password", eval[string](b, `document.querySelector(".error-summary a").getAttribute("href")`))
	b.fill("#password", "harbour-lantern-meadow-42", "#password_repeat", "harbour-lantern-meadow-24")
	require.EqualValues(t, http.StatusUnprocessableEntity, b.submit(`main form button[type=submit]`))
	require.Contains(t, b.text(".error-summary"), "The two new passwords do not match")

	// German, by the switch that works without a cookie.
	require.EqualValues(t, http.StatusOK, b.submit(`.language-switch button[value="de"]`))
	require.Equal(t, "Neues Passwort wählen", b.text("h1"))
	b.fill("#password", "harbour-lantern-meadow-42", "#password_repeat", "harbour-lantern-meadow-42")
	require.EqualValues(t, http.StatusOK, b.submit(`main form button[type=submit]`))
	require.Equal(t, "Ihr neues Passwort ist festgelegt", b.text("h1"))
	require.Empty(t, eval[string](b, "document.cookie"))

	// Used: the link is now refused with a clear page.
	b.open(path + "?lang=en")
	require.Equal(t, "This link cannot be used", b.text("h1"))
	require.Contains(t, b.text("main"), "it was used already")
	require.EqualValues(t, http.StatusNotFound, b.open(path))

	// The new password signs in.
	require.EqualValues(t, http.StatusOK, b.open("/password-reset/done?lang=en"))
	require.EqualValues(t, http.StatusOK, b.submit(`main a[href="/signin"]`))
	require.Contains(t, b.text("main"), "Forgotten your password? Ask your organisation's administrator")
	require.EqualValues(t, http.StatusOK, b.signIn(w.email("reporter"), "harbour-lantern-meadow-42"))
	require.Equal(t, "/reports", b.location(), "a reporter lands on Our reports")

	// Expired: a day later the next link is refused the same way.
	link, _, err = w.h.App.Identity.IssueResetLink(ctx, access.System, w.users["stranger"].ID.String())
	require.NoError(t, err)
	w.h.Advance(25 * time.Hour)
	e := newTab(t, w.h.URL)
	require.EqualValues(t, http.StatusNotFound, e.open(strings.TrimPrefix(link, w.h.URL)))
	require.Equal(t, "This link cannot be used", e.text("h1"))
}
