package playbook_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	exprparser "github.com/expr-lang/expr/parser"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/playbook"
)

// fuzzEnv is the environment FuzzCondition evaluates against: an incident
// with tags and the output of step "a", holding lists as long as the cost
// estimate assumes, nested maps and values of every JSON type.
func fuzzEnv() playbook.Env {
	e := env(func(i *incident.Incident) { i.Tags = []string{"ransomware", "lateral-movement", "exfiltration"} })
	items := make([]any, playbook.AssumedListLength)
	for i := range items {
		items[i] = map[string]any{"n": float64(i), "name": fmt.Sprintf("host-%d", i), "hit": i%3 == 0}
	}
	e.Steps = map[string]playbook.StepResult{"a": {Output: map[string]any{
		"items": items, "count": float64(12), "ok": true, "name": "x", "none": nil,
		"nested": map[string]any{"deep": []any{"a", float64(1), true, nil}},
	}}}
	return e
}

// FuzzCondition: no source makes CompileCondition or Eval panic. A source
// that does not compile gets a *ConditionError with a message and a
// position inside the source; one that compiles is within the static
// bounds, evaluates to the same answer twice (or fails, or stops at its
// deadline), and its syntax tree printed back compiles to a condition with
// the same answer (parse, format, parse).
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`severity >= "high"`, `"medium" < severity`, `tlp >= "amber+strict"`, `tlp > "white"`,
		`severity in ["high", "critical"]`, `"ransomware" in tags`, `flags.personal_data_breach || flags.significant`,
		`!flags.significant && stage == "response" && status == "open"`, `severity_rank(severity) >= 2`,
		`tlp_rank(tlp) > tlp_rank("TLP:GREEN")`, `any(tags, # startsWith "ran")`, `count(tags, len(#) > 3) >= 2`,
		`all(steps.a.output.items, any(tags, # == "x") || true)`, `steps.a.output.count > 10 && steps.a.output.ok`,
		`steps["a"].output.nested.deep[0] == "a"`, `none(steps.a.output.items, #.hit)`, `one(tags, hasPrefix(#, "lat"))`,
		`lower(category) == "malicious-code" and upper(type) != ""`, `trim(reporting_org) == coordinating_org`,
		`steps.a.output.name matches "^x$"`, `steps.a.output.missing == nil`, `severity >= "urgent"`, `severity > 2`,
		`severity >=`, `steps.x.output.y == 1`, `steps[type].output == nil`, `all(1..1000000000, # > 0)`,
		`$tick($deadline, true)`, `let x = tags; len(x) > 0`, `tags[0] == "ransomware"`, `tags[-1:] == ["exfiltration"]`,
		`steps.a.output.items[49].n == 49`, `steps.a.output.count / 0 > 1`, `"a" + "b" == "ab"`, "severity ==\n\t\"high\"",
		`(severity >= "high") ? true : false`, `steps.a.output?.count ?? 0 > 1`, `"\u00e9" in tags`, `# > 1`,
	} {
		f.Add(s)
	}
	e := fuzzEnv()
	f.Fuzz(func(t *testing.T, src string) {
		c, err := playbook.CompileCondition(src, []string{"a"})
		if err != nil {
			var ce *playbook.ConditionError
			if !errors.As(err, &ce) || strings.TrimSpace(ce.Msg) == "" {
				t.Fatalf("CompileCondition(%q) failed without a ConditionError: %#v", src, err)
			}
			if ce.Line < 0 || ce.Column < 0 || ce.Line > strings.Count(src, "\n")+1 {
				t.Fatalf("CompileCondition(%q): position %d:%d is outside the source", src, ce.Line, ce.Column)
			}
			return
		}
		if cost := c.Cost(); cost.Units > playbook.MaxConditionCost || cost.Depth > playbook.MaxPredicateDepth {
			t.Fatalf("%q compiled past the bounds: %+v", src, cost)
		}
		got, err := c.Eval(t.Context(), e)
		again, err2 := c.Eval(t.Context(), e)
		if (err == nil) != (err2 == nil) || got != again {
			if !errors.Is(err, playbook.ErrConditionTimeout) && !errors.Is(err2, playbook.ErrConditionTimeout) {
				t.Fatalf("%q: two evaluations differ: %v %v / %v %v", src, got, err, again, err2)
			}
		}
		tree, perr := exprparser.Parse(src)
		if perr != nil {
			t.Fatalf("%q compiled but does not parse: %v", src, perr)
		}
		printed := tree.Node.String()
		c2, err3 := playbook.CompileCondition(printed, []string{"a"})
		if err3 != nil {
			// The printer may write a longer source than the author's.
			if len(printed) > playbook.MaxConditionLength {
				return
			}
			t.Fatalf("%q prints as %q, which does not compile: %v", src, printed, err3)
		}
		got2, err4 := c2.Eval(t.Context(), e)
		if err == nil && err4 == nil && got != got2 {
			t.Fatalf("%q is %v but its printed form %q is %v", src, got, printed, got2)
		}
	})
}
