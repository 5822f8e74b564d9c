package misp

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
)

// Tx is what an import writes in its one transaction: a new incident
// (incident.Tx) and its observables (observable.Tx). The postgres store's
// transaction implements both.
type Tx interface {
	incident.Tx
	observable.Tx
}

// Store runs an import's transaction.
type Store interface {
	// InMISPTx runs fn in one database transaction.
	InMISPTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Importer holds the import use cases: a MISP event as a new incident or
// into an existing one.
type Importer struct {
	store       Store
	incidents   *incident.Service
	observables *observable.Service
}

// NewImporter returns an Importer writing through store with the incident
// and observable services' rules.
func NewImporter(store Store, incidents *incident.Service, observables *observable.Service) *Importer {
	return &Importer{store: store, incidents: incidents, observables: observables}
}

// Skipped is an attribute that did not become an observable, and why
// (SkipUnknownType, SkipInvalid, SkipReference, SkipDeleted).
type Skipped struct {
	UUID, Type, Category, Value string
	Reason                      string
	Message                     string // for SkipInvalid: what the value breaks
}

// Result is what an import did.
type Result struct {
	Incident *incident.Incident
	Created  bool // a new incident
	// Added counts the observables created, Merged those that were
	// already on the incident (or twice in the file) and were merged.
	Added, Merged int
	Skipped       []Skipped
	// UnknownTypes are the attribute types certdesk has no observable
	// for, sorted, each once.
	UnknownTypes []string
	// IgnoredTags are event tags a new incident could not take (longer or
	// with characters incident tags do not allow); into an existing
	// incident, every event tag is left alone.
	IgnoredTags []string
}

// ImportNew creates an incident reported by p's organisation from the
// event (title from info; TLP, PAP, RSIT class and type and tags from its
// tags; TLP:AMBER without a tlp: tag, PAP:AMBER without a PAP: tag) and adds its attributes as observables, in
// one transaction. p needs incident.create (else apperr.Forbidden); an
// event without info is apperr.Invalid naming Event.info.
func (im *Importer) ImportNew(ctx context.Context, p access.Principal, ev *Parsed) (*Result, error) {
	if ev.Info == "" {
		return nil, apperr.Fields{{Field: "Event.info", Rule: "required", Message: "the event needs an info: it becomes the incident's title"}}.Err()
	}
	in := incident.NewIncident{Title: ev.Info, TLP: ev.TLP, PAP: ev.PAP, Category: ev.Category, Type: ev.Type}
	if len([]rune(in.Title)) > incident.MaxTitle {
		in.Title = string([]rune(in.Title)[:incident.MaxTitle])
	}
	res := &Result{Created: true}
	for _, t := range ev.Tags {
		probe := incident.NewIncident{Title: "x", Tags: []string{t}}
		if err := probe.Validate(time.Now()); err != nil || len(in.Tags) >= incident.MaxTags {
			res.IgnoredTags = append(res.IgnoredTags, t)
			continue
		}
		in.Tags = append(in.Tags, t)
	}
	err := im.store.InMISPTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := im.incidents.CreateInTx(ctx, tx, p, in)
		if err != nil {
			return err
		}
		res.Incident = inc
		return im.addAll(ctx, tx, p, inc, ev, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ImportInto adds the event's attributes as observables of the incident
// idOrRef, in one transaction; the incident's own fields are left alone.
// An incident p may not see is apperr.NotFound; p needs observable.add on
// it (the observable service decides, apperr.Forbidden).
func (im *Importer) ImportInto(ctx context.Context, p access.Principal, idOrRef string, ev *Parsed) (*Result, error) {
	res := &Result{}
	err := im.store.InMISPTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.AddObservable, inc.Relations); err != nil {
			return err
		}
		res.Incident = inc
		return im.addAll(ctx, tx, p, inc, ev, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// addAll adds every attribute's observables; a value that does not
// validate is skipped and listed, any other error aborts the import.
func (im *Importer) addAll(ctx context.Context, tx Tx, p access.Principal, inc *incident.Incident, ev *Parsed, res *Result) error {
	for _, a := range ev.Attributes {
		cands, reason := Candidates(a)
		if reason != "" {
			res.skip(a, reason, "")
			continue
		}
		tlp, sighted, tags := inc.TLP, false, []string(nil)
		var pap incident.PAP // empty: the incident's
		for _, t := range a.Tags {
			if l, ok := TLPOfTag(t); ok {
				tlp = incident.StricterTLP(l, inc.TLP) // never looser than the incident
				continue
			}
			if l, ok := PAPOfTag(t); ok {
				pap = l
				continue
			}
			if t == "certdesk:sighted" {
				sighted = true
				continue
			}
			tags = append(tags, t)
		}
		for _, c := range cands {
			c.TLP, c.PAP, c.Sighted, c.Tags, c.Note = tlp, pap, sighted, tags, a.Comment
			if err := c.Validate(); err != nil {
				// Tags or the note may be what breaks: try the value alone.
				c.Tags, c.Note = nil, ""
				if err2 := c.Validate(); err2 != nil {
					res.skip(a, SkipInvalid, fieldMessage(err2))
					continue
				}
			}
			_, created, err := im.observables.AddInTx(ctx, tx, p, inc.ID, c)
			if apperr.Is(err, apperr.Conflict) {
				// The value is on the incident under a label p may not
				// see: the same answer as adding it by hand, nothing more.
				res.skip(a, SkipHidden, "the incident already holds this value")
				continue
			}
			if err != nil {
				return err
			}
			if created {
				res.Added++
			} else {
				res.Merged++
			}
		}
	}
	return nil
}

func (r *Result) skip(a ParsedAttribute, reason, msg string) {
	r.Skipped = append(r.Skipped, Skipped{UUID: a.UUID, Type: a.Type, Category: a.Category, Value: a.Value, Reason: reason, Message: msg})
	if reason == SkipUnknownType && !slices.Contains(r.UnknownTypes, a.Type) {
		r.UnknownTypes = append(r.UnknownTypes, a.Type)
		slices.Sort(r.UnknownTypes)
	}
}

func fieldMessage(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) && len(ae.Fields) > 0 {
		return ae.Fields[0].Message
	}
	return err.Error()
}
