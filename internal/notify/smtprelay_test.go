package notify_test

// smtpRelay is an SMTP smtpRelay inside the test process (go-smtp's server) with
// STARTTLS on a certificate made for the test. It records what it
// accepted; fail, when set, answers the end of DATA with its error.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"

	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

type mailReceived struct {
	From string
	To   []string
	Data []byte
	TLS  bool
}

type smtpRelay struct {
	Addr      string
	ClientTLS *tls.Config // trusts the smtpRelay's certificate
	CAFile    string      // the certificate as PEM, for CERTDESK_SMTP_CA_FILE
	User      string      // AUTH PLAIN required when set
	Password  string

	mu   sync.Mutex
	msgs []mailReceived
	fail func(n int) error // n: the DATA commands so far, counting this one
	data int
}

type smtpRelayOptions struct {
	NoTLS    bool
	User     string
	Password string
}

func startSMTPRelay(t *testing.T, o smtpRelayOptions) *smtpRelay {
	t.Helper()
	r := &smtpRelay{User: o.User, Password: o.Password}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &smtpSession{r: r, c: c}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if !o.NoTLS {
		cert, pool := smtpTestCert(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		r.ClientTLS = &tls.Config{RootCAs: pool}
		r.CAFile = filepath.Join(t.TempDir(), "relay-ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
		if err := os.WriteFile(r.CAFile, pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.Addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *smtpRelay) setFail(f func(n int) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = f
}

func (r *smtpRelay) messages() []mailReceived {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mailReceived(nil), r.msgs...)
}

type smtpSession struct {
	r      *smtpRelay
	c      *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.r.User || pass != s.r.Password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.User != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.data++
	if s.r.fail != nil {
		if err := s.r.fail(s.r.data); err != nil {
			return err
		}
	}
	_, tlsOn := s.c.TLSConnectionState()
	s.r.msgs = append(s.r.msgs, mailReceived{From: s.from, To: s.to, Data: b, TLS: tlsOn})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// smtpTestCert makes a self-signed certificate for 127.0.0.1 and localhost and
// a pool that trusts it.
func smtpTestCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtpRelay.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// errSMTPTemporary is a smtpRelay's 451 answer.
var errSMTPTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}

type mailWordDecoder = mime.WordDecoder

func mailQPReader(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }
