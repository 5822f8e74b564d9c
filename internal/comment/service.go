package comment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Store is the persistence of comments. Every read takes the principal it
// reads for and returns nothing of an incident that principal may not see.
type Store interface {
	// InCommentTx runs fn in one database transaction.
	InCommentTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Comments returns a page of an incident's comments, oldest first, and
	// the cursor of the next page ("" on the last page).
	Comments(ctx context.Context, p access.Principal, incidentID uuid.UUID, page incident.Page) ([]Comment, string, error)
	// Comment returns one comment of an incident; apperr.NotFound if there
	// is none.
	Comment(ctx context.Context, p access.Principal, incidentID, commentID uuid.UUID) (*Comment, error)
	// CommentRevisions returns a page of a comment's earlier bodies, oldest
	// first, and the cursor of the next page.
	CommentRevisions(ctx context.Context, p access.Principal, incidentID, commentID uuid.UUID, page incident.Page) ([]Revision, string, error)
}

// Tx is what a comment use case may do inside a transaction.
type Tx interface {
	// ClaimIdempotencyKey: see incident.Tx.
	ClaimIdempotencyKey(ctx context.Context, key incident.IdempotencyKey, resourceID uuid.UUID) (firstID uuid.UUID, firstHash string, claimed bool, err error)
	// LockIncident reads an incident p may see (by UUID or reference) and
	// locks it until the end of the transaction; apperr.NotFound otherwise.
	LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
	// InsertComment inserts a new comment.
	InsertComment(ctx context.Context, c *Comment) error
	// LockComment reads one comment of an incident and locks it until the
	// end of the transaction; apperr.NotFound if there is none.
	LockComment(ctx context.Context, incidentID, commentID uuid.UUID) (*Comment, error)
	// UpdateComment writes a comment's body, rendering, edit time, editor
	// and version.
	UpdateComment(ctx context.Context, c *Comment) error
	// InsertCommentRevision keeps an earlier body.
	InsertCommentRevision(ctx context.Context, r *Revision) error
	// AppendEvent adds a timeline event.
	AppendEvent(ctx context.Context, ev *incident.Event) error
}

// IncidentReader reads an incident through the visibility rule
// (*incident.Service).
type IncidentReader interface {
	Get(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
}

// Options are the dependencies of a Service.
type Options struct {
	Store     Store
	Incidents IncidentReader
	// Render turns a Markdown body into sanitised HTML (markdown.Render).
	Render func(src string) string
	// RenderVersion identifies Render's output (markdown.Version).
	RenderVersion int
	// Text returns the plain text of HTML that Render made
	// (markdown.HTMLText); it makes the excerpts of timeline events.
	Text func(html string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service holds the comment use cases.
type Service struct{ o Options }

// NewService returns a Service, or an error naming the missing option.
func NewService(o Options) (*Service, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("comment: Options.Store is required")
	case o.Incidents == nil:
		return nil, errors.New("comment: Options.Incidents is required")
	case o.Render == nil:
		return nil, errors.New("comment: Options.Render is required")
	case o.Text == nil:
		return nil, errors.New("comment: Options.Text is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{o: o}, nil
}

// Add posts a comment by p on the incident idOrRef, with its
// comment_added timeline event, in one transaction. The body is checked
// first (apperr.Invalid); then the incident must be visible to p
// (apperr.NotFound) and the write table must allow access.CommentIncident
// for p's role in its relations to the incident (apperr.Forbidden). With an idempotency key that was used before it adds
// nothing and returns the first comment with replayed=true; the same key
// with another request is apperr.Conflict.
func (s *Service) Add(ctx context.Context, p access.Principal, idOrRef, body string, idem *incident.IdempotencyKey) (c *Comment, replayed bool, err error) {
	if err := ValidateBody(body); err != nil {
		return nil, false, err
	}
	if err := s.mayComment(ctx, p, idOrRef); err != nil {
		return nil, false, err
	}
	c = s.prepare(p, body)
	var first uuid.UUID
	err = s.o.Store.InCommentTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.CommentIncident, inc.Relations); err != nil {
			return err
		}
		c.IncidentID = inc.ID
		if idem != nil {
			id, hash, claimed, err := tx.ClaimIdempotencyKey(ctx, *idem, c.ID)
			if err != nil {
				return err
			}
			if !claimed {
				if hash != idem.RequestHash {
					return apperr.New(apperr.Conflict, "Idempotency-Key %q was already used with a different request", idem.Key)
				}
				first = id
				return nil
			}
		}
		return s.insert(ctx, tx, p, c, nil)
	})
	if err != nil {
		return nil, false, err
	}
	if first != uuid.Nil {
		prev, err := s.o.Store.Comment(ctx, p, c.IncidentID, first)
		if err != nil {
			return nil, false, err
		}
		s.fresh(prev)
		return prev, true, nil
	}
	return c, false, nil
}

// AddInTx is Add inside the caller's transaction, without an idempotency
// key: the comment and its comment_added event, whose data also carry
// extra (e.g. "via": "email"; the keys of the event's own data win). The
// incident must be visible to p (apperr.NotFound) and p may comment on it
// (apperr.Forbidden); the body is checked (apperr.Invalid).
func (s *Service) AddInTx(ctx context.Context, tx Tx, p access.Principal, idOrRef, body string, extra map[string]any) (*Comment, error) {
	if err := ValidateBody(body); err != nil {
		return nil, err
	}
	c := s.prepare(p, body)
	inc, err := tx.LockIncident(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(access.CommentIncident, inc.Relations); err != nil {
		return nil, err
	}
	c.IncidentID = inc.ID
	if err := s.insert(ctx, tx, p, c, extra); err != nil {
		return nil, err
	}
	return c, nil
}

// prepare makes a new comment by p with its rendering (before any lock is
// taken: rendering a long body can take a while).
func (s *Service) prepare(p access.Principal, body string) *Comment {
	c := &Comment{ID: uuid.New(), AuthorID: p.UserIDPtr(), Author: p.Name(), CreatedAt: s.now(), Version: 1}
	if !p.System {
		c.AuthorOrg = p.OrgSlug
	}
	s.render(c, body)
	return c
}

// insert writes c, whose incident is locked and checked, and its
// comment_added event with extra in its data.
func (s *Service) insert(ctx context.Context, tx Tx, p access.Principal, c *Comment, extra map[string]any) error {
	if err := tx.InsertComment(ctx, c); err != nil {
		return err
	}
	data := map[string]any{}
	for k, v := range extra {
		data[k] = v
	}
	data["comment_id"], data["author"], data["excerpt"] = c.ID, c.Author, excerpt(s.o.Text(c.BodyHTML))
	return tx.AppendEvent(ctx, &incident.Event{
		IncidentID: c.IncidentID, ActorUserID: c.AuthorID, Actor: c.Author, Kind: EventCommentAdded,
		Data: incident.MustJSON(data), OccurredAt: c.CreatedAt,
	})
}

// Edit replaces the body of a comment, keeps the previous body as a
// revision and records a comment_edited event, in one transaction. Only
// the comment's author may edit it (apperr.Forbidden), and only while
// their role may comment. With ifMatch set, the comment must still be at
// that version, else apperr.Precondition with the current version in the
// details. An edit to the same body changes nothing.
func (s *Service) Edit(ctx context.Context, p access.Principal, idOrRef, commentID, body string, ifMatch *int64) (*Comment, error) {
	if err := ValidateBody(body); err != nil {
		return nil, err
	}
	if err := s.mayComment(ctx, p, idOrRef); err != nil {
		return nil, err
	}
	cid, badID := uuid.Parse(commentID)
	edit := &Comment{}
	s.render(edit, body)
	text := excerpt(s.o.Text(edit.BodyHTML))
	var c *Comment
	err := s.o.Store.InCommentTx(ctx, func(ctx context.Context, tx Tx) error {
		inc, err := tx.LockIncident(ctx, p, idOrRef)
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.CommentIncident, inc.Relations); err != nil {
			return err
		}
		if badID != nil {
			return notFound(commentID)
		}
		if c, err = tx.LockComment(ctx, inc.ID, cid); err != nil {
			return err
		}
		if !sameUser(c.AuthorID, p.UserIDPtr()) {
			return apperr.New(apperr.Forbidden, "only the author of a comment may edit it")
		}
		if ifMatch != nil && *ifMatch != c.Version {
			return &apperr.Error{Code: apperr.Precondition,
				Message: fmt.Sprintf("the comment is at version %d, not %d; read it again and retry", c.Version, *ifMatch),
				Details: map[string]any{"current_version": c.Version}}
		}
		if body == c.Body {
			return nil
		}
		s.fresh(c) // the revision keeps a current rendering
		rev := &Revision{CommentID: c.ID, Version: c.Version, Body: c.Body, BodyHTML: c.BodyHTML,
			HTMLVersion: c.HTMLVersion, EditedByID: c.AuthorID, EditedAt: c.CreatedAt}
		if c.EditedAt != nil {
			rev.EditedByID, rev.EditedAt = c.EditedByID, *c.EditedAt
		}
		if err := tx.InsertCommentRevision(ctx, rev); err != nil {
			return err
		}
		now := s.now()
		c.Body, c.BodyHTML, c.HTMLVersion = edit.Body, edit.BodyHTML, edit.HTMLVersion
		c.Version++
		c.EditedAt, c.EditedByID = &now, p.UserIDPtr()
		if err := tx.UpdateComment(ctx, c); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &incident.Event{
			IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(), Kind: EventCommentEdited,
			Data: incident.MustJSON(map[string]any{
				"comment_id": c.ID, "author": p.Name(), "version": c.Version, "excerpt": text,
			}),
			OccurredAt: now,
		})
	})
	if err != nil {
		return nil, err
	}
	s.fresh(c)
	return c, nil
}

// List returns a page of the comments on an incident p may see, oldest
// first, with the incident.
func (s *Service) List(ctx context.Context, p access.Principal, idOrRef string, page incident.Page) (*incident.Incident, []Comment, string, error) {
	inc, err := s.o.Incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, "", err
	}
	cs, next, err := s.ListOf(ctx, p, inc, page)
	if err != nil {
		return nil, nil, "", err
	}
	return inc, cs, next, nil
}

// ListOf is List for an incident the caller has just read for p: a page
// that shows the incident and its comments reads the incident once. The
// store applies the visibility rule again.
func (s *Service) ListOf(ctx context.Context, p access.Principal, inc *incident.Incident, page incident.Page) ([]Comment, string, error) {
	page.Limit = incident.ClampLimit(page.Limit)
	cs, next, err := s.o.Store.Comments(ctx, p, inc.ID, page)
	if err != nil {
		return nil, "", err
	}
	for i := range cs {
		s.fresh(&cs[i])
	}
	return cs, next, nil
}

// Get returns one comment on an incident p may see, with the incident. A
// comment ID that is not a UUID, unknown, or of another incident is
// apperr.NotFound.
func (s *Service) Get(ctx context.Context, p access.Principal, idOrRef, commentID string) (*incident.Incident, *Comment, error) {
	inc, err := s.o.Incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, err
	}
	cid, err := uuid.Parse(commentID)
	if err != nil {
		return nil, nil, notFound(commentID)
	}
	c, err := s.o.Store.Comment(ctx, p, inc.ID, cid)
	if err != nil {
		return nil, nil, err
	}
	s.fresh(c)
	return inc, c, nil
}

// Revisions returns a comment and a page of its earlier bodies, oldest
// first. Whoever sees the incident sees the history of its comments.
func (s *Service) Revisions(ctx context.Context, p access.Principal, idOrRef, commentID string, page incident.Page) (*Comment, []Revision, string, error) {
	inc, err := s.o.Incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, "", err
	}
	cid, err := uuid.Parse(commentID)
	if err != nil {
		return nil, nil, "", notFound(commentID)
	}
	c, err := s.o.Store.Comment(ctx, p, inc.ID, cid)
	if err != nil {
		return nil, nil, "", err
	}
	s.fresh(c)
	page.Limit = incident.ClampLimit(page.Limit)
	revs, next, err := s.o.Store.CommentRevisions(ctx, p, inc.ID, cid, page)
	if err != nil {
		return nil, nil, "", err
	}
	for i := range revs {
		if revs[i].HTMLVersion != s.o.RenderVersion {
			revs[i].BodyHTML, revs[i].HTMLVersion = s.o.Render(revs[i].Body), s.o.RenderVersion
		}
	}
	return c, revs, next, nil
}

// now is the clock at the database's precision, so that an answer from
// memory shows the times a later read shows.
func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// mayComment checks, before the body is rendered, that p sees the incident
// and may comment: rendering a long body can take a while, and is done
// neither for callers who may not comment nor while the incident is locked.
// The transaction checks again.
func (s *Service) mayComment(ctx context.Context, p access.Principal, idOrRef string) error {
	inc, err := s.o.Incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return err
	}
	return p.RequireWrite(access.CommentIncident, inc.Relations)
}

// render sets the body and its rendering.
func (s *Service) render(c *Comment, body string) {
	c.Body, c.BodyHTML, c.HTMLVersion = body, s.o.Render(body), s.o.RenderVersion
}

// fresh renders a comment again if its stored HTML is of another renderer
// version.
func (s *Service) fresh(c *Comment) {
	if c.HTMLVersion != s.o.RenderVersion {
		s.render(c, c.Body)
	}
}

func notFound(commentID string) error {
	return apperr.New(apperr.NotFound, "comment %q not found", commentID)
}

func sameUser(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
