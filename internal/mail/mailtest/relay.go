// Package mailtest is an SMTP relay inside the test process (go-smtp's
// server) with STARTTLS on a certificate made for the test: it records
// what it accepted and can be told to refuse. Import it from tests only.
package mailtest

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
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the relay accepted: the envelope, the bytes,
// and whether it came over TLS.
type Received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
}

// Relay is a running relay; its fields say how to reach and trust it.
type Relay struct {
	Addr      string
	ClientTLS *tls.Config // trusts the Relay's certificate
	CAFile    string      // the certificate as PEM, for CERTDESK_SMTP_CA_FILE
	User      string      // AUTH PLAIN required when set
	Password  string

	mu   sync.Mutex
	msgs []Received
	fail func(n int) error // n: the DATA commands so far, counting this one
	data int
}

// Options: NoTLS offers no STARTTLS; User and Password require AUTH PLAIN.
type Options struct {
	NoTLS    bool
	User     string
	Password string
}

// Start runs a relay on a free loopback port until the test ends.
func Start(t testing.TB, o Options) *Relay {
	t.Helper()
	r := &Relay{User: o.User, Password: o.Password}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{r: r, c: c}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	if !o.NoTLS {
		cert, pool := testCert(t)
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

// SetFail makes the end of DATA answer f's error (nil: accept); n counts
// the DATA commands so far, this one included.
func (r *Relay) SetFail(f func(n int) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = f
}

// Messages returns what the relay accepted so far.
func (r *Relay) Messages() []Received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Received(nil), r.msgs...)
}

type session struct {
	r      *Relay
	c      *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.r.User || pass != s.r.Password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.r.User != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
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
	s.r.msgs = append(s.r.msgs, Received{From: s.from, To: s.to, Data: b, TLS: tlsOn})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// testCert makes a self-signed certificate for 127.0.0.1 and localhost and
// a pool that trusts it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Relay.test"},
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

// ErrTemporary is a Relay's 451 answer.
var ErrTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
