package notify

import (
	"context"
	"errors"
	"strings"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/mail"
	"github.com/google/uuid"
)

// Mailer sends one e-mail; *mail.Client is one. Its errors are mail's
// (mail.IsPermanent).
type Mailer interface {
	Send(ctx context.Context, m mail.Message) error
}

// EmailTx is what e-mail notifications need inside a transaction, besides
// Tx.
type EmailTx interface {
	Tx
	// EmailRecipients returns who of an organisation gets e-mail: the
	// organisation's contact address (UserID nil) when it has one, and
	// each active person of the organisation who chose e-mail in their
	// settings.
	EmailRecipients(ctx context.Context, orgID uuid.UUID) ([]EmailRecipient, error)
	// EmailAddress returns where an e-mail notification goes now: the
	// organisation's contact address when userID is nil, else the
	// person's address while they are active, still of the organisation
	// and still want e-mail; "" when there is none.
	EmailAddress(ctx context.Context, orgID uuid.UUID, userID *uuid.UUID) (string, error)
}

// EmailRecipient is an address that gets e-mail notifications of an
// organisation: its contact address (UserID nil) or one of its people.
type EmailRecipient struct {
	UserID  *uuid.UUID
	Address string
}

// emailRecipients returns who of the organisation gets e-mail; none when
// e-mail is not configured.
func (s *Service) emailRecipients(ctx context.Context, tx Tx, orgID uuid.UUID) ([]EmailRecipient, error) {
	etx, ok := tx.(EmailTx)
	if s.mailer == nil || !ok {
		return nil, nil
	}
	return etx.EmailRecipients(ctx, orgID)
}

// emailTarget reads, in the claim's transaction, where the e-mail
// notification n goes now, and why not when it goes nowhere: the
// incident is TLP:RED (never by e-mail, whatever the recipient), or the
// address is gone (the contact address removed, the person left the
// organisation, was disabled or no longer wants e-mail).
func (s *Service) emailTarget(ctx context.Context, tx Tx, n *Notification, inc *incident.Incident) (addr, reason string, err error) {
	if inc.TLP == incident.TLPRed {
		return "", "TLP:RED is never sent by e-mail", nil
	}
	etx, ok := tx.(EmailTx)
	if !ok {
		return "", "e-mail is not available", nil
	}
	addr, err = etx.EmailAddress(ctx, n.RecipientOrgID, n.RecipientUserID)
	if err != nil || addr != "" {
		return addr, "", err
	}
	if n.RecipientUserID != nil {
		return "", "the person no longer gets e-mail notifications", nil
	}
	return "", n.RecipientOrgSlug + " no longer has a contact address", nil
}

// sendEmail sends the claimed e-mail notification d, with no transaction
// open, and maps mail's errors to the outbox's: a permanent one (a 5xx
// answer, a relay without STARTTLS) is a *PermanentError; anything else
// (the relay down, a 4xx answer, a timeout) is worth retrying.
func (s *Service) sendEmail(ctx context.Context, d *delivery) error {
	if s.mailer == nil {
		return &PermanentError{Err: errors.New("e-mail is not configured")}
	}
	err := s.mailer.Send(ctx, EmailMessage(d.n, d.mailTo, s.baseURL))
	if err != nil && mail.IsPermanent(err) {
		return &PermanentError{Err: err}
	}
	return err
}

// EmailMessage is the e-mail of notification n to addr: the rendered
// message as plain text, the incident's page linked, and the notification's
// ID as the Message-ID's left side (the same on every attempt, so that a
// message sent again after a lost answer can be recognised). It is made
// only of the message rendered under the TLP rule (Render, RestrictNow):
// for a TLP:AMBER+STRICT incident only the reference, severity and link.
// A TLP label the message carries is put in the subject, as CERTs do.
func EmailMessage(n *Notification, addr, baseURL string) mail.Message {
	m := n.Message
	subject := "[certdesk] " + m.Header
	var b strings.Builder
	b.WriteString(m.Header + "\n\n")
	if m.Text != "" {
		b.WriteString(m.Text + "\n\n")
	}
	for _, f := range m.Fields {
		if f.Label == "TLP" {
			subject = "[certdesk] [" + f.Value + "] " + m.Header
		}
		b.WriteString(f.Label + ": " + f.Value + "\n")
	}
	if m.Link != "" {
		b.WriteString("\nOpen the incident in certdesk:\n" + m.Link + "\n")
	}
	b.WriteString("\n-- \n")
	if n.RecipientUserID != nil {
		b.WriteString("You get this because you chose e-mail notifications in your settings:\n" +
			strings.TrimRight(baseURL, "/") + "/account\n")
	} else {
		b.WriteString("You get this because this is the contact address of your organisation in certdesk.\n")
	}
	headers := map[string]string{"X-Certdesk-Event": n.EventKind}
	if n.IncidentReference != "" {
		headers["X-Certdesk-Incident"] = n.IncidentReference
	}
	return mail.Message{To: addr, Subject: subject, Text: b.String(), ID: n.ID.String(), Headers: headers}
}

// EmailEnabled reports whether certdesk sends e-mail notifications (a
// relay is configured): the settings page offers the choice only then.
func (s *Service) EmailEnabled() bool { return s != nil && s.mailer != nil }
