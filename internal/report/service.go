// Package report makes the PDF reports of certdesk with an embedded font
// (DejaVu Sans, fonts/): the incident report for a regulator or a board,
// and the monthly briefing of an organisation. Both read everything through
// the viewer's visibility, and carry the TLP label of their content at the
// top and the bottom of every page, as FIRST's TLP 2.0 asks of documents.
// It also builds the executive timeline of an incident (Executive) that
// the report and the web page show.
package report

import (
	"context"
	"errors"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/task"
)

// Options are the dependencies of a Service.
type Options struct {
	Incidents   *incident.Service
	Tasks       *task.Service
	Observables *observable.Service
	Stats       *stats.Service
	Now         func() time.Time
}

// Service makes reports.
type Service struct{ o Options }

// NewService returns a Service; every dependency is required but Now.
func NewService(o Options) (*Service, error) {
	if o.Incidents == nil || o.Tasks == nil || o.Observables == nil || o.Stats == nil {
		return nil, errors.New("report: Incidents, Tasks, Observables and Stats are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}, nil
}

// Document is a rendered report.
type Document struct {
	Filename string
	PDF      []byte
	// TLP is the label every page carries: the strictest of its content.
	TLP incident.TLP
}

// Executive returns the executive timeline of an incident p may see
// (apperr.NotFound otherwise), with times in p's organisation's zone.
func (s *Service) Executive(ctx context.Context, p access.Principal, idOrRef string) (*Executive, error) {
	_, loc, err := s.o.Stats.Viewer(ctx, p)
	if err != nil {
		return nil, err
	}
	inc, err := s.o.Incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	events, err := KeyEvents(ctx, s.o.Incidents, p, inc)
	if err != nil {
		return nil, err
	}
	return NewExecutive(inc, events, s.o.Now().UTC(), loc), nil
}
