package playbook

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/certdesk/certdesk/internal/incident"
)

// MaxFileSize bounds the size of a playbook file.
const MaxFileSize = 1 << 20

// Source is one playbook file to load.
type Source struct {
	Name string // shown in errors
	Data []byte
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Load loads every *.yaml file at the top of fsys (in name order). It
// returns the playbooks that are valid and, when any file has a problem,
// an Errors with every problem of every file. Playbook ids must be unique
// across the files.
func Load(fsys fs.FS) ([]*Playbook, error) {
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("list playbooks: %w", err)
	}
	srcs := make([]Source, 0, len(names))
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("read playbook %s: %w", n, err)
		}
		srcs = append(srcs, Source{Name: n, Data: data})
	}
	return LoadSources(srcs)
}

// LoadSources parses and validates srcs as one set of playbooks, like Load.
func LoadSources(srcs []Source) ([]*Playbook, error) {
	var all Errors
	var pbs []*Playbook
	seen := map[string]string{}
	for _, src := range srcs {
		pb, errs := Parse(src.Name, src.Data)
		if pb != nil && pb.ID != "" {
			if other, dup := seen[pb.ID]; dup {
				errs = append(errs, &Error{File: src.Name, Line: pb.idPos.Line, Column: pb.idPos.Column,
					Msg: fmt.Sprintf("playbook id %q is already used by %s", pb.ID, other)})
			} else {
				seen[pb.ID] = src.Name
			}
		}
		if len(errs) > 0 {
			all = append(all, errs...)
			continue
		}
		pbs = append(pbs, pb)
	}
	if len(all) > 0 {
		all.sort()
		return pbs, all
	}
	return pbs, nil
}

// Parse parses and validates one playbook file. It returns what it could
// parse and every problem found, sorted by position; the playbook is valid
// only when there are none.
func Parse(name string, data []byte) (*Playbook, Errors) {
	p := &parser{file: name}
	pb := p.parse(data)
	p.errs.sort()
	return pb, p.errs
}

type parser struct {
	file string
	errs Errors
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 1, 1
	if n != nil && n.Line > 0 {
		line, col = n.Line, n.Column
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)})
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *parser) parse(data []byte) *Playbook {
	if len(data) > MaxFileSize {
		p.errorf(nil, "file is larger than %d bytes", MaxFileSize)
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		line := 1
		if m := yamlErrLine.FindStringSubmatch(strings.SplitN(msg, "\n", 2)[0]); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: 1, Msg: "invalid YAML: " + msg})
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorf(nil, "file is empty")
		return nil
	}
	if !p.noAliases(&doc) {
		return nil
	}
	root := doc.Content[0]
	pb := &Playbook{File: p.file, Source: data, Hash: HashSource(data)}
	var steps, triggers *yaml.Node
	p.mapping(root, "playbook", map[string]func(k, v *yaml.Node){
		"id": func(_, v *yaml.Node) {
			pb.ID = p.ident(v, "id")
			pb.idPos = Pos{v.Line, v.Column}
		},
		"name":        func(_, v *yaml.Node) { pb.Name = p.str(v, "name", true) },
		"description": func(_, v *yaml.Node) { pb.Description = p.str(v, "description", false) },
		"version": func(_, v *yaml.Node) {
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
				p.errorf(v, "version must be a positive integer")
				return
			}
			n, err := strconv.Atoi(v.Value)
			if err != nil || n < 1 {
				p.errorf(v, "version must be a positive integer")
				return
			}
			pb.Version = n
		},
		"triggers": func(_, v *yaml.Node) { triggers = v },
		"steps":    func(_, v *yaml.Node) { steps = v },
	}, "id", "name", "version", "triggers", "steps")
	if root.Kind != yaml.MappingNode {
		return pb
	}
	raw := p.steps(pb, steps)
	p.triggers(pb, triggers)
	p.checkSteps(pb, raw)
	return pb
}

// noAliases refuses anchors and aliases: they are not needed and an alias
// can expand a small file into a huge document.
func (p *parser) noAliases(n *yaml.Node) bool {
	ok := true
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			p.errorf(n, "YAML anchors and aliases are not allowed in playbooks")
			ok = false
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return ok
}

// mapping walks a mapping node: every key must be one of fields, none may
// repeat, and every required key must be present.
func (p *parser) mapping(n *yaml.Node, what string, fields map[string]func(k, v *yaml.Node), required ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping", what)
		return nil
	}
	got := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be strings", what)
			continue
		}
		if _, dup := got[k.Value]; dup {
			p.errorf(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		got[k.Value] = k
		f, ok := fields[k.Value]
		if !ok {
			p.errorf(k, "%s: unknown key %q (known keys: %s)", what, k.Value, keys(fields))
			continue
		}
		f(k, v)
	}
	for _, r := range required {
		if _, ok := got[r]; !ok {
			p.errorf(n, "%s: missing required key %q", what, r)
		}
	}
	return got
}

func keys[V any](m map[string]V) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func (p *parser) str(n *yaml.Node, what string, required bool) string {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.errorf(n, "%s must be a string", what)
		return ""
	}
	if required && strings.TrimSpace(n.Value) == "" {
		p.errorf(n, "%s must not be empty", what)
	}
	return n.Value
}

func (p *parser) ident(n *yaml.Node, what string) string {
	s := p.str(n, what, true)
	if s != "" && !idPattern.MatchString(s) {
		p.errorf(n, "%s %q must be lower-case letters, digits, '-' or '_' (at most 63)", what, s)
		return ""
	}
	return s
}

func (p *parser) enum(n *yaml.Node, what string, values []string) string {
	s := p.str(n, what, true)
	if s != "" && !slices.Contains(values, s) {
		p.errorf(n, "%s %q is not one of: %s", what, s, strings.Join(values, ", "))
		return ""
	}
	return s
}

func (p *parser) duration(n *yaml.Node, what string) time.Duration {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		p.errorf(n, "%s must be a duration such as 30m, 2h or 3d", what)
		return 0
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		p.errorf(n, "%s: %v (want a duration such as 30m, 2h or 3d)", what, err)
	}
	return d
}

func (p *parser) condition(n *yaml.Node, what string, stepIDs []string) *Condition {
	src := p.str(n, what, true)
	if src == "" {
		return nil
	}
	c, err := CompileCondition(src, stepIDs)
	if err != nil {
		ce := err.(*ConditionError)
		line, col := n.Line, n.Column
		switch {
		case ce.Line == 1 && ce.Column > 0 && (n.Style == 0 || n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle):
			col += ce.Column - 1
			if n.Style != 0 {
				col++
			}
		case ce.Line > 0 && (n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle):
			line += ce.Line
		}
		p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: col, Msg: what + ": " + strings.TrimPrefix(ce.Msg, "condition: ")})
		return nil
	}
	return c
}

func stageNames() []string {
	s := make([]string, len(incident.Stages))
	for i, st := range incident.Stages {
		s[i] = string(st)
	}
	return s
}

func (p *parser) triggers(pb *Playbook, n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "triggers must be a non-empty list")
		return
	}
	for _, tn := range n.Content {
		t := Trigger{Pos: Pos{tn.Line, tn.Column}}
		p.mapping(tn, "trigger", map[string]func(k, v *yaml.Node){
			"on":   func(_, v *yaml.Node) { t.On = p.enum(v, "trigger event", Events) },
			"when": func(_, v *yaml.Node) { t.When = p.condition(v, "when", nil) },
		}, "on")
		pb.Triggers = append(pb.Triggers, t)
	}
}

// rawStep keeps the nodes of a step that are checked once all steps are known.
type rawStep struct {
	node, id, needs, when, action, with, onFailure, onTimeout *yaml.Node
}

func (p *parser) steps(pb *Playbook, n *yaml.Node) []rawStep {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "steps must be a non-empty list")
		return nil
	}
	raws := make([]rawStep, 0, len(n.Content))
	for _, sn := range n.Content {
		s := Step{Pos: Pos{sn.Line, sn.Column}, OnFailure: Fail, OnTimeout: Fail, Retry: Retry{Attempts: 1}}
		r := rawStep{node: sn}
		p.mapping(sn, "step", map[string]func(k, v *yaml.Node){
			"id":    func(_, v *yaml.Node) { s.ID = p.ident(v, "step id"); r.id = v },
			"stage": func(_, v *yaml.Node) { s.Stage = p.enum(v, "stage", stageNames()) },
			"needs": func(_, v *yaml.Node) {
				r.needs = v
				if v.Kind != yaml.SequenceNode {
					p.errorf(v, "needs must be a list of step ids")
					return
				}
				for _, e := range v.Content {
					if id := p.str(e, "needs entry", true); id != "" {
						s.Needs = append(s.Needs, id)
					}
				}
			},
			"when":   func(_, v *yaml.Node) { r.when = v },
			"action": func(_, v *yaml.Node) { s.Action = p.enum(v, "action", actionNames()); r.action = v },
			"with":   func(_, v *yaml.Node) { r.with = v },
			"retry": func(_, v *yaml.Node) {
				p.mapping(v, "retry", map[string]func(k, v *yaml.Node){
					"attempts": func(_, v *yaml.Node) {
						n, err := strconv.Atoi(v.Value)
						if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || err != nil || n < 1 || n > 20 {
							p.errorf(v, "retry attempts must be an integer from 1 to 20")
							return
						}
						s.Retry.Attempts = n
					},
					"backoff": func(_, v *yaml.Node) { s.Retry.Backoff = p.duration(v, "retry backoff") },
				}, "attempts")
			},
			"timeout":    func(_, v *yaml.Node) { s.Timeout = p.duration(v, "timeout") },
			"on_failure": func(_, v *yaml.Node) { s.OnFailure = p.str(v, "on_failure", true); r.onFailure = v },
			"on_timeout": func(_, v *yaml.Node) { s.OnTimeout = p.str(v, "on_timeout", true); r.onTimeout = v },
		}, "id", "action")
		pb.Steps = append(pb.Steps, s)
		raws = append(raws, r)
	}
	return raws
}

// checkSteps checks what needs every step: unique ids, references, cycles,
// conditions and action parameters.
func (p *parser) checkSteps(pb *Playbook, raws []rawStep) {
	ids := map[string]int{}
	var stepIDs []string
	for i, s := range pb.Steps {
		if s.ID == "" {
			continue
		}
		if _, dup := ids[s.ID]; dup {
			p.errorf(raws[i].id, "duplicate step id %q", s.ID)
			continue
		}
		if s.ID == Fail || s.ID == Continue {
			p.errorf(raws[i].id, "step id %q is reserved", s.ID)
		}
		ids[s.ID] = i
		stepIDs = append(stepIDs, s.ID)
	}
	for i := range pb.Steps {
		s, r := &pb.Steps[i], raws[i]
		if r.needs != nil && r.needs.Kind == yaml.SequenceNode {
			for _, e := range r.needs.Content {
				switch {
				case e.Value == s.ID:
					p.errorf(e, "step %q needs itself", s.ID)
				case e.Tag == "!!str" && e.Value != "":
					if _, ok := ids[e.Value]; !ok {
						p.errorf(e, "needs: unknown step %q", e.Value)
					}
				}
			}
		}
		for _, o := range []struct {
			node *yaml.Node
			val  string
			what string
		}{{r.onFailure, s.OnFailure, "on_failure"}, {r.onTimeout, s.OnTimeout, "on_timeout"}} {
			if o.node == nil || o.val == "" || o.val == Fail || o.val == Continue {
				continue
			}
			if _, ok := ids[o.val]; !ok {
				p.errorf(o.node, "%s must be fail, continue or a step id; there is no step %q", o.what, o.val)
			} else if o.val == s.ID {
				p.errorf(o.node, "%s of step %q names the step itself", o.what, s.ID)
			}
		}
		if r.when != nil {
			s.When = p.condition(r.when, "when", ancestors(pb, ids, i))
		}
		if s.Action != "" {
			s.With = p.params(pb, s, r.with, r.node)
		} else if r.with != nil {
			s.With = nil
		}
	}
	p.cycles(pb, raws, ids)
}

// cycles reports each cycle in needs once, at the step that closes it.
func (p *parser) cycles(pb *Playbook, raws []rawStep, ids map[string]int) {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(pb.Steps))
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, need := range pb.Steps[i].Needs {
			j, ok := ids[need]
			if !ok || j == i {
				continue
			}
			switch color[j] {
			case white:
				visit(j)
			case grey:
				k := slices.Index(stack, j)
				path := make([]string, 0, len(stack)-k+1)
				for _, x := range stack[k:] {
					path = append(path, pb.Steps[x].ID)
				}
				path = append(path, pb.Steps[j].ID)
				n := raws[i].needs
				if n == nil {
					n = raws[i].node
				}
				p.errorf(n, "cycle in needs: %s", strings.Join(path, " → "))
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range pb.Steps {
		if color[i] == white && pb.Steps[i].ID != "" {
			visit(i)
		}
	}
}

// value converts a YAML node to plain Go values.
func value(n *yaml.Node) any {
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = value(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			l = append(l, value(c))
		}
		return l
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return n.Value
		}
		return v
	}
	return nil
}

// ancestors lists the steps step i transitively needs: the only steps whose
// outputs exist when its condition is evaluated.
func ancestors(pb *Playbook, ids map[string]int, i int) []string {
	seen := map[int]bool{}
	var out []string
	var walk func(j int)
	walk = func(j int) {
		for _, n := range pb.Steps[j].Needs {
			k, ok := ids[n]
			if !ok || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, n)
			walk(k)
		}
	}
	walk(i)
	return out
}
