package incident

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// EventLegalReportFiled is the timeline event of a legal report filed
// after the first of its kind (a later phase of a GDPR notification). The
// first report of a kind is the deadline_met event, whose data then also
// name the report (legal_report_id, phase).
const EventLegalReportFiled EventKind = "legal_report_filed"

// ReportItem is one question of a report as it was asked, in the
// language of the person who answered it, with the answer as they read it
// and, where the question had choices, the values chosen.
type ReportItem struct {
	Field    string   `json:"field"`
	Question string   `json:"question"`
	Answer   string   `json:"answer"`
	Values   []string `json:"values,omitempty"`
}

// Filing is the content of a legal report: the questions of its form as
// they were asked and the answers, the language they were asked in, and
// the reasons for a delay (required when the deadline has passed).
type Filing struct {
	Language   string
	Items      []ReportItem
	LateReason string
}

// LegalReport is a report an organisation filed to meet one of an
// incident's legal deadlines. Phase counts the reports of its kind: a
// GDPR notification may be given in phases (Art. 33(4)); every other kind
// has one.
type LegalReport struct {
	ID         uuid.UUID
	IncidentID uuid.UUID
	Kind       DeadlineKind
	Phase      int
	Language   string
	Items      []ReportItem
	LateReason string
	// DueAt is the deadline it answered, as it stood when it was filed.
	DueAt       time.Time
	FiledByID   *uuid.UUID
	FiledByName string // the filer's name, or e-mail when they have none
	FiledAt     time.Time
}

// Late reports whether the report was filed after its deadline.
func (r *LegalReport) Late() bool { return r.FiledAt.After(r.DueAt) }

// Limits of a filing.
const (
	MaxReportItems  = 80
	MaxQuestion     = 1000
	MaxAnswer       = 20_000
	MaxLateReason   = 5000
	maxReportValues = 40
)

// LegalStore reads filed legal reports through the visibility rule: an
// incident p may not see is apperr.NotFound.
type LegalStore interface {
	// LegalReports returns the legal reports of an incident, in the order
	// they were filed.
	LegalReports(ctx context.Context, p access.Principal, incidentID uuid.UUID) ([]LegalReport, error)
	// LegalReport returns one legal report of an incident;
	// apperr.NotFound when the incident has no such report.
	LegalReport(ctx context.Context, p access.Principal, incidentID, id uuid.UUID) (*LegalReport, error)
}

// LegalTx writes legal reports inside a transaction.
type LegalTx interface {
	// CountLegalReports returns how many reports of kind the incident has.
	CountLegalReports(ctx context.Context, incidentID uuid.UUID, kind DeadlineKind) (int, error)
	// InsertLegalReport records a legal report.
	InsertLegalReport(ctx context.Context, r *LegalReport) error
}

// Phased reports whether a deadline's report may be given in phases: the
// GDPR notification (Art. 33(4)). After the first phase met the deadline,
// further phases add information.
func Phased(kind DeadlineKind) bool { return kind == GDPRNotification }

// Requires names the report that must be filed before one of kind may be
// ("" for none): the NIS2 reports follow each other, as Art. 23(4) has
// each build on the one before.
func Requires(kind DeadlineKind) DeadlineKind {
	switch kind {
	case NIS2Notification:
		return NIS2EarlyWarning
	case NIS2FinalReport:
		return NIS2Notification
	}
	return ""
}

// validate checks a filing and names every field that breaks a rule.
func (f *Filing) validate(fs *apperr.Fields) {
	f.Language = strings.TrimSpace(f.Language)
	if f.Language == "" || len(f.Language) > 16 {
		fs.Add("language", "required", "language (a BCP 47 code) is required")
	}
	switch {
	case len(f.Items) == 0:
		fs.Add("items", "required", "a legal report needs its questions and answers")
	case len(f.Items) > MaxReportItems:
		fs.Add("items", "max_items", "at most %d questions", MaxReportItems)
	}
	for i := range f.Items {
		it := &f.Items[i]
		if strings.TrimSpace(it.Field) == "" || strings.TrimSpace(it.Question) == "" {
			fs.Add("items", "required", "every item needs its field and question")
			break
		}
		if utf8.RuneCountInString(it.Question) > MaxQuestion || utf8.RuneCountInString(it.Answer) > MaxAnswer ||
			len(it.Values) > maxReportValues || !utf8.ValidString(it.Answer) || !utf8.ValidString(it.Question) {
			fs.Add(it.Field, "max_length", "the answer to %q is too long (at most %d characters)", it.Field, MaxAnswer)
		}
	}
	f.LateReason = strings.TrimSpace(f.LateReason)
	fs.Text("late_reason", f.LateReason, MaxLateReason)
}

// FileLegalReport files a legal report with its content (the questions of
// its form as they were asked, and the answers) and returns it. It is the
// deadline-met use case (MarkDeadlineMet) carrying the report itself: the
// first report of a kind records its deadline as met, with the report as
// its reference ("legal-report:<id>") and a deadline_met event that names
// the report; a later phase of a GDPR notification (Phased) adds a
// legal_report_filed event and leaves the deadline as it was met. Both
// commit in one transaction with the report.
//
// Rules, in order: the incident must be visible (apperr.NotFound); the
// write table must allow incident.legal_report (apperr.Forbidden); the
// kind must exist and the content be valid (apperr.Invalid, naming the
// field); the deadline must apply (apperr.Conflict); the report it builds
// on must be filed first (Requires; apperr.Conflict); a kind that is not
// phased is filed once (apperr.Conflict, also when the deadline was
// recorded as met without a report); and a report filed after its
// deadline must give the reasons for the delay (apperr.Invalid on
// late_reason, GDPR Art. 33(1)).
func (s *Service) FileLegalReport(ctx context.Context, p access.Principal, idOrRef string, kind DeadlineKind, f Filing) (*LegalReport, error) {
	var out *LegalReport
	_, err := s.markDeadlineMet(ctx, p, idOrRef, kind, "", &f, &out)
	return out, err
}

// fileReport is the part of markDeadlineMet that records a filing.
func (s *Service) fileReport(ctx context.Context, tx Tx, p access.Principal, inc *Incident, kind DeadlineKind, f *Filing, now time.Time) (*LegalReport, []Event, error) {
	var fs apperr.Fields
	f.validate(&fs)
	if err := fs.Err(); err != nil {
		return nil, nil, err
	}
	if !inc.Applies(kind) {
		return nil, nil, apperr.New(apperr.Conflict, "deadline %s does not apply to this incident", kind)
	}
	if before := Requires(kind); before != "" {
		if _, ok := inc.DeadlinesMet[before]; !ok {
			return nil, nil, apperr.New(apperr.Conflict, "file the %s before the %s", before, kind)
		}
	}
	n, err := tx.CountLegalReports(ctx, inc.ID, kind)
	if err != nil {
		return nil, nil, err
	}
	_, met := inc.DeadlinesMet[kind]
	if met && (!Phased(kind) || n == 0) {
		return nil, nil, apperr.New(apperr.Conflict, "the %s was already filed", kind)
	}
	loc := time.UTC
	if z, err := time.LoadLocation(inc.ReportingOrgTimeZone); err == nil {
		loc = z
	}
	var due time.Time
	for _, d := range inc.Deadlines(loc, now) {
		if d.Kind == kind {
			due = d.DueAt
		}
	}
	if !met && now.After(due) && f.LateReason == "" {
		return nil, nil, apperr.Fields{{Field: "late_reason", Rule: "required",
			Message: "the deadline has passed: give the reasons for the delay"}}.Err()
	}
	r := &LegalReport{ID: uuid.New(), IncidentID: inc.ID, Kind: kind, Phase: n + 1, Language: f.Language,
		Items: slices.Clone(f.Items), LateReason: f.LateReason, DueAt: due, FiledByID: p.UserIDPtr(),
		FiledByName: p.Name(), FiledAt: now}
	if err := tx.InsertLegalReport(ctx, r); err != nil {
		return nil, nil, err
	}
	data := map[string]any{"kind": kind, "reference": LegalReportReference(r.ID), "legal_report_id": r.ID.String(),
		"phase": r.Phase, "late": r.Late()}
	if met {
		return r, []Event{{Kind: EventLegalReportFiled, Data: mustJSON(data)}}, nil
	}
	if err := tx.InsertDeadlineMet(ctx, inc.ID, kind, now, LegalReportReference(r.ID), p.UserIDPtr()); err != nil {
		return nil, nil, err
	}
	if inc.DeadlinesMet == nil {
		inc.DeadlinesMet = map[DeadlineKind]DeadlineMet{}
	}
	inc.DeadlinesMet[kind] = DeadlineMet{At: now, Reference: LegalReportReference(r.ID)}
	return r, []Event{{Kind: EventDeadlineMet, Data: mustJSON(data)}}, nil
}

// LegalReportReference is the reference a deadline met by a filed legal
// report records: "legal-report:<id>".
func LegalReportReference(id uuid.UUID) string { return "legal-report:" + id.String() }

// LegalReports returns the legal reports filed for an incident p may see,
// in the order they were filed, with the incident.
func (s *Service) LegalReports(ctx context.Context, p access.Principal, idOrRef string) (*Incident, []LegalReport, error) {
	inc, err := s.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, err
	}
	rs, err := s.store.LegalReports(ctx, p, inc.ID)
	return inc, rs, err
}

// LegalReport returns one legal report of an incident p may see; a
// report ID that is not a UUID, unknown or of another incident is
// apperr.NotFound.
func (s *Service) LegalReport(ctx context.Context, p access.Principal, idOrRef, reportID string) (*Incident, *LegalReport, error) {
	inc, err := s.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, err
	}
	id, err := uuid.Parse(reportID)
	if err != nil {
		return nil, nil, apperr.New(apperr.NotFound, "legal report %q not found", reportID)
	}
	r, err := s.store.LegalReport(ctx, p, inc.ID, id)
	return inc, r, err
}

// FileLegalReportInTx is FileLegalReport inside the caller's transaction:
// the report, the deadline met and the event commit or roll back with
// what the caller writes there (the draft the report was written in is
// marked sent; internal/report). Errors as for FileLegalReport.
func (s *Service) FileLegalReportInTx(ctx context.Context, tx Tx, p access.Principal, idOrRef string, kind DeadlineKind, f Filing) (*LegalReport, error) {
	var out *LegalReport
	_, err := s.mutateIn(ctx, tx, p, "", idOrRef, nil, access.FileLegalReport, s.metFn(p, kind, "", &f, &out))
	return out, err
}
