package escalation

import (
	"context"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
)

// Refusal says why an organisation may not be asked about an incident.
type Refusal string

// The refusals of Targets. Request refuses the same organisations for the
// same reasons (resolveTarget and admit).
const (
	// RefusedSelf: the requesting organisation itself.
	RefusedSelf Refusal = "self"
	// RefusedCoordinates: it coordinates the incident already.
	RefusedCoordinates Refusal = "coordinates"
	// RefusedNotAbove: neither a CERT above the reporting or coordinating
	// organisation nor a partner.
	RefusedNotAbove Refusal = "not_above"
	// RefusedRed: a TLP:RED incident is not escalated to organisations.
	RefusedRed Refusal = "tlp_red"
	// RefusedNeedsShare: a partner sees a TLP:AMBER incident only when it
	// is shared with it first.
	RefusedNeedsShare Refusal = "needs_share"
	// RefusedOpen: a request to it is still open.
	RefusedOpen Refusal = "open"
)

// Target is one organisation of the directory as a receiver of an
// escalation of one incident: whether it may be asked, for which kinds,
// and why not.
type Target struct {
	Org org.Organization
	// Kinds are what it may be asked to do (empty when Refused is set).
	Kinds   []Kind
	Refused Refusal
	// JoinsCircle: the incident is TLP:AMBER+STRICT and the organisation
	// is outside its circle; asking it needs the requester's confirmation
	// that it joins (Ask.JoinsStrictCircle).
	JoinsCircle bool
	// Parent: it is the nearest CERT above the coordinating organisation
	// (the reporting one while unrouted), which Request's "parent" names.
	Parent bool
}

// Targets tells, for each organisation of dir (the directory as p sees
// it), whether p's organisation may escalate inc to it and for which
// kinds, by the rules Request applies. inc is the incident as read for p.
// The answer is advice for a form: Request decides again.
//
// Errors: apperr.Forbidden when p may not escalate the incident (the
// write table's incident.escalate).
func (s *Service) Targets(ctx context.Context, p access.Principal, inc *incident.Incident, dir []org.Organization) ([]Target, error) {
	if err := p.RequireWrite(access.EscalateIncident, inc.Relations); err != nil {
		return nil, err
	}
	out := make([]Target, 0, len(dir))
	err := s.store.InEscalationTx(ctx, func(ctx context.Context, tx Tx) error {
		out = out[:0]
		base := inc.ReportingOrgID
		if inc.CoordinatingOrgID != nil {
			base = *inc.CoordinatingOrgID
		}
		baseChain, err := tx.OrgChain(ctx, base)
		if err != nil {
			return err
		}
		repChain, err := tx.OrgChain(ctx, inc.ReportingOrgID)
		if err != nil {
			return err
		}
		var parent *org.Organization
		for i := range baseChain[1:] {
			if baseChain[1+i].Kind.IsCERT() {
				parent = &baseChain[1+i]
				break
			}
		}
		for i := range dir {
			o := &dir[i]
			t := Target{Org: *o, Parent: parent != nil && parent.ID == o.ID}
			t.Refused = targetRefusal(inc, p.OrgID, o)
			if t.Refused == "" && o.Kind != org.Partner && !aboveIncident(o, repChain, baseChain) {
				t.Refused = RefusedNotAbove
			}
			if t.Refused == "" {
				t.Refused, t.JoinsCircle, err = admission(ctx, tx, inc, o)
				if err != nil {
					return err
				}
			}
			if t.Refused == "" {
				open, err := tx.OpenEscalationTo(ctx, inc.ID, o.ID)
				if err != nil {
					return err
				}
				if open {
					t.Refused = RefusedOpen
				}
			}
			if t.Refused == "" {
				t.Kinds = Kinds
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// admission is admit as advice: the refusal, or whether the target must
// join a TLP:AMBER+STRICT incident's circle.
func admission(ctx context.Context, tx Tx, inc *incident.Incident, target *org.Organization) (Refusal, bool, error) {
	if inc.TLP == incident.TLPRed {
		return RefusedRed, false, nil
	}
	if inc.TLP != incident.TLPAmberStrict && (inc.TLP != incident.TLPAmber || target.Kind != org.Partner) {
		return "", false, nil
	}
	sees, err := tx.OrgCanSee(ctx, target.ID, inc.ID)
	if err != nil || sees {
		return "", false, err
	}
	if inc.TLP == incident.TLPAmber {
		return RefusedNeedsShare, false, nil
	}
	return "", true, nil
}
