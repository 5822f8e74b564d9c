package playbook

import (
	"fmt"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"

	"github.com/certdesk/certdesk/internal/incident"
)

// The static bounds of a condition, checked when a playbook is validated
// (docs/playbooks.md, "Cost limits"). Predicates (any, all, none, one,
// count) are the only loops of the condition language; nesting them
// multiplies their iterations, so both the nesting and the estimated cost
// are bounded.
const (
	// MaxPredicateDepth bounds how deeply predicates nest: any(tags, …)
	// is depth 1, any(tags, any(tags, …)) depth 2.
	MaxPredicateDepth = 2
	// MaxConditionCost bounds a condition's estimated cost (Cost).
	MaxConditionCost = 25_000
	// AssumedListLength is the number of items the cost estimate assumes
	// for a list whose length the validator cannot know: a step's output,
	// a variable, the item of an outer predicate. tags counts
	// incident.MaxTags items and a list literal its own items.
	AssumedListLength = 50
)

// Cost is the static estimate of what evaluating a condition costs: every
// syntax node counts 1 each time it is evaluated; a predicate's body is
// evaluated once per item of its list, and `x in list` scans the list.
// Predicates that stop early (any, all, none) are counted in full.
type Cost struct {
	// Units is the estimated number of node evaluations.
	Units int
	// Depth is the deepest nesting of predicates.
	Depth int
}

// limitError is a bound a condition breaks, at the node that breaks it.
type limitError struct {
	node ast.Node
	msg  string
}

// estimate computes the cost of a condition's syntax tree and the first
// bound it breaks (depth first, then cost), or nil.
func estimate(tree ast.Node) (Cost, *limitError) {
	e := &estimator{}
	units := e.cost(tree, 0)
	c := Cost{Units: units, Depth: e.maxDepth}
	if e.tooDeep != nil {
		return c, &limitError{node: e.tooDeep, msg: fmt.Sprintf(
			"predicates are nested %d deep (a predicate inside a predicate inside …); at most %d are allowed, because each level multiplies the work by the length of its list",
			e.maxDepth, MaxPredicateDepth)}
	}
	if units > MaxConditionCost {
		at := e.costliest
		if at == nil {
			at = tree
		}
		return c, &limitError{node: at, msg: fmt.Sprintf(
			"estimated cost %d is over the limit of %d (a predicate over tags counts %d items, over another list %d; nested predicates multiply): nest fewer predicates or test fewer things inside them",
			units, MaxConditionCost, incident.MaxTags, AssumedListLength)}
	}
	return c, nil
}

// ConditionCost parses src and returns its estimated cost, whether or not
// it is within the bounds. It returns an error when src does not parse.
func ConditionCost(src string) (Cost, error) {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return Cost{}, fmt.Errorf("parse condition: %w", err)
	}
	c, _ := estimate(tree.Node)
	return c, nil
}

type estimator struct {
	maxDepth    int
	tooDeep     ast.Node // the first predicate nested deeper than allowed
	costliest   ast.Node // the outermost predicate with the highest cost
	costliestAt int
}

// cost returns the units of n evaluated once, at predicate depth depth.
func (e *estimator) cost(n ast.Node, depth int) int {
	if n == nil {
		return 0
	}
	switch n := n.(type) {
	case *ast.BuiltinNode:
		pred := -1
		for i, a := range n.Arguments {
			if _, ok := a.(*ast.PredicateNode); ok {
				pred = i
			}
		}
		if pred < 0 || len(n.Arguments) == 0 {
			break
		}
		level := depth + 1
		e.maxDepth = max(e.maxDepth, level)
		if level > MaxPredicateDepth && e.tooDeep == nil {
			e.tooDeep = n
		}
		units := 1
		for i, a := range n.Arguments {
			if i != pred {
				units += e.cost(a, depth)
			}
		}
		units += listLength(n.Arguments[0]) * e.cost(n.Arguments[pred], level)
		if depth == 0 && (e.costliest == nil || units > e.costliestAt) {
			e.costliest, e.costliestAt = n, units
		}
		return units
	case *ast.BinaryNode:
		if n.Operator == "in" || n.Operator == "not in" {
			return 1 + e.cost(n.Left, depth) + e.cost(n.Right, depth) + listLength(n.Right)
		}
	}
	units := 1
	for _, c := range children(n) {
		units += e.cost(c, depth)
	}
	return units
}

// listLength is the number of items the estimate assumes for the list n.
func listLength(n ast.Node) int {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if n.Value == "tags" {
			return incident.MaxTags
		}
	case *ast.ArrayNode:
		return len(n.Nodes)
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode:
		return 1
	}
	return AssumedListLength
}

// children lists the direct children of n, as ast.Walk visits them.
func children(n ast.Node) []ast.Node {
	switch n := n.(type) {
	case *ast.UnaryNode:
		return []ast.Node{n.Node}
	case *ast.BinaryNode:
		return []ast.Node{n.Left, n.Right}
	case *ast.ChainNode:
		return []ast.Node{n.Node}
	case *ast.MemberNode:
		return []ast.Node{n.Node, n.Property}
	case *ast.SliceNode:
		return []ast.Node{n.Node, n.From, n.To}
	case *ast.CallNode:
		return append([]ast.Node{n.Callee}, n.Arguments...)
	case *ast.BuiltinNode:
		return n.Arguments
	case *ast.PredicateNode:
		return []ast.Node{n.Node}
	case *ast.VariableDeclaratorNode:
		return []ast.Node{n.Value, n.Expr}
	case *ast.SequenceNode:
		return n.Nodes
	case *ast.ConditionalNode:
		return []ast.Node{n.Cond, n.Exp1, n.Exp2}
	case *ast.ArrayNode:
		return n.Nodes
	case *ast.MapNode:
		out := make([]ast.Node, len(n.Pairs))
		copy(out, n.Pairs)
		return out
	case *ast.PairNode:
		return []ast.Node{n.Key, n.Value}
	}
	return nil
}
