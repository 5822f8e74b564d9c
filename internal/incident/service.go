package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// Job is the argument of a background job. Its Kind is stable: it is stored
// with every queued job.
type Job interface{ Kind() string }

// JobOpts adjusts how a job is queued. The zero value queues it now on the
// default queue.
type JobOpts struct {
	// ScheduledAt delays the job until then.
	ScheduledAt time.Time
}

// Store is the persistence the incident use cases need. Reads that take a
// viewer apply the visibility rule.
type Store interface {
	// InTx runs fn in one database transaction: everything fn writes,
	// including queued jobs, commits together or not at all.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Incident returns one incident by ID. Not found: apperr.NotFound.
	Incident(ctx context.Context, id uuid.UUID) (*Incident, error)
	// IncidentByReference returns one incident by reference.
	IncidentByReference(ctx context.Context, ref string) (*Incident, error)
	// Timeline returns a page of an incident's events in time order and the
	// cursor of the next page ("" on the last page).
	Timeline(ctx context.Context, incidentID uuid.UUID, page Page) (events []Event, next string, err error)
}

// Tx is what a use case may do inside a transaction.
type Tx interface {
	// ClaimIdempotencyKey records that key created resourceID. If the key was
	// already used, it returns the first resource and request hash and
	// claimed=false; a concurrent use of the same key waits for the first.
	ClaimIdempotencyKey(ctx context.Context, key IdempotencyKey, resourceID uuid.UUID) (firstID uuid.UUID, firstHash string, claimed bool, err error)
	// NextIncidentNumber returns the next reference number of year.
	NextIncidentNumber(ctx context.Context, year int) (int64, error)
	// InsertIncident inserts a new incident.
	InsertIncident(ctx context.Context, inc *Incident) error
	// LockIncident reads an incident and locks it until the end of the transaction.
	LockIncident(ctx context.Context, id uuid.UUID) (*Incident, error)
	// SetCoordinatingOrg sets the coordinating organisation and bumps the version.
	SetCoordinatingOrg(ctx context.Context, id, orgID uuid.UUID, now time.Time) error
	// AppendEvent adds a timeline event; it fills ID and RecordedAt.
	AppendEvent(ctx context.Context, ev *Event) error
	// Enqueue queues a job that commits with the transaction.
	Enqueue(ctx context.Context, job Job, opts *JobOpts) error
	// OrgChain returns the organisation and its ancestors, nearest first.
	OrgChain(ctx context.Context, orgID uuid.UUID) ([]org.Organization, error)
}

// IdempotencyKey identifies a client's retry of the same POST.
type IdempotencyKey struct {
	Caller      string // who sent it: the same key from two callers is two keys
	Key         string
	RequestHash string // a hash of the request body: a reused key with another body is refused
}

// Page selects a page of a keyset-paginated list.
type Page struct {
	After string // opaque cursor from the previous page; empty for the first
	Limit int
}

// RouteJob assigns a new incident's coordinating organisation.
type RouteJob struct {
	IncidentID uuid.UUID `json:"incident_id" river:"unique"`
}

// Kind implements Job.
func (RouteJob) Kind() string { return "incident.route" }

// Service holds the incident use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service. now is the clock; nil means time.Now.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// Create records a new incident, its "created" timeline event and its
// routing job in one transaction. With an idempotency key that was used
// before, it creates nothing and returns the first incident with
// replayed=true; with the same key and another request it fails with
// apperr.Conflict.
func (s *Service) Create(ctx context.Context, actor Actor, in NewIncident, idem *IdempotencyKey) (inc *Incident, replayed bool, err error) {
	now := s.now().UTC()
	if err := in.Validate(now); err != nil {
		return nil, false, err
	}
	inc = &Incident{
		ID:             uuid.New(),
		Title:          in.Title,
		Description:    in.Description,
		ReportingOrgID: in.ReportingOrgID,
		Stage:          in.Stage,
		Status:         Open,
		Severity:       in.Severity,
		TLP:            in.TLP,
		DetectedAt:     in.DetectedAt,
		ReportedAt:     now,
		CreatedAt:      now,
		UpdatedAt:      now,
		Version:        1,
	}
	var firstID uuid.UUID
	err = s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		if idem != nil {
			id, hash, claimed, err := tx.ClaimIdempotencyKey(ctx, *idem, inc.ID)
			if err != nil {
				return err
			}
			if !claimed {
				if hash != idem.RequestHash {
					return apperr.New(apperr.Conflict, "Idempotency-Key %q was already used with a different request", idem.Key)
				}
				firstID = id
				return nil
			}
		}
		year := now.Year()
		n, err := tx.NextIncidentNumber(ctx, year)
		if err != nil {
			return err
		}
		inc.Reference = Reference(year, n)
		if err := tx.InsertIncident(ctx, inc); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, &Event{
			IncidentID:  inc.ID,
			ActorUserID: actor.UserID,
			Actor:       actor.Name,
			Kind:        EventCreated,
			Data: mustJSON(map[string]any{
				"reference": inc.Reference, "title": inc.Title, "stage": inc.Stage,
				"severity": inc.Severity, "tlp": inc.TLP,
			}),
			OccurredAt: now,
		}); err != nil {
			return err
		}
		return tx.Enqueue(ctx, RouteJob{IncidentID: inc.ID}, nil)
	})
	if err != nil {
		return nil, false, err
	}
	if firstID != uuid.Nil {
		first, err := s.store.Incident(ctx, firstID)
		return first, true, err
	}
	inc, err = s.store.Incident(ctx, inc.ID)
	return inc, false, err
}

// Route sets a new incident's coordinating organisation to the nearest CERT
// above the reporting organisation (a CERT that reports coordinates its own
// incident) and records a "routed" event. It does nothing for an incident
// that already has one. also runs in the same transaction, so that a job can
// complete itself atomically with its effect.
func (s *Service) Route(ctx context.Context, id uuid.UUID, also func(ctx context.Context, tx Tx) error) error {
	return s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, id)
		if err != nil {
			return err
		}
		if inc.CoordinatingOrgID == nil {
			chain, err := tx.OrgChain(ctx, inc.ReportingOrgID)
			if err != nil {
				return err
			}
			target, reason := nearestCERT(chain)
			now := s.now().UTC()
			if err := tx.SetCoordinatingOrg(ctx, id, target.ID, now); err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, &Event{
				IncidentID: id,
				Actor:      System.Name,
				Kind:       EventRouted,
				Data: mustJSON(map[string]any{
					"coordinating_org": target.Slug, "coordinating_org_name": target.Name, "reason": reason,
				}),
				OccurredAt: now,
			}); err != nil {
				return err
			}
		}
		if also != nil {
			return also(ctx, tx)
		}
		return nil
	})
}

// nearestCERT picks the coordinator from an organisation chain (the
// organisation first, then its ancestors).
func nearestCERT(chain []org.Organization) (org.Organization, string) {
	if chain[0].Kind.IsCERT() {
		return chain[0], "the reporting organisation is a CERT"
	}
	for _, o := range chain[1:] {
		if o.Kind.IsCERT() {
			return o, fmt.Sprintf("nearest CERT above %s", chain[0].Slug)
		}
	}
	return chain[0], "no CERT above the reporting organisation"
}

// Get returns an incident by ID or reference.
func (s *Service) Get(ctx context.Context, idOrRef string) (*Incident, error) {
	if IsReference(idOrRef) {
		return s.store.IncidentByReference(ctx, idOrRef)
	}
	id, err := uuid.Parse(idOrRef)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "incident %q not found", idOrRef)
	}
	return s.store.Incident(ctx, id)
}

// Timeline returns a page of the incident's events, in the order they happened.
func (s *Service) Timeline(ctx context.Context, idOrRef string, page Page) (*Incident, []Event, string, error) {
	inc, err := s.Get(ctx, idOrRef)
	if err != nil {
		return nil, nil, "", err
	}
	page.Limit = clampLimit(page.Limit)
	evs, next, err := s.store.Timeline(ctx, inc.ID, page)
	return inc, evs, next, err
}

// DefaultLimit and MaxLimit bound list pages.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("incident: marshal event data: %v", err)) // only plain maps of strings reach here
	}
	return b
}
