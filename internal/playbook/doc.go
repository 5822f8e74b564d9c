// Package playbook is certdesk's playbook format: YAML files that name the
// events that start a playbook (triggers) and a graph of steps (a DAG through
// needs), each step an action with parameters, a condition, retries, a
// timeout and what to do on failure or timeout.
//
// The package parses and validates playbooks (every error with its file, line
// and column, all errors of a load in one pass), compiles conditions in a
// small, side-effect-free expression language (expr-lang/expr with a
// restricted environment, static bounds on size, predicate nesting and
// estimated cost, and a deadline on every evaluation), and answers the
// questions the run engine asks: whether an event triggers a playbook
// (Triggered) and which steps would run in which order (DryRun). It does
// not run anything.
//
// The format is documented in docs/playbooks.md and described for editors by
// docs/playbook.schema.json.
package playbook
