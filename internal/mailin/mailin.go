// Package mailin is certdesk's inbound e-mail: an SMTP listener
// (go-smtp's server) that accepts mail for one domain and turns it into
// a comment on an incident (a known user, the incident's reference in the
// subject; attachments become evidence) or a draft of the guided report
// (a reporter, no reference), which the sender confirms on a page. Every
// other message is refused during the SMTP dialogue, with a reply that
// says why. docs/email.md, "Receiving", says what the rule trusts.
package mailin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// The kinds of mail accepted.
const (
	KindComment = "comment"
	KindDraft   = "draft"
)

// Record is a message that was accepted.
type Record struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	OrgID       uuid.UUID
	Kind        string
	MessageID   string
	Sender      string
	Subject     string
	IncidentID  *uuid.UUID
	CommentID   *uuid.UUID
	DraftID     *uuid.UUID
	Attachments int
	Size        int64
	// AuthResults is the Authentication-Results header read; DKIM and SPF
	// its results.
	AuthResults string
	DKIM        string
	SPF         string
	ReceivedAt  time.Time
}

// Store is the persistence of inbound mail.
type Store interface {
	// InMailTx runs fn in one database transaction.
	InMailTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// MailOfDraft returns the message a draft was made from;
	// apperr.NotFound when there is none.
	MailOfDraft(ctx context.Context, draftID uuid.UUID) (*Record, error)
}

// Tx is what accepting a message writes, in one transaction: the comment
// and its evidence, or the draft, and the record.
type Tx interface {
	comment.Tx
	evidence.Tx
	// InsertDraft records a new draft (filing.Tx).
	InsertDraft(ctx context.Context, d *filing.Draft) error
	// LockMail reads a record and locks it; apperr.NotFound if none.
	LockMail(ctx context.Context, id uuid.UUID) (*Record, error)
	// InsertMail records an accepted message.
	InsertMail(ctx context.Context, r *Record) error
	// Enqueue queues a job in the transaction (ConfirmJob).
	Enqueue(ctx context.Context, job incident.Job, opts *incident.JobOpts) error
}

// Users finds the user of an address (*identity.Service).
type Users interface {
	UserByEmail(ctx context.Context, actor access.Principal, email string) (*identity.User, error)
}

// Incidents reads an incident through the visibility rule
// (*incident.Service).
type Incidents interface {
	Get(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
}

// Options are the dependencies and limits of a Service.
type Options struct {
	Store     Store
	Users     Users
	Incidents Incidents
	Comments  *comment.Service
	Evidence  *evidence.Service
	// Domain is the domain mail is accepted for.
	Domain string
	// MaxBytes is the largest message; MaxAttachments the most
	// attachments of one (each at most Evidence.MaxBytes()).
	MaxBytes       int64
	MaxAttachments int
	// AuthservID, when set, names the relay whose Authentication-Results
	// are read and enforced.
	AuthservID string
	// BaseURL is the web UI's address, for the confirm link.
	BaseURL string
	// Mailer mails the confirm link of a draft to its sender
	// (ConfirmJob); nil: the link is only in the SMTP reply.
	Mailer Mailer
	Logger *slog.Logger
	Now    func() time.Time
}

// Service decides what becomes of a message.
type Service struct{ o Options }

// NewService returns a Service, or an error naming what is missing.
func NewService(o Options) (*Service, error) {
	switch {
	case o.Store == nil || o.Users == nil || o.Incidents == nil || o.Comments == nil || o.Evidence == nil:
		return nil, errors.New("mailin: Options.Store, Users, Incidents, Comments and Evidence are required")
	case o.Domain == "":
		return nil, errors.New("mailin: Options.Domain is required")
	case o.MaxBytes <= 0:
		return nil, errors.New("mailin: Options.MaxBytes must be positive")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Domain = strings.ToLower(o.Domain)
	return &Service{o: o}, nil
}

// MailOfDraft returns the message a draft was made from (the caller has
// checked that the draft is the principal's organisation's).
func (s *Service) MailOfDraft(ctx context.Context, draftID uuid.UUID) (*Record, error) {
	return s.o.Store.MailOfDraft(ctx, draftID)
}

// ConfirmPath is the web UI's page where a draft made from an e-mail is
// confirmed.
func ConfirmPath(draftID uuid.UUID) string { return "/report/mail/" + draftID.String() }

// Reply is an SMTP reply: 2xx accepted, 4xx try again later, 5xx refused.
type Reply struct {
	Code     int
	Enhanced [3]int
	Text     string
}

func (r *Reply) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Text)
}

func refuse(code int, enh [3]int, format string, args ...any) *Reply {
	return &Reply{Code: code, Enhanced: enh, Text: fmt.Sprintf(format, args...)}
}

var (
	tryLater   = &Reply{Code: 451, Enhanced: [3]int{4, 3, 0}, Text: "certdesk could not take the message now; try again later"}
	refNotSeen = "no incident %s that you may comment on: check the reference in the subject"
)

// Recipient checks a recipient address: it must be of the domain.
func (s *Service) Recipient(to string) *Reply {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(to)), "@")
	if !ok || domain != s.o.Domain {
		return refuse(550, [3]int{5, 1, 1}, "<%s>: certdesk accepts mail for @%s only", to, s.o.Domain)
	}
	return nil
}

// Sender returns the enabled user of an envelope sender; an unknown or
// disabled address, and the null sender, are refused.
func (s *Service) Sender(ctx context.Context, from string) (*identity.User, *Reply) {
	from = strings.ToLower(strings.TrimSpace(from))
	unknown := refuse(550, [3]int{5, 7, 1}, "<%s> is not the address of a certdesk user: certdesk takes mail from its users only", from)
	if from == "" {
		return nil, refuse(550, [3]int{5, 7, 1}, "certdesk takes no mail from the null sender (bounces)")
	}
	u, err := s.o.Users.UserByEmail(ctx, access.System, from)
	if apperr.Is(err, apperr.NotFound) {
		return nil, unknown
	}
	if err != nil {
		s.o.Logger.Error("inbound mail: look up sender", "err", err)
		return nil, tryLater
	}
	if u.DisabledAt != nil {
		return nil, unknown
	}
	return u, nil
}

var refPattern = regexp.MustCompile(`INC-\d{4}-\d{6,}`)

// Reference returns the first incident reference of a subject.
func Reference(subject string) string {
	for _, m := range refPattern.FindAllString(strings.ToUpper(subject), -1) {
		if incident.IsReference(m) {
			return m
		}
	}
	return ""
}

// mailNS is the namespace of the records' IDs.
var mailNS = uuid.MustParse("6f1c2d1e-5b0a-4a51-9a43-6a2a0c7f3e42")

// Deliver takes one message from user u (the envelope sender) and returns
// the reply: what was done, or why it is refused.
func (s *Service) Deliver(ctx context.Context, u *identity.User, raw []byte) *Reply {
	if int64(len(raw)) > s.o.MaxBytes {
		return refuse(552, [3]int{5, 3, 4}, "the message is larger than %d bytes", s.o.MaxBytes)
	}
	m, err := Parse(raw, s.o.MaxAttachments, s.o.Evidence.MaxBytes())
	var many *tooManyError
	var large *tooLargeError
	switch {
	case errors.As(err, &many):
		return refuse(552, [3]int{5, 3, 4}, "too many attachments: at most %d", s.o.MaxAttachments)
	case errors.As(err, &large):
		return refuse(552, [3]int{5, 3, 4}, "%s", large.Error())
	case err != nil:
		return refuse(550, [3]int{5, 6, 0}, "%s", err.Error())
	}
	if m.From != strings.ToLower(u.Email) {
		return refuse(550, [3]int{5, 7, 1}, "the From address must be the envelope sender <%s>", u.Email)
	}
	auth, ok := pickAuth(m.AuthResults, s.o.AuthservID)
	if s.o.AuthservID != "" && (!ok || !auth.Authenticates(u.Email)) {
		return refuse(550, [3]int{5, 7, 1}, "%s did not authenticate <%s> (SPF or DKIM of the sender's domain, or DMARC): certdesk takes mail through its relay only", s.o.AuthservID, u.Email)
	}
	key := m.MessageID
	if key == "" {
		sum := sha256.Sum256(raw)
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	rec := &Record{ID: uuid.NewSHA1(mailNS, []byte(u.ID.String()+"\x00"+key)), UserID: u.ID, OrgID: u.OrgID,
		MessageID: m.MessageID, Sender: strings.ToLower(u.Email), Subject: m.Subject, Attachments: len(m.Attachments),
		Size: int64(len(raw)), AuthResults: auth.Header, DKIM: auth.DKIM, SPF: auth.SPF, ReceivedAt: s.o.Now().UTC().Truncate(time.Microsecond)}
	p := u.Principal()
	if ref := Reference(m.Subject); ref != "" {
		return s.comment(ctx, p, ref, m, rec)
	}
	return s.draft(ctx, p, u, m, rec)
}

// comment adds the message as a comment by p on the incident ref, and its
// attachments as evidence.
func (s *Service) comment(ctx context.Context, p access.Principal, ref string, m *Message, rec *Record) *Reply {
	notSeen := refuse(550, [3]int{5, 7, 1}, refNotSeen, ref)
	inc, err := s.o.Incidents.Get(ctx, p, ref)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden) {
		return notSeen
	}
	if err != nil {
		s.o.Logger.Error("inbound mail: read incident", "err", err)
		return tryLater
	}
	if p.RequireWrite(access.CommentIncident, inc.Relations) != nil {
		return notSeen
	}
	if len(m.Attachments) > 0 && p.RequireWrite(access.AddEvidence, inc.Relations) != nil {
		return refuse(550, [3]int{5, 7, 1}, "you may comment on %s but not add evidence to it: send the message again without attachments", ref)
	}
	body := m.Text
	if body == "" && len(m.Attachments) > 0 {
		body = "(attachments sent by e-mail)"
	}
	if comment.ValidateBody(body) != nil {
		return refuse(550, [3]int{5, 6, 0}, "the message has no text to add as a comment, or more than a comment takes")
	}
	staged, reply := s.stage(ctx, p, m)
	if reply != nil {
		return reply
	}
	done := &Reply{Code: 250, Enhanced: [3]int{2, 0, 0}, Text: fmt.Sprintf("comment added to %s", ref)}
	if n := len(staged); n > 0 {
		done.Text += fmt.Sprintf(" with %d attachment(s) as evidence", n)
	}
	extra := map[string]any{"via": "email", "message_id": m.MessageID}
	if rec.DKIM != "" {
		extra["dkim"] = rec.DKIM
	}
	if rec.SPF != "" {
		extra["spf"] = rec.SPF
	}
	err = s.o.Store.InMailTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.LockMail(ctx, rec.ID); err == nil {
			return nil // delivered before: the same answer
		} else if !apperr.Is(err, apperr.NotFound) {
			return err
		}
		c, err := s.o.Comments.AddInTx(ctx, tx, p, inc.ID.String(), body, extra)
		if err != nil {
			return err
		}
		for _, f := range staged {
			if _, err := s.o.Evidence.AttachInTx(ctx, tx, p, inc.ID, f); err != nil {
				return err
			}
		}
		rec.Kind, rec.IncidentID, rec.CommentID = KindComment, &inc.ID, &c.ID
		return tx.InsertMail(ctx, rec)
	})
	switch {
	case apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden):
		return notSeen
	case apperr.Is(err, apperr.Invalid):
		return refuse(550, [3]int{5, 6, 0}, "the message cannot be added as a comment: %s", message(err))
	case err != nil:
		s.o.Logger.Error("inbound mail: add comment", "err", err)
		return tryLater
	}
	s.o.Logger.Info("inbound mail: comment added", "incident", ref, "user", p.UserID, "attachments", len(staged), "dkim", rec.DKIM)
	return done
}

// draft makes the message a draft of the guided report, which the sender
// confirms on the page ConfirmPath names.
func (s *Service) draft(ctx context.Context, p access.Principal, u *identity.User, m *Message, rec *Record) *Reply {
	if !filing.MayReportByMail(p) {
		return refuse(550, [3]int{5, 7, 1}, "put the incident's reference (INC-YYYY-NNNNNN) in the subject: only reporters of an organisation send a new report by e-mail")
	}
	if strings.TrimSpace(m.Subject) == "" && strings.TrimSpace(m.Text) == "" {
		return refuse(550, [3]int{5, 6, 0}, "the message has neither a subject nor text: say what happened")
	}
	if len(m.Attachments) > filing.MaxFiles {
		return refuse(552, [3]int{5, 3, 4}, "too many attachments: a report takes at most %d", filing.MaxFiles)
	}
	staged, reply := s.stage(ctx, p, m)
	if reply != nil {
		return reply
	}
	d, err := filing.MailDraft(p, rec.ID, u.Name, filing.MailReport{Subject: m.Subject, Text: m.Text, Files: staged}, rec.ReceivedAt)
	if err != nil {
		return refuse(550, [3]int{5, 7, 1}, "%s", message(err))
	}
	link := strings.TrimRight(s.o.BaseURL, "/") + ConfirmPath(rec.ID)
	err = s.o.Store.InMailTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := tx.LockMail(ctx, rec.ID); err == nil {
			return nil
		} else if !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if err := tx.InsertDraft(ctx, d); err != nil {
			return err
		}
		rec.Kind, rec.DraftID = KindDraft, &d.ID
		if err := tx.InsertMail(ctx, rec); err != nil {
			return err
		}
		if s.o.Mailer == nil {
			return nil
		}
		return tx.Enqueue(ctx, ConfirmJob{MailID: rec.ID}, nil)
	})
	if err != nil {
		s.o.Logger.Error("inbound mail: save draft", "err", err)
		return tryLater
	}
	s.o.Logger.Info("inbound mail: draft report saved", "draft", rec.ID, "user", p.UserID, "attachments", len(staged))
	return &Reply{Code: 250, Enhanced: [3]int{2, 0, 0}, Text: "draft report saved: confirm it at " + link}
}

// stage stores the attachments' bytes through the evidence service
// (hashed, checked as uploads are).
func (s *Service) stage(ctx context.Context, p access.Principal, m *Message) ([]evidence.Staged, *Reply) {
	var out []evidence.Staged
	for _, a := range m.Attachments {
		f, err := s.o.Evidence.Stage(ctx, p, evidence.NewAttachment{Filename: a.Filename, ContentType: a.ContentType}, bytes.NewReader(a.Data))
		var large *evidence.TooLargeError
		switch {
		case errors.As(err, &large):
			return nil, refuse(552, [3]int{5, 3, 4}, "the attachment %q is too large", a.Filename)
		case apperr.Is(err, apperr.Invalid):
			return nil, refuse(550, [3]int{5, 6, 0}, "the attachment %q cannot be taken: %s", a.Filename, message(err))
		case apperr.Is(err, apperr.Forbidden):
			return nil, refuse(550, [3]int{5, 7, 1}, "you may not add files: send the message again without attachments")
		case err != nil:
			s.o.Logger.Error("inbound mail: store attachment", "err", err)
			return nil, tryLater
		}
		out = append(out, *f)
	}
	return out, nil
}

// message is the text of an apperr error for a reply (its first field
// error's message when it has fields).
func message(err error) string {
	e, ok := apperr.As(err)
	if !ok {
		return "not accepted"
	}
	if len(e.Fields) > 0 {
		return e.Fields[0].Message
	}
	return e.Message
}
