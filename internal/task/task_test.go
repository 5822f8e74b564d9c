package task_test

import (
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/stretchr/testify/require"
)

func TestStatusTransitions(t *testing.T) {
	t.Parallel()
	// from → the statuses it may become (staying put is always allowed).
	allowed := map[task.Status][]task.Status{
		task.Open:       {task.Open, task.InProgress, task.Done, task.Cancelled},
		task.InProgress: {task.Open, task.InProgress, task.Done, task.Cancelled},
		task.Done:       {task.Open, task.Done},
		task.Cancelled:  {task.Open, task.Cancelled},
	}
	for _, from := range task.Statuses {
		for _, to := range append(task.Statuses, "finished", "") {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				want := false
				for _, a := range allowed[from] {
					want = want || a == to
				}
				require.Equal(t, want, from.CanBecome(to))
			})
		}
	}
	require.Equal(t, []task.Status{task.Open}, task.Done.Next())
	require.Equal(t, []task.Status{task.InProgress, task.Done, task.Cancelled}, task.Open.Next())
}

func TestNewTaskValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    task.NewTask
		field string // "" means valid
		rule  string
	}{
		{"minimal", task.NewTask{Title: "Isolate hosts"}, "", ""},
		{"everything", task.NewTask{Title: "Isolate hosts", Description: "**now**", Assignee: "a@b.example", DueAt: ptr(time.Now())}, "", ""},
		{"200 characters", task.NewTask{Title: strings.Repeat("ü", 200)}, "", ""},
		{"20000 characters of description", task.NewTask{Title: "x", Description: strings.Repeat("ü", 20_000)}, "", ""},
		{"no title", task.NewTask{}, "title", "required"},
		{"blank title", task.NewTask{Title: " \t\n"}, "title", "required"},
		{"long title", task.NewTask{Title: strings.Repeat("a", 201)}, "title", "max_length"},
		{"long description", task.NewTask{Title: "x", Description: strings.Repeat("a", 20_001)}, "description", "max_length"},
		{"invalid UTF-8", task.NewTask{Title: "a\xffb"}, "title", "utf8"},
		{"NUL", task.NewTask{Title: "x", Description: "a\x00"}, "description", "nul"},
		{"NUL in the assignee", task.NewTask{Title: "x", Assignee: "\x00"}, "assignee", "nul"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			requireField(t, err, tc.field, tc.rule)
		})
	}
	in := task.NewTask{Title: "  padded  ", Assignee: " a@b.example "}
	require.NoError(t, in.Validate())
	require.Equal(t, "padded", in.Title)
	require.Equal(t, "a@b.example", in.Assignee)
}

func TestPatchValidate(t *testing.T) {
	t.Parallel()
	st := func(s task.Status) *task.Status { return &s }
	for _, tc := range []struct {
		name  string
		p     task.Patch
		field string
		rule  string
	}{
		{"empty", task.Patch{}, "", ""},
		{"status", task.Patch{Status: st(task.Done)}, "", ""},
		{"unassign", task.Patch{Assignee: ptr("")}, "", ""},
		{"move", task.Patch{Position: ptr(1)}, "", ""},
		{"blank title", task.Patch{Title: ptr("  ")}, "title", "required"},
		{"unknown status", task.Patch{Status: st("finished")}, "status", "enum"},
		{"position 0", task.Patch{Position: ptr(0)}, "position", "min"},
		{"set and clear due_at", task.Patch{DueAt: ptr(time.Now()), ClearDueAt: true}, "due_at", "conflict"},
		{"long description", task.Patch{Description: ptr(strings.Repeat("d", 20_001))}, "description", "max_length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			requireField(t, err, tc.field, tc.rule)
		})
	}
	require.True(t, (&task.Patch{}).Empty())
	require.False(t, (&task.Patch{ClearDueAt: true}).Empty())
}

func TestStatusFilter(t *testing.T) {
	t.Parallel()
	require.Nil(t, task.Any.Statuses())
	require.Equal(t, []task.Status{task.Open, task.InProgress}, task.Active.Statuses())
	require.Equal(t, []task.Status{task.Done}, task.StatusFilter("done").Statuses())
	for _, ok := range []string{"open", "in_progress", "done", "cancelled", "active", "any"} {
		require.NoError(t, task.StatusFilter(ok).Validate(), ok)
	}
	for _, bad := range []string{"", "closed", "OPEN", "open,done"} {
		requireField(t, task.StatusFilter(bad).Validate(), "status", "enum")
	}
}

func requireField(t *testing.T, err error, field, rule string) {
	t.Helper()
	ae, ok := apperr.As(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, apperr.Invalid, ae.Code)
	require.NotEmpty(t, ae.Fields)
	require.Equal(t, field, ae.Fields[0].Field, "%v", err)
	require.Equal(t, rule, ae.Fields[0].Rule, "%v", err)
}

func ptr[T any](v T) *T { return &v }
