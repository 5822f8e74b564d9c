package notify

import (
	"context"
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
)

// template is one named message a playbook's notify step sends.
type template struct {
	// headline says what happened, for an incident whose details may leave
	// certdesk ("Ransomware at a local authority").
	headline string
	// restricted is the headline for TLP:RED and TLP:AMBER+STRICT
	// incidents: it must not tell what kind of incident it is, only what
	// the reader is asked to do.
	restricted string
	// action is what the reader should do now, in a few short lines; it is
	// shown only when the incident's details may leave certdesk. It may
	// use {reporting}, {coordinating}, {severity} and {stage}.
	action string
}

// templates is the named template set. The names are the ones playbooks
// use in notify steps (`with: { template: ... }`); a playbook that names
// another one does not validate. Keep docs/playbooks.md in step.
var templates = map[string]template{
	"ransomware_started": {
		headline:   "Ransomware: response started",
		restricted: "Incident needs acknowledgement",
		action: "{reporting} reports encrypting malware (severity {severity}); the ransomware playbook is running.\n" +
			"Acknowledge the incident in certdesk within 30 minutes, or it is escalated to the parent CERT.\n" +
			"Advise: isolate affected hosts but keep them powered on (memory is evidence), block SMB/RDP " +
			"between segments, disable compromised accounts, do not contact the attackers or pay.",
	},
	"phishing_warning": {
		headline:   "Phishing campaign warning",
		restricted: "Incident update to review",
		action: "A phishing campaign reported by {reporting} may reach your organisation too.\n" +
			"Warn your staff, block the sender domains and URLs listed as observables in certdesk, and reset " +
			"the passwords (and MFA) of anyone who entered credentials. Report new samples on this incident.",
	},
	"ddos_ongoing": {
		headline:   "DDoS on a citizen-facing service",
		restricted: "Incident needs attention",
		action: "{reporting} reports a denial-of-service attack on a public service (severity {severity}, stage {stage}).\n" +
			"Mitigation with the upstream provider is being engaged. Acknowledge in certdesk; be ready to " +
			"escalate if the service is not back within 4 hours, and coordinate the public notice.",
	},
	"data_breach_reported": {
		headline:   "Personal-data breach: GDPR clock running",
		restricted: RestrictedHeadline,
		action: "{reporting} reports a personal-data breach (severity {severity}).\n" +
			"GDPR Art. 33: the supervisory authority must be notified within 72 hours of awareness. If the " +
			"incident is significant under NIS2, the early warning is due within 24 hours. Check the deadlines " +
			"on the incident in certdesk and involve the data protection officer.",
	},
	"defacement_reported": {
		headline:   "Website defacement",
		restricted: "Incident update to review",
		action: "{reporting} reports a defaced public website (severity {severity}).\n" +
			"Evidence is being preserved and the site replaced with a maintenance page. Check whether other " +
			"sites of the constituency run the same CMS or plugins, and help find the way in.",
	},
	"vulnerability_advisory": {
		headline:   "Vulnerability advisory",
		restricted: RestrictedHeadline,
		action: "Advisory coordinated by {coordinating} for its constituency (severity {severity}, stage {stage}).\n" +
			"Check whether you run the affected product and version; patch, or apply the vendor's mitigation " +
			"now. Record in certdesk when you are done, or if you see signs of exploitation.",
	},
	"patch_reminder": {
		headline:   "Reminder: patching still open",
		restricted: "Reminder: open task",
		action: "The patching task of this advisory is still open after 7 days.\n" +
			"Patch or mitigate the affected systems now, then mark the task done in certdesk; if you cannot, " +
			"say why on the incident so that the CERT can help.",
	},
}

// Templates returns the names of the notification templates, sorted.
func Templates() []string {
	names := make([]string, 0, len(templates))
	for n := range templates {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// HasTemplate reports whether name is a notification template.
func HasTemplate(name string) bool {
	_, ok := templates[name]
	return ok
}

// RenderTemplate builds the message of the template name about inc. Like
// Render, it respects TLP: for TLP:RED and TLP:AMBER+STRICT incidents only
// the reference, the severity and the link leave certdesk, under a
// headline that does not tell what kind of incident it is. An unknown
// name (which a validated playbook cannot name) renders a neutral
// "Playbook notification".
func RenderTemplate(name string, inc *incident.Incident, baseURL string) Message {
	t, ok := templates[name]
	if !ok {
		return Render(inc, "Playbook notification", baseURL)
	}
	if Restricted(inc.TLP) {
		m := Render(inc, t.restricted, baseURL)
		m.Text += " Open the incident in certdesk for what to do."
		return m
	}
	m := Render(inc, t.headline, baseURL)
	m.Fields = append(m.Fields, Field{"Reported by", orOr(inc.ReportingOrgSlug, "unknown")},
		Field{"Coordinated by", orOr(inc.CoordinatingOrgSlug, "not yet routed")})
	m.Text += "\n\n" + strings.NewReplacer(
		"{reporting}", orOr(inc.ReportingOrgSlug, "The reporting organisation"),
		"{coordinating}", orOr(inc.CoordinatingOrgSlug, "the coordinating CERT"),
		"{severity}", string(inc.Severity),
		"{stage}", string(inc.Stage),
	).Replace(t.action)
	return m
}

func orOr(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// QueueTemplate records, like Queue, a notification whose message is the
// template name rendered for inc (a playbook's notify step).
func (s *Service) QueueTemplate(ctx context.Context, tx Tx, inc *incident.Incident, recipient org.Organization,
	eventKey, kind string, eventID *int64, name string) (*Notification, error) {
	return s.QueueMessage(ctx, tx, inc, recipient, eventKey, kind, eventID, RenderTemplate(name, inc, s.baseURL))
}
