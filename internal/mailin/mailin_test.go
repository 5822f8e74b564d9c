package mailin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/filing"
	"github.com/certdesk/certdesk/internal/mail/mailtest"
	"github.com/certdesk/certdesk/internal/mailin"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

const domain = "certdesk.test"

// world is a running certdesk with its SMTP listener on loopback, a city
// below a regional CERT with an incident the city reported, and a town
// beside it.
type world struct {
	h        *testapp.Harness
	addr     string
	reporter string // the city's reporter's address
	token    string // and API token
	viewer   string // the city's viewer (sees, may not comment)
	cert     string // the region's responder
	outsider string // the town's responder (does not see the incident)
	ref, id  string
}

func setup(t *testing.T) *world { return setupWith(t, nil) }

// setupWith is setup with more configuration (the outbound relay).
func setupWith(t *testing.T, more func(c *config.Config)) *world {
	t.Helper()
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.Mail.Domain, c.Mail.MaxBytes, c.Mail.MaxAttachments = domain, 64<<10, 2
		if more != nil {
			more(c)
		}
	}})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	h.Org("town", org.LocalAuthority, "region")
	w := &world{h: h}
	u, tok := h.User("city", access.Reporter)
	w.reporter, w.token = u.Email, tok
	v, _ := h.User("city", access.Viewer)
	w.viewer = v.Email
	c, _ := h.User("region", access.Responder)
	w.cert = c.Email
	o, _ := h.User("town", access.Responder)
	w.outsider = o.Email
	r := h.As(tok).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Ransomware at the city hall", "tlp": "amber"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc struct{ ID, Reference string }
	r.JSON(t, &inc)
	w.id, w.ref = inc.ID, inc.Reference
	w.addr = listen(t, h.App.Mail)
	return w
}

// listen starts svc's listener on a loopback port until the test ends.
func listen(t *testing.T, svc *mailin.Service) string {
	t.Helper()
	srv, err := svc.Listen("127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return srv.Addr()
}

// result is the server's answer to one message: the text of the reply to
// DATA, or the error of the first command refused.
type result struct {
	text string
	err  *smtp.SMTPError
}

// send speaks SMTP to addr: MAIL FROM from (with SIZE when size > 0),
// RCPT TO to, DATA msg.
func send(t *testing.T, addr, from, to string, size int64, msg string) result {
	t.Helper()
	c, err := smtp.Dial(addr)
	require.NoError(t, err)
	defer c.Close()
	refused := func(err error) result {
		var se *smtp.SMTPError
		require.True(t, errors.As(err, &se), "not an SMTP error: %v", err)
		return result{err: se}
	}
	var opts *smtp.MailOptions
	if size > 0 {
		opts = &smtp.MailOptions{Size: size}
	}
	if err := c.Mail(from, opts); err != nil {
		return refused(err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return refused(err)
	}
	wc, err := c.Data()
	require.NoError(t, err)
	_, err = wc.Write([]byte(strings.ReplaceAll(msg, "\n", "\r\n")))
	if err != nil {
		return refused(err)
	}
	resp, err := wc.CloseWithResponse()
	if err != nil {
		return refused(err)
	}
	_ = c.Quit()
	return result{text: strings.TrimPrefix(resp.StatusText, "2.0.0 ")}
}

// plain is a text/plain message.
func plain(from, subject, body string, headers ...string) string {
	return strings.Join(append(headers,
		"From: "+from, "To: incidents@"+domain, "Subject: "+subject,
		"Message-ID: <"+uuid.NewString()+"@example>", "MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8", "", body, ""), "\n")
}

// withFiles is a multipart/mixed message with a text part and files.
func withFiles(from, subject, msgID, body string, files map[string]string, headers ...string) string {
	var b strings.Builder
	for _, h := range headers {
		b.WriteString(h + "\n")
	}
	fmt.Fprintf(&b, "From: %s\nTo: incidents@%s\nSubject: %s\nMessage-ID: <%s>\nMIME-Version: 1.0\n", from, domain, subject, msgID)
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\n" + body + "\n")
	for name, content := range files {
		enc := base64.StdEncoding.EncodeToString([]byte(content))
		fmt.Fprintf(&b, "--b1\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n%s\n", name, enc)
	}
	b.WriteString("--b1--\n")
	return b.String()
}

// timelineKinds returns the incident's events as kind → data of the last.
func (w *world) timeline(t *testing.T) []map[string]any {
	r := w.h.As(w.token).Request(http.MethodGet, "/api/v1/incidents/"+w.id+"/timeline?limit=500", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var page struct {
		Events []map[string]any `json:"events"`
	}
	r.JSON(t, &page)
	return page.Events
}

func TestMailFromAUserWithAReferenceBecomesACommentWithEvidence(t *testing.T) {
	t.Parallel()
	w := setup(t)
	log := "2026-12-04 22:01 encrypted \\\\fs01\\share\n"
	msgID := uuid.NewString() + "@mail.city.example"
	msg := withFiles(w.reporter, "Re: ["+w.ref+"] backups", msgID, "The backups are intact.\n\nOn Friday, CERT wrote:\n> Are the backups intact?\n\n-- \nCity IT",
		map[string]string{"fs01.log": log},
		"Authentication-Results: mx.city.example; dkim=pass header.d=city.example; spf=pass smtp.mailfrom="+w.reporter)
	res := send(t, w.addr, w.reporter, "incidents@"+domain, 0, msg)
	require.Nil(t, res.err)
	require.Equal(t, "comment added to "+w.ref+" with 1 attachment(s) as evidence", res.text)

	r := w.h.As(w.token).Request(http.MethodGet, "/api/v1/incidents/"+w.id+"/comments", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var comments struct {
		Items []struct {
			Body   string `json:"body"`
			Author string `json:"author"`
		} `json:"comments"`
	}
	r.JSON(t, &comments)
	require.Len(t, comments.Items, 1)
	require.Equal(t, "The backups are intact.", comments.Items[0].Body, "the quoted reply and the signature are left out")

	r = w.h.As(w.token).Request(http.MethodGet, "/api/v1/incidents/"+w.id+"/attachments", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var atts struct {
		Items []struct {
			Filename string `json:"filename"`
			SHA256   string `json:"sha256"`
			Size     int64  `json:"size"`
		} `json:"attachments"`
	}
	r.JSON(t, &atts)
	sum := sha256.Sum256([]byte(log))
	require.Len(t, atts.Items, 1)
	require.Equal(t, "fs01.log", atts.Items[0].Filename)
	require.Equal(t, hex.EncodeToString(sum[:]), atts.Items[0].SHA256)
	require.EqualValues(t, len(log), atts.Items[0].Size)

	var commented, attached int
	for _, ev := range w.timeline(t) {
		data, _ := ev["data"].(map[string]any)
		switch ev["kind"] {
		case "comment_added":
			commented++
			require.Equal(t, "email", data["via"])
			require.Equal(t, msgID, data["message_id"])
			require.Equal(t, "pass", data["dkim"], "the relay's DKIM result is recorded")
			require.Equal(t, w.reporter, ev["actor"], "the comment is the sender's")
		case "attachment_added":
			attached++
			require.Equal(t, hex.EncodeToString(sum[:]), data["sha256"])
		}
	}
	require.Equal(t, 1, commented)
	require.Equal(t, 1, attached)

	// The relay delivers the same message again (it missed our 250): the
	// same answer, nothing added twice.
	res = send(t, w.addr, w.reporter, "incidents@"+domain, 0, msg)
	require.Nil(t, res.err)
	require.Equal(t, "comment added to "+w.ref+" with 1 attachment(s) as evidence", res.text)
	r = w.h.As(w.token).Request(http.MethodGet, "/api/v1/incidents/"+w.id+"/comments", nil)
	r.JSON(t, &comments)
	require.Len(t, comments.Items, 1, "a message delivered twice is one comment")

	t.Run("HTML is kept as text only", func(t *testing.T) {
		html := strings.Join([]string{"From: " + w.reporter, "To: incidents@" + domain, "Subject: " + w.ref,
			"Message-ID: <" + uuid.NewString() + "@x>", "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8", "",
			`<p>Firewall <b>logs</b> attached &amp; checked.</p><script>alert(1)</script><img src=x onerror=alert(2)><style>p{}</style>`, ""}, "\n")
		res := send(t, w.addr, w.reporter, "incidents@"+domain, 0, html)
		require.Nil(t, res.err)
		r := w.h.As(w.token).Request(http.MethodGet, "/api/v1/incidents/"+w.id+"/comments", nil)
		var cs struct {
			Items []struct {
				Body     string `json:"body"`
				BodyHTML string `json:"body_html"`
			} `json:"comments"`
		}
		r.JSON(t, &cs)
		require.Len(t, cs.Items, 2)
		require.Equal(t, "Firewall logs attached & checked.", cs.Items[1].Body)
		require.NotContains(t, cs.Items[1].BodyHTML, "<script")
		require.NotContains(t, cs.Items[1].BodyHTML, "onerror")
	})
}

func TestMailIsRefusedAtSMTPTime(t *testing.T) {
	t.Parallel()
	w := setup(t)
	to := "incidents@" + domain
	unknownRef := "INC-2026-999999"
	cases := []struct {
		name, from, to string
		size           int64
		msg            string
		code           int
		text           string
	}{
		{"unknown sender", "mallory@evil.example", to, 0, plain("mallory@evil.example", w.ref, "hi"),
			550, "<mallory@evil.example> is not the address of a certdesk user: certdesk takes mail from its users only"},
		{"another domain", w.reporter, "incidents@elsewhere.example", 0, plain(w.reporter, w.ref, "hi"),
			550, "<incidents@elsewhere.example>: certdesk accepts mail for @" + domain + " only"},
		{"unknown reference", w.reporter, to, 0, plain(w.reporter, unknownRef, "hi"),
			550, "no incident " + unknownRef + " that you may comment on: check the reference in the subject"},
		{"incident not visible to the sender", w.outsider, to, 0, plain(w.outsider, w.ref, "hi"),
			550, "no incident " + w.ref + " that you may comment on: check the reference in the subject"},
		{"visible, but the sender may not comment", w.viewer, to, 0, plain(w.viewer, w.ref, "hi"),
			550, "no incident " + w.ref + " that you may comment on: check the reference in the subject"},
		{"too large, announced", w.reporter, to, 200 << 10, plain(w.reporter, w.ref, "hi"),
			552, "Max message size exceeded"},
		{"too large, sent", w.reporter, to, 0, plain(w.reporter, w.ref, strings.Repeat("A long line of log output.\n", 3000)),
			552, "the message is larger than 65536 bytes"},
		{"too many attachments", w.reporter, to, 0, withFiles(w.reporter, w.ref, uuid.NewString(), "logs", map[string]string{"a": "1", "b": "2", "c": "3"}),
			552, "too many attachments: at most 2"},
		{"From is not the envelope sender", w.reporter, to, 0, plain(w.cert, w.ref, "hi"),
			550, "the From address must be the envelope sender <" + w.reporter + ">"},
		{"a CERT without a reference", w.cert, to, 0, plain(w.cert, "Phishing wave", "hi"),
			550, "put the incident's reference (INC-YYYY-NNNNNN) in the subject: only reporters of an organisation send a new report by e-mail"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := send(t, w.addr, c.from, c.to, c.size, c.msg)
			require.NotNil(t, res.err, "accepted: %s", res.text)
			require.Equal(t, c.code, res.err.Code)
			require.Equal(t, c.text, res.err.Message)
		})
	}
	// Nothing of it reached the incident.
	for _, ev := range w.timeline(t) {
		require.NotEqual(t, "comment_added", ev["kind"])
	}

	t.Run("the relay's authentication is enforced when its authserv-id is set", func(t *testing.T) {
		a := w.h.App
		svc, err := mailin.NewService(mailin.Options{Store: a.Store, Users: a.Identity, Incidents: a.Incidents, Comments: a.Comments,
			Evidence: a.Evidence, Domain: domain, MaxBytes: 1 << 20, MaxAttachments: 2, AuthservID: "relay.certdesk.test"})
		require.NoError(t, err)
		addr := listen(t, svc)
		forged := "Authentication-Results: relay.certdesk.test; spf=fail smtp.mailfrom=" + w.reporter
		res := send(t, addr, w.reporter, to, 0, plain(w.reporter, w.ref, "hi", forged, "Authentication-Results: mx.evil.example; dkim=pass header.d=city.example"))
		require.NotNil(t, res.err)
		require.Equal(t, 550, res.err.Code)
		require.Equal(t, "relay.certdesk.test did not authenticate <"+w.reporter+"> (SPF or DKIM of the sender's domain, or DMARC): certdesk takes mail through its relay only", res.err.Message)
		_, senderDomain, _ := strings.Cut(w.reporter, "@")
		ok := "Authentication-Results: relay.certdesk.test; dkim=pass header.d=" + senderDomain + "; spf=softfail smtp.mailfrom=" + w.reporter
		res = send(t, addr, w.reporter, to, 0, plain(w.reporter, w.ref, "Authenticated by the relay.", ok))
		require.Nil(t, res.err)
		require.Equal(t, "comment added to "+w.ref, res.text)
	})
}

func TestMailFromAReporterWithoutAReferenceBecomesADraft(t *testing.T) {
	t.Parallel()
	w := setup(t)
	msg := withFiles(w.reporter, "Phishing mails to the city council", uuid.NewString()+"@city", "Several councillors got a fake login page.",
		map[string]string{"headers.txt": "Received: from evil"},
		"Authentication-Results: mx.city.example; dkim=pass header.d=city.example")
	res := send(t, w.addr, w.reporter, "report@"+domain, 0, msg)
	require.Nil(t, res.err)
	prefix := "draft report saved: confirm it at " + w.h.URL + "/report/mail/"
	require.True(t, strings.HasPrefix(res.text, prefix), res.text)
	id := strings.TrimPrefix(res.text, prefix)

	u, err := w.h.App.Identity.UserByEmail(context.Background(), access.System, w.reporter)
	require.NoError(t, err)
	d, err := w.h.App.Filings.Draft(context.Background(), u.Principal(), id)
	require.NoError(t, err)
	require.Nil(t, d.SubmittedAt)
	require.Len(t, d.Files, 1)
	sum := sha256.Sum256([]byte("Received: from evil"))
	require.Equal(t, hex.EncodeToString(sum[:]), d.Files[0].SHA256)
	require.Equal(t, "Phishing mails to the city council\n\nSeveral councillors got a fake login page.", d.Answers.Get("what_details"))
	m, err := w.h.App.Mail.MailOfDraft(context.Background(), d.ID)
	require.NoError(t, err)
	require.Equal(t, "pass", m.DKIM)
	require.Equal(t, "Phishing mails to the city council", m.Subject)

	// The draft is the city's: the town does not see it.
	o, err := w.h.App.Identity.UserByEmail(context.Background(), access.System, w.outsider)
	require.NoError(t, err)
	_, err = w.h.App.Filings.Draft(context.Background(), o.Principal(), id)
	require.Error(t, err)

	// Confirming sends it as the guided report does: one incident.
	inc, replayed, err := w.h.App.Filings.Submit(context.Background(), u.Principal(), id, "en", filingFinal(m.Subject))
	require.NoError(t, err)
	require.False(t, replayed)
	require.Equal(t, "Phishing mails to the city council", inc.Title)
}

func filingFinal(title string) filing.Final { return filing.Final{Title: title} }

// With a relay for outbound mail, the sender of a report by e-mail gets
// the confirm link by mail too (the SMTP reply is rarely shown to a
// person): once, even when the same message is delivered twice.
func TestAReportByMailGetsItsConfirmLinkByMail(t *testing.T) {
	t.Parallel()
	relay := mailtest.Start(t, mailtest.Options{})
	w := setupWith(t, func(c *config.Config) {
		c.SMTPRelay, c.SMTPFrom, c.SMTPCAFile = relay.Addr, "certdesk@cert.example", relay.CAFile
	})
	msg := withFiles(w.reporter, "Fake invoices to accounting", uuid.NewString()+"@city", "Three invoices from a supplier we never used.", nil)
	res := send(t, w.addr, w.reporter, "report@"+domain, 0, msg)
	require.Nil(t, res.err)
	link := strings.TrimPrefix(res.text, "draft report saved: confirm it at ")
	require.NotEqual(t, res.text, link, res.text)
	again := send(t, w.addr, w.reporter, "report@"+domain, 0, msg)
	require.Equal(t, res.text, again.text, "the same message delivered twice is one draft")

	w.h.Eventually(func() bool { return len(relay.Messages()) > 0 }, "the confirm link is mailed")
	got := relay.Messages()
	require.Len(t, got, 1)
	require.Equal(t, []string{w.reporter}, got[0].To)
	m, err := netmail.ReadMessage(bytes.NewReader(got[0].Data))
	require.NoError(t, err)
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, "Confirm your report: Fake invoices to accounting", subject)
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	require.NoError(t, err)
	require.Contains(t, string(body), link)
	require.True(t, got[0].TLS, "over STARTTLS")
}
