package escalation

import (
	"context"
	"encoding/json"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/org"
)

// OrgPolicy is an organisation's policy as the API shows it.
type OrgPolicy struct {
	Org    org.Organization
	Policy Policy
	// AppliesFrom is the organisation whose policy governs incidents
	// reported by Org (Org itself or the nearest CERT above it with
	// rules); nil when none has rules.
	AppliesFrom *org.Organization
}

// policyOrg finds the organisation slug for p: NotFound when it does not
// exist or p's directory hides it (a partner sees itself and the CERTs);
// Forbidden unless p's organisation is it or a CERT above it.
func policyOrg(ctx context.Context, tx Tx, p access.Principal, slug string) (*org.Organization, error) {
	o, err := tx.OrgBySlug(ctx, slug)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
		}
		return nil, err
	}
	if p.System {
		return o, nil
	}
	if p.OrgKind == org.Partner && o.ID != p.OrgID && !o.Kind.IsCERT() {
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
	}
	below, err := tx.IsBelow(ctx, p.OrgID, o.ID)
	if err != nil {
		return nil, err
	}
	if !below {
		return nil, apperr.New(apperr.Forbidden, "an organisation's escalation policy is for that organisation and the CERTs above it")
	}
	return o, nil
}

// GetPolicy returns the escalation policy of the organisation slug.
// Members of the organisation and of the CERTs above it may read it.
func (s *Service) GetPolicy(ctx context.Context, p access.Principal, slug string) (*OrgPolicy, error) {
	var out *OrgPolicy
	err := s.store.InEscalationTx(ctx, func(ctx context.Context, tx Tx) error {
		o, err := policyOrg(ctx, tx, p, slug)
		if err != nil {
			return err
		}
		if err := p.Require(access.ReadIncident); err != nil {
			return err
		}
		out, err = s.orgPolicy(ctx, tx, o)
		return err
	})
	return out, err
}

func (s *Service) orgPolicy(ctx context.Context, tx Tx, o *org.Organization) (*OrgPolicy, error) {
	pol, err := tx.Policy(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	gov, _, err := tx.GoverningPolicy(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	return &OrgPolicy{Org: *o, Policy: *pol, AppliesFrom: gov}, nil
}

// SetPolicy replaces the escalation policy of the organisation slug.
// Administrators of the organisation and of the CERTs above it may set
// it (the operator's CLI as access.System). Targets named by slug must
// be CERTs or partners (Invalid naming rules[i].to). The policy applies
// to incidents created or changed from then on.
func (s *Service) SetPolicy(ctx context.Context, p access.Principal, slug string, pol *Policy) (*OrgPolicy, error) {
	var out *OrgPolicy
	err := s.store.InEscalationTx(ctx, func(ctx context.Context, tx Tx) error {
		o, err := policyOrg(ctx, tx, p, slug)
		if err != nil {
			return err
		}
		if err := p.Require(access.ManageOrgs); err != nil {
			return err
		}
		if _, err := checkTargets(ctx, tx, pol); err != nil {
			return err
		}
		pol.UpdatedAt, pol.UpdatedBy = s.clock(), p.Name()
		if err := tx.PutPolicy(ctx, o.ID, pol); err != nil {
			return err
		}
		b, _ := json.Marshal(pol.Document())
		if err := tx.Audit(ctx, audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: AuditPolicySet,
			TargetType: "organization", TargetID: o.Slug, RemoteAddr: p.RemoteAddr, Data: b}); err != nil {
			return err
		}
		out, err = s.orgPolicy(ctx, tx, o)
		return err
	})
	return out, err
}
