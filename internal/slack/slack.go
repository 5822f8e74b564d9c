// Package slack delivers notifications through Slack's Web API with
// slack-go: it implements notify.Notifier with chat.postMessage and Block
// Kit, and maps Slack's errors to the outbox's retry rules.
package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/notify"
	slackapi "github.com/slack-go/slack"
)

// Client posts messages to Slack channels.
type Client struct {
	api    *slackapi.Client
	hc     *http.Client
	apiURL string
}

var (
	_ notify.Notifier = (*Client)(nil)
	_ notify.Updater  = (*Client)(nil)
)

// New returns a Client with the bot token, talking to the Web API at
// apiURL (Slack's own is https://slack.com/api/). Each call is bounded by
// timeout.
func New(token, apiURL string, timeout time.Duration) *Client {
	hc := &http.Client{Timeout: timeout}
	return &Client{api: slackapi.New(token, slackapi.OptionAPIURL(apiURL), slackapi.OptionHTTPClient(hc)), hc: hc, apiURL: apiURL}
}

// permanentErrors are Slack error codes another attempt cannot fix.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true, "channel_is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true, "token_revoked": true,
	"token_expired": true, "no_permission": true, "missing_scope": true, "not_allowed_token_type": true,
	"restricted_action": true, "team_access_not_granted": true, "ekm_access_denied": true,
	"msg_too_long": true, "invalid_blocks": true, "invalid_blocks_format": true, "invalid_arguments": true,
	"too_many_attachments": true, "no_text": true, "invalid_thread_ts": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true,
}

// Send implements notify.Notifier: chat.postMessage with a header, the
// message's fields, its text, and a context line with the link; the text
// is also the notification fallback. threadTS, when set, makes it a reply.
func (c *Client) Send(ctx context.Context, channel, threadTS string, m notify.Message) (string, error) {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(Fallback(m), false), slackapi.MsgOptionBlocks(Blocks(m)...)}
	if threadTS != "" {
		opts = append(opts, slackapi.MsgOptionTS(threadTS))
	}
	_, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", classify(err)
	}
	return ts, nil
}

// Update implements notify.Updater: chat.update of the message ts in
// channel with m, rendered as Send renders it.
func (c *Client) Update(ctx context.Context, channel, ts string, m notify.Message) error {
	_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts,
		slackapi.MsgOptionText(Fallback(m), false), slackapi.MsgOptionBlocks(Blocks(m)...))
	if err != nil {
		return classify(err)
	}
	return nil
}

// classify maps a slack-go error to the outbox's error kinds.
func classify(err error) error {
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return &notify.RateLimitError{RetryAfter: rl.RetryAfter, Err: err}
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && permanentErrors[se.Err] {
		return &notify.PermanentError{Err: fmt.Errorf("slack: %w", err)}
	}
	var pse *slackapi.SlackErrorResponse
	if errors.As(err, &pse) && permanentErrors[pse.Err] {
		return &notify.PermanentError{Err: fmt.Errorf("slack: %w", err)}
	}
	return fmt.Errorf("slack: %w", err)
}

// Fallback is the top-level text of a message: what Slack shows in
// notifications and reads to screen readers. Slack formats it as mrkdwn
// like the blocks, so everything in it is escaped (escape) as in the
// blocks: a title cannot ping @channel or forge a link there either.
func Fallback(m notify.Message) string {
	lines := []string{m.Header}
	for _, l := range []string{m.Text, m.Link} {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return escape(strings.Join(lines, "\n"))
}

// Blocks renders a message as Block Kit blocks.
func Blocks(m notify.Message) []slackapi.Block {
	blocks := []slackapi.Block{slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, cut(m.Header, 150), false, false))}
	var fields []*slackapi.TextBlockObject
	for _, f := range m.Fields {
		fields = append(fields, slackapi.NewTextBlockObject(slackapi.MarkdownType, "*"+escape(f.Label)+"*\n"+escape(f.Value), false, false))
	}
	var text *slackapi.TextBlockObject
	if m.Text != "" {
		text = slackapi.NewTextBlockObject(slackapi.MarkdownType, cut(escape(m.Text), 3000), false, false)
	}
	if text != nil || len(fields) > 0 {
		blocks = append(blocks, slackapi.NewSectionBlock(text, fields, nil))
	}
	if m.Link != "" {
		blocks = append(blocks, slackapi.NewContextBlock("link",
			slackapi.NewTextBlockObject(slackapi.MarkdownType, "<"+m.Link+"|Open in certdesk>", false, false)))
	}
	if len(m.Actions) > 0 {
		blocks = append(blocks, actionBlock(m.Actions))
	}
	return blocks
}

// ActionsBlockID is the block_id of a message's buttons. Slack reports a
// button press as a block action only when its block has an ID.
const ActionsBlockID = "certdesk_actions"

// actionBlock renders a message's actions as buttons: the action_id is the
// action's kind, the value its object's ID.
func actionBlock(actions []notify.Action) *slackapi.ActionBlock {
	var els []slackapi.BlockElement
	for _, a := range actions {
		b := slackapi.NewButtonBlockElement(string(a.Kind), a.Value,
			slackapi.NewTextBlockObject(slackapi.PlainTextType, a.Kind.Label(), false, false))
		switch a.Kind {
		case notify.ActionAcknowledge, notify.ActionAcceptEscalation:
			b = b.WithStyle(slackapi.StylePrimary)
		case notify.ActionDeclineEscalation:
			b = b.WithStyle(slackapi.StyleDanger)
		}
		els = append(els, b)
	}
	return slackapi.NewActionBlock(ActionsBlockID, els...)
}

// escape makes text literal in Slack's mrkdwn (&, < and > only, per
// Slack's formatting rules), so that a title cannot ping @channel or
// forge a link. Every text certdesk sends to Slack goes through it: the
// blocks, the top-level text (Fallback), the /incident answers (cardText)
// and the replies to buttons and commands (refusal).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
