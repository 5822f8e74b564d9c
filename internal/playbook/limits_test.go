package playbook_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/playbooks"
)

// explosive is the condition of the security review (issue 10, finding 8):
// five nested predicates over 50 tags are 50^5 ≈ 3·10^8 iterations, 40–55
// s of CPU on every trigger and dry run before the limits.
const explosive = `any(tags, any(tags, any(tags, any(tags, any(tags, # == "x")))))`

func TestConditionCostLimitsRefuseExplosiveConditions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
		col             int
	}{
		{"five nested predicates over tags", explosive, "predicates are nested 5 deep", 21},
		{"three nested even over short lists", `any(["a"], any(["b"], all(tags, # != "x")))`, "predicates are nested 3 deep", 23},
		{"piped nesting counts the same", `tags | any(tags | any(tags | any(# == "x")))`, "predicates are nested 3 deep", 30},
		{"a scan inside two predicates", `any(tags, any(tags, # in tags))`, "estimated cost 135152 is over the limit of 25000", 1},
		{"step outputs count as 50 items", `count(steps.a.output.l, any(steps.a.output.l, # == "x" || # == "y" || # == "z")) > 0`, "is over the limit", 1},
		{"the costliest predicate is named", `severity == "high" && any(tags, any(tags, # in tags))`, "estimated cost", 23},
		{"the deadline's names are not the condition's", `$deadline != nil`, "unknown name $deadline", 1},
		{"nor is the tick", `$tick($deadline, true)`, "unknown name $tick", 1},
		{"nor the whole environment", `$env.tags == nil`, "unknown name $env", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := playbook.CompileCondition(tt.src, []string{"a"})
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			var ce *playbook.ConditionError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, 1, ce.Line)
			require.Equal(t, tt.col, ce.Column, "the column of the predicate that breaks the bound")
		})
	}
}

func TestConditionAtTheLimitsValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		depth     int
	}{
		// 2 + 50·(1 + 2 + 50·(1 + 7)) = 20152: the largest two-level test
		// of tags against tags of this shape.
		{"two nested predicates over tags", `any(tags, any(tags, # == "x" || # == "y"))`, 2},
		{"a scan of tags inside a predicate over a short list", `all(["a", "b", "c"], any(tags, # in ["x", "y"]) || # in tags)`, 2},
		{"one predicate with a long body", `count(tags, # startsWith "apt" || # endsWith "-c2" || lower(#) contains "ransom" || # in ["a", "b", "c", "d"]) >= 2`, 1},
		{"step outputs", `any(steps.a.output.systems, # in tags)`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := playbook.CompileCondition(tt.src, []string{"a"})
			require.NoError(t, err)
			require.Equal(t, tt.depth, c.Cost().Depth)
			require.LessOrEqual(t, c.Cost().Units, playbook.MaxConditionCost)
			cost, err := playbook.ConditionCost(tt.src)
			require.NoError(t, err)
			require.Equal(t, c.Cost(), cost)
		})
	}
	c, err := playbook.CompileCondition(`any(tags, any(tags, # == "x" || # == "y"))`, nil)
	require.NoError(t, err)
	require.Equal(t, 20152, c.Cost().Units, "the estimate of docs/playbooks.md")
	// One more test inside the inner predicate is over the limit.
	_, err = playbook.CompileCondition(`any(tags, any(tags, # == "x" || # == "y" || # == "z"))`, nil)
	require.ErrorContains(t, err, "estimated cost 30152 is over the limit")
}

func TestPlaybookWithExplosiveConditionIsRefusedWithPosition(t *testing.T) {
	t.Parallel()
	src := `id: explode
name: Explode
version: 1
triggers:
  - on: incident.created
    when: '` + explosive + `'
steps:
  - id: a
    action: set
    with: { severity: high }
  - id: b
    needs: [a]
    when: "count(tags, any(tags, # in tags)) > 0"
    action: set
    with: { severity: low }
`
	_, errs := playbook.Parse("explode.yaml", []byte(src))
	require.Len(t, errs, 2, errs.Error())
	require.Equal(t, "explode.yaml:6:32: when: predicates are nested 5 deep (a predicate inside a predicate inside …); at most 2 are allowed, because each level multiplies the work by the length of its list", errs[0].Error())
	require.True(t, strings.HasPrefix(errs[1].Error(), "explode.yaml:13:12: when: estimated cost 135154 is over the limit of 25000"), errs[1].Error())
}

func TestShippedPlaybooksStayFarBelowTheConditionLimits(t *testing.T) {
	t.Parallel()
	c, err := playbook.LoadCatalog(playbook.CatalogOptions{Shipped: playbooks.FS(), Templates: notify.Templates()})
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	n := 0
	for _, pb := range c.Valid() {
		check := func(where string, cond *playbook.Condition) {
			if cond == nil {
				return
			}
			n++
			cost := cond.Cost()
			require.LessOrEqual(t, cost.Depth, 1, "%s %s", pb.ID, where)
			require.LessOrEqual(t, cost.Units, playbook.MaxConditionCost/50, "%s %s: %q", pb.ID, where, cond.Source)
		}
		for _, tr := range pb.Triggers {
			check("trigger "+tr.On, tr.When)
		}
		for _, s := range pb.Steps {
			check("step "+s.ID, s.When)
		}
	}
	require.Positive(t, n)
}

// bigList is step output no validator can size: a list an input step's
// answer may hold.
func bigList(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = fmt.Sprintf("item-%d", i)
	}
	return l
}

// slipping passes every static bound (two levels, estimated 10152) but
// over 100,000 answered items is 10^10 iterations: hours of CPU.
const slipping = `any(steps.ask.output.items, any(steps.ask.output.items, # == "never"))`

func TestConditionDeadlineStopsAnExpensiveEvaluation(t *testing.T) {
	t.Parallel()
	c, err := playbook.CompileCondition(slipping, []string{"ask"})
	require.NoError(t, err, "the condition passes the static bounds")
	e := env(nil)
	e.Steps = map[string]playbook.StepResult{"ask": {Output: map[string]any{"items": bigList(100_000)}}}

	t.Run("MaxConditionTime", func(t *testing.T) {
		t.Parallel()
		ok, err := c.Eval(context.Background(), e)
		require.ErrorIs(t, err, playbook.ErrConditionTimeout)
		require.ErrorContains(t, err, "at most 100ms per evaluation")
		require.False(t, ok)
	})
	t.Run("the caller's deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		_, err := c.Eval(ctx, e)
		require.ErrorIs(t, err, playbook.ErrConditionTimeout)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("a cancelled caller", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		cheap, err := playbook.CompileCondition(`"x" in tags`, nil)
		require.NoError(t, err)
		_, err = cheap.Eval(ctx, e)
		require.ErrorIs(t, err, playbook.ErrConditionTimeout)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("a dry run shows the step skipped", func(t *testing.T) {
		t.Parallel()
		pb, errs := playbook.Parse("slow.yaml", []byte(`id: slow
name: Slow
version: 1
triggers:
  - on: manual
steps:
  - id: ask
    action: input
    with: { prompt: "Which items?", schema: { type: object } }
  - id: check
    needs: [ask]
    when: '`+slipping+`'
    action: set
    with: { severity: high }
`))
		require.Empty(t, errs)
		plan := playbook.DryRun(t.Context(), pb, e)
		require.Len(t, plan, 2)
		require.False(t, plan[1].Run)
		require.Contains(t, plan[1].Reason, "condition failed")
		require.Contains(t, plan[1].Reason, playbook.ErrConditionTimeout.Error())
	})
	t.Run("small lists are unaffected", func(t *testing.T) {
		t.Parallel()
		small := env(nil)
		small.Steps = map[string]playbook.StepResult{"ask": {Output: map[string]any{"items": append(bigList(200), "never")}}}
		ok, err := c.Eval(t.Context(), small)
		require.NoError(t, err)
		require.True(t, ok)
	})
}

func TestConditionOverUntypedItems(t *testing.T) {
	t.Parallel()
	// The deadline wraps every predicate's body; a body whose type is only
	// known at run time still works.
	c, err := playbook.CompileCondition(`any(steps.a.output.flags, #) && all(steps.a.output.flags, # != nil)`, []string{"a"})
	require.NoError(t, err)
	e := env(nil)
	e.Steps = map[string]playbook.StepResult{"a": {Output: map[string]any{"flags": []any{false, true}}}}
	ok, err := c.Eval(t.Context(), e)
	require.NoError(t, err)
	require.True(t, ok)
	e.Steps["a"] = playbook.StepResult{Output: map[string]any{"flags": []any{"yes"}}}
	_, err = c.Eval(t.Context(), e)
	require.Error(t, err)
	require.False(t, errors.Is(err, playbook.ErrConditionTimeout))
}
