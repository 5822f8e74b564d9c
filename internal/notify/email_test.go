package notify_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/mail/mailtest"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// parsedMail is a message the relay accepted, parsed.
type parsedMail struct {
	To, Subject, MessageID, Body string
}

func parsedMails(t *testing.T, r *mailtest.Relay) []parsedMail {
	t.Helper()
	var out []parsedMail
	for _, rec := range r.Messages() {
		require.True(t, rec.TLS, "every message went over STARTTLS")
		m, err := mail.ReadMessage(bytes.NewReader(rec.Data))
		require.NoError(t, err)
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		require.NoError(t, err)
		body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
		require.NoError(t, err)
		require.Len(t, rec.To, 1)
		out = append(out, parsedMail{To: rec.To[0], Subject: subject, MessageID: m.Header.Get("Message-ID"), Body: string(body)})
	}
	return out
}

func mailsTo(ms []parsedMail, addr string) []parsedMail {
	var out []parsedMail
	for _, m := range ms {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// TestEmailNotifications sends notifications by e-mail through a real
// SMTP relay in the test process (STARTTLS, AUTH PLAIN), with real
// PostgreSQL and River workers: to an organisation's contact address and
// to a person who chose e-mail, exactly once per event and recipient
// (the same event queued twice, a delivery the relay answered 451 and
// that was retried); TLP:AMBER not to an organisation that does not see
// the incident; TLP:RED never, not even a notification queued before the
// label was raised.
func TestEmailNotifications(t *testing.T) {
	t.Parallel()
	relay := mailtest.Start(t, mailtest.Options{User: "certdesk", Password: "relay-pw"})
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BaseURL = "https://certdesk.example"
		c.SMTPRelay, c.SMTPFrom = relay.Addr, "certdesk <certdesk@cert.example>"
		c.SMTPUser, c.SMTPPassword, c.SMTPCAFile = "certdesk", "relay-pw", relay.CAFile
	}})
	ctx := context.Background()
	h.Org("national-cert", org.NationalCERT, "")
	h.Org("region-north", org.RegionalCERT, "national-cert")
	h.Org("city-a", org.LocalAuthority, "region-north")
	h.Org("city-b", org.LocalAuthority, "region-north")
	for slug, addr := range map[string]string{"region-north": "soc@region-north.example", "city-a": "it@city-a.example",
		"city-b": "it@city-b.example"} {
		o, err := h.App.Store.OrganizationBySlug(ctx, slug)
		require.NoError(t, err)
		_, err = h.App.Orgs.Update(ctx, org.Actor{Name: "test", System: true}, o.Slug, org.Patch{ContactEmail: &addr})
		require.NoError(t, err)
	}
	_, reporter := h.User("city-a", access.Reporter)
	colleague, _ := h.User("city-a", access.Reporter)
	_, err := h.App.Settings.Save(ctx, access.Principal{UserID: colleague.ID, OrgID: colleague.OrgID, Role: access.Reporter},
		settings.Settings{Email: true})
	require.NoError(t, err)
	cityBUser, _ := h.User("city-b", access.Reporter)
	_, err = h.App.Settings.Save(ctx, access.Principal{UserID: cityBUser.ID, OrgID: cityBUser.OrgID, Role: access.Reporter},
		settings.Settings{Email: true})
	require.NoError(t, err)
	_, cert := h.User("region-north", access.Responder)

	viewer := cert
	list := func(incident string) []notificationView {
		r := h.As(viewer).Request(http.MethodGet, "/api/v1/notifications?incident="+url.QueryEscape(incident), nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var l struct{ Notifications []notificationView }
		r.JSON(t, &l)
		var out []notificationView
		for _, n := range l.Notifications {
			if n.Provider == "email" {
				out = append(out, n)
			}
		}
		return out
	}

	// The routing notification to the regional CERT's contact address: the
	// relay answers its first DATA 451, the retry delivers it, once.
	relay.SetFail(func(n int) error {
		if n == 1 {
			return mailtest.ErrTemporary
		}
		return nil
	})
	r := h.As(reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "WOMBAT-7 encrypted the town hall", "description": "Details", "severity": "high", "tlp": "TLP:AMBER"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var inc struct{ ID, Reference string }
	r.JSON(t, &inc)
	h.Eventually(func() bool {
		h.Advance(0) // make the retry due
		ns := list(inc.ID)
		return len(ns) == 1 && ns[0].State == "sent"
	}, "the routing e-mail is sent after a retry")
	ns := list(inc.ID)
	require.Equal(t, "region-north", ns[0].RecipientOrg)
	require.Equal(t, 2, ns[0].Attempts, "one failed attempt, one that was accepted")
	ms := parsedMails(t, relay)
	require.Len(t, ms, 1)
	m := ms[0]
	require.Equal(t, "soc@region-north.example", m.To)
	require.Equal(t, "[certdesk] [TLP:AMBER] New incident to coordinate: "+inc.Reference, m.Subject)
	require.Contains(t, m.Body, "WOMBAT-7 encrypted the town hall")
	require.Contains(t, m.Body, "https://certdesk.example/incidents/"+inc.Reference)
	require.Contains(t, m.MessageID, "@cert.example>")

	// An event for city-a: its contact address and the colleague who chose
	// e-mail get it, the reporter (who did not) does not; the same event
	// queued again is not sent again.
	cityA, err := h.App.Store.OrganizationBySlug(ctx, "city-a")
	require.NoError(t, err)
	for range 2 {
		_, err = h.App.Notify.Notify(ctx, inc.ID, *cityA, "test.update:"+inc.ID, "test.update", "Update")
		require.NoError(t, err)
	}
	h.Eventually(func() bool { return len(relay.Messages()) == 3 }, "the update e-mails")

	// TLP:AMBER does not reach an organisation that does not see the
	// incident: neither its contact address nor its people.
	cityB, err := h.App.Store.OrganizationBySlug(ctx, "city-b")
	require.NoError(t, err)
	n, err := h.App.Notify.Notify(ctx, inc.ID, *cityB, "test.other:"+inc.ID, "test.other", "Other")
	require.NoError(t, err)
	require.Nil(t, n, "nothing is queued for an organisation that does not see the incident")

	// Queued while TLP:AMBER, the relay down; the label raised to TLP:RED
	// before the retry: nothing leaves.
	relay.SetFail(func(int) error { return mailtest.ErrTemporary })
	before := len(relay.Messages())
	_, err = h.App.Notify.Notify(ctx, inc.ID, *cityA, "test.late:"+inc.ID, "test.late", "Late")
	require.NoError(t, err)
	h.Eventually(func() bool {
		late := 0
		for _, n := range list(inc.ID) {
			if n.RecipientOrg == "city-a" && n.Attempts >= 1 && n.State == "pending" {
				late++
			}
		}
		return late == 2
	}, "both late e-mails failed once")
	r = h.As(reporter).Request(http.MethodPatch, "/api/v1/incidents/"+inc.ID, map[string]any{"tlp": "TLP:RED"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	viewer = reporter // the CERT no longer sees a TLP:RED incident it is not named in
	relay.SetFail(nil)
	h.Eventually(func() bool {
		h.Advance(0)
		pending := 0
		for _, n := range list(inc.ID) {
			if n.State == "pending" {
				pending++
			}
		}
		return pending == 0
	}, "the late e-mails are settled")
	withdrawn := 0
	for _, n := range list(inc.ID) {
		if n.State == "withdrawn" {
			withdrawn++
		}
	}
	require.Equal(t, 2, withdrawn, "the late e-mails are withdrawn, not sent")
	require.Len(t, relay.Messages(), before)

	// A TLP:RED incident: no e-mail at all.
	r = h.As(reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "KOALA-RED minister's mailbox", "description": "Details", "severity": "high", "tlp": "TLP:RED"})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var red struct{ ID, Reference string }
	r.JSON(t, &red)
	n, err = h.App.Notify.Notify(ctx, red.ID, *cityA, "test.red:"+red.ID, "test.red", "Red")
	require.NoError(t, err)
	require.Nil(t, n)

	ms = parsedMails(t, relay)
	require.Len(t, ms, 3)
	ids := map[string]bool{}
	for _, m := range ms {
		require.False(t, ids[m.MessageID], "one message per Message-ID")
		ids[m.MessageID] = true
		require.NotContains(t, m.Body, "KOALA", "nothing of the TLP:RED incident")
		require.NotContains(t, m.Body, red.Reference)
		require.NotEqual(t, "it@city-b.example", m.To)
		require.NotEqual(t, cityBUser.Email, m.To)
	}
	require.Len(t, mailsTo(ms, "it@city-a.example"), 1)
	require.Len(t, mailsTo(ms, colleague.Email), 1)
	personal := mailsTo(ms, colleague.Email)[0]
	require.Contains(t, personal.Body, "https://certdesk.example/account", "says where to stop them")
	require.True(t, strings.HasPrefix(personal.Subject, "[certdesk] [TLP:AMBER] Update: "))
}

// TestEmailDeadlineReminder: a legal deadline's reminder reaches the
// reporting organisation's contact address by e-mail, through the same
// event handler as chat, with its due time and the incident's link.
func TestEmailDeadlineReminder(t *testing.T) {
	t.Parallel()
	relay := mailtest.Start(t, mailtest.Options{})
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.BaseURL = "https://certdesk.example"
		c.SMTPRelay, c.SMTPFrom, c.SMTPCAFile = relay.Addr, "certdesk@cert.example", relay.CAFile
	}})
	ctx := context.Background()
	h.Org("national-cert", org.NationalCERT, "")
	h.Org("region-north", org.RegionalCERT, "national-cert")
	h.Org("city-a", org.LocalAuthority, "region-north")
	addr := "it@city-a.example"
	_, err := h.App.Orgs.Update(ctx, org.Actor{Name: "test", System: true}, "city-a", org.Patch{ContactEmail: &addr})
	require.NoError(t, err)
	_, reporter := h.User("city-a", access.Reporter)
	r := h.As(reporter).Request(http.MethodPost, "/api/v1/incidents", map[string]any{
		"title": "Outage of the water works", "description": "Details", "severity": "high", "tlp": "TLP:GREEN",
		"significant": true})
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	var inc struct{ ID, Reference string }
	r.JSON(t, &inc)
	h.Advance(13 * time.Hour) // past half of the NIS2 early warning's 24 h
	var reminder *parsedMail
	h.Eventually(func() bool {
		h.Advance(0)
		for _, m := range mailsTo(parsedMails(t, relay), addr) {
			if strings.Contains(m.Subject, "due soon") {
				reminder = &m
				return true
			}
		}
		return false
	}, "the reminder e-mail")
	require.Equal(t, "[certdesk] [TLP:GREEN] NIS2 early warning due soon: "+inc.Reference, reminder.Subject)
	require.Contains(t, reminder.Body, "https://certdesk.example/incidents/"+inc.Reference)
	require.Contains(t, reminder.Body, "Outage of the water works")
	n := 0
	for _, m := range mailsTo(parsedMails(t, relay), addr) {
		if m.Subject == reminder.Subject {
			n++
		}
	}
	require.Equal(t, 1, n, "one reminder, one e-mail")
}
