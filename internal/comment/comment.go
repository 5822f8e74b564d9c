// Package comment is the discussion on an incident: comments written in
// Markdown, shown as sanitised HTML, edited only by their author, with
// every earlier body kept.
//
// A comment has no visibility of its own: it is reached only through its
// incident, which every use case first reads (or locks) through the
// visibility rule. Whoever sees the incident reads its comments; a role
// with access.CommentIncident may add them.
//
// The HTML of a body is rendered once, when the body is written, and
// stored with the renderer's version; a rendering made by another version
// is rendered again when it is read. Rendering on every read would let one
// hostile 50,000-character comment cost seconds of CPU on every page view
// (see internal/markdown).
package comment

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Comment is one comment on an incident.
type Comment struct {
	ID         uuid.UUID
	IncidentID uuid.UUID
	AuthorID   *uuid.UUID // nil: certdesk itself
	Author     string     // the author's e-mail, or "certdesk"; filled on reads
	AuthorOrg  string     // the author's organisation's slug; "" for certdesk
	// AuthorName and AuthorOrgName are the author's name and their
	// organisation's name, filled on reads ("" for certdesk).
	AuthorName    string
	AuthorOrgName string
	Body          string // Markdown
	BodyHTML      string // Body rendered and sanitised
	// HTMLVersion is the renderer version that made BodyHTML.
	HTMLVersion int
	CreatedAt   time.Time
	EditedAt    *time.Time // nil until edited
	EditedByID  *uuid.UUID // who wrote the current body, when edited
	Version     int64
}

// Revision is an earlier body of a comment: the body of version Version,
// as EditedBy wrote it at EditedAt (for version 1: the author, at creation).
type Revision struct {
	CommentID   uuid.UUID
	Version     int64
	Body        string
	BodyHTML    string
	HTMLVersion int
	EditedByID  *uuid.UUID
	EditedBy    string // e-mail or "certdesk"; filled on reads
	EditedAt    time.Time
}

// Limits.
const (
	// MaxBody is the longest body, in characters.
	MaxBody = 50_000
	// MaxExcerpt is the longest excerpt on the timeline, in characters.
	MaxExcerpt = 200
)

// The timeline events of comments.
const (
	// EventCommentAdded: data {comment_id, author, excerpt}.
	EventCommentAdded incident.EventKind = "comment_added"
	// EventCommentEdited: data {comment_id, author, version, excerpt}.
	EventCommentEdited incident.EventKind = "comment_edited"
)

// ValidateBody checks a comment body and names the rule it breaks.
func ValidateBody(body string) error {
	var fs apperr.Fields
	switch {
	case !utf8.ValidString(body):
		fs.Add("body", "utf8", "body must be valid UTF-8")
	case strings.TrimSpace(body) == "":
		fs.Add("body", "required", "body is required")
	case utf8.RuneCountInString(body) > MaxBody:
		fs.Add("body", "max_length", "body must be at most %d characters", MaxBody)
	case strings.ContainsRune(body, 0):
		fs.Add("body", "characters", "body must not contain NUL characters")
	}
	return fs.Err()
}

// excerpt shortens plain text to at most MaxExcerpt characters, ending
// with "…" when it was cut.
func excerpt(text string) string {
	if utf8.RuneCountInString(text) <= MaxExcerpt {
		return text
	}
	cut := 0
	for range MaxExcerpt - 1 {
		_, n := utf8.DecodeRuneInString(text[cut:])
		cut += n
	}
	return strings.TrimRight(text[:cut], " ") + "…"
}
