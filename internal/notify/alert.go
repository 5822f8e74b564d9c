package notify

import (
	"context"
	"fmt"

	"github.com/certdesk/certdesk/internal/org"
)

// AlertAdmins sends an operational alert that concerns no incident (the
// audit chain is broken: audit.Watcher) to the administrators of
// recipient, the national CERT: a message in its chat channel through the
// notifier when Slack is configured and the organisation has a channel,
// and always an error in the log (the log provider), so that the alert is
// on record where operators look even without chat. A failure to post is
// returned, to be retried; the caller records that the alert went out.
func (s *Service) AlertAdmins(ctx context.Context, recipient org.Organization, header, text string) error {
	s.log.Error("alert to the administrators of "+recipient.Slug, "header", header, "text", text)
	if s.notifier == nil || recipient.ChatChannel == "" {
		return nil
	}
	m := Message{Header: header, Text: text, Fields: []Field{{Label: "To", Value: "the administrators of " + recipient.Name}}}
	if s.baseURL != "" {
		m.Link = s.baseURL + "/admin/audit"
	}
	if _, err := s.notifier.Send(ctx, recipient.ChatChannel, "", m); err != nil {
		return fmt.Errorf("alert %s: %w", recipient.Slug, err)
	}
	return nil
}
