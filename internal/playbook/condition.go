package playbook

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/certdesk/certdesk/internal/incident"
)

// MaxConditionNodes bounds the size of a condition's syntax tree.
const MaxConditionNodes = 100

// MaxConditionLength bounds the length of a condition's source.
const MaxConditionLength = 1000

// Condition is a compiled `when` expression.
type Condition struct {
	Source  string
	program *vm.Program
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
// steps the condition's step transitively needs; nil allows none.
func CompileCondition(src string, stepIDs []string) (*Condition, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &ConditionError{Msg: "condition is empty"}
	}
	if len(src) > MaxConditionLength {
		return nil, &ConditionError{Msg: fmt.Sprintf("condition is longer than %d characters", MaxConditionLength)}
	}
	g := &guard{src: src, steps: stepIDs}
	opts := []expr.Option{
		expr.Env(Env{}),
		expr.AsBool(),
		expr.DisableAllBuiltins(),
		expr.MaxNodes(MaxConditionNodes),
		expr.Function("severity_rank", rankFunc("severity", severityRank), new(func(string) int)),
		expr.Function("tlp_rank", rankFunc("TLP", tlpRank), new(func(string) int)),
		expr.Patch(g),
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
	return &Condition{Source: src, program: prog}, nil
}

// Eval evaluates the condition against env. A nil condition is true.
func (c *Condition) Eval(env Env) (bool, error) {
	if c == nil {
		return true, nil
	}
	out, err := expr.Run(c.program, env)
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
