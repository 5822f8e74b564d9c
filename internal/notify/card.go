package notify

import (
	"github.com/certdesk/certdesk/internal/incident"
)

// Card renders an incident's current state: the first message of its
// thread in a channel is kept showing it (chat.update), and the /incident
// command answers with it. ackBy is who acknowledged it ("" when nobody
// has). Its text is the description's first line. The TLP rule of Render applies: for TLP:RED and TLP:AMBER+STRICT
// only the reference, the severity and the link.
func Card(inc *incident.Incident, ackBy, baseURL string) Message {
	link := baseURL + "/incidents/" + inc.Reference
	if Restricted(inc.TLP) {
		return Message{
			Header: inc.Reference,
			Fields: []Field{{"Reference", inc.Reference}, {"Severity", string(inc.Severity)}},
			Text:   inc.Reference + " (severity " + string(inc.Severity) + "). Details in certdesk only.",
			Link:   link,
		}
	}
	coordinating := inc.CoordinatingOrgSlug
	if coordinating == "" {
		coordinating = "not yet routed"
	}
	acknowledged := "not yet"
	switch {
	case ackBy != "":
		acknowledged = "by " + ackBy
	case inc.AcknowledgedAt != nil:
		acknowledged = "yes"
	}
	if inc.AcknowledgedAt != nil {
		acknowledged += " at " + inc.AcknowledgedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	return Message{
		Header: inc.Reference + ": " + inc.Title,
		Fields: []Field{
			{"Status", string(inc.Status)}, {"Severity", string(inc.Severity)}, {"Stage", string(inc.Stage)},
			{"TLP", string(inc.TLP)}, {"Coordinating", coordinating}, {"Acknowledged", acknowledged},
		},
		Text: firstLine(inc.Description, 300),
		Link: link,
	}
}
