package filing

import (
	"context"
	"slices"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/google/uuid"
)

// TaskState is where a legal report stands in the task list (GOV.UK
// "complete multiple tasks": completed, to do, cannot start yet).
type TaskState string

// The task states.
const (
	TaskDone        TaskState = "done"         // filed (or the deadline recorded as met)
	TaskToDo        TaskState = "to_do"        // may be filed; the deadline has not passed
	TaskOverdue     TaskState = "overdue"      // may be filed; the deadline has passed
	TaskCannotStart TaskState = "cannot_start" // the report it builds on comes first
)

// Task is one legal report of an incident in its task list.
type Task struct {
	Kind     incident.DeadlineKind
	State    TaskState
	Deadline incident.Deadline
	// Blocker is the report to file first (TaskCannotStart).
	Blocker incident.DeadlineKind
	// Reports are the reports filed of this kind, first phase first.
	Reports []incident.LegalReport
	// MoreAllowed: a further phase may be filed (a GDPR notification
	// filed already).
	MoreAllowed bool
}

// Tasks is the task list of an incident's legal reports at now: one task
// per deadline that applies, in the order of the law (NIS2 early warning,
// notification, final report; GDPR notification). filed are the reports
// filed (LegalReports); loc is the reporting organisation's time zone.
func Tasks(inc *incident.Incident, filed []incident.LegalReport, loc *time.Location, now time.Time) []Task {
	var out []Task
	for _, d := range inc.Deadlines(loc, now) {
		t := Task{Kind: d.Kind, Deadline: d}
		for _, r := range filed {
			if r.Kind == d.Kind {
				t.Reports = append(t.Reports, r)
			}
		}
		switch {
		case d.Met != nil:
			t.State = TaskDone
			t.MoreAllowed = incident.Phased(d.Kind) && len(t.Reports) > 0
		case blocked(inc, d.Kind):
			t.State, t.Blocker = TaskCannotStart, incident.Requires(d.Kind)
		case d.State == incident.DeadlineMissed:
			t.State = TaskOverdue
		default:
			t.State = TaskToDo
		}
		out = append(out, t)
	}
	return out
}

func blocked(inc *incident.Incident, kind incident.DeadlineKind) bool {
	before := incident.Requires(kind)
	if before == "" {
		return false
	}
	_, ok := inc.DeadlinesMet[before]
	return !ok
}

// ZoneOf is the reporting organisation's time zone of an incident (the
// calendar of its deadlines), UTC when unknown.
func ZoneOf(inc *incident.Incident) *time.Location {
	if z, err := time.LoadLocation(inc.ReportingOrgTimeZone); err == nil {
		return z
	}
	return time.UTC
}

// LegalPage is what a legal report's form or check page shows.
type LegalPage struct {
	Incident *incident.Incident
	Task     Task
	// Late: the deadline has passed and this is the first report of its
	// kind, so the form asks for the reasons for the delay.
	Late   bool
	Fields []Field
	// Answers are the draft's, or the pre-filled ones when there is no
	// draft yet (Prefilled).
	Answers   Answers
	Prefilled bool
	// Phase is the number the report will have (2 and up: further
	// information for a GDPR notification).
	Phase int
}

// LegalForm returns a legal report's form for p: the incident must be
// visible (apperr.NotFound), p must be allowed to file its legal reports
// (incident.legal_report, apperr.Forbidden), the deadline must apply
// (apperr.NotFound: there is no such report to write) and be open — not
// waiting for the report it builds on, and not filed already unless it
// is phased (apperr.Conflict). lang is the reader's language (the
// pre-filled words).
func (s *Service) LegalForm(ctx context.Context, p access.Principal, idOrRef string, kind incident.DeadlineKind, lang string) (*LegalPage, error) {
	inc, filed, err := s.o.Incidents.LegalReports(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(access.FileLegalReport, inc.Relations); err != nil {
		return nil, err
	}
	page, err := s.legalPage(inc, filed, kind)
	if err != nil {
		return nil, err
	}
	d, err := s.o.Store.LegalDraft(ctx, inc.ID, string(kind))
	switch {
	case err == nil:
		page.Answers = d.Answers
		return page, nil
	case !apperr.Is(err, apperr.NotFound):
		return nil, err
	}
	k := Known{Incident: inc, T: s.messages(lang)}
	if _, r, err := s.Report(ctx, p, inc.ID.String()); err == nil {
		k.Guided = r.Answers
	} else if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	for _, r := range filed {
		k.Filed = append(k.Filed, AnswersOf(r.Items))
	}
	if kind == incident.NIS2Notification {
		_, obs, _, err := s.o.Observables.List(ctx, p, inc.ID.String(), observable.Page{Limit: incident.MaxLimit})
		if err != nil {
			return nil, err
		}
		for _, o := range obs {
			k.Indicators = append(k.Indicators, observable.Defang(o.Type, o.Value))
		}
	}
	page.Answers, page.Prefilled = Prefill(kind, k), true
	return page, nil
}

// legalPage checks that a report of kind may be written for the incident
// now and describes it.
func (s *Service) legalPage(inc *incident.Incident, filed []incident.LegalReport, kind incident.DeadlineKind) (*LegalPage, error) {
	now := s.now()
	for _, t := range Tasks(inc, filed, ZoneOf(inc), now) {
		if t.Kind != kind {
			continue
		}
		switch {
		case t.State == TaskCannotStart:
			return nil, apperr.New(apperr.Conflict, "file the %s first", t.Blocker)
		case t.State == TaskDone && !t.MoreAllowed:
			return nil, apperr.New(apperr.Conflict, "the %s was filed already", kind)
		}
		late := t.State == TaskOverdue
		return &LegalPage{Incident: inc, Task: t, Late: late, Fields: LegalFields(kind, late), Phase: len(t.Reports) + 1}, nil
	}
	return nil, apperr.New(apperr.NotFound, "the incident has no %s to file", kind)
}

func (s *Service) messages(lang string) Translator {
	if s.hasLanguage(lang) {
		return s.o.Messages(lang)
	}
	return s.o.Messages(s.o.Languages[0])
}

// SaveLegal checks a legal report's form and saves it as the draft of
// that report (one per incident and kind, shared by everyone who may file
// it), for the check page. Errors as LegalForm's; a form with errors
// saves nothing and returns apperr.Invalid naming each field, with the
// answers as read.
func (s *Service) SaveLegal(ctx context.Context, p access.Principal, idOrRef string, kind incident.DeadlineKind, in Form) (*LegalPage, Answers, error) {
	inc, filed, err := s.o.Incidents.LegalReports(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, err
	}
	if err := p.RequireWrite(access.FileLegalReport, inc.Relations); err != nil {
		return nil, nil, err
	}
	page, err := s.legalPage(inc, filed, kind)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	got, fs := read(page.Fields, in, time.UTC, now)
	if err := fs.Err(); err != nil {
		return page, got, err
	}
	err = s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		d, err := tx.LockLegalDraft(ctx, inc.ID, string(kind))
		switch {
		case apperr.Is(err, apperr.NotFound):
			d = &Draft{ID: uuid.New(), OrgID: p.OrgID, Kind: string(kind), IncidentID: &inc.ID, Answers: got,
				Done: []string{string(kind)}, LastStep: string(kind), CreatedByID: p.UserID, CreatedAt: now,
				UpdatedByID: p.UserID, UpdatedAt: now}
			return tx.InsertDraft(ctx, d)
		case err != nil:
			return err
		}
		d.Answers, d.UpdatedByID, d.UpdatedAt = got, p.UserID, now
		return tx.UpdateDraft(ctx, d)
	})
	if err != nil {
		return nil, got, err
	}
	page.Answers = got
	return page, got, nil
}

// FileLegal sends the saved draft of a legal report: its answers become
// the report's items (the questions in lang, the filer's language) and
// incident.Service.FileLegalReportInTx records it — the deadline met,
// the timeline event — in one transaction with marking the draft sent.
// Without a draft (nothing saved, or sent already by a double submit)
// it is apperr.NotFound; answers that no longer pass (the deadline passed
// since the form was saved: the reasons for the delay are now required)
// are apperr.Invalid naming the field. Errors also as FileLegalReport's.
func (s *Service) FileLegal(ctx context.Context, p access.Principal, idOrRef string, kind incident.DeadlineKind, lang string) (*incident.LegalReport, error) {
	inc, filed, err := s.o.Incidents.LegalReports(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(access.FileLegalReport, inc.Relations); err != nil {
		return nil, err
	}
	page, err := s.legalPage(inc, filed, kind)
	if err != nil {
		return nil, err
	}
	if !s.hasLanguage(lang) {
		lang = s.o.Languages[0]
	}
	t := s.o.Messages(lang)
	var out *incident.LegalReport
	err = s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		d, err := tx.LockLegalDraft(ctx, inc.ID, string(kind))
		if err != nil {
			return err
		}
		var fs apperr.Fields
		for i := range page.Fields {
			check(&page.Fields[i], d.Answers.clone(), &fs, time.UTC, s.now())
		}
		if err := fs.Err(); err != nil {
			return err
		}
		items := ItemsOf(page.Fields, d.Answers, t, datetimeIn(t))
		f := incident.Filing{Language: lang, Items: items, LateReason: d.Answers.Get(FieldLateReason.Name)}
		if out, err = s.o.Incidents.FileLegalReportInTx(ctx, tx, p, inc.ID.String(), kind, f); err != nil {
			return err
		}
		return tx.SubmitDraft(ctx, d.ID, nil, s.now())
	})
	return out, err
}

func (s *Service) hasLanguage(lang string) bool { return slices.Contains(s.o.Languages, lang) }

// LegalOverview is the task list of an incident's legal reports for p:
// the tasks, the reports filed, and whether p may file them.
type LegalOverview struct {
	Incident *incident.Incident
	Tasks    []Task
	MayFile  bool
}

// Legal returns the legal reports' task list of an incident p may see
// (apperr.NotFound otherwise).
func (s *Service) Legal(ctx context.Context, p access.Principal, idOrRef string) (*LegalOverview, error) {
	inc, filed, err := s.o.Incidents.LegalReports(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	return &LegalOverview{Incident: inc, Tasks: Tasks(inc, filed, ZoneOf(inc), s.now()),
		MayFile: p.MayWrite(access.FileLegalReport, inc.Relations)}, nil
}
