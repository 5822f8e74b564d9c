package ui

import (
	"net/url"
	"slices"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// timelineKinds are the timeline's filter chips by kind of event: each a
// group of event kinds, asked of the store (incident.Service.TimelineOf).
var timelineKinds = []struct {
	Key   string
	Kinds []incident.EventKind
}{
	{"pinned", []incident.EventKind{incident.EventPinned}}, // the key events someone pinned
	{"decisions", []incident.EventKind{"created", incident.EventRouted, incident.EventAcknowledged, incident.EventAssigned,
		incident.EventTeamAssigned, incident.EventStageChanged, incident.EventClosed, incident.EventReopened,
		incident.EventFieldChanged, incident.EventSummaryChanged, "merged_into", "merged_from", "merge_undone"}},
	{"notes", []incident.EventKind{incident.EventManual, "comment_added", "comment_edited", "attachment_added"}},
	{"deadlines", []incident.EventKind{incident.EventDeadlineMet, "deadline_reminder", "deadline_missed", "deadline_timer_failed",
		"legal_report_filed"}},
	{"sharing", []incident.EventKind{"escalated", "escalation_accepted", "escalation_declined", "escalation_returned",
		"escalation_cancelled", "escalation_policy_notified", incident.EventShared, incident.EventShareEnded,
		incident.EventParticipantAdded, incident.EventParticipantRemoved, "strict_circle_joined", "incident_linked", "incident_unlinked"}},
	{"work", []incident.EventKind{"task_created", "task_completed", "task_cancelled", "task_updated", "playbook_started",
		"playbook_step", "playbook_finished", "observable_added", "observable_updated", "observable_removed"}},
	{"notifications", []incident.EventKind{"notified", "notification_failed", "notification_withdrawn"}},
}

// timelineFilter is the timeline's filter of the URL: kind (a group of
// timelineKinds) and org (an organisation's slug, or
// incident.SystemActor for certdesk's own entries), both asked of the
// store.
type timelineFilter struct {
	Kind string
	Org  string
}

// timelineFilterOf reads the filter of the incident page's URL; an unknown
// kind is no filter.
func timelineFilterOf(c echo.Context) timelineFilter {
	f := timelineFilter{Org: c.QueryParam("org")}
	for _, g := range timelineKinds {
		if g.Key == c.QueryParam("kind") {
			f.Kind = g.Key
		}
	}
	return f
}

// events is the filter as the store takes it.
func (f timelineFilter) events() incident.EventFilter {
	ef := incident.EventFilter{ActorOrg: f.Org}
	for _, g := range timelineKinds {
		if g.Key == f.Kind {
			ef.Kinds = g.Kinds
		}
	}
	return ef
}

// query is the filter as a query string with after (the page's cursor),
// ending in the timeline's anchor.
func (f timelineFilter) href(after string) string {
	q := url.Values{}
	if f.Kind != "" {
		q.Set("kind", f.Kind)
	}
	if f.Org != "" {
		q.Set("org", f.Org)
	}
	if after != "" {
		q.Set("after", after)
	}
	return "?" + q.Encode() + "#timeline-title"
}

// timelineChip is one filter link.
type timelineChip struct {
	Label   string
	Href    string
	Current bool
}

// timelineFilterView is the chips above the timeline.
type timelineFilterView struct {
	Kinds    []timelineChip
	Orgs     []timelineChip
	Filtered bool
}

// view builds the chips: every kind group, and the organisations that
// acted on the incident's timeline (incident.Service.TimelineActors).
func (f timelineFilter) view(l i18n.Locale, actors []incident.ActorOrg) *timelineFilterView {
	v := &timelineFilterView{Filtered: f.Kind != "" || f.Org != ""}
	all := f
	all.Kind = ""
	v.Kinds = append(v.Kinds, timelineChip{Label: l.T("workbench.timeline.kind.all"), Href: all.href(""), Current: f.Kind == ""})
	for _, g := range timelineKinds {
		k := f
		k.Kind = g.Key
		v.Kinds = append(v.Kinds, timelineChip{Label: l.T("workbench.timeline.kind." + g.Key), Href: k.href(""), Current: f.Kind == g.Key})
	}
	everyone := f
	everyone.Org = ""
	v.Orgs = append(v.Orgs, timelineChip{Label: l.T("workbench.timeline.org.all"), Href: everyone.href(""), Current: f.Org == ""})
	if f.Org != "" && !slices.ContainsFunc(actors, func(a incident.ActorOrg) bool { return a.Slug == f.Org }) {
		actors = append(actors, incident.ActorOrg{Slug: f.Org, Name: f.Org}) // nobody of it acted: the chip says what is filtered
	}
	for _, a := range actors {
		k := f
		k.Org = a.Slug
		label := a.Name
		if a.Slug == incident.SystemActor {
			label = l.T("timeline.system")
		}
		v.Orgs = append(v.Orgs, timelineChip{Label: label, Href: k.href(""), Current: f.Org == a.Slug})
	}
	return v
}

// markPinnable offers the pin button on every entry of the days.
func markPinnable(days []timelineDay) {
	for d := range days {
		for i := range days[d].Items {
			it := &days[d].Items[i]
			if it.Entry != nil {
				it.Entry.Pinnable = true
			}
			for g := range it.Group {
				it.Group[g].Pinnable = true
			}
		}
	}
}
