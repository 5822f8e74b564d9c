package ui

import (
	"net/http"
	"slices"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// escalationsPageSize is the inbox's page; the open count stops at
// openCountLimit ("99+").
const (
	escalationsPageSize = 50
	openCountLimit      = 99
)

// escalationTabs are the inbox's tabs: requests to the reader's
// organisation waiting for a decision, those decided, and the requests
// the organisation sent.
var escalationTabs = []string{"open", "decided", "outgoing"}

// escalationsView is the data of the inbox.
type escalationsView struct {
	Tab       string
	Tabs      []escalationTab
	Rows      []escalationRow
	Next      string // the cursor of the next page
	Paged     bool   // this is not the first page
	OpenCount string // the open requests, "99+" past the limit
}

// escalationTab is one tab of the inbox.
type escalationTab struct {
	Key     string
	Href    string
	Current bool
}

// escalations is the escalation inbox: the requests to the person's
// organisation waiting for a decision (from whom, why, what is asked, the
// incident's severity, class, TLP and deadlines, how long it waits), with
// accept on each row; those decided; the requests it sent, with their
// state. Each row opens the decision page. Everything is read through the
// escalation service with the person's principal: only escalations to or
// from their organisation exist here.
func (u *UI) escalations(c echo.Context) error {
	cur := current(c)
	ctx := c.Request().Context()
	pr := cur.Principal
	tab := c.QueryParam("tab")
	if !slices.Contains(escalationTabs, tab) {
		tab = "open"
	}
	f := escalation.Filter{Direction: "inbox", State: escalation.Requested}
	switch tab {
	case "decided":
		f.State = ""
	case "outgoing":
		f = escalation.Filter{Direction: "outbox"}
	}
	after := c.QueryParam("after")
	list, next, err := u.o.Escalations.List(ctx, pr, f, incident.Page{After: after, Limit: escalationsPageSize})
	if apperr.CodeOf(err) == apperr.Invalid && after != "" {
		after = ""
		list, next, err = u.o.Escalations.List(ctx, pr, f, incident.Page{Limit: escalationsPageSize}) // a stale cursor: from the start
	}
	if err != nil {
		return err
	}
	if tab == "decided" { // every state but requested: the list filters one state, so leave the open ones out here
		list = slices.DeleteFunc(list, func(e escalation.Escalation) bool { return e.State == escalation.Requested })
	}
	names, err := u.escalationOrgNames(c, pr, list)
	if err != nil {
		return err
	}
	incs, err := u.escalationIncidents(c, pr, list)
	if err != nil {
		return err
	}
	p := u.newPage(c, "escalation_inbox", "escalation.inbox.title")
	v := escalationsView{Tab: tab, Next: next, Paged: after != ""}
	for _, t := range escalationTabs {
		v.Tabs = append(v.Tabs, escalationTab{Key: t, Href: "/escalations?tab=" + t, Current: t == tab})
	}
	for i := range list {
		r := u.escalationRowOf(p.L, pr, &list[i], incs[list[i].IncidentID], names)
		if r.Visible {
			p.TLP = stricter(p.TLP, r.TLP)
		}
		v.Rows = append(v.Rows, r)
	}
	p.TLPList = true
	v.OpenCount = navCount(p.Nav, "/escalations")
	p.Notice = escalationNotice(p.L, c.QueryParam("done"))
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// navCount is the count the navigation shows beside the entry href.
func navCount(nav []navItem, href string) string {
	for _, n := range nav {
		if n.Href == href {
			return n.Count
		}
	}
	return ""
}
