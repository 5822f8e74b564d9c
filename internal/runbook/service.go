package runbook

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/task"
)

// Options configures NewService.
type Options struct {
	Store     Store
	Incidents *incident.Service
	Tasks     *task.Service
	Notify    *notify.Service
	// Escalator carries out escalate steps; without one they fail with an
	// error that says so.
	Escalator Escalator
	// Playbooks are the valid playbooks that triggers and manual starts
	// choose from. Runs do not use them: a run re-parses its pinned source.
	Playbooks []*playbook.Playbook
	// Outbound sends the requests of webhook steps, signed with
	// WebhookSecret (*outbound.Client is one); without both, webhook steps
	// fail with ErrWebhookNotConfigured.
	Outbound      notify.Poster
	WebhookSecret string
	Logger        *slog.Logger
	Now           func() time.Time
}

// Service runs playbooks.
type Service struct {
	store     Store
	incidents *incident.Service
	tasks     *task.Service
	notify    *notify.Service
	escalator Escalator
	outbound  notify.Poster
	secret    string
	log       *slog.Logger
	now       func() time.Time

	mu        sync.RWMutex
	playbooks []*playbook.Playbook
	parsed    map[string]*playbook.Playbook // by content hash
}

// NewService returns a Service.
func NewService(o Options) (*Service, error) {
	if o.Store == nil || o.Incidents == nil || o.Tasks == nil || o.Notify == nil {
		return nil, errors.New("runbook: Store, Incidents, Tasks and Notify are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{store: o.Store, incidents: o.Incidents, tasks: o.Tasks, notify: o.Notify, escalator: o.Escalator,
		outbound: o.Outbound, secret: o.WebhookSecret, log: o.Logger, now: o.Now, parsed: map[string]*playbook.Playbook{}}
	s.SetPlaybooks(o.Playbooks)
	return s, nil
}

// SetPlaybooks replaces the playbooks that triggers and manual starts
// choose from (a reloaded catalogue). Runs in flight are not affected.
func (s *Service) SetPlaybooks(pbs []*playbook.Playbook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.playbooks = pbs
	for _, pb := range pbs {
		if pb.Hash != "" {
			s.parsed[pb.Hash] = pb
		}
	}
}

// SetEscalator sets the Escalator of escalate steps (wired once the
// escalation service exists).
func (s *Service) SetEscalator(e Escalator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.escalator = e
}

func (s *Service) catalogue() []*playbook.Playbook {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.playbooks
}

func (s *Service) getEscalator() Escalator {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.escalator
}

// pinned returns the playbook of a run, parsed from its pinned source.
func (s *Service) pinned(r *Run) (*playbook.Playbook, error) {
	s.mu.RLock()
	pb := s.parsed[r.Hash]
	s.mu.RUnlock()
	if pb != nil {
		return pb, nil
	}
	pb, errs := playbook.Parse(r.PlaybookID+".yaml", r.Source)
	if len(errs) > 0 {
		return nil, fmt.Errorf("run %s: the pinned playbook no longer parses: %w", r.ID, errs)
	}
	if playbook.HashSource(r.Source) != r.Hash {
		return nil, fmt.Errorf("run %s: the pinned playbook does not match its hash", r.ID)
	}
	s.mu.Lock()
	s.parsed[r.Hash] = pb
	s.mu.Unlock()
	return pb, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
