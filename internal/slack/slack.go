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
	_ notify.Finder   = (*Client)(nil)
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
	"unknown_method": true, // a Slack-compatible server without the method (the history calls)
}

// Send implements notify.Notifier: chat.postMessage with a header, the
// message's fields, its text, and a context line with the link; the text
// is also the notification fallback. threadTS, when set, makes it a reply.
func (c *Client) Send(ctx context.Context, channel, threadTS string, m notify.Message) (string, error) {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(Fallback(m), false), slackapi.MsgOptionBlocks(Blocks(m)...)}
	if threadTS != "" {
		opts = append(opts, slackapi.MsgOptionTS(threadTS))
	}
	if m.Key != "" {
		opts = append(opts, slackapi.MsgOptionMetadata(slackapi.SlackMetadata{EventType: MetadataEventType,
			EventPayload: map[string]any{MetadataKey: m.Key}}))
	}
	_, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", classify(err)
	}
	return ts, nil
}

// The label of a message certdesk posts (Slack's message metadata): its
// event type, and the payload's field holding the notification's ID.
const (
	MetadataEventType = "certdesk_notification"
	MetadataKey       = "notification_id"
)

// findPages bounds Find: pages of findPageSize messages read at most.
const (
	findPages    = 10
	findPageSize = 200
)

// Find implements notify.Finder: the message labelled key in the thread
// threadTS (conversations.replies) or among the channel's top-level
// messages (conversations.history), posted since a minute before since,
// read with their metadata. A reply is looked for at the top level too:
// an earlier attempt may have posted it as the thread's first message
// (its thread was not recorded yet), and another delivery may have
// started the thread since. It needs the bot's history scopes
// (channels:history, groups:history); a token without them is a
// PermanentError (missing_scope).
func (c *Client) Find(ctx context.Context, channel, threadTS, key string, since time.Time) (string, error) {
	from := since.Add(-time.Minute)
	oldest := fmt.Sprintf("%d.%06d", from.Unix(), from.Nanosecond()/1000)
	if threadTS != "" {
		ts, err := c.findIn(ctx, channel, threadTS, key, oldest)
		if ts != "" || err != nil {
			return ts, err
		}
	}
	return c.findIn(ctx, channel, "", key, oldest)
}

// findIn reads the thread threadTS of channel (its top level when
// threadTS is empty) from oldest on, page by page (at most findPages),
// for the message labelled key.
func (c *Client) findIn(ctx context.Context, channel, threadTS, key, oldest string) (string, error) {
	cursor := ""
	for range findPages {
		var msgs []slackapi.Message
		var more bool
		var next string
		if threadTS == "" {
			resp, err := c.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{ChannelID: channel,
				Oldest: oldest, Limit: findPageSize, Cursor: cursor, IncludeAllMetadata: true})
			if err != nil {
				return "", classify(err)
			}
			msgs, more, next = resp.Messages, resp.HasMore, resp.ResponseMetaData.NextCursor
		} else {
			var err error
			msgs, more, next, err = c.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{ChannelID: channel,
				Timestamp: threadTS, Oldest: oldest, Limit: findPageSize, Cursor: cursor, IncludeAllMetadata: true})
			if err != nil {
				return "", classify(err)
			}
		}
		for _, m := range msgs {
			if m.Metadata.EventType == MetadataEventType && fmt.Sprint(m.Metadata.EventPayload[MetadataKey]) == key {
				return m.Timestamp, nil
			}
		}
		if !more || next == "" {
			return "", nil
		}
		cursor = next
	}
	return "", nil
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
