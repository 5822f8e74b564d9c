package notify

import (
	"context"
	"errors"
)

// Responder answers a chat interaction at the address the chat gave for
// it (Slack: a response_url). The Slack client is one.
type Responder interface {
	Respond(ctx context.Context, responseURL, text string) error
}

// RespondJob posts a reply to a chat interaction (Slack wants the answer
// to a button press at its response_url, and within three seconds of it
// only an HTTP 200). Its kind keeps the name jobs already queued carry.
type RespondJob struct {
	ResponseURL string `json:"response_url" river:"unique"`
	Text        string `json:"text" river:"unique"`
}

// Kind implements incident.Job.
func (RespondJob) Kind() string { return "slack.respond" }

// ErrNoChat says that no chat that can reply is configured.
var ErrNoChat = errors.New("no chat that can reply is configured")

// Respond posts job's reply through the configured chat: ErrNoChat (a
// PermanentError) when there is none; the chat's errors otherwise
// (IsPermanent tells whether another attempt can help).
func (s *Service) Respond(ctx context.Context, job RespondJob) error {
	r, ok := s.notifier.(Responder)
	if !ok {
		return &PermanentError{Err: ErrNoChat}
	}
	return r.Respond(ctx, job.ResponseURL, job.Text)
}
