package mailin

import (
	"context"
	"fmt"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/mail"
	"github.com/google/uuid"
)

// Mailer sends one e-mail (*mail.Client, the relay of outbound e-mail).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// ConfirmJob mails the sender of a report by e-mail the link that
// confirms its draft: queued in the transaction that saves the draft, so
// that a saved draft always gets its mail and an unsaved one never does.
type ConfirmJob struct {
	MailID uuid.UUID `json:"mail_id"`
}

// Kind names the job for River.
func (ConfirmJob) Kind() string { return "mailin.confirm" }

// SendConfirm mails the confirm link of the draft a message became to its
// sender (the envelope sender, a known user's address). The message has
// the same Message-ID on every attempt. A record that is gone, or not a
// draft, sends nothing.
func (s *Service) SendConfirm(ctx context.Context, job ConfirmJob) error {
	if s.o.Mailer == nil {
		return nil
	}
	var rec *Record
	err := s.o.Store.InMailTx(ctx, func(ctx context.Context, tx Tx) error {
		var err error
		rec, err = tx.LockMail(ctx, job.MailID)
		return err
	})
	if apperr.Is(err, apperr.NotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if rec.Kind != KindDraft || rec.DraftID == nil {
		return nil
	}
	subject := strings.TrimSpace(rec.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	link := strings.TrimRight(s.o.BaseURL, "/") + ConfirmPath(*rec.DraftID)
	text := fmt.Sprintf("Your report by e-mail is saved as a draft: %s\n\n"+
		"It is not sent to your CERT yet. Open this link, sign in, check it and send it:\n\n%s\n\n"+
		"The draft also waits under \"Report an incident\". If you did not write this report, tell your CERT.\n",
		subject, link)
	return s.o.Mailer.Send(ctx, mail.Message{To: rec.Sender, Subject: "Confirm your report: " + subject, Text: text,
		ID: "report-confirm-" + rec.ID.String()})
}
