package mailin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"time"

	"github.com/certdesk/certdesk/internal/identity"
	"github.com/emersion/go-smtp"
)

// deliverTimeout bounds the work on one message after its DATA: past it
// the reply is 451 (the relay retries) and nothing was committed.
const deliverTimeout = 2 * time.Minute

// Server is the SMTP listener.
type Server struct {
	smtp *smtp.Server
	ln   net.Listener
}

// Listen opens the listener on addr (host:port); Serve then answers.
func (s *Service) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (CERTDESK_SMTP_LISTEN): %w", addr, err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s}, nil
	}))
	srv.Domain = s.o.Domain
	srv.MaxMessageBytes = s.o.MaxBytes
	srv.MaxRecipients = 10
	srv.ReadTimeout, srv.WriteTimeout = 2*time.Minute, 2*time.Minute
	srv.ErrorLog = log.New(&logWriter{s.o.Logger}, "", 0)
	return &Server{smtp: srv, ln: ln}, nil
}

// Addr is the address the listener is on.
func (srv *Server) Addr() string { return srv.ln.Addr().String() }

// Serve answers connections until Shutdown or Close; then it returns nil.
func (srv *Server) Serve() error {
	err := srv.smtp.Serve(srv.ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops listening and waits for the sessions under way to end,
// until ctx is done (then it closes them).
func (srv *Server) Shutdown(ctx context.Context) error {
	err := srv.smtp.Shutdown(ctx)
	if err != nil {
		_ = srv.smtp.Close()
	}
	return err
}

// session is one SMTP session: the envelope sender, its user once RCPT TO
// checked it, and whether a recipient was accepted.
type session struct {
	s    *Service
	from string
	user *identity.User
	rcpt bool
}

func smtpError(r *Reply) error {
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode(r.Enhanced), Message: r.Text}
}

func (ss *session) Reset() { ss.from, ss.user, ss.rcpt = "", nil, false }

func (ss *session) Logout() error { return nil }

// Mail keeps the envelope sender; RCPT TO checks it (and the recipient).
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from, ss.user, ss.rcpt = from, nil, false
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if r := ss.s.Recipient(to); r != nil {
		ss.s.o.Logger.Info("inbound mail refused", "reply", r.Error())
		return smtpError(r)
	}
	if ss.user == nil {
		u, r := ss.s.Sender(context.Background(), ss.from)
		if r != nil {
			ss.s.o.Logger.Info("inbound mail refused", "reply", r.Error())
			return smtpError(r)
		}
		ss.user = u
	}
	ss.rcpt = true
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.user == nil || !ss.rcpt {
		return smtpError(refuse(503, [3]int{5, 5, 1}, "RCPT TO first"))
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		if errors.Is(err, smtp.ErrDataTooLarge) {
			_, _ = io.Copy(io.Discard, r)
			return smtpError(refuse(552, [3]int{5, 3, 4}, "the message is larger than %d bytes", ss.s.o.MaxBytes))
		}
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), deliverTimeout)
	defer cancel()
	reply := ss.s.Deliver(ctx, ss.user, buf.Bytes())
	if reply.Code >= 400 {
		ss.s.o.Logger.Info("inbound mail refused", "sender", ss.user.Email, "reply", reply.Error())
		return smtpError(reply)
	}
	return &smtp.SMTPError{Code: reply.Code, EnhancedCode: smtp.EnhancedCode(reply.Enhanced), Message: reply.Text}
}

// logWriter sends go-smtp's own log lines to the logger as warnings.
type logWriter struct{ log *slog.Logger }

func (w *logWriter) Write(p []byte) (int, error) {
	w.log.Warn("smtp server", "msg", string(bytes.TrimSpace(p)))
	return len(p), nil
}
