// Package filing is what a reporting organisation files: the guided
// report (drafts saved after every step and shared by the organisation's
// reporters, sent as an incident with its files, indicators and the
// structured report, questions as they were asked) and the legal reports'
// forms (NIS2 early warning, notification and final report, GDPR Art. 33
// notification), pre-filled from what is known. The PDF reports are
// internal/report.
package filing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/observable"
	"github.com/google/uuid"
)

// Options are the dependencies of a Service.
type Options struct {
	Store       Store
	Incidents   *incident.Service
	Evidence    *evidence.Service
	Observables *observable.Service
	// Messages returns the messages of a language (the questions are kept
	// as they were asked, in the reporter's language); Languages are the
	// languages it has.
	Messages  func(lang string) Translator
	Languages []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service holds the use cases of the reporting organisation's reports:
// drafts of the guided report, sending it, its structured report, and
// the legal reports' forms.
type Service struct {
	o Options
}

// NewService returns a Service; it fails naming a missing dependency.
func NewService(o Options) (*Service, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("report: Options.Store is nil")
	case o.Incidents == nil:
		return nil, errors.New("report: Options.Incidents is nil")
	case o.Evidence == nil:
		return nil, errors.New("report: Options.Evidence is nil")
	case o.Observables == nil:
		return nil, errors.New("report: Options.Observables is nil")
	case o.Messages == nil || len(o.Languages) == 0:
		return nil, errors.New("report: Options.Messages and Languages are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}, nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// Limits of drafts.
const (
	MaxOpenDrafts = 50 // the open drafts a start page lists
	MaxFiles      = 20 // files of one guided report
)

// notFound is the answer for a draft p may not see: the same as for one
// that does not exist.
func notFound(id string) error { return apperr.New(apperr.NotFound, "draft %q not found", id) }

// mayReport: drafts are for the users of an organisation who may report.
func mayReport(p access.Principal) bool {
	return !p.System && p.UserID != uuid.Nil && p.Can(access.CreateIncident)
}

// Start begins a new guided report for p's organisation. It needs
// incident.create (apperr.Forbidden).
func (s *Service) Start(ctx context.Context, p access.Principal) (*Draft, error) {
	if err := p.Require(access.CreateIncident); err != nil {
		return nil, err
	}
	if !mayReport(p) {
		return nil, apperr.New(apperr.Forbidden, "only a person starts a report")
	}
	now := s.now()
	d := &Draft{ID: uuid.New(), OrgID: p.OrgID, Kind: KindIncident, Answers: Answers{}, CreatedByID: p.UserID,
		CreatedAt: now, UpdatedByID: p.UserID, UpdatedAt: now}
	err := s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error { return tx.InsertDraft(ctx, d) })
	if err != nil {
		return nil, err
	}
	return d, nil
}

// OpenDrafts lists the guided reports of p's organisation that were not
// sent, last saved first (at most MaxOpenDrafts). Someone who may not
// report sees none.
func (s *Service) OpenDrafts(ctx context.Context, p access.Principal) ([]Draft, error) {
	if !mayReport(p) {
		return nil, nil
	}
	return s.o.Store.OpenDrafts(ctx, p.OrgID, MaxOpenDrafts)
}

// Draft returns a guided report of p's organisation. A draft of another
// organisation, one that does not exist, and any draft for someone who
// may not report are all apperr.NotFound.
func (s *Service) Draft(ctx context.Context, p access.Principal, id string) (*Draft, error) {
	did, err := uuid.Parse(id)
	if err != nil || !mayReport(p) {
		return nil, notFound(id)
	}
	d, err := s.o.Store.Draft(ctx, p.OrgID, did)
	if err != nil {
		return nil, err
	}
	if d.Kind != KindIncident {
		return nil, notFound(id)
	}
	return d, nil
}

// lockDraft is Draft inside a transaction, locked; a sent draft is
// returned as it is (callers decide).
func lockDraft(ctx context.Context, tx Tx, p access.Principal, id string) (*Draft, error) {
	did, err := uuid.Parse(id)
	if err != nil || !mayReport(p) {
		return nil, notFound(id)
	}
	d, err := tx.LockDraft(ctx, p.OrgID, did)
	if err != nil {
		return nil, err
	}
	if d.Kind != KindIncident {
		return nil, notFound(id)
	}
	return d, nil
}

// ErrSent is the conflict of changing a guided report that was sent;
// Details["incident_id"] names the incident it created.
var ErrSent = apperr.New(apperr.Conflict, "this report was sent already")

func sentError(d *Draft) error {
	return &apperr.Error{Code: apperr.Conflict, Message: ErrSent.Message, Details: map[string]any{"incident_id": d.IncidentID.String()}}
}

// SaveStep checks the answers of one step of a guided report and saves
// them in the draft (replacing that step's earlier answers; those of the
// other steps stay, also of steps that no longer apply, so that going
// back never loses an answer). zone is the person's time zone (dates).
// A step with errors saves nothing and returns apperr.Invalid naming each
// input, with the answers as read, so that the page can show them again.
// The draft must be p's organisation's (apperr.NotFound) and not sent
// (apperr.Conflict, ErrSent).
func (s *Service) SaveStep(ctx context.Context, p access.Principal, id, step string, in Form, zone *time.Location) (*Draft, Answers, error) {
	st, ok := StepNamed(step)
	if !ok || st.Special {
		return nil, nil, apperr.New(apperr.NotFound, "no step %q", step)
	}
	if zone == nil {
		zone = time.UTC
	}
	now := s.now()
	got, fs := read(st.Fields, prepare(step, in), zone, now)
	extraRules(step, got, &fs)
	var d *Draft
	err := s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if d, err = lockDraft(ctx, tx, p, id); err != nil {
			return err
		}
		if d.SubmittedAt != nil {
			return sentError(d)
		}
		if err := fs.Err(); err != nil {
			return err
		}
		for i := range st.Fields {
			dropField(&st.Fields[i], d.Answers)
		}
		for k, v := range got {
			d.Answers[k] = v
		}
		if !slices.Contains(d.Done, step) {
			d.Done = append(d.Done, step)
		}
		d.LastStep, d.UpdatedByID, d.UpdatedAt = step, p.UserID, now
		return tx.UpdateDraft(ctx, d)
	})
	if err != nil {
		return nil, got, err
	}
	return d, got, nil
}

// extraRules are the rules of a step beyond its fields' own.
func extraRules(step string, a Answers, fs *apperr.Fields) {
	switch step {
	case "noticed":
		if field, rule := validateNoticed(a); field != "" && len(*fs) == 0 {
			fs.Add(field, rule, "enter the date, or tick that you do not know")
		}
	case "what":
		if a.Is("what", "other") && !a.Has("what_details") {
			fs.Add("what_details", "required", "say in a few words what happened")
		}
	case "contact":
		if !a.Has("contact_phone") && !a.Has("contact_email") && !hasField(*fs, "contact_phone") && !hasField(*fs, "contact_email") {
			fs.Add("contact_phone", "one_of", "give a telephone number or an e-mail address")
		}
	}
}

// AddFile uploads a file for a guided report (its files step): the bytes
// go to the blob store through evidence.Service.Stage (same checks and
// limits as evidence uploads), the draft records it. At most MaxFiles
// (apperr.Invalid on "file").
func (s *Service) AddFile(ctx context.Context, p access.Principal, id string, in evidence.NewAttachment, content io.Reader) (*Draft, error) {
	d, err := s.Draft(ctx, p, id) // refuse before reading the body
	if err != nil {
		return nil, err
	}
	if d.SubmittedAt != nil {
		return nil, sentError(d)
	}
	if len(d.Files) >= MaxFiles {
		return nil, apperr.Fields{{Field: "file", Rule: "max_items", Message: fmt.Sprintf("at most %d files", MaxFiles)}}.Err()
	}
	f, err := s.o.Evidence.Stage(ctx, p, in, content)
	if err != nil {
		return nil, err
	}
	err = s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		if d, err = lockDraft(ctx, tx, p, id); err != nil {
			return err
		}
		if d.SubmittedAt != nil {
			return sentError(d)
		}
		if len(d.Files) >= MaxFiles {
			return apperr.Fields{{Field: "file", Rule: "max_items", Message: fmt.Sprintf("at most %d files", MaxFiles)}}.Err()
		}
		d.Files = append(d.Files, *f)
		d.LastStep, d.UpdatedByID, d.UpdatedAt = StepFiles, p.UserID, s.now()
		return tx.UpdateDraft(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// RemoveFile removes the file at index (0-based, as listed) from a
// guided report. An index out of range changes nothing.
func (s *Service) RemoveFile(ctx context.Context, p access.Principal, id string, index int) (*Draft, error) {
	var d *Draft
	err := s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if d, err = lockDraft(ctx, tx, p, id); err != nil {
			return err
		}
		if d.SubmittedAt != nil {
			return sentError(d)
		}
		if index < 0 || index >= len(d.Files) {
			return nil
		}
		d.Files = slices.Delete(d.Files, index, index+1)
		d.UpdatedByID, d.UpdatedAt = p.UserID, s.now()
		return tx.UpdateDraft(ctx, d)
	})
	return d, err
}

// FilesDone records that the files step was passed (it has no answers of
// its own).
func (s *Service) FilesDone(ctx context.Context, p access.Principal, id string) (*Draft, error) {
	var d *Draft
	err := s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		if d, err = lockDraft(ctx, tx, p, id); err != nil {
			return err
		}
		if d.SubmittedAt != nil {
			return sentError(d)
		}
		if !slices.Contains(d.Done, StepFiles) {
			d.Done = append(d.Done, StepFiles)
		}
		d.LastStep, d.UpdatedByID, d.UpdatedAt = StepFiles, p.UserID, s.now()
		return tx.UpdateDraft(ctx, d)
	})
	return d, err
}

// Discard deletes a guided report that was not sent.
func (s *Service) Discard(ctx context.Context, p access.Principal, id string) error {
	return s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		d, err := lockDraft(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if d.SubmittedAt != nil {
			return sentError(d)
		}
		return tx.DeleteDraft(ctx, d.ID)
	})
}

// Final is what the check page adds: the title and the severity, which it
// suggests and the reporter may change.
type Final struct {
	Title    string
	Severity incident.Severity
}

// Submit sends a guided report: in one transaction it creates the
// incident from the answers (detected_at, classification, flags,
// severity, TLP, assets), attaches the files, adds the indicators, keeps
// the structured report (the questions in lang, the reporter's language,
// and the answers) and marks the draft sent. Sending a draft that was
// sent already creates nothing and returns the incident it created, with
// replayed=true: a double submit (two clicks, a reload, a colleague on
// another device) makes one incident. A draft with a step that applies
// and was never answered is apperr.Invalid on "step" with the step's
// name in Details["step"]; invalid final answers are apperr.Invalid on
// "title" or "severity". Errors also as for incident.Service.Create.
func (s *Service) Submit(ctx context.Context, p access.Principal, id, lang string, fin Final) (inc *incident.Incident, replayed bool, err error) {
	if !s.hasLanguage(lang) {
		lang = s.o.Languages[0]
	}
	t := s.o.Messages(lang)
	var sentID uuid.UUID
	err = s.o.Store.InReportTx(ctx, func(ctx context.Context, tx Tx) error {
		d, err := lockDraft(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if d.SubmittedAt != nil {
			sentID = *d.IncidentID
			return nil
		}
		if missing := FirstMissing(d.Answers, d.Done); missing != "" {
			return &apperr.Error{Code: apperr.Invalid, Message: "the report has a question without an answer",
				Fields:  apperr.Fields{{Field: "step", Rule: "missing", Message: "answer the question " + missing}},
				Details: map[string]any{"step": missing}}
		}
		a := d.Answers.clone()
		facts := Decide(a)
		title := strings.Join(strings.Fields(fin.Title), " ")
		if title == "" {
			title = SuggestTitle(a, t)
		}
		sev := fin.Severity
		if sev == "" {
			sev = facts.Severity
		}
		var fs apperr.Fields
		if !sev.Valid() {
			fs.Add("severity", "enum", "choose a severity")
		}
		if len([]rune(title)) > MaxTitle {
			fs.Add("title", "max_length", "at most %d characters", MaxTitle)
		}
		if err := fs.Err(); err != nil {
			return err
		}
		a["title"], a["severity"] = []string{title}, []string{string(sev)}
		in := incident.NewIncident{Title: title, Description: describe(a, t), Severity: sev, TLP: facts.TLP,
			DetectedAt: facts.DetectedAt, Category: facts.Category, Type: facts.Type, Assets: facts.Assets,
			PersonalDataBreach: facts.PersonalData, Significant: facts.Significant, Tags: []string{"guided-report"}}
		if facts.People != nil && *facts.People <= incident.MaxAffectedPeople {
			// The incident's own figure of people affected (more than the
			// incident takes is a typing error; the structured report
			// keeps the number as typed).
			in.AffectedPeople = facts.People
		}
		if inc, err = s.o.Incidents.CreateInTx(ctx, tx, p, in); err != nil {
			return err
		}
		for _, f := range d.Files {
			if _, err := s.o.Evidence.AttachInTx(ctx, tx, p, inc.ID, f); err != nil {
				return err
			}
		}
		found, _ := observable.ParsePasted(a.Get("indicators"))
		for _, c := range found {
			if _, _, err := s.o.Observables.AddInTx(ctx, tx, p, inc.ID, observable.NewObservable{Type: c.Type, Value: c.Value}); err != nil {
				return err
			}
		}
		now := s.now()
		r := &Report{IncidentID: inc.ID, DraftID: d.ID, Language: lang, Items: s.items(d, a, t), Answers: a,
			PeopleAffected: facts.People, RecordsAffected: facts.Records, SubmittedByID: p.UserIDPtr(), SubmittedAt: now}
		if err := tx.InsertReport(ctx, r); err != nil {
			return err
		}
		return tx.SubmitDraft(ctx, d.ID, &inc.ID, now)
	})
	if err != nil {
		return nil, false, err
	}
	if sentID != uuid.Nil {
		inc, err = s.o.Incidents.Get(ctx, p, sentID.String())
		return inc, true, err
	}
	return inc, false, nil
}

// datetimeIn formats dates for the structured report in its language.
func datetimeIn(t Translator) DateFormatter {
	return func(ts time.Time) string { return ts.Format(t("format.datetime")) }
}

// items writes the structured report: the questions of every step that
// applies, as asked, with the answers; the files and the indicators
// (defanged); the title and the severity chosen on the check page.
func (s *Service) items(d *Draft, a Answers, t Translator) []incident.ReportItem {
	var out []incident.ReportItem
	dt := datetimeIn(t)
	for i := range Steps {
		st := &Steps[i]
		if !st.applies(a) {
			continue
		}
		switch st.Name {
		case StepFiles:
			var names []string
			for _, f := range d.Files {
				names = append(names, f.Filename)
			}
			answer := strings.Join(names, "\n")
			if answer == "" {
				answer = t("report.answer.not_provided")
			}
			out = append(out, incident.ReportItem{Field: "files", Question: t("report.q.files"), Answer: answer, Values: names})
		case StepCheck:
		case "indicators":
			found, _ := observable.ParsePasted(a.Get("indicators"))
			var lines, values []string
			for _, c := range found {
				lines = append(lines, observable.Defang(c.Type, c.Value))
				values = append(values, string(c.Type)+":"+c.Value)
			}
			answer := strings.Join(lines, "\n")
			if answer == "" {
				answer = t("report.answer.not_provided")
			}
			out = append(out, incident.ReportItem{Field: "indicators", Question: t(FieldKey("indicators")), Answer: answer, Values: values})
		default:
			out = append(out, ItemsOf(st.Fields, a, t, dt)...)
		}
	}
	out = append(out,
		incident.ReportItem{Field: "title", Question: t(FieldKey("title")), Answer: a.Get("title"), Values: a["title"]},
		incident.ReportItem{Field: "severity", Question: t(FieldKey("severity")), Answer: t("severity." + a.Get("severity")), Values: a["severity"]})
	return out
}

// describe writes the incident's description (Markdown) from the
// answers, in the reporter's language: what happened in their words and
// which services are disrupted. Everything else is in the structured
// report.
func describe(a Answers, t Translator) string {
	var b strings.Builder
	b.WriteString(t(optionKey("what", a.Get("what"))))
	if d := strings.TrimSpace(a.Get("what_details")); d != "" {
		b.WriteString("\n\n" + d)
	}
	if a.Is("services", "yes", "partly") {
		b.WriteString("\n\n**" + t(FieldKey("services")) + "** " + t(optionKey("services", a.Get("services"))))
		if w := strings.TrimSpace(a.Get("services_which")); w != "" {
			b.WriteString("\n\n" + w)
		}
	}
	return b.String()
}

// Report returns the structured report of an incident p may see;
// apperr.NotFound for an incident p may not see and for one that was not
// reported through the guided report.
func (s *Service) Report(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, *Report, error) {
	inc, err := s.o.Incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.o.Store.Report(ctx, p, inc.ID)
	if err != nil {
		return inc, nil, err
	}
	r.Reference = inc.Reference
	return inc, r, nil
}

// hasField reports whether fs has an error of field.
func hasField(fs apperr.Fields, field string) bool {
	return slices.ContainsFunc(fs, func(e apperr.FieldError) bool { return e.Field == field })
}
