// Package slackfake is a small stand-in for Slack's Web API, for trying
// certdesk's chat notifications on one machine: `certdesk slack-fake`
// serves it, SLACK_API_URL points certdesk at it, and every message
// certdesk posts or updates is printed and kept. It answers the calls
// certdesk makes (chat.postMessage, chat.update, chat.postEphemeral,
// users.info, auth.test, and conversations.history and
// conversations.replies with message metadata) the way Slack does, and
// nothing else. It is a
// development tool, not a Slack emulator: it checks no token.
package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Message is one message as the fake Slack holds it.
type Message struct {
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts,omitempty"`
	Text     string `json:"text"`
	// Blocks is the Block Kit JSON as posted.
	Blocks json.RawMessage `json:"blocks,omitempty"`
	// Metadata is the message's metadata as posted (event_type and
	// event_payload), returned by the history calls with
	// include_all_metadata.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	Updated  int             `json:"updated"` // how often chat.update changed it
}

// Server is the fake Slack. Its zero value is not usable; call New.
type Server struct {
	mu       sync.Mutex
	messages []*Message
	byTS     map[string]*Message
	users    map[string]string // Slack user ID → e-mail
	seq      int
	out      io.Writer
	now      func() time.Time
}

// New returns a fake Slack that prints each message to out (nil: prints
// nothing). users maps Slack user IDs to e-mail addresses for users.info.
func New(out io.Writer, users map[string]string) *Server {
	if users == nil {
		users = map[string]string{}
	}
	return &Server{byTS: map[string]*Message{}, users: users, out: out, now: time.Now}
}

// Handler serves the Web API under /api/ and the kept messages as JSON at
// GET /messages (?channel= filters).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/chat.postMessage", s.post)
	mux.HandleFunc("/api/chat.update", s.update)
	mux.HandleFunc("/api/chat.postEphemeral", s.ephemeral)
	mux.HandleFunc("/api/users.info", s.userInfo)
	mux.HandleFunc("/api/conversations.history", s.history)
	mux.HandleFunc("/api/conversations.replies", s.history)
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]any{"ok": true, "team": "certdesk-demo", "user": "certdesk", "user_id": "UCERTDESK", "bot_id": "BCERTDESK"})
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"ok": false, "error": "unknown_method"})
	})
	mux.HandleFunc("GET /messages", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"messages": s.Messages(r.URL.Query().Get("channel"))})
	})
	return mux
}

// Messages returns the kept messages, of one channel when channel is not
// empty, in the order they were posted.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Message{}
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Channels returns the channels that received messages, sorted.
func (s *Server) Channels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range s.messages {
		seen[m.Channel] = true
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func (s *Server) post(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		reply(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	channel := r.PostForm.Get("channel")
	if channel == "" {
		reply(w, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	s.mu.Lock()
	s.seq++
	m := &Message{Channel: channel, TS: fmt.Sprintf("%d.%06d", s.now().Unix(), s.seq),
		ThreadTS: r.PostForm.Get("thread_ts"), Text: r.PostForm.Get("text"), Blocks: blocks(r.PostForm.Get("blocks")),
		Metadata: blocks(r.PostForm.Get("metadata"))}
	s.messages = append(s.messages, m)
	s.byTS[m.TS] = m
	s.mu.Unlock()
	s.print("post", m)
	reply(w, map[string]any{"ok": true, "channel": channel, "ts": m.TS})
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		reply(w, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	s.mu.Lock()
	m, ok := s.byTS[r.PostForm.Get("ts")]
	if !ok || m.Channel != r.PostForm.Get("channel") {
		s.mu.Unlock()
		reply(w, map[string]any{"ok": false, "error": "message_not_found"})
		return
	}
	m.Text, m.Blocks = r.PostForm.Get("text"), blocks(r.PostForm.Get("blocks"))
	m.Updated++
	cp := *m
	s.mu.Unlock()
	s.print("update", &cp)
	reply(w, map[string]any{"ok": true, "channel": cp.Channel, "ts": cp.TS, "text": cp.Text})
}

// history answers conversations.history (a channel's top-level messages,
// newest first) and conversations.replies (a thread: its first message,
// then the replies, oldest first): posted at or after oldest, limit a
// page (default 100), cursor the next page's offset; metadata only with
// include_all_metadata.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	channel, thread := r.Form.Get("channel"), r.Form.Get("ts")
	replies := strings.HasSuffix(r.URL.Path, "conversations.replies")
	if channel == "" || (replies && thread == "") {
		reply(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	oldest, _ := strconv.ParseFloat(r.Form.Get("oldest"), 64)
	limit, err := strconv.Atoi(r.Form.Get("limit"))
	if err != nil || limit <= 0 {
		limit = 100
	}
	from, _ := strconv.Atoi(r.Form.Get("cursor"))
	withMeta := r.Form.Get("include_all_metadata") == "true" || r.Form.Get("include_all_metadata") == "1"
	s.mu.Lock()
	var all []map[string]any
	for _, m := range s.messages {
		ts, _ := strconv.ParseFloat(m.TS, 64)
		in := m.Channel == channel && ts >= oldest
		if replies {
			in = in && (m.TS == thread || m.ThreadTS == thread)
		} else {
			in = in && (m.ThreadTS == "" || m.ThreadTS == m.TS)
		}
		if !in {
			continue
		}
		out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
		if m.ThreadTS != "" {
			out["thread_ts"] = m.ThreadTS
		}
		if withMeta && len(m.Metadata) > 0 {
			out["metadata"] = m.Metadata
		}
		all = append(all, out)
	}
	s.mu.Unlock()
	if !replies {
		slices.Reverse(all)
	}
	page := all[min(from, len(all)):]
	resp := map[string]any{"ok": true, "has_more": false, "messages": []map[string]any{}}
	if len(page) > limit {
		page = page[:limit]
		resp["has_more"] = true
		resp["response_metadata"] = map[string]any{"next_cursor": strconv.Itoa(from + limit)}
	}
	if len(page) > 0 {
		resp["messages"] = page
	}
	reply(w, resp)
}

func (s *Server) ephemeral(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if s.out != nil {
		fmt.Fprintf(s.out, "ephemeral %s to %s: %s\n", r.PostForm.Get("channel"), r.PostForm.Get("user"), r.PostForm.Get("text"))
	}
	reply(w, map[string]any{"ok": true, "message_ts": fmt.Sprintf("%d.000000", s.now().Unix())})
}

func (s *Server) userInfo(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id := r.Form.Get("user")
	s.mu.Lock()
	email, ok := s.users[id]
	s.mu.Unlock()
	if !ok {
		reply(w, map[string]any{"ok": false, "error": "user_not_found"})
		return
	}
	reply(w, map[string]any{"ok": true, "user": map[string]any{"id": id, "name": strings.Split(email, "@")[0],
		"profile": map[string]any{"email": email}}})
}

func (s *Server) print(what string, m *Message) {
	if s.out == nil {
		return
	}
	where := "#" + m.Channel
	if m.ThreadTS != "" {
		where += " (thread " + m.ThreadTS + ")"
	}
	text := m.Text
	if text == "" {
		text = "(blocks only)"
	}
	fmt.Fprintf(s.out, "%s %s %s: %s\n", what, where, m.TS, strings.ReplaceAll(text, "\n", " / "))
}

// blocks keeps a posted blocks parameter when it is JSON.
func blocks(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	return json.RawMessage(s)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
