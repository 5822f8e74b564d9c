package deadline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Store is the persistence of the timers.
type Store interface {
	// InDeadlineTx runs fn in one database transaction.
	InDeadlineTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is what the timers do inside a transaction: the incident
// transaction's reads, events and jobs, and the timer rows.
type Tx interface {
	incident.Tx
	// DeadlineTimers returns the incident's stored timers.
	DeadlineTimers(ctx context.Context, incidentID uuid.UUID) ([]Timer, error)
	// LockDeadlineTimer reads one timer and locks it until the end of the
	// transaction; apperr.NotFound when there is none.
	LockDeadlineTimer(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind, point string) (*Timer, error)
	// PutDeadlineTimer inserts or replaces the timer of (incident, kind, point).
	PutDeadlineTimer(ctx context.Context, t Timer) error
	// DeleteDeadlineTimer removes the timer of (incident, kind, point).
	DeleteDeadlineTimer(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind, point string) error
	// FlaggedIncidentsWithoutTimers returns the IDs of the incidents
	// flagged significant or personal data breach that have no timer row.
	FlaggedIncidentsWithoutTimers(ctx context.Context) ([]uuid.UUID, error)
	// MarkDeadlineTimerFired records when the timer took effect.
	MarkDeadlineTimerFired(ctx context.Context, incidentID uuid.UUID, kind incident.DeadlineKind, point string, at time.Time) error
}

// Options configures NewService.
type Options struct {
	Store Store
	// Reminders are the reminder points in percent of the time allowed,
	// ascending (CERTDESK_DEADLINE_REMINDERS); empty: no reminders, misses
	// are still recorded.
	Reminders []int
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service plans and fires deadline timers.
type Service struct {
	store     Store
	reminders []int
	log       *slog.Logger
	now       func() time.Time
}

// NewService returns a Service; the reminder points must be ascending
// percentages from 1 to 99.
func NewService(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("deadline: Store is required")
	}
	for i, p := range o.Reminders {
		if p < 1 || p > 99 || (i > 0 && p <= o.Reminders[i-1]) {
			return nil, fmt.Errorf("deadline: Reminders must be ascending percentages from 1 to 99, got %v", o.Reminders)
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: o.Store, reminders: slices.Clone(o.Reminders), log: o.Logger, now: o.Now}, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Handler is the incident.Bus handler that keeps the timers in step with
// the incident: on a new flagged incident, a change of detected_at or of a
// flag, and a deadline met, it plans the timers again in the transaction
// of the change.
func (s *Service) Handler() incident.Handler {
	return incident.Handler{
		Name:  "deadline timers",
		Kinds: []incident.EventKind{incident.EventCreated, incident.EventFieldChanged, incident.EventDeadlineMet},
		Match: affectsDeadlines,
		Handle: func(ctx context.Context, tx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
			dtx, ok := tx.(Tx)
			if !ok {
				return fmt.Errorf("deadline: %T does not implement deadline.Tx", tx)
			}
			return s.Reschedule(ctx, dtx, inc)
		},
	}
}

// affectsDeadlines reports whether ev changes what an incident's deadlines
// are computed from. A new incident without a flag has no timers to plan,
// so intake pays nothing for them, not even a read of the incident.
func affectsDeadlines(ev incident.Event) bool {
	var d struct {
		Field              string
		Significant        bool
		PersonalDataBreach bool `json:"personal_data_breach"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return true // unreadable: planning again is always safe
	}
	switch ev.Kind {
	case incident.EventCreated:
		return d.Significant || d.PersonalDataBreach
	case incident.EventDeadlineMet:
		return true
	case incident.EventFieldChanged:
		switch d.Field {
		case "detected_at", "significant", "personal_data_breach":
			return true
		}
	}
	return false
}

// Reschedule reconciles inc's stored timers with its plan, in tx: a timer
// no longer planned (a flag cleared, a deadline met, a due time moved) has
// its job cancelled and its row removed; a planned timer not yet stored is
// scheduled. A reminder whose point has passed is not scheduled (reminding
// late helps nobody); a due time that has passed fires at once, so that
// the miss is recorded.
func (s *Service) Reschedule(ctx context.Context, tx Tx, inc *incident.Incident) error {
	now := s.clock()
	existing, err := tx.DeadlineTimers(ctx, inc.ID)
	if err != nil {
		return err
	}
	plan := Plan(inc, s.reminders, now)
	for _, e := range existing {
		// A fired timer stays as a tombstone (its job is done): a flag
		// cleared and set again plans the same timer, which must not fire
		// twice. A timer of another due time replaces the row.
		if e.FiredAt != nil || slices.ContainsFunc(plan, e.same) {
			continue
		}
		if err := tx.CancelJob(ctx, e.JobID); err != nil {
			return err
		}
		if err := tx.DeleteDeadlineTimer(ctx, inc.ID, e.Kind, e.Point); err != nil {
			return err
		}
	}
	var add []Timer
	var jobs []incident.Job
	var opts []*incident.JobOpts
	for _, t := range plan {
		if slices.ContainsFunc(existing, t.same) {
			continue
		}
		// Not unique by arguments: the row and its job ID are the record
		// of the timer, and a re-planned timer with the arguments of an
		// earlier job (completed, or stale) needs a job of its own.
		o := &incident.JobOpts{NotUnique: true}
		if t.FireAt.After(now) {
			o.ScheduledAt = t.FireAt
		} else if t.Point != PointDue {
			continue
		}
		add = append(add, t)
		jobs = append(jobs, TimerJob{IncidentID: inc.ID, Deadline: t.Kind, Point: t.Point, DueAt: t.DueAt})
		opts = append(opts, o)
	}
	// Every new timer's job in one insert (a flagged report plans
	// several).
	ids, err := tx.EnqueueJobs(ctx, jobs, opts)
	if err != nil {
		return err
	}
	for i, t := range add {
		t.JobID = ids[i]
		if err := tx.PutDeadlineTimer(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// Backfill plans the timers of every flagged incident that has none: the
// incidents flagged before timers existed (migration 0012), whose
// deadlines would otherwise never be reminded nor their misses recorded.
// An incident whose deadlines are all met plans nothing and is looked at
// again next time, at the cost of one read. Backfilling twice plans once:
// the second run finds the rows the first one wrote. Workers call it when
// they start; it returns how many incidents it planned.
func (s *Service) Backfill(ctx context.Context) (int, error) {
	var ids []uuid.UUID
	if err := s.store.InDeadlineTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		ids, err = tx.FlaggedIncidentsWithoutTimers(ctx)
		return err
	}); err != nil {
		return 0, err
	}
	planned := 0
	for _, id := range ids {
		err := s.store.InDeadlineTx(ctx, func(ctx context.Context, tx Tx) error {
			inc, err := tx.LockIncident(ctx, access.System, id.String())
			if err != nil {
				return err
			}
			// Planned meanwhile (a change of the incident): nothing to do.
			if existing, err := tx.DeadlineTimers(ctx, id); err != nil || len(existing) > 0 {
				return err
			}
			if len(Plan(inc, s.reminders, s.clock())) > 0 {
				planned++
			}
			return s.Reschedule(ctx, tx, inc)
		})
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			return planned, fmt.Errorf("deadline: plan the timers of incident %s: %w", id, err)
		}
	}
	if planned > 0 {
		s.log.Info("deadline timers planned for incidents flagged before they existed", "incidents", planned)
	}
	return planned, nil
}

// EarlyError says the timer's job ran before the deadline fell due (clocks
// of two machines disagree): run it again after Wait.
type EarlyError struct{ Wait time.Duration }

func (e *EarlyError) Error() string { return fmt.Sprintf("deadline not due yet: %s to go", e.Wait) }

// Fire runs the timer of job (River job jobID): inside one transaction it
// checks that the timer still stands (still stored for this job and due
// time, not fired yet, the deadline still applies, is not met and is due
// when the job says), then appends a deadline_reminder or deadline_missed
// event and marks the timer fired. complete is called in that transaction
// either way (the worker completes its job there), so a stale job ends
// without effect and a job delivered twice takes effect once.
//
// Errors: apperr.NotFound when the incident is gone; *EarlyError when a
// due-time job runs before the deadline is due; anything else is worth
// retrying.
func (s *Service) Fire(ctx context.Context, job TimerJob, jobID int64, complete func(ctx context.Context, tx Tx) error) error {
	return s.store.InDeadlineTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, access.System, job.IncidentID.String())
		if err != nil {
			return err
		}
		ev, err := s.fire(ctx, tx, inc, job, jobID)
		if err != nil {
			return err
		}
		if ev != nil {
			if err := tx.AppendEvent(ctx, ev); err != nil {
				return err
			}
			if err := tx.MarkDeadlineTimerFired(ctx, inc.ID, job.Deadline, job.Point, ev.OccurredAt); err != nil {
				return err
			}
		}
		return complete(ctx, tx)
	})
}

// GiveUp records that the timer of job (River job jobID) failed on its
// last attempt, so that a reminder or a miss is never lost silently: a
// deadline_timer_failed timeline event with cause, and the timer marked
// fired (nothing fires it again). A timer no longer standing for this job
// (re-planned, fired, gone) records nothing.
func (s *Service) GiveUp(ctx context.Context, job TimerJob, jobID int64, attempts int, cause error) error {
	return s.store.InDeadlineTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, access.System, job.IncidentID.String())
		if apperr.Is(err, apperr.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		t, err := tx.LockDeadlineTimer(ctx, inc.ID, job.Deadline, job.Point)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if t.JobID != jobID || t.FiredAt != nil {
			return nil
		}
		now := s.clock()
		msg := fmt.Sprintf("gave up after %d attempts: %v", attempts, cause)
		if r := []rune(msg); len(r) > 1000 {
			msg = string(r[:1000])
		}
		s.log.Error("deadline timer given up", "incident", inc.Reference, "kind", job.Deadline, "point", job.Point, "err", msg)
		if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, Actor: access.System.Name(), Kind: EventTimerFailed,
			Data:       incident.MustJSON(map[string]any{"kind": job.Deadline, "point": job.Point, "due_at": job.DueAt, "error": msg}),
			OccurredAt: now}); err != nil {
			return err
		}
		return tx.MarkDeadlineTimerFired(ctx, inc.ID, job.Deadline, job.Point, now)
	})
}

// fire decides what the timer does: the event to append, or nil when the
// job is stale.
func (s *Service) fire(ctx context.Context, tx Tx, inc *incident.Incident, job TimerJob, jobID int64) (*incident.Event, error) {
	t, err := tx.LockDeadlineTimer(ctx, inc.ID, job.Deadline, job.Point)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if t.JobID != jobID || !t.DueAt.Equal(job.DueAt) || t.FiredAt != nil {
		return nil, nil
	}
	now := s.clock()
	var d *incident.Deadline
	for _, x := range inc.Deadlines(inc.Location(), now) {
		if x.Kind == job.Deadline {
			d = &x
		}
	}
	if d == nil || d.Met != nil || !d.DueAt.Equal(job.DueAt) {
		// The timer still names this job, but the deadline moved without
		// an incident event (the reporting organisation's time zone
		// changed, moving a calendar deadline): nothing else re-plans, so
		// do it here. The row goes first so that re-planning does not
		// cancel the job that is running.
		if err := tx.DeleteDeadlineTimer(ctx, inc.ID, t.Kind, t.Point); err != nil {
			return nil, err
		}
		return nil, s.Reschedule(ctx, tx, inc)
	}
	basis := map[string]any{"kind": d.Kind, "basis": d.Basis, "due_at": d.DueAt}
	if job.Point == PointDue {
		if now.Before(d.DueAt) {
			return nil, &EarlyError{Wait: d.DueAt.Sub(now)}
		}
		s.log.Info("deadline missed", "incident", inc.Reference, "kind", d.Kind, "due_at", d.DueAt)
		return &incident.Event{IncidentID: inc.ID, Actor: access.System.Name(), Kind: EventMissed,
			Data: incident.MustJSON(basis), OccurredAt: now}, nil
	}
	left := d.DueAt.Sub(now)
	basis["point"] = job.Point
	basis["seconds_left"] = int64(left / time.Second)
	basis["time_left"] = TimeLeft(left)
	return &incident.Event{IncidentID: inc.ID, Actor: access.System.Name(), Kind: EventReminder,
		Data: incident.MustJSON(basis), OccurredAt: now}, nil
}
