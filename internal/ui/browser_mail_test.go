package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// TestMailDraftConfirmedThroughItsLink: a city's reporter mails a report
// without a reference; the SMTP reply names the confirm page, which shows
// what was received (the text as text, never as HTML) and sends the
// report with one click. Someone of another organisation gets 404 there.
func TestMailDraftConfirmedThroughItsLink(t *testing.T) {
	t.Parallel()
	w := newDemoWorld(t, func(c *config.Config) { c.Mail.Domain = "certdesk.test" })
	srv, err := w.h.App.Mail.Listen("127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})

	c, err := smtp.Dial(srv.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Mail(w.reporter, nil))
	require.NoError(t, c.Rcpt("report@certdesk.test", nil))
	wc, err := c.Data()
	require.NoError(t, err)
	_, err = wc.Write([]byte(strings.ReplaceAll(`From: `+w.reporter+`
To: report@certdesk.test
Subject: Fake invoices sent from our mayor's account
Message-ID: <fake-invoices@city-northbridge.demo>
Authentication-Results: mx.city-northbridge.demo; dkim=pass header.d=city-northbridge.demo; spf=pass smtp.mailfrom=`+w.reporter+`
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Since this morning suppliers receive invoices "from the mayor" with <b>new bank details</b>.
We reset the password at 9:40.
--b
Content-Type: message/rfc822
Content-Disposition: attachment; filename="invoice-mail.eml"

From: mayor@city-northbridge.demo
Subject: Invoice 2026-114

Please pay to the new account.
--b--
`, "\n", "\r\n")))
	require.NoError(t, err)
	resp, err := wc.CloseWithResponse()
	require.NoError(t, err)
	_, link, ok := strings.Cut(resp.StatusText, "confirm it at "+w.h.URL)
	require.True(t, ok, resp.StatusText)
	require.True(t, strings.HasPrefix(link, "/report/mail/"), link)

	dir := screensDir(t)
	b := newTab(t, w.h.URL)
	b.signIn(w.reporter, w.password)
	require.EqualValues(t, http.StatusOK, b.open(link))
	require.Equal(t, "Fake invoices sent from our mayor's account", strings.TrimSpace(b.text(".mail-received dd")))
	require.Contains(t, b.text(".mail-text"), "<b>new bank details</b>", "the mail's text is shown as text")
	require.Contains(t, b.text(".mail-received"), "invoice-mail.eml")
	require.Contains(t, b.text(".mail-received"), "DKIM: pass")
	for _, look := range []struct {
		dark  bool
		width int64
		name  string
	}{{false, 1280, "mail-confirm-light-1280"}, {true, 390, "mail-confirm-dark-390"}} {
		b.look(look.dark, look.width)
		b.axe(look.name)
		b.screenshot(dir, look.name)
		if look.width == 390 {
			require.LessOrEqual(t, eval[int](b, "document.documentElement.scrollWidth"), 390, "no sideways scrolling on a phone")
		}
	}
	b.look(false, 1280)
	b.submit(`form[action="` + link + `"] button[type=submit]`)
	require.True(t, strings.HasPrefix(b.location(), "/report/sent/"), b.location())
	b.screenshot(dir, "mail-sent")
	// Once sent, the link shows the confirmation again (a second click,
	// a colleague): no second incident.
	b.open(link)
	require.True(t, strings.HasPrefix(b.location(), "/report/sent/"), b.location())

	other := newTab(t, w.h.URL)
	other.signIn(w.responder, w.password)
	require.EqualValues(t, http.StatusNotFound, other.open(link), "another organisation's draft is not found")
}
