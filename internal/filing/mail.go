package filing

import (
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// MailReport is a report that came by e-mail (internal/mailin): the
// message's subject and text and its attachments, already staged.
type MailReport struct {
	Subject string
	Text    string
	Files   []evidence.Staged
}

// MailAnswer is the answer a draft made from an e-mail gives to every
// question the e-mail cannot answer: "I don't know", which the reporter
// confirms (or changes on the check page) before the report is sent.
const MailAnswer = "unknown"

// MayReportByMail reports whether p may send a report by e-mail: a person
// of an organisation that is not a CERT who may report.
func MayReportByMail(p access.Principal) bool { return mayReport(p) && !p.OrgKind.IsCERT() }

// MailDraft returns a new guided report of p's organisation with id made
// from an e-mail: what happened in the sender's words (the subject and
// the text), "I don't know" to the questions an e-mail does not answer,
// the sender as the contact, TLP:AMBER (the guided report's default), the
// attachments as its files; every step is done, so that the check page
// and Submit take it as it is. The caller inserts it (Tx.InsertDraft).
// apperr.Forbidden unless MayReportByMail(p).
func MailDraft(p access.Principal, id uuid.UUID, name string, m MailReport, now time.Time) (*Draft, error) {
	if !MayReportByMail(p) {
		return nil, apperr.New(apperr.Forbidden, "only a person of a reporting organisation who may report sends a report by e-mail")
	}
	details := strings.TrimSpace(m.Subject)
	if t := strings.TrimSpace(m.Text); t != "" {
		details += "\n\n" + t
	}
	if r := []rune(details); len(r) > MaxLongText {
		details = string(r[:MaxLongText])
	}
	if name == "" {
		name = p.Email
	}
	a := Answers{
		"noticed_unknown": {"yes"},
		"what":            {MailAnswer},
		"what_details":    {details},
		"services":        {MailAnswer},
		"personal":        {MailAnswer},
		"malicious":       {MailAnswer},
		"cross_border":    {MailAnswer},
		"severe":          {MailAnswer},
		"damage":          {MailAnswer},
		"contact_name":    {name},
		"contact_email":   {p.Email},
		"tlp":             {string(incident.TLPAmber)},
	}
	if len(m.Files) > MaxFiles {
		return nil, apperr.Fields{{Field: "file", Rule: "max_items", Message: "too many files"}}.Err()
	}
	d := &Draft{ID: id, OrgID: p.OrgID, Kind: KindIncident, Answers: a, Files: m.Files, LastStep: StepCheck,
		CreatedByID: p.UserID, CreatedAt: now, UpdatedByID: p.UserID, UpdatedAt: now}
	for _, s := range Steps {
		if s.Name != StepCheck && s.applies(a) {
			d.Done = append(d.Done, s.Name)
		}
	}
	return d, nil
}
