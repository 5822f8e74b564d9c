package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// taskBody is a task as the API returns it.
type taskBody struct {
	ID                string     `json:"id"`
	IncidentID        string     `json:"incident_id"`
	IncidentReference string     `json:"incident_reference"`
	IncidentTitle     string     `json:"incident_title"`
	Title             string     `json:"title"`
	Description       string     `json:"description"`
	Assignee          *string    `json:"assignee"`
	AssigneeID        *string    `json:"assignee_id"`
	DueAt             *time.Time `json:"due_at"`
	Status            string     `json:"status"`
	Position          int        `json:"position"`
	CreatedBy         *string    `json:"created_by"`
	CompletedAt       *time.Time `json:"completed_at"`
	Version           int64      `json:"version"`
}

type taskListBody struct {
	IncidentID string     `json:"incident_id"`
	Tasks      []taskBody `json:"tasks"`
	NextCursor *string    `json:"next_cursor"`
}

// taskUser is a seeded user and their token.
type taskUser struct {
	*identity.User
	tok string
}

// taskWorld is the directory of the task tests:
//
//	national
//	└── region
//	    ├── city   (reports the incidents)
//	    └── town   (a sibling: sees none of city's incidents)
type taskWorld struct {
	h                                 *testapp.Harness
	reporter, responder, viewer       taskUser // city's
	regionResponder, regionViewer     taskUser
	townResponder, nationalResponder  taskUser
	regionCoordinator, regionDisabled taskUser
}

func setupTasks(t *testing.T) *taskWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("town", org.LocalAuthority, "region")
	u := func(slug string, r access.Role) taskUser {
		usr, tok := h.User(slug, r)
		return taskUser{usr, tok}
	}
	w := &taskWorld{h: h,
		reporter: u("city", access.Reporter), responder: u("city", access.Responder), viewer: u("city", access.Viewer),
		regionResponder: u("region", access.Responder), regionViewer: u("region", access.Viewer),
		townResponder: u("town", access.Responder), nationalResponder: u("national", access.Responder),
		regionCoordinator: u("region", access.Coordinator), regionDisabled: u("region", access.Responder),
	}
	_, err := h.App.DB.Pool.Exec(context.Background(), "UPDATE users SET disabled_at = now() WHERE id = $1", w.regionDisabled.ID)
	require.NoError(t, err)
	return w
}

// report files an incident as city's reporter.
func (w *taskWorld) report(t *testing.T, title, tlp string) incidentBody {
	t.Helper()
	r := w.h.As(w.reporter.tok).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "tlp": tlp})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc incidentBody
	r.JSON(t, &inc)
	return inc
}

func tasksPath(incID string) string { return "/api/v1/incidents/" + incID + "/tasks" }

// create adds a task and requires 201.
func (w *taskWorld) create(t *testing.T, tok, incID string, body map[string]any) taskBody {
	t.Helper()
	r := w.h.As(tok).Request(http.MethodPost, tasksPath(incID), body)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var tb taskBody
	r.JSON(t, &tb)
	require.Equal(t, fmt.Sprintf(`"%d"`, tb.Version), r.Header.Get("ETag"))
	require.Equal(t, tasksPath(tb.IncidentID)+"/"+tb.ID, r.Header.Get("Location"))
	return tb
}

// patch changes a task and requires want.
func (w *taskWorld) patch(t *testing.T, tok string, tb taskBody, body map[string]any, want int, header ...string) *testapp.Response {
	t.Helper()
	r := w.h.As(tok).Request(http.MethodPatch, tasksPath(tb.IncidentID)+"/"+tb.ID, body, header...)
	require.Equal(t, want, r.Status, "%s", r.Body)
	return r
}

func (w *taskWorld) list(t *testing.T, tok, incID string) []taskBody {
	t.Helper()
	r := w.h.As(tok).Request(http.MethodGet, tasksPath(incID), nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l taskListBody
	r.JSON(t, &l)
	require.Equal(t, incID, l.IncidentID)
	return l.Tasks
}

func titles(ts []taskBody) []string {
	out := make([]string, len(ts))
	for i, tb := range ts {
		out[i] = tb.Title
	}
	return out
}

func TestTaskLifecycle(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	inc := w.report(t, "Ransomware at city hall", "amber")
	due := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

	a := w.create(t, w.reporter.tok, inc.ID, map[string]any{"title": "  Isolate the file server  ", "description": "Pull the **uplink**."})
	require.Equal(t, "Isolate the file server", a.Title, "the title is trimmed")
	require.Equal(t, "Pull the **uplink**.", a.Description)
	require.Equal(t, "open", a.Status)
	require.Equal(t, 1, a.Position)
	require.EqualValues(t, 1, a.Version)
	require.Nil(t, a.Assignee)
	require.Nil(t, a.CompletedAt)
	require.Equal(t, w.reporter.Email, *a.CreatedBy)
	require.Equal(t, inc.ID, a.IncidentID)
	require.Equal(t, inc.Reference, a.IncidentReference)
	require.Equal(t, "Ransomware at city hall", a.IncidentTitle)

	b := w.create(t, w.regionResponder.tok, inc.Reference, map[string]any{"title": "Collect evidence",
		"assignee": strings.ToUpper(w.regionResponder.Email), "due_at": due.Format(time.RFC3339)})
	require.Equal(t, 2, b.Position, "new tasks go last")
	require.Equal(t, w.regionResponder.Email, *b.Assignee, "the assignee is found by e-mail in any case")
	require.Equal(t, w.regionResponder.ID.String(), *b.AssigneeID)
	require.True(t, due.Equal(*b.DueAt))
	c := w.create(t, w.responder.tok, inc.ID, map[string]any{"title": "Tell the data protection officer", "assignee": w.responder.ID.String()})
	require.Equal(t, 3, c.Position)
	require.Equal(t, w.responder.Email, *c.Assignee, "the assignee is found by user ID")

	require.Equal(t, []string{a.Title, b.Title, c.Title}, titles(w.list(t, w.viewer.tok, inc.ID)), "a viewer reads the list, in order")

	t.Run("get", func(t *testing.T) {
		r := w.h.As(w.nationalResponder.tok).Request(http.MethodGet, tasksPath(inc.Reference)+"/"+b.ID, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"1"`, r.Header.Get("ETag"))
		var got taskBody
		r.JSON(t, &got)
		require.Equal(t, b, got)
	})

	// Assign, reschedule and start a.
	r := w.patch(t, w.responder.tok, a, map[string]any{"assignee": w.regionCoordinator.Email, "due_at": due.Format(time.RFC3339), "status": "in_progress"}, http.StatusOK)
	require.Equal(t, `"2"`, r.Header.Get("ETag"))
	r.JSON(t, &a)
	require.Equal(t, "in_progress", a.Status)
	require.Equal(t, w.regionCoordinator.Email, *a.Assignee)
	require.EqualValues(t, 2, a.Version)

	// Complete it: completed_at is stamped.
	w.patch(t, w.regionCoordinator.tok, a, map[string]any{"status": "done"}, http.StatusOK).JSON(t, &a)
	require.Equal(t, "done", a.Status)
	require.NotNil(t, a.CompletedAt)
	require.WithinDuration(t, time.Now(), *a.CompletedAt, time.Minute)

	// A done task can only be reopened.
	for _, st := range []string{"in_progress", "cancelled"} {
		r := w.patch(t, w.responder.tok, a, map[string]any{"status": st}, http.StatusConflict)
		require.Equal(t, []any{"open"}, r.Map(t)["allowed"])
	}
	w.patch(t, w.responder.tok, a, map[string]any{"status": "open", "assignee": nil, "due_at": nil}, http.StatusOK).JSON(t, &a)
	require.Equal(t, "open", a.Status)
	require.Nil(t, a.CompletedAt, "reopening clears completed_at")
	require.Nil(t, a.Assignee, "null unassigns")
	require.Nil(t, a.DueAt, "null removes the due time")

	// Cancel c; a cancelled task too can only be reopened.
	w.patch(t, w.responder.tok, c, map[string]any{"status": "cancelled"}, http.StatusOK).JSON(t, &c)
	require.Equal(t, "cancelled", c.Status)
	require.Nil(t, c.CompletedAt)
	w.patch(t, w.responder.tok, c, map[string]any{"status": "done"}, http.StatusConflict)

	// A patch that changes nothing writes nothing.
	before := a.Version
	w.patch(t, w.responder.tok, a, map[string]any{"title": a.Title, "status": "open"}, http.StatusOK).JSON(t, &a)
	require.Equal(t, before, a.Version)
	w.patch(t, w.responder.tok, a, map[string]any{}, http.StatusOK).JSON(t, &a)
	require.Equal(t, before, a.Version)

	// The description is edited; the event says so without repeating it.
	w.patch(t, w.responder.tok, b, map[string]any{"description": "Image the disks first."}, http.StatusOK).JSON(t, &b)
	require.Equal(t, "Image the disks first.", b.Description)

	t.Run("the timeline shows every task event", func(t *testing.T) {
		var tl timelineBody
		w.h.As(w.viewer.tok).Request(http.MethodGet, "/api/v1/incidents/"+inc.ID+"/timeline", nil).JSON(t, &tl)
		var kinds []string
		for _, e := range tl.Events {
			kinds = append(kinds, e.Kind)
		}
		require.Equal(t, []string{"created", "routed", "task_created", "task_created", "task_created",
			"task_updated", "task_completed", "task_updated", "task_cancelled", "task_updated"}, kinds)
		ev := tl.Events[1:] // after "created": the task events, routed left out
		require.Equal(t, "routed", ev[0].Kind)
		require.Equal(t, a.ID, ev[1].Data["task_id"])
		require.Equal(t, "Isolate the file server", ev[1].Data["title"])
		require.Nil(t, ev[1].Data["assignee"])
		require.EqualValues(t, 1, ev[1].Data["position"])
		require.Equal(t, w.reporter.Email, ev[1].Actor)
		require.Equal(t, w.regionResponder.Email, ev[2].Data["assignee"])
		require.Equal(t, w.regionResponder.Email, ev[2].Actor)

		ch := ev[4].Data["changes"].(map[string]any)
		require.Equal(t, map[string]any{"old": nil, "new": w.regionCoordinator.Email}, ch["assignee"])
		require.Equal(t, map[string]any{"old": "open", "new": "in_progress"}, ch["status"])
		require.Equal(t, map[string]any{"old": nil, "new": due.Format(time.RFC3339)}, ch["due_at"])
		require.Equal(t, map[string]any{"status": map[string]any{"old": "in_progress", "new": "done"}}, ev[5].Data["changes"])
		require.Equal(t, w.regionCoordinator.Email, ev[5].Actor)
		ch = ev[6].Data["changes"].(map[string]any)
		require.Equal(t, map[string]any{"old": "done", "new": "open"}, ch["status"], "a reopening is an update")
		require.Equal(t, map[string]any{"old": w.regionCoordinator.Email, "new": nil}, ch["assignee"])
		require.Equal(t, c.ID, ev[7].Data["task_id"])
		require.Equal(t, map[string]any{"description": map[string]any{"changed": true}}, ev[8].Data["changes"])
	})

	t.Run("status filter", func(t *testing.T) {
		for _, tc := range []struct {
			status string
			want   []string
		}{
			{"", []string{a.Title, b.Title, c.Title}},
			{"any", []string{a.Title, b.Title, c.Title}},
			{"active", []string{a.Title, b.Title}},
			{"cancelled", []string{c.Title}},
			{"done", []string{}},
		} {
			r := w.h.As(w.viewer.tok).Request(http.MethodGet, tasksPath(inc.ID)+"?status="+tc.status, nil)
			require.Equal(t, http.StatusOK, r.Status)
			var l taskListBody
			r.JSON(t, &l)
			require.Equal(t, tc.want, titles(l.Tasks), "status=%s", tc.status)
		}
		r := w.h.As(w.viewer.tok).Request(http.MethodGet, tasksPath(inc.ID)+"?status=finished", nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, "status", fieldOf(t, r))
	})

	t.Run("pages", func(t *testing.T) {
		var got []string
		cursor := ""
		for range 5 {
			r := w.h.As(w.viewer.tok).Request(http.MethodGet, tasksPath(inc.ID)+"?limit=2&cursor="+cursor, nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			var l taskListBody
			r.JSON(t, &l)
			got = append(got, titles(l.Tasks)...)
			if l.NextCursor == nil {
				break
			}
			cursor = *l.NextCursor
		}
		require.Equal(t, []string{a.Title, b.Title, c.Title}, got)
	})
}

// TestTaskPositions moves tasks around and compares every list with a model.
func TestTaskPositions(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	inc := w.report(t, "Positions", "amber")
	byTitle := map[string]taskBody{}
	var model []string
	for _, title := range []string{"a", "b", "c", "d", "e"} {
		byTitle[title] = w.create(t, w.responder.tok, inc.ID, map[string]any{"title": title})
		model = append(model, title)
	}
	for _, mv := range []struct {
		task string
		to   int
	}{
		{"e", 1}, // last to first
		{"e", 5}, // first to last
		{"c", 2}, // up by one
		{"c", 4}, // down by two
		{"a", 3},
		{"b", 2}, // where it is: nothing changes
		{"d", 5},
	} {
		t.Run(fmt.Sprintf("%s to %d", mv.task, mv.to), func(t *testing.T) {
			before := map[string]taskBody{}
			for _, tb := range w.list(t, w.viewer.tok, inc.ID) {
				before[tb.Title] = tb
			}
			from := slices.Index(model, mv.task)
			model = slices.Insert(slices.Delete(model, from, from+1), mv.to-1, mv.task)

			var moved taskBody
			w.patch(t, w.responder.tok, byTitle[mv.task], map[string]any{"position": mv.to}, http.StatusOK).JSON(t, &moved)
			require.Equal(t, mv.to, moved.Position)

			got := w.list(t, w.viewer.tok, inc.ID)
			require.Equal(t, model, titles(got))
			for i, tb := range got {
				require.Equal(t, i+1, tb.Position, "positions are 1..n without gaps")
				// A task whose place changed has a new version (its ETag changed).
				if old := before[tb.Title]; old.Position != tb.Position {
					require.Greater(t, tb.Version, old.Version, "%s moved from %d to %d", tb.Title, old.Position, tb.Position)
				} else {
					require.Equal(t, old.Version, tb.Version, "%s did not move", tb.Title)
				}
			}
		})
	}
	t.Run("out of range", func(t *testing.T) {
		for _, p := range []any{0, -1, 6, 1 << 40, "2", 1.5} {
			r := w.patch(t, w.responder.tok, byTitle["a"], map[string]any{"position": p}, http.StatusUnprocessableEntity)
			require.Equal(t, "position", fieldOf(t, r), "position %v", p)
		}
		require.Equal(t, model, titles(w.list(t, w.viewer.tok, inc.ID)))
	})
	t.Run("concurrent creates still number 1..n", func(t *testing.T) {
		inc := w.report(t, "Many hands", "amber")
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				r := w.h.As(w.responder.tok).Request(http.MethodPost, tasksPath(inc.ID), map[string]any{"title": fmt.Sprintf("t%d", i)})
				require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			})
		}
		wg.Wait()
		got := w.list(t, w.viewer.tok, inc.ID)
		require.Len(t, got, 12)
		for i, tb := range got {
			require.Equal(t, i+1, tb.Position)
		}
	})
	t.Run("concurrent moves keep positions 1..n", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Go(func() {
				tb := byTitle[string(rune('a'+i%5))]
				w.patch(t, w.responder.tok, tb, map[string]any{"position": 5 - i%5}, http.StatusOK)
			})
		}
		wg.Wait()
		got := w.list(t, w.viewer.tok, inc.ID)
		require.ElementsMatch(t, []string{"a", "b", "c", "d", "e"}, titles(got))
		for i, tb := range got {
			require.Equal(t, i+1, tb.Position)
		}
	})
}

func TestTaskAssignee(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	amber := w.report(t, "Amber", "amber")
	red := w.report(t, "Red", "red")
	for _, tc := range []struct {
		name     string
		inc      incidentBody
		assignee string
		rule     string // "" means accepted
	}{
		{"a colleague", amber, w.responder.Email, ""},
		{"the regional CERT above", amber, w.regionResponder.Email, ""},
		{"the national CERT, by ID", amber, w.nationalResponder.ID.String(), ""},
		{"surrounding spaces", amber, "  " + w.regionCoordinator.Email + " ", ""},
		{"a sibling city cannot see it", amber, w.townResponder.Email, "sees_incident"},
		{"a viewer cannot work on it", amber, w.regionViewer.Email, "role"},
		{"a disabled user", amber, w.regionDisabled.Email, "active"},
		{"an unknown e-mail", amber, "nobody@nowhere.example", "exists"},
		{"an unknown ID", amber, uuid.NewString(), "exists"},
		{"a NUL character", amber, "a\x00b@x.example", "nul"},
		{"TLP:RED: the reporter, a participant", red, w.reporter.Email, ""},
		{"TLP:RED: a colleague who is no participant", red, w.responder.Email, "sees_incident"},
		{"TLP:RED: the regional CERT who is no participant", red, w.regionResponder.Email, "sees_incident"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.h.As(w.reporter.tok).Request(http.MethodPost, tasksPath(tc.inc.ID), map[string]any{"title": "assign " + tc.name, "assignee": tc.assignee})
			if tc.rule == "" {
				require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
				return
			}
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			e := r.Map(t)["errors"].([]any)[0].(map[string]any)
			require.Equal(t, "assignee", e["field"])
			require.Equal(t, tc.rule, e["rule"])
		})
	}
	t.Run("the same rules on PATCH", func(t *testing.T) {
		tb := w.create(t, w.reporter.tok, amber.ID, map[string]any{"title": "reassign me"})
		r := w.patch(t, w.reporter.tok, tb, map[string]any{"assignee": w.townResponder.Email}, http.StatusUnprocessableEntity)
		require.Equal(t, "assignee", fieldOf(t, r))
		w.patch(t, w.reporter.tok, tb, map[string]any{"assignee": w.regionResponder.Email}, http.StatusOK).JSON(t, &tb)
		require.Equal(t, w.regionResponder.Email, *tb.Assignee)
		w.patch(t, w.reporter.tok, tb, map[string]any{"assignee": ""}, http.StatusOK).JSON(t, &tb)
		require.Nil(t, tb.Assignee, `"" unassigns`)
	})
	t.Run("a participant of a TLP:RED incident may be assigned", func(t *testing.T) {
		// Only participants see a TLP:RED incident, and only a responder who
		// sees it may name more: name one as certdesk.
		_, err := w.h.App.Incidents.AddParticipant(context.Background(), access.System, red.ID, w.regionResponder.Email)
		require.NoError(t, err)
		w.create(t, w.reporter.tok, red.ID, map[string]any{"title": "now assignable", "assignee": w.regionResponder.Email})
	})
}

func TestTaskAccess(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	inc := w.report(t, "Access", "amber")
	other := w.report(t, "Another incident", "amber")
	tb := w.create(t, w.responder.tok, inc.ID, map[string]any{"title": "guarded"})
	otherTask := w.create(t, w.responder.tok, other.ID, map[string]any{"title": "elsewhere"})
	taskPath := tasksPath(inc.ID) + "/" + tb.ID

	for _, tc := range []struct {
		name                        string
		who                         taskUser
		read, create, update, queue int
	}{
		{"city reporter", w.reporter, 200, 201, 200, 200},
		{"city viewer", w.viewer, 200, 403, 403, 200},
		{"region viewer", w.regionViewer, 200, 403, 403, 200},
		{"region responder", w.regionResponder, 200, 201, 200, 200},
		{"sibling town", w.townResponder, 404, 404, 404, 422},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := w.h.As(tc.who.tok)
			r := h.Request(http.MethodGet, tasksPath(inc.ID), nil)
			require.Equal(t, tc.read, r.Status, "list: %s", r.Body)
			r = h.Request(http.MethodGet, taskPath, nil)
			require.Equal(t, tc.read, r.Status, "get: %s", r.Body)
			if tc.read == http.StatusNotFound {
				require.NotContains(t, string(r.Body), "guarded", "a 404 shows nothing of the task")
			}
			r = h.Request(http.MethodPost, tasksPath(inc.Reference), map[string]any{"title": "by " + tc.name})
			require.Equal(t, tc.create, r.Status, "create: %s", r.Body)
			r = h.Request(http.MethodPatch, taskPath, map[string]any{"description": "checked by " + tc.name})
			require.Equal(t, tc.update, r.Status, "update: %s", r.Body)
			r = h.Request(http.MethodGet, "/api/v1/tasks?incident="+inc.Reference, nil)
			require.Equal(t, tc.queue, r.Status, "queue filtered by the incident: %s", r.Body)
		})
	}
	t.Run("a task is only found under its own incident", func(t *testing.T) {
		h := w.h.As(w.responder.tok)
		for _, path := range []string{
			tasksPath(inc.ID) + "/" + otherTask.ID,
			tasksPath(inc.ID) + "/" + uuid.NewString(),
			tasksPath(inc.ID) + "/not-a-uuid",
			tasksPath(uuid.NewString()) + "/" + tb.ID,
			tasksPath("INC-1999-999999") + "/" + tb.ID,
			tasksPath("a%00b") + "/" + tb.ID, // a string the database refuses
			tasksPath(inc.Reference+"%00") + "/" + tb.ID,
		} {
			r := h.Request(http.MethodGet, path, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "GET %s: %s", path, r.Body)
			r = h.Request(http.MethodPatch, path, map[string]any{"title": "hijacked"})
			require.Equal(t, http.StatusNotFound, r.Status, "PATCH %s: %s", path, r.Body)
		}
		r := h.Request(http.MethodPost, tasksPath("a%00b"), map[string]any{"title": "x"})
		require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
		var got taskBody
		h.Request(http.MethodGet, tasksPath(other.ID)+"/"+otherTask.ID, nil).JSON(t, &got)
		require.Equal(t, "elsewhere", got.Title)
	})
	t.Run("a reporter of another city cannot create on an incident it does not see", func(t *testing.T) {
		_, tok := w.h.User("town", access.Reporter)
		r := w.h.As(tok).Request(http.MethodPost, tasksPath(inc.ID), map[string]any{"title": "x"})
		require.Equal(t, http.StatusNotFound, r.Status)
		var n int
		require.NoError(t, w.h.App.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM incident_tasks WHERE title = 'x'").Scan(&n))
		require.Zero(t, n)
	})
}

func TestTaskIfMatch(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	inc := w.report(t, "Concurrency", "amber")
	tb := w.create(t, w.responder.tok, inc.ID, map[string]any{"title": "contended"})

	// Two people read version 1; the first write wins, the second is told.
	w.patch(t, w.responder.tok, tb, map[string]any{"title": "first"}, http.StatusOK, "If-Match", `"1"`)
	r := w.patch(t, w.regionResponder.tok, tb, map[string]any{"title": "second"}, http.StatusPreconditionFailed, "If-Match", `"1"`)
	p := r.Map(t)
	require.EqualValues(t, 2, p["current_version"])
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
	var got taskBody
	w.h.As(w.viewer.tok).Request(http.MethodGet, tasksPath(inc.ID)+"/"+tb.ID, nil).JSON(t, &got)
	require.Equal(t, "first", got.Title, "a stale write changes nothing")
	require.EqualValues(t, 2, got.Version)

	// The current version, weak or unquoted, and * match.
	w.patch(t, w.regionResponder.tok, tb, map[string]any{"title": "second"}, http.StatusOK, "If-Match", `"2"`)
	w.patch(t, w.regionResponder.tok, tb, map[string]any{"title": "third"}, http.StatusOK, "If-Match", `W/"3"`)
	w.patch(t, w.regionResponder.tok, tb, map[string]any{"title": "fourth"}, http.StatusOK, "If-Match", `4`)
	w.patch(t, w.regionResponder.tok, tb, map[string]any{"title": "fifth"}, http.StatusOK, "If-Match", `*`)
	// Without If-Match the last write wins.
	r = w.patch(t, w.responder.tok, tb, map[string]any{"title": "sixth"}, http.StatusOK)
	require.Equal(t, `"7"`, r.Header.Get("ETag"))
	// A header that is no version is a 422 naming it.
	for _, bad := range []string{`"abc"`, `"1", "2"`, `"0"`, `"-3"`} {
		r := w.patch(t, w.responder.tok, tb, map[string]any{"title": "never"}, http.StatusUnprocessableEntity, "If-Match", bad)
		require.Equal(t, "If-Match", fieldOf(t, r))
	}
	// The version check comes after visibility and role: no 412 leaks.
	w.patch(t, w.townResponder.tok, tb, map[string]any{"title": "x"}, http.StatusNotFound, "If-Match", `"1"`)
	w.patch(t, w.viewer.tok, tb, map[string]any{"title": "x"}, http.StatusForbidden, "If-Match", `"1"`)
	// A stale move shifts nothing.
	tb2 := w.create(t, w.responder.tok, inc.ID, map[string]any{"title": "second task"})
	w.patch(t, w.responder.tok, tb2, map[string]any{"position": 1}, http.StatusPreconditionFailed, "If-Match", `"9"`)
	require.Equal(t, []string{"sixth", "second task"}, titles(w.list(t, w.viewer.tok, inc.ID)))
}

func TestTasksOnAClosedIncident(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	inc := w.report(t, "Closing", "amber")
	open := w.create(t, w.responder.tok, inc.ID, map[string]any{"title": "still open"})
	done := w.create(t, w.responder.tok, inc.ID, map[string]any{"title": "finished"})
	w.patch(t, w.responder.tok, done, map[string]any{"status": "done"}, http.StatusOK).JSON(t, &done)
	// No close operation exists yet in this branch: close it in the database.
	_, err := w.h.App.DB.Pool.Exec(context.Background(), "UPDATE incidents SET status = 'closed', closed_at = now() WHERE id = $1", inc.ID)
	require.NoError(t, err)

	r := w.h.As(w.responder.tok).Request(http.MethodPost, tasksPath(inc.ID), map[string]any{"title": "too late"})
	require.Equal(t, http.StatusConflict, r.Status, "a closed incident takes no new tasks: %s", r.Body)
	w.patch(t, w.responder.tok, done, map[string]any{"status": "open"}, http.StatusConflict)
	w.patch(t, w.responder.tok, open, map[string]any{"title": "tidied up", "position": 2}, http.StatusOK)
	w.patch(t, w.responder.tok, open, map[string]any{"status": "done"}, http.StatusOK).JSON(t, &open)
	require.Equal(t, "done", open.Status, "the remaining work can be completed")
	require.Len(t, w.list(t, w.viewer.tok, inc.ID), 2)
}

func TestTaskQueue(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	me := w.regionResponder
	inc1 := w.report(t, "Queue one", "amber")
	inc2 := w.report(t, "Queue two", "green")
	red := w.report(t, "Queue red", "red") // region does not see it

	at := func(h int) string { return time.Date(2031, 5, 1, h, 0, 0, 0, time.UTC).Format(time.RFC3339) }
	mk := func(inc incidentBody, title, assignee string, due string) taskBody {
		body := map[string]any{"title": title, "assignee": assignee}
		if due != "" {
			body["due_at"] = due
		}
		return w.create(t, w.responder.tok, inc.ID, body)
	}
	// Created in this order; the queue sorts by due time, none last, then age.
	noDue1 := mk(inc1, "no due 1", me.Email, "")
	late := mk(inc2, "due 12:00", me.Email, at(12))
	early := mk(inc1, "due 08:00", me.Email, at(8))
	noDue2 := mk(inc2, "no due 2", me.Email, "")
	same1 := mk(inc2, "due 10:00 a", me.Email, at(10))
	same2 := mk(inc1, "due 10:00 b", me.Email, at(10))
	finished := mk(inc1, "finished", me.Email, at(9))
	w.patch(t, w.responder.tok, finished, map[string]any{"status": "done"}, http.StatusOK)
	mk(inc1, "someone else's", w.regionCoordinator.Email, at(7))
	mk(inc1, "nobody's", "", at(7))
	// A task assigned to me on an incident I do not see (the assignment
	// was made by other means, or I lost sight of the incident) never
	// shows.
	_, err := w.h.App.DB.Pool.Exec(context.Background(), `INSERT INTO incident_tasks
		(id, incident_id, title, assignee_id, status, position, created_at, updated_at) VALUES ($1, $2, 'hidden', $3, 'open', 1, now(), now())`,
		uuid.New(), red.ID, me.ID)
	require.NoError(t, err)

	queue := func(t *testing.T, tok, query string) []taskBody {
		t.Helper()
		var all []taskBody
		cursor := ""
		for range 20 {
			r := w.h.As(tok).Request(http.MethodGet, "/api/v1/tasks?limit=2&"+query+"&cursor="+url.QueryEscape(cursor), nil)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			var q struct {
				Tasks      []taskBody `json:"tasks"`
				NextCursor *string    `json:"next_cursor"`
			}
			r.JSON(t, &q)
			require.LessOrEqual(t, len(q.Tasks), 2)
			all = append(all, q.Tasks...)
			if q.NextCursor == nil {
				return all
			}
			cursor = *q.NextCursor
		}
		t.Fatal("the queue does not end")
		return nil
	}
	for _, tc := range []struct {
		query string
		want  []taskBody
	}{
		{"assignee=me&status=open", []taskBody{early, same1, same2, late, noDue1, noDue2}},
		{"assignee=me", []taskBody{early, same1, same2, late, noDue1, noDue2}},
		{"status=active", []taskBody{early, same1, same2, late, noDue1, noDue2}},
		{"status=any", []taskBody{early, finished, same1, same2, late, noDue1, noDue2}},
		{"status=done", []taskBody{finished}},
		{"status=in_progress", nil},
		{"incident=" + inc2.Reference, []taskBody{same1, late, noDue2}},
		{"incident=" + inc1.ID + "&status=any", []taskBody{early, finished, same2, noDue1}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got := queue(t, me.tok, tc.query)
			want := []string{}
			for _, tb := range tc.want {
				want = append(want, tb.Title)
			}
			require.Equal(t, want, titles(got))
			for _, tb := range got {
				require.Equal(t, me.Email, *tb.Assignee)
				require.NotEmpty(t, tb.IncidentReference)
				require.Contains(t, []string{"Queue one", "Queue two"}, tb.IncidentTitle)
			}
		})
	}
	t.Run("each caller sees only their own", func(t *testing.T) {
		require.Equal(t, []string{"someone else's"}, titles(queue(t, w.regionCoordinator.tok, "assignee=me")))
		require.Empty(t, queue(t, w.townResponder.tok, "status=any"))
	})
	t.Run("bad parameters", func(t *testing.T) {
		for _, tc := range []struct{ query, field string }{
			{"assignee=" + url.QueryEscape(w.regionCoordinator.Email), "assignee"},
			{"status=closed", "status"},
			{"incident=" + red.Reference, "incident"},
			{"incident=INC-1999-000001", "incident"},
			{"cursor=!!", "cursor"},
			{"limit=x", "limit"},
		} {
			r := w.h.As(me.tok).Request(http.MethodGet, "/api/v1/tasks?"+tc.query, nil)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.query, r.Body)
			require.Equal(t, tc.field, fieldOf(t, r), tc.query)
		}
	})
}

func TestTaskBadInput(t *testing.T) {
	t.Parallel()
	w := setupTasks(t)
	inc := w.report(t, "Bad input", "amber")
	tb := w.create(t, w.responder.tok, inc.ID, map[string]any{"title": "target"})
	for _, tc := range []struct {
		name        string
		method      string
		body        string
		field, rule string
	}{
		{"no title", http.MethodPost, `{}`, "title", "required"},
		{"blank title", http.MethodPost, `{"title":"   "}`, "title", "required"},
		{"long title", http.MethodPost, `{"title":"` + strings.Repeat("é", 201) + `"}`, "title", "max_length"},
		{"long description", http.MethodPost, `{"title":"x","description":"` + strings.Repeat("d", 20001) + `"}`, "description", "max_length"},
		{"NUL in the title", http.MethodPost, `{"title":"a\u0000b"}`, "title", "nul"},
		{"NUL in the description", http.MethodPost, `{"title":"x","description":"\u0000"}`, "description", "nul"},
		{"due_at not a time", http.MethodPost, `{"title":"x","due_at":"tomorrow"}`, "due_at", "format"},
		{"due_at a number", http.MethodPost, `{"title":"x","due_at":5}`, "due_at", "type"},
		{"assignee a number", http.MethodPost, `{"title":"x","assignee":5}`, "assignee", "type"},
		{"status on create", http.MethodPost, `{"title":"x","status":"done"}`, "status", "unknown_field"},
		{"position on create", http.MethodPost, `{"title":"x","position":1}`, "position", "unknown_field"},
		{"patch: empty title", http.MethodPatch, `{"title":""}`, "title", "required"},
		{"patch: unknown status", http.MethodPatch, `{"status":"finished"}`, "status", "enum"},
		{"patch: unknown field", http.MethodPatch, `{"owner":"me"}`, "owner", "unknown_field"},
		{"patch: due_at not a time", http.MethodPatch, `{"due_at":"2026-13-01T00:00:00Z"}`, "due_at", "format"},
		{"patch: due_at an object", http.MethodPatch, `{"due_at":{}}`, "due_at", "type"},
		{"patch: position not a number", http.MethodPatch, `{"position":"first"}`, "position", "type"},
		{"patch: malformed", http.MethodPatch, `{"title":`, "body", "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tasksPath(inc.ID)
			if tc.method == http.MethodPatch {
				path += "/" + tb.ID
			}
			want := http.StatusUnprocessableEntity
			if tc.rule == "json" {
				want = http.StatusBadRequest // not well-formed JSON
			}
			r := w.h.As(w.responder.tok).Request(tc.method, path, tc.body)
			require.Equal(t, want, r.Status, "%s", r.Body)
			e := r.Map(t)["errors"].([]any)[0].(map[string]any)
			require.Equal(t, tc.field, e["field"], "%s", r.Body)
			require.Equal(t, tc.rule, e["rule"], "%s", r.Body)
		})
	}
	require.Equal(t, []string{"target"}, titles(w.list(t, w.viewer.tok, inc.ID)), "bad requests changed nothing")
	var got taskBody
	w.h.As(w.viewer.tok).Request(http.MethodGet, tasksPath(inc.ID)+"/"+tb.ID, nil).JSON(t, &got)
	require.EqualValues(t, 1, got.Version)
}

// ---------------------------------------------------------------------------
// The task routes of TestAccessMatrix (access_matrix_test.go). Their
// expectations come from the matrix's own model of visibility and
// relations (secTree.sees, secTree.writeRelations) and the write table's
// task.write row (secTree.mayWrite).

// matrixTasks is what seedMatrix adds for the task routes.
type matrixTasks struct {
	onIncident map[incident.TLP]string         // one unassigned task per incident, for GET and PATCH
	queued     map[uuid.UUID]map[string]string // per viewer: task ID → incident ID of the tasks assigned to them
}

// seedMatrixTasks creates, as certdesk, one unassigned task per incident,
// and one task per viewer on every incident the viewer may be assigned to:
// one they see and whose tasks the write table lets them work on. The assignee rule is
// checked against the model on the way. On the incidents a viewer does not
// see, it puts a task assigned to them straight into the database, which
// no queue may show.
func seedMatrixTasks(t *testing.T, w *matrixWorld) *matrixTasks {
	t.Helper()
	ctx := context.Background()
	mt := &matrixTasks{onIncident: map[incident.TLP]string{}, queued: map[uuid.UUID]map[string]string{}}
	for _, tlp := range secTLPs {
		inc := w.incs[tlp]
		tk, err := w.h.App.Tasks.Create(ctx, access.System, inc.ID, task.NewTask{Title: "matrix task " + string(tlp)})
		require.NoError(t, err)
		mt.onIncident[tlp] = tk.ID.String()
		for _, v := range w.viewers {
			if mt.queued[v.ID] == nil {
				mt.queued[v.ID] = map[string]string{}
			}
			tk, err := w.h.App.Tasks.Create(ctx, access.System, inc.ID, task.NewTask{Title: "queued", Assignee: v.Email})
			sees := w.tree.sees(v.ID, v.OrgSlug, inc)
			if !sees || !w.tree.mayWrite(v, inc, access.WriteTask) {
				require.Error(t, err, "%s/%s was assigned a task on %s", v.OrgSlug, v.Role, tlp)
				require.True(t, apperr.Is(err, apperr.Invalid), "%v", err)
				if !sees {
					// Assigned behind the API's back (or before the user lost
					// sight of the incident): the queue must still hide it.
					_, err := w.h.App.DB.Pool.Exec(ctx, `INSERT INTO incident_tasks (id, incident_id, title, assignee_id, status,
						position, created_at, updated_at) SELECT $1, $2, 'hidden', $3, 'open', COALESCE(MAX(position), 0) + 1, now(), now()
						FROM incident_tasks WHERE incident_id = $2`, uuid.New(), inc.ID, v.ID)
					require.NoError(t, err)
				}
				continue
			}
			require.NoError(t, err, "%s/%s cannot be assigned a task on %s", v.OrgSlug, v.Role, tlp)
			mt.queued[v.ID][tk.ID.String()] = inc.ID
		}
	}
	return mt
}

func matrixProblemUnless(ok int) func(r *testapp.Response) string {
	return func(r *testapp.Response) string {
		if r.Status != ok {
			return isProblem(r)
		}
		return ""
	}
}

func (w *matrixWorld) createTaskProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		id, want := uuid.NewString(), http.StatusNotFound
		if inc != nil {
			id, want = inc.ID, w.tree.writeStatus(v, inc, read, access.WriteTask, http.StatusCreated)
		}
		return []secProbe{
			{path: tasksPath(id), body: map[string]any{"title": fmt.Sprintf("matrix %s/%s %s", v.OrgSlug, v.Role, target)},
				want: want, check: matrixProblemUnless(http.StatusCreated)},
			// Checks of the body alone come first and reveal nothing.
			{path: tasksPath(id), body: map[string]any{"title": ""}, want: http.StatusUnprocessableEntity, check: fieldIs("title"), variant: "(no title)"},
		}
	}
}

func (w *matrixWorld) getTaskProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, want := incidentFor(v, target)
		id, taskID := uuid.NewString(), uuid.NewString()
		if inc != nil {
			id, taskID = inc.ID, w.tasks.onIncident[inc.TLP]
		}
		probes := []secProbe{{path: tasksPath(id) + "/" + taskID, want: want, check: func(r *testapp.Response) string {
			if r.Status == http.StatusOK && !strings.Contains(string(r.Body), taskID) {
				return "the answer is not about the task asked for"
			}
			if r.Status == http.StatusNotFound && strings.Contains(string(r.Body), "matrix task") {
				return "the 404 shows the task's title"
			}
			return matrixProblemUnless(http.StatusOK)(r)
		}}}
		if inc != nil {
			probes = append(probes, secProbe{path: tasksPath(inc.Ref) + "/" + uuid.NewString(), want: http.StatusNotFound,
				check: matrixProblemUnless(0), variant: "(unknown task)"})
		}
		return probes
	}
}

func (w *matrixWorld) patchTaskProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, read := incidentFor(v, target)
		id, taskID, want := uuid.NewString(), uuid.NewString(), http.StatusNotFound
		if inc != nil {
			id, taskID, want = inc.Ref, w.tasks.onIncident[inc.TLP], w.tree.writeStatus(v, inc, read, access.WriteTask, http.StatusOK)
		}
		path := tasksPath(id) + "/" + taskID
		probes := []secProbe{
			{path: path, body: map[string]any{"description": "checked by " + v.Email}, want: want, check: matrixProblemUnless(http.StatusOK)},
			{path: path, body: map[string]any{"title": ""}, want: http.StatusUnprocessableEntity, check: fieldIs("title"), variant: "(no title)"},
		}
		if inc != nil {
			probes = append(probes, secProbe{path: tasksPath(inc.ID) + "/" + uuid.NewString(), body: map[string]any{"title": "x"},
				want: w.tree.writeStatus(v, inc, read, access.WriteTask, http.StatusNotFound), check: matrixProblemUnless(0), variant: "(unknown task)"})
		}
		return probes
	}
}

// taskQueueProbes reads the caller's whole queue ("all") or one
// incident's part of it: exactly the tasks seeded for the caller on the
// incidents it sees; an incident it does not see is a 422.
func (w *matrixWorld) taskQueueProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		path, want, only := "/api/v1/tasks?assignee=me&status=any&limit=500", http.StatusOK, ""
		if target != "all" {
			inc, read := incidentFor(v, target)
			ref := "INC-1999-999999"
			if inc != nil {
				ref = inc.Ref
			}
			path += "&incident=" + url.QueryEscape(ref)
			if read != http.StatusOK {
				return []secProbe{{path: path, want: http.StatusUnprocessableEntity, check: fieldIs("incident")}}
			}
			only = inc.ID
		}
		return []secProbe{{path: path, want: want, check: func(r *testapp.Response) string {
			var q struct {
				Tasks []taskBody `json:"tasks"`
			}
			if err := json.Unmarshal(r.Body, &q); err != nil {
				return err.Error()
			}
			var wrong []string
			got := map[string]bool{}
			for _, tb := range q.Tasks {
				got[tb.ID] = true
				if _, ok := w.tasks.queued[v.ID][tb.ID]; !ok || (only != "" && tb.IncidentID != only) {
					wrong = append(wrong, fmt.Sprintf("lists %s (%s) of %s", tb.Title, tb.ID, tb.IncidentReference))
				}
			}
			for id, incID := range w.tasks.queued[v.ID] {
				if !got[id] && (only == "" || incID == only) {
					wrong = append(wrong, "misses its task "+id)
				}
			}
			return strings.Join(wrong, "; ")
		}}}
	}
}
