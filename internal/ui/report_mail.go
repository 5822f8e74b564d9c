package ui

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/filing"
	"github.com/labstack/echo/v4"
)

// reportMailView is the data of the page where a report sent by e-mail is
// confirmed.
type reportMailView struct {
	Action     string
	Check      string // the check page, to change the answers first
	Subject    string
	Sender     string
	ReceivedAt template.HTML
	Lines      []string // what the sender wrote, by line (the subject is above)
	Files      []string
	DKIM, SPF  string
	CERT       string
}

// reportMail shows a draft made from an e-mail (internal/mailin) to the
// people of its organisation who may report: what was received, how the
// relay authenticated it, and "Confirm and send". A draft of another
// organisation, one not made from an e-mail and any draft for someone who
// may not report are not found; a sent one goes to its confirmation.
func (u *UI) reportMail(c echo.Context) error {
	d, err := u.o.Filings.Draft(c.Request().Context(), current(c).Principal, c.Param("draft"))
	if err != nil {
		return err
	}
	if d.SubmittedAt != nil {
		return u.sentRedirect(c, d)
	}
	if u.o.MailIn == nil {
		return notFoundPage()
	}
	m, err := u.o.MailIn.MailOfDraft(c.Request().Context(), d.ID)
	if err != nil {
		return err
	}
	p := u.newPage(c, "report_mail", "mail.confirm.title")
	p.TLP = draftTLP(d)
	v := reportMailView{Action: "/report/mail/" + d.ID.String(), Check: "/report/" + d.ID.String() + "/" + filing.StepCheck,
		Subject: m.Subject, Sender: m.Sender, ReceivedAt: p.L.WhenTime(m.ReceivedAt), Lines: mailLines(d.Answers.Get("what_details"), m.Subject),
		DKIM: m.DKIM, SPF: m.SPF, CERT: u.certName(c)}
	for _, f := range d.Files {
		v.Files = append(v.Files, f.Filename)
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// reportMailConfirm sends a draft made from an e-mail as it is, with the
// subject as its title (the severity the answers suggest); a second
// confirm shows the same confirmation.
func (u *UI) reportMailConfirm(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	d, err := u.o.Filings.Draft(ctx, cur.Principal, c.Param("draft"))
	if err != nil {
		return err
	}
	if d.SubmittedAt != nil {
		return u.sentRedirect(c, d)
	}
	if u.o.MailIn == nil {
		return notFoundPage()
	}
	m, err := u.o.MailIn.MailOfDraft(ctx, d.ID)
	if err != nil {
		return err
	}
	title := m.Subject
	if r := []rune(title); len(r) > filing.MaxTitle {
		title = string(r[:filing.MaxTitle])
	}
	inc, _, err := u.o.Filings.Submit(ctx, cur.Principal, d.ID.String(), requestLang(c), filing.Final{Title: title})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/report/sent/"+inc.Reference)
}

// mailLines is the text of a draft made from an e-mail without the
// subject it begins with, by line.
func mailLines(details, subject string) []string {
	text := strings.TrimSpace(strings.TrimPrefix(details, subject))
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
