package ui_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/stretchr/testify/require"
)

// caseworkWorld is the world with the people the case-work tests need:
// a coordinator of CERT North (who made the team "Forensics"), a viewer
// of CERT North, and a responder of CERT South.
type caseworkWorld struct {
	*world
	teamID string
}

func newCaseworkWorld(t *testing.T) *caseworkWorld {
	t.Helper()
	w := newWorld(t, worldOpts{})
	w.user(t, "coordinator", "cert-north", access.Coordinator, "Cleo Coordinator")
	w.user(t, "viewer", "cert-north", access.Viewer, "Vic Viewer")
	w.user(t, "south", "cert-south", access.Responder, "Sol South")
	tm, err := w.h.App.Teams.Create(context.Background(), w.principal(t, "coordinator"), "Forensics")
	require.NoError(t, err)
	return &caseworkWorld{world: w, teamID: tm.ID.String()}
}

// as signs the named user in and returns the client with a CSRF token.
func (w *caseworkWorld) as(t *testing.T, name string) (*client, string) {
	t.Helper()
	c := newClient(t, w.h.URL)
	c.signIn(w.email(name), password)
	return c, c.get("/incidents").csrf(t)
}

func (w *caseworkWorld) tasks(t *testing.T) []task.Task {
	t.Helper()
	_, ts, _, err := w.h.App.Tasks.List(context.Background(), access.System, w.ref, task.Any, pageOf(100))
	require.NoError(t, err)
	return ts
}

func (w *caseworkWorld) observables(t *testing.T) []observable.Observable {
	t.Helper()
	_, obs, _, err := w.h.App.Observables.List(context.Background(), access.System, w.ref, pageOf(100))
	require.NoError(t, err)
	return obs
}

func (w *caseworkWorld) circle(t *testing.T) ([]incident.Share, []incident.Participant) {
	t.Helper()
	ctx := context.Background()
	inc, err := w.h.App.Incidents.Get(ctx, access.System, w.ref)
	require.NoError(t, err)
	sh, pt, err := w.h.App.Incidents.Circle(ctx, access.System, inc)
	require.NoError(t, err)
	return sh, pt
}

// text is a page's HTML with entities decoded, for looking for words.
func text(p *page) string { return html.UnescapeString(p.body) }

// The task board: a CERT responder creates a task for a team, moves it
// and assigns it to a colleague with a due time; a viewer of the CERT
// reads the board without forms and is refused (403); a city under
// another CERT gets the 404 page and changes nothing; a missing title
// and a malformed due time come back with the named errors and what was
// typed.
func TestCaseworkTaskBoard(t *testing.T) {
	t.Parallel()
	w := newCaseworkWorld(t)
	r, token := w.as(t, "responder")

	t.Run("bad input", func(t *testing.T) {
		got := r.post("/incidents/"+w.ref+"/tasks", url.Values{"csrf": {token}, "title": {"  "}, "description": {"keep this text"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, text(got), "Enter what is to be done")
		require.Contains(t, got.body, `href="#task-title"`)
		require.Contains(t, got.body, "keep this text")
		got = r.post("/incidents/"+w.ref+"/tasks", url.Values{"csrf": {token}, "title": {"Image the disks"}, "due": {"next tuesday"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, text(got), "Enter the due time as a date and a time")
		require.Contains(t, got.body, `value="Image the disks"`)
		got = r.post("/incidents/"+w.ref+"/tasks", url.Values{"csrf": {token}, "title": {"Image the disks"}, "assignee": {"nobody@nowhere.example"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, text(got), "Choose a person who has an account")
		require.Empty(t, w.tasks(t))
	})

	got := r.post("/incidents/"+w.ref+"/tasks", url.Values{"csrf": {token}, "title": {"Image the disks"}, "team": {w.teamID},
		"due": {"2030-01-02T09:30"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Equal(t, "/incidents/"+w.ref+"?done=task_created#tasks", got.header.Get("Location"))
	ts := w.tasks(t)
	require.Len(t, ts, 1)
	tk := ts[0]
	require.Equal(t, "Forensics", tk.AssigneeTeamName)
	require.Equal(t, task.Open, tk.Status)
	require.NotNil(t, tk.DueAt)
	require.Equal(t, "2030-01-02T08:30:00Z", tk.DueAt.UTC().Format("2006-01-02T15:04:05Z"), "typed in Europe/Berlin")

	pg := r.get("/incidents/" + w.ref + "?done=task_created")
	require.Contains(t, text(pg), "The task is added.")
	col := between(pg.body, `id="board-open-title"`, `id="board-in_progress-title"`)
	require.Contains(t, col, "Image the disks")
	require.Contains(t, col, "Forensics")

	got = r.post("/incidents/"+w.ref+"/tasks/"+tk.ID.String()+"/status", url.Values{"csrf": {token}, "status": {"in_progress"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Equal(t, task.InProgress, w.tasks(t)[0].Status)
	pg = r.get("/incidents/" + w.ref)
	require.Contains(t, between(pg.body, `id="board-in_progress-title"`, `id="board-done-title"`), "Image the disks")

	got = r.post("/incidents/"+w.ref+"/tasks/"+tk.ID.String()+"/assign", url.Values{"csrf": {token},
		"assignee": {w.email("coordinator")}, "team": {w.teamID}, "due": {"2030-01-03"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	tk = w.tasks(t)[0]
	require.Equal(t, w.email("coordinator"), tk.AssigneeEmail)
	require.Equal(t, "2030-01-03T22:59:00Z", tk.DueAt.UTC().Format("2006-01-02T15:04:05Z"), "a date alone is the end of that day")

	t.Run("a move the status does not allow", func(t *testing.T) {
		r.post("/incidents/"+w.ref+"/tasks/"+tk.ID.String()+"/status", url.Values{"csrf": {token}, "status": {"done"}})
		got := r.post("/incidents/"+w.ref+"/tasks/"+tk.ID.String()+"/status", url.Values{"csrf": {token}, "status": {"in_progress"}})
		require.Equal(t, http.StatusConflict, got.status)
		require.Contains(t, text(got), "The task cannot move there now")
		got = r.post("/incidents/"+w.ref+"/tasks/"+tk.ID.String()+"/status", url.Values{"csrf": {token}, "status": {"sideways"}})
		require.Equal(t, http.StatusUnprocessableEntity, got.status)
		require.Contains(t, text(got), "Choose where the task should go")
		require.Equal(t, task.Done, w.tasks(t)[0].Status)
	})

	t.Run("a viewer reads and is refused", func(t *testing.T) {
		v, vt := w.as(t, "viewer")
		pg := v.get("/incidents/" + w.ref)
		require.Equal(t, http.StatusOK, pg.status)
		require.Contains(t, pg.body, "Image the disks")
		require.NotContains(t, pg.body, `action="/incidents/`+w.ref+`/tasks"`)
		require.NotContains(t, pg.body, "/status\"")
		got := v.post("/incidents/"+w.ref+"/tasks", url.Values{"csrf": {vt}, "title": {"From the viewer"}})
		require.Equal(t, http.StatusForbidden, got.status)
		got = v.post("/incidents/"+w.ref+"/tasks/"+tk.ID.String()+"/status", url.Values{"csrf": {vt}, "status": {"open"}})
		require.Equal(t, http.StatusForbidden, got.status)
		require.Len(t, w.tasks(t), 1)
	})

	t.Run("another organisation", func(t *testing.T) {
		for _, name := range []string{"stranger", "south"} {
			s, st := w.as(t, name)
			for path, form := range map[string]url.Values{
				"/tasks":                               {"title": {"From elsewhere"}},
				"/tasks/" + tk.ID.String() + "/status": {"status": {"open"}},
				"/tasks/" + tk.ID.String() + "/assign": {"assignee": {""}},
			} {
				form.Set("csrf", st)
				got := s.post("/incidents/"+w.ref+path, form)
				require.Equal(t, http.StatusNotFound, got.status, "%s %s", name, path)
			}
		}
		ts := w.tasks(t)
		require.Len(t, ts, 1)
		require.Equal(t, task.Done, ts[0].Status)
		require.Equal(t, w.email("coordinator"), ts[0].AssigneeEmail)
	})

	t.Run("the reporter's page stays as it was", func(t *testing.T) {
		c, _ := w.as(t, "reporter")
		pg := c.get("/incidents/" + w.ref)
		require.Equal(t, http.StatusOK, pg.status)
		require.NotContains(t, pg.body, `id="tasks"`)
		require.NotContains(t, pg.body, `id="observables"`)
		require.NotContains(t, pg.body, `id="circle"`)
	})
}

// Observables: pasted many at once (defanged or not), shown defanged with
// their type; nothing is added while a token is not recognised (named,
// the text kept); a row's TLP label is made stricter, never looser; one
// is removed. A viewer is refused, another organisation gets 404.
func TestCaseworkObservables(t *testing.T) {
	t.Parallel()
	w := newCaseworkWorld(t)
	r, token := w.as(t, "responder")
	path := "/incidents/" + w.ref + "/observables"

	got := r.post(path, url.Values{"csrf": {token}, "tlp": {"TLP:AMBER"}, "indicators": {"185.220.101.4\nnot-an-indicator\nhxxps://evil[.]example/a"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, text(got), "These were not recognised as observables: not-an-indicator")
	require.Contains(t, got.body, "hxxps://evil[.]example/a", "the text is kept")
	require.Empty(t, w.observables(t))
	got = r.post(path, url.Values{"csrf": {token}, "tlp": {"TLP:AMBER"}, "indicators": {"  \n "}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, text(got), "Enter at least one observable")
	got = r.post(path, url.Values{"csrf": {token}, "tlp": {"TLP:GREEN"}, "indicators": {"185.220.101.4"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, text(got), "Choose the incident's TLP label or a stricter one")
	require.Empty(t, w.observables(t))

	got = r.post(path, url.Values{"csrf": {token}, "tlp": {"TLP:AMBER"},
		"indicators": {"185.220.101.4\nhxxps://evil[.]example/a\nadmin@evil.example, 44d88612fea8a8f36de82e1278abb02f\nCVE-2024-3400"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Equal(t, "/incidents/"+w.ref+"?done=observables&n=5#observables", got.header.Get("Location"))
	obs := w.observables(t)
	require.Len(t, obs, 5)

	pg := r.get(got.header.Get("Location"))
	body := text(pg)
	require.Contains(t, body, "5 new observables are added.")
	for _, s := range []string{"185[.]220[.]101[.]4", "hxxps://evil[.]example/a", "admin[@]evil[.]example", "44d88612fea8a8f36de82e1278abb02f",
		"CVE-2024-3400", "IPv4 address", "URL", "E-mail address", "MD5 hash", "CVE ID"} {
		require.Contains(t, body, s)
	}
	require.NotContains(t, body, "https://evil.example", "shown defanged only")

	// The same again adds nothing new.
	got = r.post(path, url.Values{"csrf": {token}, "tlp": {"TLP:AMBER"}, "indicators": {"185.220.101.4"}})
	require.Equal(t, http.StatusSeeOther, got.status)
	require.Contains(t, text(r.get(got.header.Get("Location"))), "No new observables")

	ip := obs[0]
	for _, o := range obs {
		if o.Type == observable.IPv4 {
			ip = o
		}
	}
	got = r.post(path+"/"+ip.ID.String()+"/tlp", url.Values{"csrf": {token}, "tlp": {"TLP:GREEN"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `href="#observable-`+ip.ID.String()+`-tlp"`)
	got = r.post(path+"/"+ip.ID.String()+"/tlp", url.Values{"csrf": {token}, "tlp": {"TLP:RED"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	for _, o := range w.observables(t) {
		if o.ID == ip.ID {
			require.Equal(t, incident.TLPRed, o.TLP)
		}
	}

	t.Run("a viewer and another organisation", func(t *testing.T) {
		v, vt := w.as(t, "viewer")
		require.NotContains(t, v.get("/incidents/"+w.ref).body, `action="`+path+`"`)
		require.Equal(t, http.StatusForbidden, v.post(path, url.Values{"csrf": {vt}, "tlp": {"TLP:AMBER"}, "indicators": {"10.9.9.9"}}).status)
		require.Equal(t, http.StatusForbidden, v.post(path+"/"+obs[1].ID.String()+"/remove", url.Values{"csrf": {vt}}).status)
		s, st := w.as(t, "south")
		for _, p := range []string{path, path + "/" + obs[1].ID.String() + "/tlp", path + "/" + obs[1].ID.String() + "/remove"} {
			got := s.post(p, url.Values{"csrf": {st}, "tlp": {"TLP:RED"}, "indicators": {"10.9.9.9"}})
			require.Equal(t, http.StatusNotFound, got.status, p)
		}
		require.Len(t, w.observables(t), 5)
	})

	got = r.post(path+"/"+obs[1].ID.String()+"/remove", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Len(t, w.observables(t), 4)
}

// Correlation links name only incidents the viewer may open: CERT North's
// responder sees the other incident of its own city that holds the same
// address, never the incident of the city under CERT South that holds it
// too; the national CERT sees both; CERT South's responder, on its
// city's incident, sees neither of CERT North's.
func TestCaseworkCorrelationKeepsToWhatTheViewerMaySee(t *testing.T) {
	t.Parallel()
	w := newCaseworkWorld(t)
	ctx := context.Background()
	const ip = "203.0.113.77"
	add := func(p access.Principal, ref string) {
		_, _, err := w.h.App.Observables.Add(ctx, p, ref, observable.NewObservable{Type: observable.IPv4, Value: ip})
		require.NoError(t, err)
	}
	create := func(name, title string) string {
		inc, _, err := w.h.App.Incidents.Create(ctx, w.principal(t, name), incident.NewIncident{Title: title, Description: "x",
			Severity: incident.Medium, TLP: incident.TLPAmber, Category: "malicious-code", Type: "infected-system"}, nil)
		require.NoError(t, err)
		return inc.Reference
	}
	north2 := create("reporter", "Second city-north phishing wave")
	south := create("stranger", "Southvale secret botnet case")
	add(w.principal(t, "reporter"), w.ref)
	add(w.principal(t, "reporter"), north2)
	add(w.principal(t, "stranger"), south)

	r, _ := w.as(t, "responder")
	pg := r.get("/incidents/" + w.ref)
	require.Equal(t, http.StatusOK, pg.status)
	require.Contains(t, pg.body, `href="/incidents/`+north2+`"`)
	require.NotContains(t, pg.body, south)
	require.NotContains(t, pg.body, "Southvale secret botnet case")
	require.Equal(t, http.StatusNotFound, r.get("/incidents/"+south).status, "the link it leaves out is one it may not open")

	n, _ := w.as(t, "national")
	pg = n.get("/incidents/" + w.ref)
	require.Contains(t, pg.body, `href="/incidents/`+north2+`"`)
	require.Contains(t, pg.body, `href="/incidents/`+south+`"`)

	s, _ := w.as(t, "south")
	pg = s.get("/incidents/" + south)
	require.Equal(t, http.StatusOK, pg.status)
	require.NotContains(t, pg.body, w.ref)
	require.NotContains(t, pg.body, north2)
	require.Contains(t, text(pg), "No other incident you may see")

	// A second observable seen in seven other incidents: six are named
	// and "more" is said, each observable with its own incidents (one
	// query for all of them).
	const domain = "c2.matrix-correlation.example"
	var seven []string
	for i := range 7 {
		ref := create("reporter", fmt.Sprintf("Beacon %d", i))
		_, _, err := w.h.App.Observables.Add(ctx, w.principal(t, "reporter"), ref, observable.NewObservable{Type: observable.Domain, Value: domain})
		require.NoError(t, err)
		seven = append(seven, ref)
	}
	_, _, err := w.h.App.Observables.Add(ctx, w.principal(t, "reporter"), w.ref, observable.NewObservable{Type: observable.Domain, Value: domain})
	require.NoError(t, err)
	pg = r.get("/incidents/" + w.ref)
	// In the observables' section: the duplicate suggestions name
	// incidents that share observables too.
	obsSection := pg.body[strings.Index(pg.body, `id="observables"`):]
	obsSection = obsSection[:strings.Index(obsSection, "</section>")]
	named := 0
	for _, ref := range seven {
		if strings.Contains(obsSection, `href="/incidents/`+ref+`"`) {
			named++
		}
	}
	require.Equal(t, 6, named, "six of the seven are named")
	require.Equal(t, 1, strings.Count(pg.body, `class="muted">`+"and more"), "the domain says there are more; the address does not")
	require.Contains(t, pg.body, `href="/incidents/`+north2+`"`, "the address keeps its own correlation")
}

// Participants and shares: CERT North's responder shares the incident
// with CERT South (which then opens it), ends the share with a reason
// (and CERT South gets 404 again), names a participant by e-mail and
// removes them with a reason. Missing choices and reasons and an unknown
// address come back with the named errors; a viewer is refused; another
// organisation gets 404 and changes nothing.
func TestCaseworkParticipantsAndShares(t *testing.T) {
	t.Parallel()
	w := newCaseworkWorld(t)
	r, token := w.as(t, "responder")
	base := "/incidents/" + w.ref
	south, _ := w.as(t, "south")
	require.Equal(t, http.StatusNotFound, south.get(base).status)

	t.Run("another organisation and a viewer first", func(t *testing.T) {
		s, st := w.as(t, "stranger")
		for _, p := range []string{"/shares", "/participants", "/shares/cert-north/end", "/participants/" + w.users["stranger"].ID.String() + "/remove"} {
			got := s.post(base+p, url.Values{"csrf": {st}, "org": {"city-south"}, "email": {w.email("stranger")}, "reason": {"x"}})
			require.Equal(t, http.StatusNotFound, got.status, p)
		}
		v, vt := w.as(t, "viewer")
		require.NotContains(t, v.get(base).body, `action="`+base+`/shares"`)
		require.Equal(t, http.StatusForbidden, v.post(base+"/shares", url.Values{"csrf": {vt}, "org": {"cert-south"}}).status)
		require.Equal(t, http.StatusForbidden, v.post(base+"/participants", url.Values{"csrf": {vt}, "email": {w.email("stranger")}}).status)
		sh, pt := w.circle(t)
		require.Empty(t, sh)
		for _, p := range pt {
			require.NotEqual(t, w.email("stranger"), p.Email)
		}
	})

	got := r.post(base+"/shares", url.Values{"csrf": {token}, "org": {""}, "note": {"for the botnet case"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, text(got), "Choose the organisation to share with")
	require.Contains(t, got.body, "for the botnet case")

	got = r.post(base+"/shares", url.Values{"csrf": {token}, "org": {"cert-south"}, "note": {"same botnet"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Equal(t, http.StatusOK, south.get(base).status, "CERT South now opens it")
	pg := r.get(base)
	require.Contains(t, between(pg.body, `id="circle"`, `id="participant-email"`), "CERT South")

	got = r.post(base+"/shares/cert-south/end", url.Values{"csrf": {token}, "reason": {" "}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `href="#end-cert-south-reason"`)
	require.Contains(t, text(got), "Say why")
	got = r.post(base+"/shares/cert-south/end", url.Values{"csrf": {token}, "reason": {"not their region after all"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Equal(t, http.StatusNotFound, south.get(base).status, "the share ended")
	require.Contains(t, text(r.get(base)), "not their region after all", "the reason is on the timeline")
	require.Equal(t, http.StatusNotFound, r.post(base+"/shares/cert-south/end", url.Values{"csrf": {token}, "reason": {"again"}}).status)

	got = r.post(base+"/participants", url.Values{"csrf": {token}, "email": {"nobody@nowhere.example"}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, text(got), "No one has an account with this e-mail address")
	require.Contains(t, got.body, `value="nobody@nowhere.example"`)

	got = r.post(base+"/participants", url.Values{"csrf": {token}, "email": {w.email("south")}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Equal(t, http.StatusOK, south.get(base).status, "a named participant opens it")
	id := w.users["south"].ID.String()
	got = r.post(base+"/participants/"+id+"/remove", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusUnprocessableEntity, got.status)
	require.Contains(t, got.body, `href="#remove-`+id+`-reason"`)
	got = r.post(base+"/participants/"+id+"/remove", url.Values{"csrf": {token}, "reason": {"asked by mistake"}})
	require.Equal(t, http.StatusSeeOther, got.status, got.body)
	require.Equal(t, http.StatusNotFound, south.get(base).status)
	_, pt := w.circle(t)
	for _, p := range pt {
		require.NotEqual(t, w.email("south"), p.Email)
	}

	t.Run("the reporter of a TLP:RED incident stays", func(t *testing.T) {
		ctx := context.Background()
		red, _, err := w.h.App.Incidents.Create(ctx, w.principal(t, "reporter"), incident.NewIncident{Title: "Red case", Description: "x",
			Severity: incident.High, TLP: incident.TLPRed, Category: "malicious-code", Type: "infected-system"}, nil)
		require.NoError(t, err)
		c, ct := w.as(t, "reporter")
		id := w.users["reporter"].ID.String()
		got := c.post("/incidents/"+red.Reference+"/participants/"+id+"/remove", url.Values{"csrf": {ct}, "reason": {"leaving"}})
		require.Equal(t, http.StatusConflict, got.status)
		require.Contains(t, text(got), "The reporter of a TLP:RED incident stays a participant")
		require.Equal(t, http.StatusOK, c.get("/incidents/"+red.Reference).status)
	})
}

// between is the part of s from the first from to the next to (or the
// end).
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}
