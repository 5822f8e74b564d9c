package playbook

import (
	"context"
	"strings"
)

// Triggered reports whether event starts the playbook for an incident with
// the environment env: one of its triggers names the event and its
// condition, if any, holds. A condition that fails to evaluate (including
// one that runs past its deadline, see Condition.Eval) does not trigger.
func (pb *Playbook) Triggered(ctx context.Context, event string, env Env) bool {
	env = env.withSteps(pb)
	for _, t := range pb.Triggers {
		if t.On != event {
			continue
		}
		if ok, err := t.When.Eval(ctx, env); err == nil && ok {
			return true
		}
	}
	return false
}

// Order returns the steps' indexes in topological order of needs; among
// steps that are ready at the same time, file order wins. It assumes a
// valid playbook (no cycles, no unknown needs).
func (pb *Playbook) Order() []int {
	index := make(map[string]int, len(pb.Steps))
	for i, s := range pb.Steps {
		index[s.ID] = i
	}
	pending := make([]int, len(pb.Steps)) // unmet needs per step
	dependents := make([][]int, len(pb.Steps))
	for i, s := range pb.Steps {
		for _, n := range s.Needs {
			if j, ok := index[n]; ok && j != i {
				pending[i]++
				dependents[j] = append(dependents[j], i)
			}
		}
	}
	done := make([]bool, len(pb.Steps))
	order := make([]int, 0, len(pb.Steps))
	for len(order) < len(pb.Steps) {
		next := -1
		for i := range pb.Steps {
			if !done[i] && pending[i] == 0 {
				next = i
				break
			}
		}
		if next < 0 {
			break // a cycle: not in a valid playbook
		}
		done[next] = true
		order = append(order, next)
		for _, d := range dependents[next] {
			pending[d]--
		}
	}
	return order
}

// PlannedStep is one step of a dry run.
type PlannedStep struct {
	ID     string
	Action string
	Stage  string
	Needs  []string
	Run    bool   // false: its when condition does not hold
	Reason string // why it is skipped
}

// DryRun lists the steps of pb in the order a run would start them, and
// whether each would run, evaluating the steps' when conditions against env
// (with empty step outputs unless env carries some). A skipped step counts
// as finished for the steps that need it; on_failure and on_timeout are not
// followed (a dry run assumes every step succeeds), so a handler step (the
// target of another step's on_failure or on_timeout, see Handlers) is shown
// as not run, with the reason "runs only on timeout/failure of <steps>".
// A condition that fails to evaluate, or runs past its deadline (see
// Condition.Eval), skips its step with the error as the reason. DryRun
// has no side effects.
func DryRun(ctx context.Context, pb *Playbook, env Env) []PlannedStep {
	env = env.withSteps(pb)
	order := pb.Order()
	handlers := pb.Handlers()
	plan := make([]PlannedStep, 0, len(order))
	for _, i := range order {
		s := pb.Steps[i]
		ps := PlannedStep{ID: s.ID, Action: s.Action, Stage: s.Stage, Needs: s.Needs, Run: true}
		if from, ok := handlers[s.ID]; ok {
			ps.Run, ps.Reason = false, "runs only on timeout/failure of "+strings.Join(from, ", ")
			plan = append(plan, ps)
			continue
		}
		ok, err := s.When.Eval(ctx, env)
		switch {
		case err != nil:
			ps.Run, ps.Reason = false, "condition failed: "+err.Error()
		case !ok:
			ps.Run, ps.Reason = false, "when is false: "+s.When.Source
		}
		plan = append(plan, ps)
	}
	return plan
}
