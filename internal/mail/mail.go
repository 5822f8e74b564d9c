// Package mail builds and sends certdesk's e-mail: plain-text messages
// with correct headers (RFC 5322, RFC 2047 for non-ASCII subjects, a
// stable Message-ID), sent over SMTP to one configured relay, always
// encrypted with STARTTLS (docs/email.md). It imports only the standard
// library.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// Config configures a Client.
type Config struct {
	// Relay is the SMTP relay's host:port (CERTDESK_SMTP_RELAY), e.g.
	// "smtp.example.org:587".
	Relay string
	// From is the sender (CERTDESK_SMTP_FROM): an address, optionally
	// with a display name ("certdesk <certdesk@cert.example>").
	From string
	// Username and Password authenticate with AUTH PLAIN after STARTTLS;
	// empty Username: no authentication.
	Username string
	Password string
	// TLS is the TLS configuration of STARTTLS; nil: the system's roots
	// and the relay's host name. Tests give their own roots.
	TLS *tls.Config
	// CAFile is a PEM file of the certificate authorities to trust for
	// the relay (CERTDESK_SMTP_CA_FILE) instead of the system's, for a
	// relay with a certificate of an internal CA; it is ignored with TLS.
	CAFile string
	// Timeout bounds one delivery (dial to QUIT); zero: 30 s.
	Timeout time.Duration
	// Now is the clock of the Date header; nil: time.Now.
	Now func() time.Time
}

// Client sends messages through the relay. It is safe for concurrent use:
// every Send opens a connection of its own.
type Client struct {
	cfg    Config
	from   *mail.Address
	host   string // the relay's host name
	domain string // the sender's domain: EHLO name and Message-ID's right side
}

// New validates cfg and returns a Client. Errors name the setting.
func New(cfg Config) (*Client, error) {
	host, port, err := net.SplitHostPort(cfg.Relay)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("mail: relay %q must be host:port", cfg.Relay)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: from %q is not an e-mail address: %w", cfg.From, err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("mail: a password needs a username")
	}
	if cfg.TLS == nil && cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mail: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mail: CA file %s holds no PEM certificate", cfg.CAFile)
		}
		cfg.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg, from: from, host: host, domain: domain}, nil
}

// Message is one plain-text e-mail to one address.
type Message struct {
	To      string
	Subject string
	Text    string
	// ID makes the Message-ID (<ID@sender's domain>): the same on every
	// attempt to send one message, so that a receiver can drop a second
	// copy when an attempt whose answer was lost is made again.
	ID string
	// Headers are more header fields (X-Certdesk-Incident, …).
	Headers map[string]string
}

// Error is a failed delivery. Permanent says another attempt cannot help:
// the relay answered 5xx, or it offers no STARTTLS, or the message is
// malformed.
type Error struct {
	Permanent bool
	Err       error
}

func (e *Error) Error() string { return "mail: " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a permanent *Error.
func IsPermanent(err error) bool {
	var me *Error
	return errors.As(err, &me) && me.Permanent
}

func permanent(err error) error { return &Error{Permanent: true, Err: err} }

// MessageID returns the Message-ID header value of m.
func (c *Client) MessageID(m Message) string { return "<" + m.ID + "@" + c.domain + ">" }

// Build returns m as an RFC 5322 message: CRLF line ends, the subject
// encoded for non-ASCII (RFC 2047), the body quoted-printable UTF-8, and
// Auto-Submitted so that auto-responders stay quiet (RFC 3834). A
// recipient or subject with a line break is refused (header injection).
func (c *Client) Build(m Message) ([]byte, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, permanent(fmt.Errorf("recipient %q: %w", m.To, err))
	}
	if m.ID == "" || strings.ContainsAny(m.ID, "<>@ \r\n") {
		return nil, permanent(fmt.Errorf("message ID %q", m.ID))
	}
	subject := strings.Join(strings.Fields(m.Subject), " ")
	var b bytes.Buffer
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", c.from.String())
	h("To", to.String())
	h("Subject", fold(mime.QEncoding.Encode("utf-8", subject)))
	h("Date", c.cfg.Now().Format(time.RFC1123Z))
	h("Message-ID", c.MessageID(m))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	for k, v := range m.Headers {
		if strings.ContainsAny(k+v, "\r\n") || strings.ContainsAny(k, ": ") {
			return nil, permanent(fmt.Errorf("header %q", k))
		}
		h(textproto.CanonicalMIMEHeaderKey(k), fold(mime.QEncoding.Encode("utf-8", v)))
	}
	b.WriteString("\r\n")
	w := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(strings.ReplaceAll(m.Text, "\r\n", "\n"), "\n", "\r\n")
	if _, err := w.Write([]byte(text)); err != nil {
		return nil, permanent(err)
	}
	if err := w.Close(); err != nil {
		return nil, permanent(err)
	}
	return b.Bytes(), nil
}

// fold puts each encoded word of a header value on a line of its own
// (RFC 2047 words are at most 75 characters).
func fold(v string) string { return strings.ReplaceAll(v, "?= =?", "?=\r\n =?") }

// Send delivers m through the relay: EHLO, STARTTLS (required: a relay
// that does not offer it is a permanent error, nothing is sent in clear
// text), AUTH PLAIN when a username is set, MAIL, RCPT, DATA, QUIT. ctx
// and Config.Timeout bound the whole exchange.
//
// Errors are *Error: permanent for a 5xx answer, a relay without
// STARTTLS, a refused login or a malformed message; otherwise (network
// errors, timeouts, 4xx answers, a TLS handshake that failed) worth
// retrying.
func (c *Client) Send(ctx context.Context, m Message) error {
	body, err := c.Build(m)
	if err != nil {
		return err
	}
	to, _ := mail.ParseAddress(m.To)
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.cfg.Relay)
	if err != nil {
		return &Error{Err: fmt.Errorf("dial %s: %w", c.cfg.Relay, err)}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	err = c.converse(conn, to.Address, body)
	if err != nil && ctx.Err() != nil {
		return &Error{Err: fmt.Errorf("%w: %w", ctx.Err(), err)}
	}
	return err
}

// converse is the SMTP exchange of Send on conn.
func (c *Client) converse(conn net.Conn, to string, body []byte) error {
	sc, err := smtp.NewClient(conn, c.host)
	if err != nil {
		return classify("greeting", err)
	}
	defer sc.Close()
	if err := sc.Hello(c.domain); err != nil {
		return classify("EHLO", err)
	}
	if ok, _ := sc.Extension("STARTTLS"); !ok {
		return permanent(fmt.Errorf("relay %s does not offer STARTTLS; certdesk sends no mail in clear text", c.cfg.Relay))
	}
	tc := &tls.Config{ServerName: c.host, MinVersion: tls.VersionTLS12}
	if c.cfg.TLS != nil {
		tc = c.cfg.TLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName = c.host
		}
	}
	if err := sc.StartTLS(tc); err != nil {
		return classify("STARTTLS", err)
	}
	if c.cfg.Username != "" {
		if err := sc.Auth(smtp.PlainAuth("", c.cfg.Username, c.cfg.Password, c.host)); err != nil {
			return classify("AUTH", err)
		}
	}
	if err := sc.Mail(c.from.Address); err != nil {
		return classify("MAIL FROM", err)
	}
	if err := sc.Rcpt(to); err != nil {
		return classify("RCPT TO", err)
	}
	w, err := sc.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(body); err != nil {
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("end of DATA", err)
	}
	// The message is accepted once the relay answered the end of DATA; a
	// failed QUIT changes nothing.
	_ = sc.Quit()
	return nil
}

// classify wraps an error of step: a 5xx answer is permanent, anything
// else worth retrying.
func classify(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return permanent(fmt.Errorf("%s: %w", step, err))
	}
	return &Error{Err: fmt.Errorf("%s: %w", step, err)}
}
