package observable

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Service holds the observable use cases.
type Service struct {
	store     Store
	incidents IncidentReader
	now       func() time.Time
}

// NewService returns a Service. incidents reads incidents through the
// visibility rule; now is the clock (nil: time.Now).
func NewService(store Store, incidents IncidentReader, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, incidents: incidents, now: now}
}

// Add records an observable of an incident p may see, with an
// "observable_added" timeline event, in one transaction. Observables are
// unique per incident by type and normalised value: adding one that exists
// merges its tags and sighted flag into the existing one (with an
// "observable_updated" event if that changed anything) and returns it with
// created=false; its TLP and note stay as they are. An invalid input is
// apperr.Invalid whatever the incident; an invisible incident is
// apperr.NotFound; what the write table does not allow (observable.add for
// p's role in its relations to the incident) is apperr.Forbidden; a label
// looser than the incident's is apperr.Invalid naming "tlp"; an existing
// observable of this value that p may not see (a stricter label) is
// apperr.Conflict, which tells nothing of it.
func (s *Service) Add(ctx context.Context, p access.Principal, idOrRef string, in NewObservable) (o *Observable, created bool, err error) {
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	err = s.store.InObservableTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		o, created, err = s.add(ctx, tx, p, idOrRef, in)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return o, created, nil
}

// AddInTx is Add inside the caller's transaction: the observable and its
// event commit or roll back with whatever else the caller writes there
// (the guided report adds the indicators it was given to the incident it
// creates; internal/report). Errors as for Add.
func (s *Service) AddInTx(ctx context.Context, tx Tx, p access.Principal, incidentID uuid.UUID, in NewObservable) (*Observable, bool, error) {
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	return s.add(ctx, tx, p, incidentID.String(), in)
}

// add is Add's work inside tx, on a validated input.
func (s *Service) add(ctx context.Context, tx Tx, p access.Principal, idOrRef string, in NewObservable) (*Observable, bool, error) {
	inc, err := tx.LockIncident(ctx, p, idOrRef)
	if err != nil {
		return nil, false, err
	}
	if err := p.RequireWrite(access.AddObservable, inc.Relations); err != nil {
		return nil, false, err
	}
	if err := notLooser(in.TLP, inc); err != nil {
		return nil, false, err
	}
	now := s.now().UTC()
	existing, err := tx.ObservableByKey(ctx, p, inc.ID, in.Type, in.Value)
	switch {
	case apperr.Is(err, apperr.NotFound):
		tlp := in.TLP
		if tlp == "" {
			tlp = inc.TLP
		}
		pap := in.PAP
		if pap == "" {
			pap = inc.PAP
		}
		if pap == "" {
			pap = incident.DefaultPAP
		}
		o := &Observable{ID: uuid.New(), IncidentID: inc.ID, Type: in.Type, Value: in.Value, TLP: tlp, PAP: pap,
			Sighted: in.Sighted, Tags: in.Tags, Note: in.Note, CreatedBy: p.UserIDPtr(), Creator: creator(p),
			CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertObservable(ctx, o); err != nil {
			return nil, false, err
		}
		if err := tx.AppendEvent(ctx, event(p, EventAdded, o, now, nil)); err != nil {
			return nil, false, err
		}
		return o, true, nil
	case err != nil:
		return nil, false, err
	}
	o := existing
	tags, sighted := mergeTags(o.Tags, in.Tags), o.Sighted || in.Sighted
	if slices.Equal(tags, o.Tags) && sighted == o.Sighted {
		o.TLP = incident.StricterTLP(o.TLP, inc.TLP)
		return o, false, nil
	}
	changes := map[string]any{}
	if !slices.Equal(tags, o.Tags) {
		changes["tags"] = tags
	}
	if sighted != o.Sighted {
		changes["sighted"] = sighted
	}
	o.Tags, o.Sighted, o.UpdatedAt = tags, sighted, now
	if err := tx.UpdateObservable(ctx, o); err != nil {
		return nil, false, err
	}
	o.TLP = incident.StricterTLP(o.TLP, inc.TLP)
	if err := tx.AppendEvent(ctx, event(p, EventUpdated, o, now, changes)); err != nil {
		return nil, false, err
	}
	return o, false, nil
}

// Update changes an observable's TLP, PAP, sighted flag, tags or note, with an
// "observable_updated" timeline event when anything changed. It returns
// the observable with its effective label. Errors as for Add (the write is
// observable.change); an observable the incident does not have, or one p
// may not see, is apperr.NotFound.
func (s *Service) Update(ctx context.Context, p access.Principal, idOrRef string, id uuid.UUID, pt Patch) (*Observable, error) {
	if err := pt.Validate(); err != nil {
		return nil, err
	}
	var o *Observable
	err := s.store.InObservableTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.ChangeObservable, inc.Relations); err != nil {
			return err
		}
		if pt.TLP != nil {
			if err := notLooser(*pt.TLP, inc); err != nil {
				return err
			}
		}
		if o, err = tx.ObservableByID(ctx, p, inc.ID, id); err != nil {
			return err
		}
		changes := map[string]any{}
		if pt.TLP != nil && *pt.TLP != o.TLP {
			o.TLP = *pt.TLP
			changes["tlp"] = o.TLP
		}
		if pt.PAP != nil && *pt.PAP != o.PAP {
			o.PAP = *pt.PAP
			changes["pap"] = o.PAP
		}
		if pt.Sighted != nil && *pt.Sighted != o.Sighted {
			o.Sighted = *pt.Sighted
			changes["sighted"] = o.Sighted
		}
		if pt.Tags != nil && !slices.Equal(*pt.Tags, o.Tags) {
			o.Tags = *pt.Tags
			changes["tags"] = o.Tags
		}
		if pt.Note != nil && *pt.Note != o.Note {
			o.Note = *pt.Note
			changes["note"] = o.Note
		}
		if len(changes) == 0 {
			o.TLP = incident.StricterTLP(o.TLP, inc.TLP)
			return nil
		}
		now := s.now().UTC()
		o.UpdatedAt = now
		if err := tx.UpdateObservable(ctx, o); err != nil {
			return err
		}
		o.TLP = incident.StricterTLP(o.TLP, inc.TLP)
		return tx.AppendEvent(ctx, event(p, EventUpdated, o, now, changes))
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Remove deletes an observable entered by mistake, with an
// "observable_removed" timeline event that keeps its type and value.
// Errors as for Update.
func (s *Service) Remove(ctx context.Context, p access.Principal, idOrRef string, id uuid.UUID) error {
	return s.store.InObservableTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.ChangeObservable, inc.Relations); err != nil {
			return err
		}
		o, err := tx.ObservableByID(ctx, p, inc.ID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteObservable(ctx, o.ID); err != nil {
			return err
		}
		o.TLP = incident.StricterTLP(o.TLP, inc.TLP)
		return tx.AppendEvent(ctx, event(p, EventRemoved, o, s.now().UTC(), nil))
	})
}

// List returns a page of the observables of an incident p may see, oldest
// first.
func (s *Service) List(ctx context.Context, p access.Principal, idOrRef string, page Page) (*incident.Incident, []Observable, string, error) {
	inc, err := s.incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, "", err
	}
	page.Limit = incident.ClampLimit(page.Limit)
	obs, next, err := s.store.IncidentObservables(ctx, p, inc.ID, page)
	return inc, obs, next, err
}

// Search finds the observables with this value in every incident p may
// see (correlation). With a type, the value is normalised for that type;
// without one, for every type that accepts it. A value no type accepts is
// apperr.Invalid naming "value"; an unknown type names "type".
//
// It returns the (type, value) pairs it searched for, the matches, newest
// first, and the cursor of the next page.
func (s *Service) Search(ctx context.Context, p access.Principal, value string, t Type, page Page) ([]Candidate, []Match, string, error) {
	var cs []Candidate
	switch {
	case strings.TrimSpace(value) == "":
		return nil, nil, "", apperr.Fields{{Field: "value", Rule: "required", Message: "value is required"}}.Err()
	case t == "":
		if cs = Candidates(value); len(cs) == 0 {
			return nil, nil, "", apperr.Fields{{Field: "value", Rule: "format", Message: "no observable type accepts this value"}}.Err()
		}
	case !t.Valid():
		return nil, nil, "", apperr.Fields{{Field: "type", Rule: "enum", Message: "type must be one of: " + typeList()}}.Err()
	default:
		v, err := Normalize(t, value)
		if err != nil {
			ve := err.(*ValueError)
			return nil, nil, "", apperr.Fields{{Field: "value", Rule: ve.Rule, Message: ve.Message}}.Err()
		}
		cs = []Candidate{{Type: t, Value: v}}
	}
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, nil, "", err
	}
	page.Limit = incident.ClampLimit(page.Limit)
	ms, next, err := s.store.FindObservables(ctx, p, cs, page)
	return cs, ms, next, err
}

// Correlations returns, for the observables obs of inc (an incident p has
// just read), the other incidents p may see that hold the same (type,
// value): at most per matches of each, newest first, keyed by Candidate.
// One query for all of them (the case work page shows up to a hundred
// observables, each with its "also seen in").
func (s *Service) Correlations(ctx context.Context, p access.Principal, inc *incident.Incident, obs []Observable, per int) (map[Candidate][]Match, error) {
	if err := p.Require(access.ReadIncident); err != nil {
		return nil, err
	}
	cs := make([]Candidate, 0, len(obs))
	for _, o := range obs {
		cs = append(cs, Candidate{Type: o.Type, Value: o.Value})
	}
	out := map[Candidate][]Match{}
	if len(cs) == 0 {
		return out, nil
	}
	ms, err := s.store.Correlations(ctx, p, inc.ID, cs, per)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		k := Candidate{Type: m.Observable.Type, Value: m.Observable.Value}
		out[k] = append(out[k], m)
	}
	return out, nil
}

// Export returns an incident p may see with all its observables and its
// organisations, for an export.
func (s *Service) Export(ctx context.Context, p access.Principal, idOrRef string) (*Export, error) {
	inc, err := s.incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	exp := &Export{Incident: inc}
	page := Page{Limit: incident.MaxLimit}
	for {
		obs, next, err := s.store.IncidentObservables(ctx, p, inc.ID, page)
		if err != nil {
			return nil, err
		}
		exp.Observables = append(exp.Observables, obs...)
		if next == "" {
			break
		}
		page.After = next
	}
	ids := []uuid.UUID{inc.ReportingOrgID}
	if inc.CoordinatingOrgID != nil {
		ids = append(ids, *inc.CoordinatingOrgID)
	}
	orgs, err := s.store.Orgs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range orgs {
		if orgs[i].ID == inc.ReportingOrgID {
			exp.Reporting = orgs[i]
		}
		if inc.CoordinatingOrgID != nil && orgs[i].ID == *inc.CoordinatingOrgID {
			o := orgs[i]
			exp.Coordinating = &o
		}
	}
	if exp.Reporting.ID == uuid.Nil {
		return nil, apperr.Wrap(fmt.Errorf("organisation %s not found", inc.ReportingOrgID), "load reporting organisation")
	}
	return exp, nil
}

// notLooser refuses an observable label looser than its incident's: an
// observable may be stricter than its incident, never looser. An empty
// label (the incident's) passes.
func notLooser(t incident.TLP, inc *incident.Incident) error {
	if t == "" || !t.LooserThan(inc.TLP) {
		return nil
	}
	return apperr.Fields{{Field: "tlp", Rule: "not_looser_than_incident",
		Message: fmt.Sprintf("tlp may be stricter than the incident's %s, never looser", inc.TLP)}}.Err()
}

func creator(p access.Principal) string {
	if p.UserIDPtr() == nil {
		return ""
	}
	return p.Email
}

// event builds a timeline event about o; changes lists what an update
// changed.
func event(p access.Principal, kind incident.EventKind, o *Observable, now time.Time, changes map[string]any) *incident.Event {
	tags := o.Tags
	if tags == nil {
		tags = []string{}
	}
	data := map[string]any{"observable_id": o.ID.String(), "type": o.Type, "value": o.Value, "tlp": o.TLP, "pap": o.PAP,
		"sighted": o.Sighted, "tags": tags}
	if changes != nil {
		data["changes"] = changes
	}
	return &incident.Event{IncidentID: o.IncidentID, ActorUserID: p.UserIDPtr(), Actor: p.Name(), Kind: kind,
		Data: incident.MustJSON(data), OccurredAt: now}
}
