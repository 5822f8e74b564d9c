package escalation

import (
	"context"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
)

// Step is one thing a policy does to an incident nobody acknowledges: a
// rule firing at one level of the tree.
type Step struct {
	Rule   string
	Level  int
	After  time.Duration // after the incident was reported, if every earlier level fired on time
	Action Action
	Kind   Kind // for ActionEscalate
	To     org.Organization
}

// Plan lists, in order of time, what pol does to inc when nobody
// acknowledges it: for each rule whose condition matches, the first
// level when it falls due, and with repeat_up each CERT further up the
// same time later. chain is the reporting organisation and the
// organisations above it, nearest first (OrgChain); named holds the
// organisations that rules name by slug. A TLP:RED incident gets no
// steps (redNote), and a rule whose target is not on the incident's
// ladder does nothing, as the timers do: both use resolveTarget,
// nextRung and Condition.Matches.
func Plan(pol *Policy, inc *incident.Incident, chain []org.Organization, named map[string]org.Organization) []Step {
	if inc.TLP == incident.TLPRed || len(chain) == 0 {
		return nil
	}
	ladder := rungs(chain)
	var out []Step
	for _, r := range pol.Rules {
		if !r.When.Matches(inc) {
			continue
		}
		var byslug *org.Organization
		if o, ok := named[r.To]; ok {
			byslug = &o
		}
		target := resolveTarget(ladder, r.To, byslug)
		for level := 1; target != nil; level++ {
			out = append(out, Step{Rule: r.Name, Level: level, After: time.Duration(level) * r.After, Action: r.Action,
				Kind: r.Kind, To: *target})
			if !r.RepeatUp || r.After == 0 {
				break
			}
			target = nextRung(ladder, target.ID)
		}
	}
	slices.SortStableFunc(out, func(a, b Step) int { return int(a.After - b.After) })
	return out
}

// resolveTarget resolves a rule's "to" for level 1 on the ladder: nil
// when the ladder has no such organisation (a national CERT reporting has
// no parent). byslug is the organisation a slug names (nil if none).
func resolveTarget(ladder []org.Organization, to string, byslug *org.Organization) *org.Organization {
	switch to {
	case ToParent:
		if len(ladder) > 0 {
			return &ladder[0]
		}
		return nil
	case ToNational:
		for i := range ladder {
			if ladder[i].Kind == org.NationalCERT {
				return &ladder[i]
			}
		}
		return nil
	}
	if byslug == nil {
		return nil
	}
	if byslug.Kind == org.Partner {
		return byslug
	}
	for i := range ladder {
		if ladder[i].ID == byslug.ID {
			return &ladder[i]
		}
	}
	return nil // a CERT that is not above the reporter: not this incident's ladder
}

// checkTargets checks the rules' targets named by slug: each must be a
// CERT or a partner (Invalid naming rules[i].to). It returns the
// organisations named.
func checkTargets(ctx context.Context, tx Tx, pol *Policy) (map[string]org.Organization, error) {
	var fs apperr.Fields
	named := map[string]org.Organization{}
	for i, r := range pol.Rules {
		if r.To == ToParent || r.To == ToNational {
			continue
		}
		t, err := tx.OrgBySlug(ctx, r.To)
		switch {
		case apperr.Is(err, apperr.NotFound):
			fs.Add(fieldAt(i, "to"), "exists", "no organisation has the slug %q", r.To)
		case err != nil:
			return nil, err
		case !t.Kind.IsCERT() && t.Kind != org.Partner:
			fs.Add(fieldAt(i, "to"), "target", "%s is a %s: a rule escalates to a CERT or a partner", t.Slug, t.Kind)
		default:
			named[r.To] = *t
		}
	}
	return named, fs.Err()
}

// Preview is what a policy would do to an incident nobody acknowledges.
type Preview struct {
	// Org is the organisation whose policy it is.
	Org org.Organization
	// Constituency is true when Org is a CERT: the preview is of an
	// incident reported by an organisation directly below it.
	Constituency bool
	Steps        []Step
}

// PreviewPolicy validates pol as SetPolicy would (targets by slug
// included) and returns what it would do, if it governed them, to an
// incident like sample (its severity, flags and TLP count) reported by
// the organisation slug, or, for a CERT, by an organisation directly
// below it. It changes nothing. Who may read the organisation's policy
// may preview one (GetPolicy's errors).
func (s *Service) PreviewPolicy(ctx context.Context, p access.Principal, slug string, pol *Policy, sample incident.Incident) (*Preview, error) {
	var out *Preview
	err := s.store.InEscalationTx(ctx, func(ctx context.Context, tx Tx) error {
		o, err := policyOrg(ctx, tx, p, slug)
		if err != nil {
			return err
		}
		if err := p.Require(access.ReadIncident); err != nil {
			return err
		}
		named, err := checkTargets(ctx, tx, pol)
		if err != nil {
			return err
		}
		chain, err := tx.OrgChain(ctx, o.ID)
		if err != nil {
			return err
		}
		out = &Preview{Org: *o, Constituency: o.Kind.IsCERT()}
		if out.Constituency {
			// The reporter below the CERT: only its place on the ladder
			// matters.
			chain = append([]org.Organization{{Kind: org.LocalAuthority}}, chain...)
		}
		out.Steps = Plan(pol, &sample, chain, named)
		return nil
	})
	return out, err
}
