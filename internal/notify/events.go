package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/deadline"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// More event kinds a notification can report (docs/notifications.md has
// the table of who hears about what).
const (
	KindStageChanged   = "incident.stage_changed"
	KindSeverityRaised = "incident.severity_raised"
	KindAcknowledged   = "incident.acknowledged"
	KindClosed         = "incident.closed"
	KindReopened       = "incident.reopened"
	KindFlagged        = "incident.flag_changed"
	KindDeadlineMet    = "deadline.met"
	KindReminder       = "deadline.reminder"
	KindMissed         = "deadline.missed"
)

// EventsTx is what the event handler needs in a transaction: the incident
// transaction (organisations), the outbox, and who acted.
type EventsTx interface {
	incident.Tx
	Tx
	// UserOrgID returns the organisation of a user; apperr.NotFound when
	// there is no such user.
	UserOrgID(ctx context.Context, userID uuid.UUID) (uuid.UUID, error)
}

// audience names who hears about an event.
type audience int

const (
	toCoordinating audience = 1 << iota
	toReporting
	toBoth = toCoordinating | toReporting
)

// note is what an event tells people, before it is addressed and rendered.
type note struct {
	kind     string   // the notification's event kind
	key      string   // its event key (unique per recipient)
	to       audience // who hears about it
	headline string   // what happened, with the event's values
	// restricted is the headline for TLP:RED and TLP:AMBER+STRICT
	// incidents: it names the kind of event only, no value of it.
	restricted string
	detail     string // a line of what changed; never sent for restricted incidents
}

// EventHandler is the incident.Bus handler that turns the timeline events
// people must hear about into notifications, in the transaction of the
// event: routed (to the coordinating organisation), stage changed,
// severity raised to high or critical, acknowledged (to the reporting
// organisation), closed, reopened, the significant and personal data
// breach flags set or cleared, deadlines met, reminded and missed. The
// organisation of the person who acted is not told when it would be the
// only recipient: whoever acted knows, and nobody else needs telling.
func (s *Service) EventHandler() incident.Handler {
	return incident.Handler{
		Name: "notifications",
		Kinds: []incident.EventKind{incident.EventRouted, incident.EventStageChanged, incident.EventFieldChanged,
			incident.EventAcknowledged, incident.EventClosed, incident.EventReopened, incident.EventDeadlineMet,
			deadline.EventReminder, deadline.EventMissed},
		Match: notified,
		Handle: func(ctx context.Context, tx incident.Tx, inc *incident.Incident, evs []incident.Event) error {
			etx, ok := tx.(EventsTx)
			if !ok {
				return fmt.Errorf("notify: %T does not implement notify.EventsTx", tx)
			}
			for _, ev := range evs {
				n := describe(inc, ev, s.clock())
				if n == nil {
					continue
				}
				if err := s.notifyEvent(ctx, etx, inc, ev, n); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// notified keeps, of the field changes, those describeField may notify, so
// that an edit of a title or tags does not even read the incident.
func notified(ev incident.Event) bool {
	if ev.Kind != incident.EventFieldChanged {
		return true
	}
	var d struct{ Field string }
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return true
	}
	_, ok := fieldNotes[d.Field]
	return ok
}

// notifyEvent addresses n and queues one notification per recipient.
func (s *Service) notifyEvent(ctx context.Context, tx EventsTx, inc *incident.Incident, ev incident.Event, n *note) error {
	var ids []uuid.UUID
	if n.to&toCoordinating != 0 && inc.CoordinatingOrgID != nil {
		ids = append(ids, *inc.CoordinatingOrgID)
	}
	if n.to&toReporting != 0 && (len(ids) == 0 || ids[0] != inc.ReportingOrgID) {
		ids = append(ids, inc.ReportingOrgID)
	}
	// A lookup that fails aborts the change the event belongs to: the
	// handler runs in its transaction, and a CERT would rather see a change
	// refused than lose its notification silently. NotFound is not a
	// failure, though: an actor without a user row (or organisation) is
	// nobody's colleague, so the recipient is told; a recipient
	// organisation that is gone is nobody to tell.
	if len(ids) == 1 && ev.ActorUserID != nil {
		actorOrg, err := tx.UserOrgID(ctx, *ev.ActorUserID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		if err == nil && actorOrg == ids[0] {
			return nil
		}
	}
	if ev.Kind == incident.EventAcknowledged {
		n.detail = s.acknowledgedBy(ctx, tx, ev)
	}
	m := RenderEvent(inc, n.headline, n.restricted, n.detail, s.baseURL)
	evID := ev.ID
	for _, id := range ids {
		chain, err := tx.OrgChain(ctx, id)
		if apperr.Is(err, apperr.NotFound) {
			s.log.Warn("notification recipient not found", "incident", inc.Reference, "org", id, "event", ev.ID)
			continue
		} else if err != nil {
			return err
		}
		rm := m
		if WantsAcknowledge(inc, chain[0].Kind) {
			rm.Actions = append(slices.Clone(m.Actions), AcknowledgeAction(inc.ID))
		}
		if _, err := s.QueueMessage(ctx, tx, inc, chain[0], n.key, n.kind, &evID, rm); err != nil {
			return err
		}
	}
	return nil
}

// acknowledgedBy says which organisation acknowledged: "Region North CERT
// has your report."
func (s *Service) acknowledgedBy(ctx context.Context, tx EventsTx, ev incident.Event) string {
	if ev.ActorUserID == nil {
		return "The CERT has your report."
	}
	id, err := tx.UserOrgID(ctx, *ev.ActorUserID)
	if err != nil {
		return "The CERT has your report."
	}
	chain, err := tx.OrgChain(ctx, id)
	if err != nil {
		return "The CERT has your report."
	}
	return chain[0].Name + " has your report."
}

// describe says what ev tells people, or nil when it is not notified.
func describe(inc *incident.Incident, ev incident.Event, now time.Time) *note {
	key := func(kind string) string { return kind + ":" + strconv.FormatInt(ev.ID, 10) }
	var d map[string]any
	_ = json.Unmarshal(ev.Data, &d)
	str := func(k string) string { v, _ := d[k].(string); return v }
	switch ev.Kind {
	case incident.EventRouted:
		// The key of the routing notification is the incident's: it is
		// routed once, and this key predates the event bus.
		// A TLP:RED incident's routing reaches no channel: no organisation
		// sees it (its TLP:RED recipients are named participants instead).
		return &note{kind: KindRouted, key: KindRouted + ":" + inc.ID.String(), to: toCoordinating,
			headline: "New incident to coordinate", restricted: "New incident to coordinate"}
	case incident.EventStageChanged:
		detail := "Stage: " + str("from") + " → " + str("to")
		if r := oneLine(str("reason")); r != "" {
			detail += ". Reason: " + r
		}
		return &note{kind: KindStageChanged, key: key(KindStageChanged), to: toBoth,
			headline: "Stage changed to " + str("to"), restricted: "Stage changed", detail: detail}
	case incident.EventAcknowledged:
		return &note{kind: KindAcknowledged, key: key(KindAcknowledged), to: toReporting,
			headline: "Your report was acknowledged", restricted: "Your report was acknowledged"}
	case incident.EventClosed:
		return &note{kind: KindClosed, key: key(KindClosed), to: toBoth,
			headline: "Incident closed", restricted: "Incident closed", detail: "Resolution: " + oneLine(str("resolution"))}
	case incident.EventReopened:
		return &note{kind: KindReopened, key: key(KindReopened), to: toBoth,
			headline: "Incident reopened", restricted: "Incident reopened", detail: "Reason: " + oneLine(str("reason"))}
	case incident.EventFieldChanged:
		return describeField(inc, d, key, now)
	case incident.EventDeadlineMet:
		kind := incident.DeadlineKind(str("kind"))
		return &note{kind: KindDeadlineMet, key: key(KindDeadlineMet), to: toBoth,
			headline: "Deadline met: " + deadline.Name(kind), restricted: RestrictedHeadline,
			detail: "Sent: " + oneLine(str("reference"))}
	case deadline.EventReminder:
		kind := incident.DeadlineKind(str("kind"))
		due, _ := time.Parse(time.RFC3339Nano, str("due_at"))
		return &note{kind: KindReminder, key: key(KindReminder), to: toBoth,
			headline: deadline.Name(kind) + " due soon", restricted: RestrictedHeadline,
			detail: str("time_left") + ", due " + deadline.DueText(due) + " (" + str("basis") + ")"}
	case deadline.EventMissed:
		kind := incident.DeadlineKind(str("kind"))
		due, _ := time.Parse(time.RFC3339Nano, str("due_at"))
		return &note{kind: KindMissed, key: key(KindMissed), to: toBoth,
			headline: "Deadline missed: " + deadline.Name(kind), restricted: RestrictedHeadline,
			detail: "It was due " + deadline.DueText(due) + " (" + str("basis") + ") and is not marked met."}
	}
	return nil
}

// fieldNotes are the fields whose changes people may hear about, each
// with what its change tells (nil: not this change): severity raised to
// high or critical, and the flags that start or stop legal deadlines. The
// event bus filter (notified) and describeField both read it.
var fieldNotes = map[string]func(inc *incident.Incident, d map[string]any, key func(string) string, now time.Time) *note{
	"severity":             severityNote,
	"significant":          flagNote,
	"personal_data_breach": flagNote,
}

// describeField picks the field changes people must hear about (fieldNotes).
func describeField(inc *incident.Incident, d map[string]any, key func(string) string, now time.Time) *note {
	field, _ := d["field"].(string)
	if f, ok := fieldNotes[field]; ok {
		return f(inc, d, key, now)
	}
	return nil
}

// severityNote tells of a severity raised to high or critical.
func severityNote(_ *incident.Incident, d map[string]any, key func(string) string, _ time.Time) *note {
	from, _ := d["old"].(string)
	to, _ := d["new"].(string)
	if incident.Severity(to).Rank() <= incident.Severity(from).Rank() || incident.Severity(to).Rank() < incident.High.Rank() {
		return nil
	}
	return &note{kind: KindSeverityRaised, key: key(KindSeverityRaised), to: toBoth,
		headline: "Severity raised to " + to, restricted: "Severity raised", detail: "Severity: " + from + " → " + to}
}

// flagNote tells of the significant or personal data breach flag set,
// with the due times it starts, or cleared.
func flagNote(inc *incident.Incident, d map[string]any, key func(string) string, now time.Time) *note {
	field, _ := d["field"].(string)
	on, _ := d["new"].(bool)
	name := "significant (NIS2)"
	if field == "personal_data_breach" {
		name = "personal data breach (GDPR)"
	}
	n := &note{kind: KindFlagged, key: key(KindFlagged), to: toBoth, restricted: RestrictedHeadline}
	if !on {
		n.headline, n.detail = "No longer flagged "+name, "Its legal deadlines are no longer tracked."
		return n
	}
	n.headline = "Flagged " + name
	var dues []string
	for _, dl := range inc.Deadlines(inc.Location(), now) {
		if inc.Applies(dl.Kind) && ((field == "significant") == (dl.Kind != incident.GDPRNotification)) {
			dues = append(dues, deadline.Name(dl.Kind)+" due "+deadline.DueText(dl.DueAt))
		}
	}
	n.detail = strings.Join(dues, "; ")
	return n
}

// oneLine returns the first line of s, cut to 300 characters.
func oneLine(s string) string { return firstLine(s, 300) }

// RenderEvent builds the message of an event about inc: headline and a
// detail line of what changed above the incident's summary. For TLP:RED
// and TLP:AMBER+STRICT incidents it is Render with restrictedHeadline: no
// detail, no title, only the reference, severity and link.
func RenderEvent(inc *incident.Incident, headline, restrictedHeadline, detail, baseURL string) Message {
	if Restricted(inc.TLP) {
		return Render(inc, restrictedHeadline, baseURL)
	}
	m := Render(inc, headline, baseURL)
	if detail != "" {
		m.Text = detail + "\n" + m.Text
	}
	return m
}
