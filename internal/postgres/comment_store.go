package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

var (
	_ comment.Store = (*Store)(nil)
	_ comment.Tx    = (*txn)(nil)
)

// commentRow is an incident_comments row with its author's e-mail, name
// and organisation. The generated search column is never read or written here.
type commentRow struct {
	ID            uuid.UUID
	IncidentID    uuid.UUID
	AuthorID      *uuid.UUID
	Body          string
	BodyHTML      string `gorm:"column:body_html"`
	HTMLVersion   int    `gorm:"column:html_version"`
	CreatedAt     time.Time
	EditedAt      *time.Time
	EditedBy      *uuid.UUID
	Version       int64
	Author        string  `gorm:"->"`
	AuthorOrg     *string `gorm:"->"`
	AuthorName    *string `gorm:"->"`
	AuthorOrgName *string `gorm:"->"`
}

func (r *commentRow) domain() comment.Comment {
	c := comment.Comment{ID: r.ID, IncidentID: r.IncidentID, AuthorID: r.AuthorID, Author: r.Author,
		Body: r.Body, BodyHTML: r.BodyHTML, HTMLVersion: r.HTMLVersion, CreatedAt: r.CreatedAt.UTC(),
		EditedAt: utcp(r.EditedAt), EditedByID: r.EditedBy, Version: r.Version}
	if r.AuthorOrg != nil {
		c.AuthorOrg = *r.AuthorOrg
	}
	if r.AuthorName != nil {
		c.AuthorName = *r.AuthorName
	}
	if r.AuthorOrgName != nil {
		c.AuthorOrgName = *r.AuthorOrgName
	}
	return c
}

// commentSelect reads comments (aliased c) with their authors.
const commentSelect = `SELECT c.id, c.incident_id, c.author_id, c.body, c.body_html, c.html_version, c.created_at,
	c.edited_at, c.edited_by, c.version, COALESCE(u.email, 'certdesk') AS author, uo.slug AS author_org,
	u.name AS author_name, uo.name AS author_org_name
FROM incident_comments c
LEFT JOIN users u ON u.id = c.author_id
LEFT JOIN organizations uo ON uo.id = u.org_id`

// commentVisible is the visibility rule over the comment's incident.
func commentVisible(p access.Principal) (string, []any) {
	vis, args := visibleTo(p)
	return "EXISTS (SELECT 1 FROM incidents i WHERE i.id = c.incident_id AND " + vis + ")", args
}

// commentCursor is the keyset position after the last comment of a page.
type commentCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// InCommentTx implements comment.Store.
func (s *Store) InCommentTx(ctx context.Context, fn func(ctx context.Context, tx comment.Tx) error) error {
	return inTx(ctx, s, fn)
}

// Comments implements comment.Store.
func (s *Store) Comments(ctx context.Context, p access.Principal, incidentID uuid.UUID, page incident.Page) ([]comment.Comment, string, error) {
	vis, visArgs := commentVisible(p)
	q := commentSelect + " WHERE c.incident_id = ? AND " + vis
	args := append([]any{incidentID}, visArgs...)
	if page.After != "" {
		var cur commentCursor
		if err := decodeCursor(page.After, &cur); err != nil {
			return nil, "", err
		}
		q += " AND (c.created_at, c.id) > (?, ?)"
		args = append(args, cur.At, cur.ID)
	}
	q += " ORDER BY c.created_at, c.id LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []commentRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list comments")
	}
	rows, next := trimPage(rows, page.Limit, func(last commentRow) any { return commentCursor{At: last.CreatedAt, ID: last.ID} })
	out := make([]comment.Comment, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// Comment implements comment.Store.
func (s *Store) Comment(ctx context.Context, p access.Principal, incidentID, commentID uuid.UUID) (*comment.Comment, error) {
	vis, visArgs := commentVisible(p)
	var rows []commentRow
	err := s.db.WithContext(ctx).Raw(commentSelect+" WHERE c.id = ? AND c.incident_id = ? AND "+vis,
		append([]any{commentID, incidentID}, visArgs...)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load comment")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "comment %s not found", commentID)
	}
	c := rows[0].domain()
	return &c, nil
}

// revisionRow is an incident_comment_revisions row with its writer's e-mail.
type revisionRow struct {
	CommentID   uuid.UUID
	Version     int64
	Body        string
	BodyHTML    string `gorm:"column:body_html"`
	HTMLVersion int    `gorm:"column:html_version"`
	EditedBy    *uuid.UUID
	EditedAt    time.Time
	EditorEmail string `gorm:"->"`
}

// revisionCursor is the version after which the next page starts.
type revisionCursor struct {
	Version int64 `json:"v"`
}

// CommentRevisions implements comment.Store.
func (s *Store) CommentRevisions(ctx context.Context, p access.Principal, incidentID, commentID uuid.UUID, page incident.Page) ([]comment.Revision, string, error) {
	vis, visArgs := commentVisible(p)
	q := `SELECT r.comment_id, r.version, r.body, r.body_html, r.html_version, r.edited_by, r.edited_at,
		COALESCE(u.email, 'certdesk') AS editor_email
	FROM incident_comment_revisions r
	JOIN incident_comments c ON c.id = r.comment_id
	LEFT JOIN users u ON u.id = r.edited_by
	WHERE r.comment_id = ? AND c.incident_id = ? AND ` + vis
	args := append([]any{commentID, incidentID}, visArgs...)
	if page.After != "" {
		var cur revisionCursor
		if err := decodeCursor(page.After, &cur); err != nil {
			return nil, "", err
		}
		q += " AND r.version > ?"
		args = append(args, cur.Version)
	}
	q += " ORDER BY r.version LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []revisionRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list comment revisions")
	}
	next := ""
	if len(rows) > page.Limit {
		rows = rows[:page.Limit]
		next = encodeCursor(revisionCursor{Version: rows[len(rows)-1].Version})
	}
	out := make([]comment.Revision, len(rows))
	for i, r := range rows {
		out[i] = comment.Revision{CommentID: r.CommentID, Version: r.Version, Body: r.Body, BodyHTML: r.BodyHTML,
			HTMLVersion: r.HTMLVersion, EditedByID: r.EditedBy, EditedBy: r.EditorEmail, EditedAt: r.EditedAt.UTC()}
	}
	return out, next, nil
}

// commentBodyInvalid is what a body that breaks the table's check becomes
// (the domain checks it first; this is the last line).
func commentBodyInvalid(err error) error {
	if isConstraint(err, "incident_comments_body_check") {
		return &apperr.Error{Code: apperr.Invalid, Message: "the comment body is invalid", Err: err,
			Fields: []apperr.FieldError{{Field: "body", Rule: "max_length", Message: "body must hold 1 to 50000 characters"}}}
	}
	return nil
}

func (t *txn) InsertComment(ctx context.Context, c *comment.Comment) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO incident_comments
		(id, incident_id, author_id, body, body_html, html_version, created_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.IncidentID, c.AuthorID, c.Body, c.BodyHTML, c.HTMLVersion, c.CreatedAt, c.Version).Error
	if bad := commentBodyInvalid(err); bad != nil {
		return bad
	}
	return translate(err, "insert comment")
}

func (t *txn) LockComment(ctx context.Context, incidentID, commentID uuid.UUID) (*comment.Comment, error) {
	var rows []commentRow
	err := t.db.WithContext(ctx).Raw(commentSelect+" WHERE c.id = ? AND c.incident_id = ? FOR UPDATE OF c",
		commentID, incidentID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "lock comment")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "comment %s not found", commentID)
	}
	c := rows[0].domain()
	return &c, nil
}

func (t *txn) UpdateComment(ctx context.Context, c *comment.Comment) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE incident_comments
		SET body = ?, body_html = ?, html_version = ?, edited_at = ?, edited_by = ?, version = ?
		WHERE id = ?`,
		c.Body, c.BodyHTML, c.HTMLVersion, c.EditedAt, c.EditedByID, c.Version, c.ID).Error
	if bad := commentBodyInvalid(err); bad != nil {
		return bad
	}
	return translate(err, "update comment")
}

func (t *txn) InsertCommentRevision(ctx context.Context, r *comment.Revision) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO incident_comment_revisions
		(comment_id, version, body, body_html, html_version, edited_by, edited_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.CommentID, r.Version, r.Body, r.BodyHTML, r.HTMLVersion, r.EditedByID, r.EditedAt).Error
	return translate(err, "keep comment revision")
}
