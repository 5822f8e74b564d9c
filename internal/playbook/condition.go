package playbook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	exprparser "github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/certdesk/certdesk/internal/incident"
)

// MaxConditionNodes bounds the size of a condition's syntax tree.
const MaxConditionNodes = 100

// MaxConditionLength bounds the length of a condition's source.
const MaxConditionLength = 1000

// MaxConditionTime bounds one evaluation of a condition: an evaluation
// still running after it stops with ErrConditionTimeout. The static
// bounds (MaxPredicateDepth, MaxConditionCost) keep every condition far
// below it for the incident's own data; the deadline covers what the
// validator cannot know, such as the length of a list in a step's output.
const MaxConditionTime = 100 * time.Millisecond

// ErrConditionTimeout is the error (under Eval's) of an evaluation that
// ran past its deadline: MaxConditionTime or the context's, whichever
// comes first.
var ErrConditionTimeout = errors.New("condition ran past its deadline")

// Condition is a compiled `when` expression.
type Condition struct {
	Source  string
	program *vm.Program
	cost    Cost
}

// Cost returns the condition's static cost estimate.
func (c *Condition) Cost() Cost {
	if c == nil {
		return Cost{}
	}
	return c.cost
}

// The names of the evaluation's deadline inside a compiled condition.
// Conditions may not use them (the guard refuses them); the lexer accepts
// '$' in names, so they are refused by name, not by syntax.
const (
	deadlineVar  = "$deadline"
	deadlineFunc = "$tick"
)

// runEnv is what a compiled condition runs against: the Env and the
// evaluation's deadline, which every predicate checks on each item.
type runEnv struct {
	Env
	Deadline *deadline `expr:"$deadline"`
}

// deadline is one evaluation's clock. It has no exported fields or
// methods, so a condition could do nothing with it even if it were named.
type deadline struct {
	ctx   context.Context
	until time.Time
	ticks uint
}

// tickEvery is how many predicate items run between two looks at the
// clock: a look costs about as much as a few items.
const tickEvery = 64

// check returns ErrConditionTimeout once the deadline has passed or the
// context is done.
func (d *deadline) check() error {
	d.ticks++
	if d.ticks%tickEvery != 0 {
		return nil
	}
	if err := d.ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrConditionTimeout, err)
	}
	if !time.Now().Before(d.until) {
		return fmt.Errorf("%w (at most %s per evaluation)", ErrConditionTimeout, MaxConditionTime)
	}
	return nil
}

// tick is the function the deadline patch puts around every predicate's
// body: it checks the deadline and passes the body's value through.
func tick(params ...any) (any, error) {
	if d, ok := params[0].(*deadline); ok && d != nil {
		if err := d.check(); err != nil {
			return nil, err
		}
	}
	return params[1], nil
}

// deadlinePatch wraps the body of every predicate in $tick($deadline, …),
// so that an evaluation looks at its deadline on every item of every
// predicate: the predicates are the language's only loops. It runs after
// the guard, on nodes the guard has accepted.
type deadlinePatch struct{}

func (deadlinePatch) Visit(node *ast.Node) {
	p, ok := (*node).(*ast.PredicateNode)
	if !ok {
		return
	}
	loc := p.Node.Location()
	callee := &ast.IdentifierNode{Value: deadlineFunc}
	arg := &ast.IdentifierNode{Value: deadlineVar}
	callee.SetLocation(loc)
	arg.SetLocation(loc)
	call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{arg, p.Node}}
	call.SetLocation(loc)
	p.Node = call
}

// allowedBuiltins are the expr builtins a condition may call: all of them
// are bounded by the size of their (bounded) input.
var allowedBuiltins = []string{"len", "lower", "upper", "trim", "any", "all", "none", "one", "count", "hasPrefix", "hasSuffix"}

// ConditionError is a condition that does not compile, with the position
// of the problem inside the expression (1-based; 0 when unknown).
type ConditionError struct {
	Line, Column int
	Msg          string
}

func (e *ConditionError) Error() string { return e.Msg }

// CompileCondition compiles src in the condition language. stepIDs are the
// steps whose outputs it may read (steps.<id>.output): in a playbook, the
// steps the condition's step transitively needs; nil allows none. Beyond
// names and types it checks the static bounds: at most MaxConditionNodes
// syntax nodes, predicates nested at most MaxPredicateDepth deep, and an
// estimated cost (Cost) of at most MaxConditionCost. Every error is a
// *ConditionError.
func CompileCondition(src string, stepIDs []string) (*Condition, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &ConditionError{Msg: "condition is empty"}
	}
	if len(src) > MaxConditionLength {
		return nil, &ConditionError{Msg: fmt.Sprintf("condition is longer than %d characters", MaxConditionLength)}
	}
	g := &guard{src: src, steps: stepIDs}
	opts := []expr.Option{
		expr.Env(runEnv{}),
		expr.AsBool(),
		expr.DisableAllBuiltins(),
		expr.MaxNodes(MaxConditionNodes),
		expr.Function("severity_rank", rankFunc("severity", severityRank), new(func(string) int)),
		expr.Function("tlp_rank", rankFunc("TLP", tlpRank), new(func(string) int)),
		expr.Function(deadlineFunc, tick, new(func(*deadline, bool) bool)),
		expr.Patch(g),
		expr.Patch(deadlinePatch{}),
	}
	for _, b := range allowedBuiltins {
		opts = append(opts, expr.EnableBuiltin(b))
	}
	prog, err := expr.Compile(src, opts...)
	if g.err != nil {
		return nil, g.err
	}
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, &ConditionError{Line: fe.Line, Column: fe.Column + 1, Msg: "condition: " + fe.Message}
		}
		return nil, &ConditionError{Msg: "condition: " + err.Error()}
	}
	// The compiled tree carries the patches; the bounds are about what
	// the author wrote, so they are measured on a fresh parse (which
	// succeeds: the source just compiled).
	tree, err := exprparser.Parse(src)
	if err != nil {
		return nil, &ConditionError{Msg: "condition: " + err.Error()}
	}
	cost, lerr := estimate(tree.Node)
	if lerr != nil {
		g.fail(lerr.node, "%s", lerr.msg)
		return nil, g.err
	}
	return &Condition{Source: src, program: prog, cost: cost}, nil
}

// Eval evaluates the condition against env, within MaxConditionTime and
// ctx's deadline: an evaluation that runs past either, or whose ctx is
// done, stops with an error that wraps ErrConditionTimeout. A nil
// condition is true.
func (c *Condition) Eval(ctx context.Context, env Env) (bool, error) {
	if c == nil {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("evaluate %q: %w: %w", c.Source, ErrConditionTimeout, err)
	}
	d := &deadline{ctx: ctx, until: time.Now().Add(MaxConditionTime)}
	out, err := expr.Run(c.program, runEnv{Env: env, Deadline: d})
	if err != nil {
		return false, fmt.Errorf("evaluate %q: %w", c.Source, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("evaluate %q: result is not a boolean", c.Source)
	}
	return b, nil
}

// severityRank orders severities: low 0 … critical 3.
func severityRank(s string) (int, bool) {
	r := incident.Severity(strings.ToLower(s)).Rank()
	return r, r >= 0
}

// tlpRank orders TLP labels by restriction: TLP:CLEAR 0, TLP:GREEN 1,
// TLP:AMBER 2, TLP:AMBER+STRICT 3, TLP:RED 4. A label may omit "TLP:".
func tlpRank(s string) (int, bool) {
	t, ok := incident.ParseTLP(s)
	if !ok {
		return -1, false
	}
	return len(incident.TLPs) - 1 - slices.Index(incident.TLPs, t), true
}

func rankFunc(what string, rank func(string) (int, bool)) func(...any) (any, error) {
	return func(params ...any) (any, error) {
		s, _ := params[0].(string)
		r, ok := rank(s)
		if !ok {
			return nil, fmt.Errorf("unknown %s %q", what, s)
		}
		return r, nil
	}
}

// guard rewrites ordered comparisons of severity and tlp into comparisons
// of their ranks, checks the literals they are compared with, refuses
// ranges (which could allocate without bound), and checks steps.<id>
// references. It keeps the first problem.
type guard struct {
	src   string
	steps []string
	err   *ConditionError
}

func (g *guard) fail(n ast.Node, format string, args ...any) {
	if g.err == nil {
		line, col := 1, 1
		for i, r := range g.src {
			if i >= n.Location().From {
				break
			}
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		g.err = &ConditionError{Line: line, Column: col, Msg: "condition: " + fmt.Sprintf(format, args...)}
	}
}

func (g *guard) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		switch n.Value {
		case deadlineVar, deadlineFunc, "$env":
			g.fail(n, "unknown name %s", n.Value)
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "..":
			g.fail(n, "ranges are not allowed")
		case "<", "<=", ">", ">=":
			g.ordered(n)
		}
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "steps" {
			p, ok := n.Property.(*ast.StringNode)
			if !ok {
				g.fail(n, "steps must be indexed by a step id")
				return
			}
			if !slices.Contains(g.steps, p.Value) {
				g.fail(n, "steps.%s: not a step this one needs (directly or through needs), so it has no output here", p.Value)
			}
		}
	}
}

func (g *guard) ordered(n *ast.BinaryNode) {
	var fn string
	var rank func(string) (int, bool)
	for _, side := range []ast.Node{n.Left, n.Right} {
		if id, ok := side.(*ast.IdentifierNode); ok {
			switch id.Value {
			case "severity":
				fn, rank = "severity_rank", severityRank
			case "tlp":
				fn, rank = "tlp_rank", tlpRank
			}
		}
	}
	if fn == "" {
		return
	}
	for _, side := range []*ast.Node{&n.Left, &n.Right} {
		if s, ok := (*side).(*ast.StringNode); ok {
			if _, ok := rank(s.Value); !ok {
				g.fail(s, "unknown %s %q", strings.TrimSuffix(fn, "_rank"), s.Value)
				return
			}
		}
		callee := &ast.IdentifierNode{Value: fn}
		callee.SetLocation((*side).Location())
		ast.Patch(side, &ast.CallNode{Callee: callee, Arguments: []ast.Node{*side}})
	}
}
