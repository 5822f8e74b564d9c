package ui

import (
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// handoffKinds are the timeline entries of the hand-off history: the
// routing to the first coordinating CERT and every escalation's request,
// decision, return and cancellation.
var handoffKinds = []incident.EventKind{incident.EventRouted, escalation.EventEscalated, escalation.EventEscalationAccepted,
	escalation.EventEscalationDeclined, escalation.EventEscalationReturned, escalation.EventEscalationCancelled}

// handoffsView is the data of the hand-off history.
type handoffsView struct {
	Reference   string
	Title       string
	Coordinated []coordinationView
	Entries     []handoffEntry
	More        bool // the incident has more entries than one read shows
	MayEscalate bool
}

// coordinationView is one period in which an organisation coordinated
// the incident.
type coordinationView struct {
	Org   string
	Since template.HTML
	Until template.HTML // empty: it coordinates now
	How   string        // routed, accepted, returned
}

// handoffEntry is one entry of the history.
type handoffEntry struct {
	When   template.HTML
	Who    string
	Org    string
	What   string
	Reason string
	Kind   incident.EventKind
}

// escalationHistory is the hand-off history of an incident: who
// coordinated it when, and every escalation asked, accepted, declined,
// returned or cancelled, by whom, with the reasons. It reads the
// incident's timeline (incident.Service.TimelineOf with the person's
// principal), so everyone who sees the incident — the reporting city as
// well as the CERTs — reads the same history; the 404 page for anyone
// else.
func (u *UI) escalationHistory(c echo.Context) error {
	ctx := c.Request().Context()
	pr := current(c).Principal
	inc, err := u.o.Incidents.Get(ctx, pr, c.Param("ref"))
	if err != nil {
		return err
	}
	evs, next, err := u.o.Incidents.TimelineOf(ctx, pr, inc, handoffKinds, incident.Page{Limit: incident.MaxLimit})
	if err != nil {
		return err
	}
	p := u.newPage(c, "escalation_history", "escalation.history.title", inc.Reference)
	p.TLP = inc.TLP
	p.Notice = escalationNotice(p.L, c.QueryParam("done"))
	l := p.L
	v := handoffsView{Reference: inc.Reference, Title: inc.Title, More: next != "",
		MayEscalate: pr.MayWrite(access.EscalateIncident, inc.Relations) && inc.Status != incident.Closed}
	for _, ev := range evs {
		var d map[string]any
		_ = json.Unmarshal(ev.Data, &d)
		str := func(k string) string { s, _ := d[k].(string); return s }
		name := func(k string) string { return firstOf(str(k+"_name"), str(k)) }
		kind := str("kind")
		if kind != "" {
			kind = l.T("escalation.kind." + kind)
		}
		en := handoffEntry{When: l.Time(ev.OccurredAt), Who: firstOf(ev.ActorName, ev.Actor), Org: ev.ActorOrgName, Reason: str("reason"), Kind: ev.Kind}
		if ev.ActorUserID == nil {
			en.Who = l.T("timeline.system")
		}
		coordinator := name("coordinating_org")
		switch ev.Kind {
		case incident.EventRouted:
			en.What = l.T("escalation.history.routed", coordinator)
		case escalation.EventEscalated:
			en.What = l.T("escalation.history.escalated", name("from_org"), name("to_org"), kind)
		case escalation.EventEscalationAccepted:
			en.What = l.T("escalation.history.accepted", name("to_org"), kind)
		case escalation.EventEscalationDeclined:
			en.What = l.T("escalation.history.declined", name("to_org"))
		case escalation.EventEscalationReturned:
			en.What = l.T("escalation.history.returned", name("to_org"))
		case escalation.EventEscalationCancelled:
			en.What = l.T("escalation.history.cancelled", name("to_org"))
		}
		v.Entries = append(v.Entries, en)
		if str("coordinating_org") == "" || ev.Kind == escalation.EventEscalated {
			continue
		}
		if n := len(v.Coordinated); n > 0 {
			if v.Coordinated[n-1].Org == coordinator {
				continue
			}
			v.Coordinated[n-1].Until = l.Time(ev.OccurredAt)
		}
		v.Coordinated = append(v.Coordinated, coordinationView{Org: coordinator, Since: l.Time(ev.OccurredAt), How: string(ev.Kind)})
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// escalationDetail is the detail of an escalation's timeline entry: from
// whom to whom, what was asked, and the reason given. str reads the
// event's data.
func escalationDetail(l i18n.Locale, str func(string) string) string {
	name := func(k string) string { return firstOf(str(k+"_name"), str(k)) }
	d := l.T("escalation.timeline.detail", name("from_org"), name("to_org"), l.T("escalation.kind."+firstOf(str("kind"), "assist")))
	if r := str("reason"); r != "" {
		d += ": " + r
	}
	return d
}
