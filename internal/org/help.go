package org

import (
	"context"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// ResponsibleCERT returns the CERT the actor's organisation calls for
// help: the nearest CERT above a local authority or operator; for a
// regional CERT the CERT above it; the national CERT itself; and for a
// partner, which stands outside the tree, the national CERT. The web UI's
// help page shows its name, e-mail address and telephone number. An
// organisation with no CERT above it (a city placed under none) is
// apperr.NotFound.
func (s *Service) ResponsibleCERT(ctx context.Context, a Actor) (*Organization, error) {
	all, err := s.store.Orgs(ctx, nil)
	if err != nil {
		return nil, err
	}
	byID := make(map[uuid.UUID]*Organization, len(all))
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	own, ok := byID[a.OrgID]
	if !ok {
		return nil, apperr.New(apperr.NotFound, "your organisation was not found")
	}
	if own.Kind == Partner || (own.Kind == NationalCERT && own.ParentID == nil) {
		for i := range all {
			if all[i].Kind == NationalCERT {
				return &all[i], nil
			}
		}
		return nil, apperr.New(apperr.NotFound, "no national CERT")
	}
	for o := own; o.ParentID != nil; {
		p, ok := byID[*o.ParentID]
		if !ok {
			break
		}
		if p.Kind.IsCERT() {
			return p, nil
		}
		o = p
	}
	if own.Kind.IsCERT() {
		return own, nil
	}
	return nil, apperr.New(apperr.NotFound, "no CERT above your organisation")
}

// Names returns the organisations of ids that the actor may see in the
// directory, by ID, in one read: what a page needs to show the names of
// the organisations it mentions. IDs of organisations the actor may not
// see (a partner looking at a city) are left out; show their slug instead.
func (s *Service) Names(ctx context.Context, a Actor, ids []uuid.UUID) (map[uuid.UUID]Organization, error) {
	out := make(map[uuid.UUID]Organization, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	os, err := s.store.Orgs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range os {
		if a.Sees(&os[i]) {
			out[os[i].ID] = os[i]
		}
	}
	return out, nil
}
