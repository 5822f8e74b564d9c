package mail_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	cmail "github.com/certdesk/certdesk/internal/mail"
	"github.com/certdesk/certdesk/internal/mail/mailtest"
	"github.com/emersion/go-smtp"
)

func client(t *testing.T, r *mailtest.Relay, user, pass string) *cmail.Client {
	t.Helper()
	c, err := cmail.New(cmail.Config{Relay: r.Addr, From: "certdesk <certdesk@cert.example>", Username: user, Password: pass,
		TLS: r.ClientTLS, Timeout: 10 * time.Second, Now: func() time.Time { return time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSend sends over STARTTLS with AUTH PLAIN and reads back what the
// relay received: the envelope, the headers, the body.
func TestSend(t *testing.T) {
	t.Parallel()
	r := mailtest.Start(t, mailtest.Options{User: "certdesk", Password: "s3cret"})
	c := client(t, r, "certdesk", "s3cret")
	m := cmail.Message{To: "Stadt Köln <it@koeln.example>", Subject: "[certdesk] Stage changed: INC-2026-0001 — Übersicht",
		Text: "Line one\nA long line " + strings.Repeat("é", 80) + "\n\nhttps://certdesk.example/incidents/INC-2026-0001",
		ID:   "4b5c6d", Headers: map[string]string{"X-Certdesk-Incident": "INC-2026-0001"}}
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := r.Messages()
	if len(got) != 1 {
		t.Fatalf("relay received %d messages, want 1", len(got))
	}
	rec := got[0]
	if !rec.TLS || rec.From != "certdesk@cert.example" || len(rec.To) != 1 || rec.To[0] != "it@koeln.example" {
		t.Fatalf("envelope: TLS %v, from %q, to %q", rec.TLS, rec.From, rec.To)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(rec.Data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Message-ID": "<4b5c6d@cert.example>", "MIME-Version": "1.0",
		"Content-Type": "text/plain; charset=utf-8", "Auto-Submitted": "auto-generated",
		"Date": "Sat, 05 Dec 2026 03:00:00 +0000", "X-Certdesk-Incident": "INC-2026-0001"} {
		if g := msg.Header.Get(k); g != want {
			t.Errorf("%s: %q, want %q", k, g, want)
		}
	}
	if subject != m.Subject {
		t.Errorf("Subject decodes to %q, want %q", subject, m.Subject)
	}
	if to, err := msg.Header.AddressList("To"); err != nil || to[0].Address != "it@koeln.example" || to[0].Name != "Stadt Köln" {
		t.Errorf("To: %v %v", to, err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if want := strings.ReplaceAll(m.Text, "\n", "\r\n"); strings.TrimSuffix(string(body), "\r\n") != want {
		t.Errorf("body:\n%q\nwant\n%q", body, want)
	}
	head, text, _ := strings.Cut(string(rec.Data), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if len(line) > 998 || strings.HasPrefix(line, "Subject:") && len(line) > 90 {
			t.Errorf("header line too long: %q", line)
		}
	}
	for _, line := range strings.Split(text, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78 characters: %q", line)
		}
	}
}

// TestSendErrors: what another attempt may fix is temporary, the rest
// permanent; nothing is sent to a relay without STARTTLS.
func TestSendErrors(t *testing.T) {
	t.Parallel()
	msg := cmail.Message{To: "it@koeln.example", Subject: "s", Text: "t", ID: "x1"}
	t.Run("no STARTTLS", func(t *testing.T) {
		t.Parallel()
		r := mailtest.Start(t, mailtest.Options{NoTLS: true})
		c, err := cmail.New(cmail.Config{Relay: r.Addr, From: "certdesk@cert.example"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(context.Background(), msg); !cmail.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("Send to a relay without STARTTLS: %v, want a permanent error", err)
		}
		if n := len(r.Messages()); n != 0 {
			t.Fatalf("relay received %d messages", n)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		r := mailtest.Start(t, mailtest.Options{})
		c, _ := cmail.New(cmail.Config{Relay: r.Addr, From: "certdesk@cert.example"})
		if err := c.Send(context.Background(), msg); err == nil || len(r.Messages()) != 0 {
			t.Fatalf("Send with an untrusted certificate: %v, %d messages", err, len(r.Messages()))
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		r := mailtest.Start(t, mailtest.Options{User: "certdesk", Password: "right"})
		if err := client(t, r, "certdesk", "wrong").Send(context.Background(), msg); !cmail.IsPermanent(err) {
			t.Fatalf("Send with a wrong password: %v, want permanent", err)
		}
	})
	t.Run("4xx and 5xx", func(t *testing.T) {
		t.Parallel()
		r := mailtest.Start(t, mailtest.Options{})
		c := client(t, r, "", "")
		r.SetFail(func(int) error { return mailtest.ErrTemporary })
		if err := c.Send(context.Background(), msg); err == nil || cmail.IsPermanent(err) {
			t.Fatalf("Send answered 451: %v, want a temporary error", err)
		}
		r.SetFail(func(int) error { return &smtp.SMTPError{Code: 554, Message: "rejected"} })
		if err := c.Send(context.Background(), msg); !cmail.IsPermanent(err) {
			t.Fatalf("Send answered 554: %v, want permanent", err)
		}
	})
	t.Run("relay down", func(t *testing.T) {
		t.Parallel()
		c, _ := cmail.New(cmail.Config{Relay: "127.0.0.1:1", From: "certdesk@cert.example"})
		if err := c.Send(context.Background(), msg); err == nil || cmail.IsPermanent(err) {
			t.Fatalf("Send to a closed port: %v, want a temporary error", err)
		}
	})
	t.Run("header injection", func(t *testing.T) {
		t.Parallel()
		c, _ := cmail.New(cmail.Config{Relay: "127.0.0.1:1", From: "certdesk@cert.example"})
		if _, err := c.Build(cmail.Message{To: "a@b.example\r\nBcc: x@y.example", Subject: "s", ID: "x"}); !cmail.IsPermanent(err) {
			t.Fatalf("Build with a line break in To: %v", err)
		}
		b, err := c.Build(cmail.Message{To: "a@b.example", Subject: "s\r\nBcc: x@y.example", ID: "x"})
		if err != nil || bytes.Contains(b, []byte("\r\nBcc:")) {
			t.Fatalf("Build with a line break in Subject: %v\n%s", err, b)
		}
	})
}

// TestNew names the setting that is wrong.
func TestNew(t *testing.T) {
	t.Parallel()
	for _, c := range []cmail.Config{{Relay: "smtp.example", From: "a@b.example"}, {Relay: "smtp.example:587", From: "nobody"},
		{Relay: "smtp.example:587", From: "a@b.example", Password: "p"}} {
		if _, err := cmail.New(c); err == nil {
			t.Errorf("New(%+v) = nil error", c)
		}
	}
}
