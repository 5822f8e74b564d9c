package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
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
	// NotUnique inserts the job even when one with the same arguments
	// exists. By default a job is unique by its arguments (a second insert
	// returns the existing job's ID, even a completed one); a caller that
	// keeps its own record of its jobs (deadline timers) sets NotUnique so
	// that the ID it stores is always a new job.
	NotUnique bool
}

// Store is the persistence the incident use cases need. Every read takes
// the principal it reads for and returns only what the visibility rule lets
// that principal see: an invisible incident is apperr.NotFound.
type Store interface {
	// InTx runs fn in one database transaction: everything fn writes,
	// including queued jobs, commits together or not at all.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Incident returns one incident by ID.
	Incident(ctx context.Context, p access.Principal, id uuid.UUID) (*Incident, error)
	// IncidentByReference returns one incident by reference.
	IncidentByReference(ctx context.Context, p access.Principal, ref string) (*Incident, error)
	// List returns a page of the incidents p may see that match f, newest
	// first, and the cursor of the next page ("" on the last page).
	List(ctx context.Context, p access.Principal, f Filter, page Page) (incidents []Incident, next string, err error)
	// Count counts the incidents p may see that match f, up to max+1.
	Count(ctx context.Context, p access.Principal, f Filter, max int) (int, error)
	// Timeline returns a page of an incident's events in time order and the
	// cursor of the next page ("" on the last page), those f keeps.
	Timeline(ctx context.Context, p access.Principal, incidentID uuid.UUID, f EventFilter, page Page) (events []Event, next string, err error)
	// TimelineActors lists the organisations whose people acted on the
	// incident's events p sees, by name, and SystemActor when certdesk did.
	TimelineActors(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]ActorOrg, error)
	// LegalStore reads the legal reports filed (legal.go).
	LegalStore
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
	// LockIncident reads an incident p may see (by UUID or reference) and
	// locks it until the end of the transaction.
	LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*Incident, error)
	// Hold hands the transaction inc as the caller has just written it in
	// full (a new incident, which no other transaction sees yet), so that
	// the event handlers of the transaction's first dispatch get a copy of
	// it instead of reading the row again. The caller holds it as its
	// last write before the transaction's handlers run.
	Hold(inc *Incident)
	// Held returns the incident that Hold handed over for id, read as the
	// system, once: nil when none was, or when it was taken already.
	Held(id uuid.UUID) *Incident
	// SetCoordinatingOrg sets the coordinating organisation and bumps the version.
	SetCoordinatingOrg(ctx context.Context, id, orgID uuid.UUID, now time.Time) error
	// AppendEvent adds a timeline event; it fills ID and RecordedAt.
	AppendEvent(ctx context.Context, ev *Event) error
	// Enqueue queues a job that commits with the transaction.
	Enqueue(ctx context.Context, job Job, opts *JobOpts) error
	// EnqueueJob queues a job like Enqueue and returns its River job ID
	// (that of the existing job when a unique job was already queued), so
	// that a timer can be cancelled later.
	EnqueueJob(ctx context.Context, job Job, opts *JobOpts) (int64, error)
	// EnqueueJobs queues jobs like EnqueueJob with one insert (one
	// statement) and returns their River job IDs in the order of jobs;
	// opts[i] (nil allowed) are the options of jobs[i].
	EnqueueJobs(ctx context.Context, jobs []Job, opts []*JobOpts) ([]int64, error)
	// CancelJob cancels a queued or scheduled job with the transaction. A
	// job already finished or unknown is left as it is.
	CancelJob(ctx context.Context, jobID int64) error
	// OrgChain returns the organisation and its ancestors, nearest first.
	OrgChain(ctx context.Context, orgID uuid.UUID) ([]org.Organization, error)
	// OrgBySlug finds an organisation.
	OrgBySlug(ctx context.Context, slug string) (*org.Organization, error)
	// UserIDByEmail finds a user.
	UserIDByEmail(ctx context.Context, email string) (uuid.UUID, error)
	// InsertParticipant names a user as a participant; false if already one.
	InsertParticipant(ctx context.Context, incidentID, userID uuid.UUID, addedBy *uuid.UUID) (bool, error)
	// InsertShare shares the incident with an organisation; false if already shared.
	InsertShare(ctx context.Context, incidentID, orgID uuid.UUID, kind, note string, by *uuid.UUID) (bool, error)
	// Audit writes an audit log entry.
	Audit(ctx context.Context, e audit.Entry) error
	// UpdateIncident writes the incident's mutable fields and moves its
	// version from inc.Version to inc.Version+1.
	UpdateIncident(ctx context.Context, inc *Incident) error
	// CanSee reports whether the user may see the incident (the visibility
	// rule, for that user).
	CanSee(ctx context.Context, userID, incidentID uuid.UUID) (bool, error)
	// InsertDeadlineMet records that a deadline was met.
	InsertDeadlineMet(ctx context.Context, incidentID uuid.UUID, kind DeadlineKind, at time.Time, reference string, by *uuid.UUID) error
	// RedTx holds the TLP:RED recipients of organisations (red.go).
	RedTx
	// LegalTx writes legal reports (legal.go).
	LegalTx
	// PinTx pins timeline events (pin.go).
	PinTx

	// OrgCanSee reports whether the organisation as a whole sees the
	// incident now: the visibility rule for access.OrgOnly (named
	// participants do not count; TLP:RED never). It decides what may
	// leave certdesk for an organisation.
	OrgCanSee(ctx context.Context, orgID, incidentID uuid.UUID) (bool, error)
	// UserOrgID returns the organisation of a user; apperr.NotFound when
	// there is no such user.
	UserOrgID(ctx context.Context, userID uuid.UUID) (uuid.UUID, error)
	// Shares lists the organisations the incident is shared with or
	// escalated to, by slug.
	Shares(ctx context.Context, incidentID uuid.UUID) ([]Share, error)
	// DeleteShare removes the incident's share with an organisation.
	DeleteShare(ctx context.Context, incidentID, orgID uuid.UUID) error
	// Participants lists the incident's named participants with their
	// organisations, by e-mail.
	Participants(ctx context.Context, incidentID uuid.UUID) ([]Participant, error)
	// DeleteParticipant removes a named participant.
	DeleteParticipant(ctx context.Context, incidentID, userID uuid.UUID) error
	// TeamRef finds a team by ID (apperr.NotFound when there is none).
	TeamRef(ctx context.Context, id uuid.UUID) (*TeamRef, error)
}

// TeamRef is a team as an assignment sees it.
type TeamRef struct {
	ID    uuid.UUID
	OrgID uuid.UUID
	Name  string
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

// RouteJob assigns the coordinating organisation of an incident that has
// none (Route). Reports are routed in their own transaction now (Create),
// so nothing queues it any more; the worker stays for jobs queued before
// (an upgrade with a backlog) and for incidents written without routing.
type RouteJob struct {
	IncidentID uuid.UUID `json:"incident_id" river:"unique"`
}

// Kind implements Job.
func (RouteJob) Kind() string { return "incident.route" }

// Service holds the incident use cases.
type Service struct {
	store Store
	now   func() time.Time
	// Renderer turns a Markdown description into sanitised HTML; Render
	// version identifies its output. Without one, descriptions have no HTML.
	Renderer      func(src string) string
	RenderVersion int
	// OnRouted, when set, runs inside Route's transaction after a new
	// incident got its coordinating organisation (the notification outbox).
	OnRouted func(ctx context.Context, tx Tx, inc *Incident, target org.Organization) error
}

// render fills the incident's description HTML.
func (s *Service) render(inc *Incident) {
	if s.Renderer == nil {
		return
	}
	inc.DescriptionHTML, inc.DescriptionHTMLVersion = s.Renderer(inc.Description), s.RenderVersion
}

// NewService returns a Service. now is the clock; nil means time.Now.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// clock is the service's time, in UTC, at PostgreSQL's microsecond
// precision (so that what a use case returns equals what it stored).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Create records a new incident reported by p's organisation, routed to its
// coordinating organisation (Route's rule), its "created" and "routed"
// timeline events, p as its first participant (and, for TLP:RED, the
// coordinator's TLP:RED recipients), in one transaction. With an idempotency key that was used before, it creates
// nothing and returns the first incident with replayed=true; with the same
// key and another request it fails with apperr.Conflict.
func (s *Service) Create(ctx context.Context, p access.Principal, in NewIncident, idem *IdempotencyKey) (inc *Incident, replayed bool, err error) {
	if inc, err = s.newIncident(p, in); err != nil {
		return nil, false, err
	}
	var firstID uuid.UUID
	err = s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if firstID, err = s.create(ctx, tx, p, inc, idem); err != nil || firstID != uuid.Nil {
			return err
		}
		// Nothing writes the new row after this: the event handlers get
		// it from memory instead of reading it back.
		tx.Hold(inc)
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if firstID != uuid.Nil {
		first, err := s.store.Incident(ctx, p, firstID)
		return first, true, err
	}
	// The incident is committed: answer from memory, so that a failing read
	// now cannot turn an accepted report into an error the client retries.
	return inc, false, nil
}

// CreateInTx is Create inside the caller's transaction, without an
// idempotency key: the incident, its first participant, its "created"
// and "routed" events commit or roll back with whatever else the
// caller writes there (the guided report adds its structured report,
// files and indicators; internal/report). Errors as for Create.
func (s *Service) CreateInTx(ctx context.Context, tx Tx, p access.Principal, in NewIncident) (*Incident, error) {
	inc, err := s.newIncident(p, in)
	if err != nil {
		return nil, err
	}
	if _, err := s.create(ctx, tx, p, inc, nil); err != nil {
		return nil, err
	}
	return inc, nil
}

// newIncident checks the input and builds the incident p's organisation
// reports.
func (s *Service) newIncident(p access.Principal, in NewIncident) (*Incident, error) {
	if err := p.Require(access.CreateIncident); err != nil {
		return nil, err
	}
	now := s.clock()
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	return &Incident{
		ID:                 uuid.New(),
		Title:              in.Title,
		Description:        in.Description,
		ReportingOrgID:     p.OrgID,
		ReporterUserID:     p.UserIDPtr(),
		Stage:              in.Stage,
		Status:             Open,
		Severity:           in.Severity,
		TLP:                in.TLP,
		PAP:                in.PAP,
		DetectedAt:         utcPtr(in.DetectedAt),
		Category:           in.Category,
		Type:               in.Type,
		Tags:               in.Tags,
		Assets:             in.Assets,
		PersonalDataBreach: in.PersonalDataBreach,
		Significant:        in.Significant,
		AffectedPeople:     int64Ptr(in.AffectedPeople),
		ReportedAt:         now,
		CreatedAt:          now,
		UpdatedAt:          now,
		Version:            1,
		ReportingOrgSlug:   p.OrgSlug,
	}, nil
}

// create writes a new incident in tx. With an idempotency key that was
// used before it writes nothing and returns the first incident's ID.
func (s *Service) create(ctx context.Context, tx Tx, p access.Principal, inc *Incident, idem *IdempotencyKey) (firstID uuid.UUID, err error) {
	now := inc.CreatedAt
	if idem != nil {
		id, hash, claimed, err := tx.ClaimIdempotencyKey(ctx, *idem, inc.ID)
		if err != nil {
			return uuid.Nil, err
		}
		if !claimed {
			if hash != idem.RequestHash {
				return uuid.Nil, apperr.New(apperr.Conflict, "Idempotency-Key %q was already used with a different request", idem.Key)
			}
			return id, nil
		}
	}
	year := now.Year()
	n, err := tx.NextIncidentNumber(ctx, year)
	if err != nil {
		return uuid.Nil, err
	}
	inc.Reference = Reference(year, n)
	s.render(inc)
	// Routing is a function of the organisation tree: the coordinator is
	// chosen here and inserted with the incident, so that a report is one
	// transaction (no route job, no second commit, no UPDATE).
	chain, err := tx.OrgChain(ctx, inc.ReportingOrgID)
	if apperr.Is(err, apperr.NotFound) {
		return uuid.Nil, &apperr.Error{Code: apperr.Invalid, Message: "the reporting organisation does not exist",
			Fields: []apperr.FieldError{{Field: "reporting_org", Rule: "exists", Message: "no such organisation"}}}
	} else if err != nil {
		return uuid.Nil, err
	}
	target, reason := nearestCERT(chain)
	inc.CoordinatingOrgID, inc.CoordinatingOrgSlug = &target.ID, target.Slug
	if err := tx.InsertIncident(ctx, inc); err != nil {
		return uuid.Nil, err
	}
	if inc.ReporterUserID != nil {
		if _, err := tx.InsertParticipant(ctx, inc.ID, *inc.ReporterUserID, inc.ReporterUserID); err != nil {
			return uuid.Nil, err
		}
	}
	if err := tx.AppendEvent(ctx, &Event{
		IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(), Kind: EventCreated,
		Data: withVia(mustJSON(map[string]any{
			"reference": inc.Reference, "title": inc.Title, "stage": inc.Stage,
			"severity": inc.Severity, "tlp": inc.TLP, "pap": inc.PAP, "reporting_org": p.OrgSlug,
			"category": inc.Category, "type": inc.Type, "personal_data_breach": inc.PersonalDataBreach,
			"significant": inc.Significant, "affected_people": inc.AffectedPeople,
		}), p.Via),
		OccurredAt: now,
	}); err != nil {
		return uuid.Nil, err
	}
	return uuid.Nil, s.routed(ctx, tx, inc, target, reason, now)
}

// Route sets the coordinating organisation of an incident that has none to
// the nearest CERT above the reporting organisation (a CERT that reports
// coordinates its own incident) and records a "routed" event. Create
// applies the same rule in the report's own transaction; Route serves the
// route jobs queued before it did (RouteJob). A TLP:RED incident, which no
// organisation sees as a whole, also gets the coordinating organisation's
// TLP:RED recipients as named participants (or its coordinators when it
// has none; RedRouting), each with a participant_added event, and the
// routed event says whom (red_recipients, red_source, and a warning when
// they are not designated ones). It does nothing for an incident that
// already has a coordinating organisation. also runs in the same
// transaction, so that a job can complete itself atomically with its
// effect.
func (s *Service) Route(ctx context.Context, id uuid.UUID, also func(ctx context.Context, tx Tx) error) error {
	return s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, access.System, id.String())
		if err != nil {
			return err
		}
		if inc.CoordinatingOrgID == nil {
			chain, err := tx.OrgChain(ctx, inc.ReportingOrgID)
			if err != nil {
				return err
			}
			target, reason := nearestCERT(chain)
			now := s.clock()
			if err := tx.SetCoordinatingOrg(ctx, id, target.ID, now); err != nil {
				return err
			}
			inc.CoordinatingOrgID, inc.CoordinatingOrgSlug = &target.ID, target.Slug
			if err := s.routed(ctx, tx, inc, target, reason, now); err != nil {
				return err
			}
		}
		if also != nil {
			return also(ctx, tx)
		}
		return nil
	})
}

// routed records that inc, whose coordinating organisation is now target
// (reason says why), was routed: the "routed" event and, for a TLP:RED
// incident, the target's TLP:RED recipients as named participants with
// their participant_added events (the routed event names them), then the
// OnRouted hook.
func (s *Service) routed(ctx context.Context, tx Tx, inc *Incident, target org.Organization, reason string, now time.Time) error {
	data := map[string]any{"coordinating_org": target.Slug, "coordinating_org_name": target.Name, "reason": reason}
	var named []Event
	if inc.TLP == TLPRed {
		r, evs, err := s.nameRedRecipients(ctx, tx, access.System, inc, target, "")
		if err != nil {
			return err
		}
		data["red_source"], data["red_recipients"], named = r.Source, r.Emails(), evs
		if w := r.fallbackWarning(); w != "" {
			data["warning"] = w
		}
	}
	if err := tx.AppendEvent(ctx, &Event{
		IncidentID: inc.ID, Actor: access.System.Name(), Kind: EventRouted, Data: mustJSON(data), OccurredAt: now,
	}); err != nil {
		return err
	}
	for i := range named {
		ev := &named[i]
		ev.IncidentID, ev.Actor, ev.OccurredAt = inc.ID, access.System.Name(), now
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
	}
	if s.OnRouted != nil {
		return s.OnRouted(ctx, tx, inc, target)
	}
	return nil
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

// Get returns an incident p may see, by ID or reference.
func (s *Service) Get(ctx context.Context, p access.Principal, idOrRef string) (*Incident, error) {
	if IsReference(idOrRef) {
		return s.store.IncidentByReference(ctx, p, idOrRef)
	}
	id, err := uuid.Parse(idOrRef)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "incident %q not found", idOrRef)
	}
	return s.store.Incident(ctx, p, id)
}

// Timeline returns a page of the incident's events, in the order they happened.
func (s *Service) Timeline(ctx context.Context, p access.Principal, idOrRef string, kinds []EventKind, page Page) (*Incident, []Event, string, error) {
	inc, err := s.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, "", err
	}
	evs, next, err := s.TimelineOf(ctx, p, inc, kinds, page)
	if err != nil {
		return nil, nil, "", err
	}
	return inc, evs, next, nil
}

// TimelineOf is Timeline for an incident the caller has just read for p
// (with Get): a page that shows the incident and its timeline reads the
// incident once. The store applies the visibility rule to the events
// again, so an incident read for someone else yields nothing.
func (s *Service) TimelineOf(ctx context.Context, p access.Principal, inc *Incident, kinds []EventKind, page Page) ([]Event, string, error) {
	return s.TimelineWhere(ctx, p, inc, EventFilter{Kinds: kinds}, page)
}

// SystemActor is EventFilter.ActorOrg's value for certdesk's own entries
// (events without an acting person).
const SystemActor = "-"

// EventFilter narrows a timeline; zero fields keep every event.
type EventFilter struct {
	Kinds []EventKind // events of these kinds (EventPinned: the pinned ones)
	// ActorOrg is an organisation's slug (events by its people) or
	// SystemActor.
	ActorOrg string
}

// ActorOrg is an organisation that acted on an incident's timeline.
type ActorOrg struct {
	Slug, Name string // SystemActor and "" for certdesk itself
}

// TimelineWhere is TimelineOf with every filter of the timeline.
func (s *Service) TimelineWhere(ctx context.Context, p access.Principal, inc *Incident, f EventFilter, page Page) ([]Event, string, error) {
	page.Limit = ClampLimit(page.Limit)
	var fs apperr.Fields
	if len(f.Kinds) > 20 {
		fs.Add("kind", "max_items", "at most 20 kinds")
	}
	for _, k := range f.Kinds {
		fs.Text("kind", string(k), 64)
	}
	fs.Text("actor_org", f.ActorOrg, 64)
	if err := fs.Err(); err != nil {
		return nil, "", err
	}
	return s.store.Timeline(ctx, p, inc.ID, f, page)
}

// TimelineActors lists the organisations that acted on the timeline of
// inc as p sees it (the timeline's organisation filter offers them), by
// name, with SystemActor when certdesk itself did.
func (s *Service) TimelineActors(ctx context.Context, p access.Principal, inc *Incident) ([]ActorOrg, error) {
	return s.store.TimelineActors(ctx, p, inc.ID)
}

// Filter narrows a list of incidents; zero fields match everything.
type Filter struct {
	Status       Status
	Stage        Stage
	Severity     Severity
	TLP          TLP
	PAP          PAP
	Category     string
	Type         string
	ReportingOrg string // slug
	// CoordinatingOrg is a slug, or NoOrg: incidents not routed to a
	// coordinator yet.
	CoordinatingOrg string
	// Assignee is an e-mail, "me" (assigned to the caller), "mine"
	// (assigned to the caller, or to one of the caller's teams with nobody
	// assigned) or "none" (neither a person nor a team assigned).
	Assignee   string
	AssigneeID *uuid.UUID // set by List from Assignee (an e-mail, "me")
	MineOf     *uuid.UUID // set by List for "mine": the caller
	Unassigned bool       // set by List for "none"
	// AssigneeTeam is a team's ID: the incidents assigned to that team.
	AssigneeTeam string
	// Acknowledged keeps acknowledged (true) or unacknowledged (false)
	// incidents.
	Acknowledged *bool
	// Constituency is a CERT's slug: incidents reported by it or by an
	// organisation below it.
	Constituency string
	// WorkOf is an organisation's slug: the incidents it works on —
	// those it coordinates, those reported from its constituency (as
	// Constituency), and those escalated to it (requested or accepted).
	// It is the triage queue's default view of a CERT.
	WorkOf string
	// EscalatedTo is an organisation's slug: incidents with an escalation
	// to it that is requested or accepted.
	EscalatedTo string
	// References keeps the incidents with these references (at most
	// MaxLimit): the bulk confirmation reads its selection with it.
	References         []string
	Tag                string
	PersonalDataBreach *bool
	Significant        *bool
	// Deadline is "open" (a legal deadline not met yet), "missed" (one
	// past due and not met) or "at_risk" (the earliest open deadline,
	// legal or escalation-policy timer, falls due within AtRiskWithin or
	// has passed).
	Deadline string
	// DeadlineBefore is set by List for "at_risk": now + AtRiskWithin.
	DeadlineBefore              *time.Time
	CreatedAfter, CreatedBefore *time.Time
	UpdatedAfter, UpdatedBefore *time.Time
	Query                       string // full text over title, description and comments
	Sort                        Sort
}

// NoOrg is the organisation filter's value for "no organisation": the
// slug no organisation may take.
const NoOrg = org.NoOrg

// Sort orders a list: by creation or last update, "-" for newest first.
type Sort string

// The sort orders of lists (keyset-paginated, so each is a stable order).
const (
	SortCreatedDesc Sort = "-created" // default
	SortCreatedAsc  Sort = "created"
	SortUpdatedDesc Sort = "-updated"
	SortUpdatedAsc  Sort = "updated"
	// SortTriage is the triage queue's order: open before closed,
	// unacknowledged first, then by the earliest open deadline (legal
	// deadlines and escalation-policy timers alike; none last), then the
	// oldest report first.
	SortTriage Sort = "triage"
)

// Sorts lists the sort orders.
var Sorts = []Sort{SortCreatedDesc, SortCreatedAsc, SortUpdatedDesc, SortUpdatedAsc, SortTriage}

// AtRiskWithin is how close the earliest open deadline of an incident
// must be for it to be "at risk" (Filter.Deadline "at_risk").
const AtRiskWithin = 4 * time.Hour

// MaxQuery bounds a full-text query.
const MaxQuery = 200

// Validate names every filter field with an unknown value and normalises
// the others.
func (f *Filter) Validate() error {
	var fs apperr.Fields
	if f.Status != "" && f.Status != Open && f.Status != Closed {
		fs.Add("status", "enum", "status must be open or closed")
	}
	if f.Stage != "" && !f.Stage.Valid() {
		fs.Add("stage", "enum", "stage must be one of: %s", list(Stages))
	}
	if f.Severity != "" && !f.Severity.Valid() {
		fs.Add("severity", "enum", "severity must be one of: %s", list(Severities))
	}
	if f.TLP != "" {
		if t, ok := ParseTLP(string(f.TLP)); ok {
			f.TLP = t
		} else {
			fs.Add("tlp", "enum", "tlp must be one of: %s", list(TLPs))
		}
	}
	if f.PAP != "" {
		if p, ok := ParsePAP(string(f.PAP)); ok {
			f.PAP = p
		} else {
			fs.Add("pap", "enum", "%s", PAPRuleMessage("pap"))
		}
	}
	if f.Category != "" || f.Type != "" {
		f.Category, f.Type = checkClassification(f.Category, f.Type, &fs)
	}
	if f.Tag != "" {
		f.Tag = strings.ToLower(strings.TrimSpace(f.Tag))
	}
	if f.Deadline != "" && f.Deadline != "open" && f.Deadline != "missed" && f.Deadline != "at_risk" {
		fs.Add("deadline", "enum", "deadline must be open, missed or at_risk")
	}
	if f.AssigneeTeam != "" {
		if _, err := uuid.Parse(f.AssigneeTeam); err != nil {
			fs.Add("assignee_team", "format", "assignee_team must be a team's ID")
		}
	}
	if len(f.References) > MaxLimit {
		fs.Add("reference", "max_items", "at most %d references", MaxLimit)
	}
	if f.Sort == "" {
		f.Sort = SortCreatedDesc
	}
	if !slices.Contains(Sorts, f.Sort) {
		fs.Add("sort", "enum", "sort must be one of: %s", list(Sorts))
	}
	f.Query = strings.TrimSpace(f.Query)
	fs.Text("q", f.Query, MaxQuery)
	for name, v := range map[string]string{"tag": f.Tag, "reporting_org": f.ReportingOrg, "coordinating_org": f.CoordinatingOrg, "assignee": f.Assignee,
		"constituency": f.Constituency, "work_of": f.WorkOf, "escalated_to": f.EscalatedTo} {
		fs.Text(name, v, 254)
	}
	return fs.Err()
}

// List returns a page of the incidents p may see that match f, in f.Sort's
// order (newest first by default).
func (s *Service) List(ctx context.Context, p access.Principal, f Filter, page Page) ([]Incident, string, error) {
	none, err := s.prepare(ctx, p, &f)
	if err != nil {
		return nil, "", err
	} else if none {
		return []Incident{}, "", nil
	}
	page.Limit = ClampLimit(page.Limit)
	return s.store.List(ctx, p, f, page)
}

// Count counts the incidents p may see that match f, up to max: more is
// max+1 ("more than max"), without reading them.
func (s *Service) Count(ctx context.Context, p access.Principal, f Filter, max int) (int, error) {
	none, err := s.prepare(ctx, p, &f)
	if err != nil || none {
		return 0, err
	}
	return s.store.Count(ctx, p, f, max)
}

// prepare validates f and resolves its relative values for p (the
// deadline at risk, the assignee); none says that nothing can match.
func (s *Service) prepare(ctx context.Context, p access.Principal, f *Filter) (none bool, err error) {
	if err := f.Validate(); err != nil {
		return false, err
	}
	if f.Deadline == "at_risk" {
		before := s.clock().Add(AtRiskWithin)
		f.DeadlineBefore = &before
	}
	if f.Assignee != "" {
		switch f.Assignee {
		case "me":
			id := p.UserID
			f.AssigneeID = &id
		case "mine":
			id := p.UserID
			f.MineOf = &id
		case "none":
			f.Unassigned = true
		default:
			var err error
			id := uuid.Nil
			err = s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
				var e error
				id, e = tx.UserIDByEmail(ctx, f.Assignee)
				return e
			})
			if apperr.Is(err, apperr.NotFound) {
				return true, nil // nobody by that address is assigned anything
			} else if err != nil {
				return false, err
			}
			f.AssigneeID = &id
		}
	}
	return false, nil
}

// Share shares an incident with another organisation, which then sees it
// as far as its TLP allows. TLP:RED and TLP:AMBER+STRICT incidents are not
// shared with organisations: name participants instead (apperr.Conflict).
func (s *Service) Share(ctx context.Context, p access.Principal, idOrRef, orgSlug, note string) (*Incident, error) {
	var fs apperr.Fields
	if strings.TrimSpace(orgSlug) == "" {
		fs.Add("org", "required", "org is required")
	}
	fs.Text("org", orgSlug, 64)
	fs.Text("note", note, 2000)
	if err := fs.Err(); err != nil {
		return nil, err
	}
	var inc *Incident
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if inc, err = tx.LockIncident(ctx, p, idOrRef); err != nil {
			return err
		}
		// Only the organisations that own the incident pass it on (the
		// write table: reporting, coordinating, CERT above).
		if err := p.RequireWrite(access.ShareIncident, inc.Relations); err != nil {
			return err
		}
		if inc.TLP == TLPRed || inc.TLP == TLPAmberStrict {
			return apperr.New(apperr.Conflict, "a %s incident is not shared with organisations; add named participants instead", inc.TLP)
		}
		target, err := tx.OrgBySlug(ctx, orgSlug)
		if apperr.Is(err, apperr.NotFound) {
			return &apperr.Error{Code: apperr.Invalid, Message: "no such organisation",
				Fields: []apperr.FieldError{{Field: "org", Rule: "exists", Message: "no organisation has this slug"}}}
		} else if err != nil {
			return err
		}
		added, err := tx.InsertShare(ctx, inc.ID, target.ID, "share", note, p.UserIDPtr())
		if err != nil || !added {
			return err
		}
		data := map[string]any{"org": target.Slug, "org_name": target.Name, "note": note}
		if err := tx.AppendEvent(ctx, &Event{IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(),
			Kind: EventShared, Data: mustJSON(data), OccurredAt: s.clock()}); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEntry(p, audit.IncidentShared, inc, data))
	})
	return inc, err
}

// AddParticipant names a user as a participant of the incident: they see
// it whatever its TLP and their organisation. It needs incident.share,
// or on TLP:RED incident.participant_red (reporters of the reporting
// organisation name participants on its TLP:RED reports: TLP:RED is shared
// person by person, and the originator decides with whom). On a
// TLP:AMBER+STRICT incident the user's organisation must be in the
// incident's circle (apperr.Conflict otherwise).
func (s *Service) AddParticipant(ctx context.Context, p access.Principal, idOrRef, email string) (*Incident, error) {
	var fs apperr.Fields
	if strings.TrimSpace(email) == "" {
		fs.Add("email", "required", "email is required")
	} else {
		fs.Text("email", email, 254)
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	var inc *Incident
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if inc, err = tx.LockIncident(ctx, p, idOrRef); err != nil {
			return err
		}
		if err := p.RequireWrite(participantWrite(inc), inc.Relations); err != nil {
			return err
		}
		uid, err := tx.UserIDByEmail(ctx, email)
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Fields{{Field: "email", Rule: "exists", Message: "no user has this e-mail"}}.Err()
		} else if err != nil {
			return err
		}
		if inc.TLP == TLPAmberStrict {
			if err := inCircle(ctx, tx, inc, uid); err != nil {
				return err
			}
		}
		added, err := tx.InsertParticipant(ctx, inc.ID, uid, p.UserIDPtr())
		if err != nil || !added {
			return err
		}
		data := map[string]any{"user": email}
		if err := tx.AppendEvent(ctx, &Event{IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(),
			Kind: EventParticipantAdded, Data: mustJSON(data), OccurredAt: s.clock()}); err != nil {
			return err
		}
		return tx.Audit(ctx, auditEntry(p, audit.ParticipantAdd, inc, data))
	})
	return inc, err
}

// participantWrite is the write that naming a participant of inc is: on
// TLP:RED, where named people are the only audience, the originator
// decides who receives it (access.NameRedParticipant); otherwise it is
// passing the incident on (access.ShareIncident).
func participantWrite(inc *Incident) access.Action {
	if inc.TLP == TLPRed {
		return access.NameRedParticipant
	}
	return access.ShareIncident
}

// inCircle refuses (apperr.Conflict) a participant of a TLP:AMBER+STRICT
// incident whose organisation is outside its circle: the reporting and
// coordinating organisations and those that joined it. A participant from
// elsewhere would carry the incident out of the circle.
func inCircle(ctx context.Context, tx Tx, inc *Incident, userID uuid.UUID) error {
	orgID, err := tx.UserOrgID(ctx, userID)
	if err != nil {
		return err
	}
	ok, err := tx.OrgCanSee(ctx, orgID, inc.ID)
	if err != nil || ok {
		return err
	}
	return apperr.New(apperr.Conflict, "a %s incident's participants belong to its circle (the reporting and coordinating organisations and those that joined it); "+
		"this user's organisation is outside it: escalate to the organisation with joins_strict_circle, or lower the TLP", inc.TLP)
}

func auditEntry(p access.Principal, a audit.Action, inc *Incident, data any) audit.Entry {
	return audit.Entry{ActorUserID: p.UserIDPtr(), Actor: p.Name(), Action: a, TargetType: "incident",
		TargetID: inc.Reference, RemoteAddr: p.RemoteAddr, Data: mustJSON(data)}
}

// DefaultLimit and MaxLimit bound list pages.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ClampLimit returns the page size to use for a requested limit.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// MustJSON encodes the data of a timeline event: plain maps of strings,
// numbers, booleans and times, which always encode; anything else is a
// programming error and panics. Other domains' event data use it too.
func MustJSON(v any) json.RawMessage { return mustJSON(v) }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("incident: marshal event data: %v", err)) // only plain maps of strings reach here
	}
	return b
}
