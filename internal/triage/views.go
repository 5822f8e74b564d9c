package triage

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
)

// SavedView is a view of the triage queue a person saved under a name:
// the queue's query string (tab, filters, sort), as its URL carries it.
type SavedView struct {
	ID        uuid.UUID
	Name      string
	Query     string
	CreatedAt time.Time
}

// Limits of saved views.
const (
	MaxViewName  = 60
	MaxViewQuery = 2000
	MaxViews     = 50
)

// ViewStore keeps people's saved views.
type ViewStore interface {
	// SavedViews lists a user's views by name.
	SavedViews(ctx context.Context, userID uuid.UUID) ([]SavedView, error)
	// SaveView stores a view; a view of the same name (any case) is
	// replaced. full is true when the user has MaxViews other views.
	SaveView(ctx context.Context, userID uuid.UUID, v *SavedView) (full bool, err error)
	// DeleteView removes one of the user's views; false when the user
	// has no view with that ID.
	DeleteView(ctx context.Context, userID, id uuid.UUID) (bool, error)
}

// Views lists p's saved views by name.
func (s *Service) Views(ctx context.Context, p access.Principal) ([]SavedView, error) {
	if p.System || p.UserID == uuid.Nil {
		return []SavedView{}, nil
	}
	return s.views.SavedViews(ctx, p.UserID)
}

// SaveView saves the view query under name for p, replacing p's view of
// the same name. query is a URL query string without the "?". Errors:
// apperr.Invalid naming "name" (required, max_length, max_items: at most
// MaxViews) or "query" (max_length, format).
func (s *Service) SaveView(ctx context.Context, p access.Principal, name, query string, now time.Time) (*SavedView, error) {
	if p.System || p.UserID == uuid.Nil {
		return nil, apperr.New(apperr.Forbidden, "only people save views")
	}
	name = strings.TrimSpace(name)
	query = strings.TrimPrefix(strings.TrimSpace(query), "?")
	var fs apperr.Fields
	switch n := utf8.RuneCountInString(name); {
	case !fs.Text("name", name, 0):
	case n == 0:
		fs.Add("name", "required", "give the view a name")
	case n > MaxViewName:
		fs.Add("name", "max_length", "a view's name has at most %d characters", MaxViewName)
	}
	if len(query) > MaxViewQuery {
		fs.Add("query", "max_length", "the view's query has at most %d characters", MaxViewQuery)
	} else if _, err := url.ParseQuery(query); err != nil || !utf8.ValidString(query) {
		fs.Add("query", "format", "the view's query must be a URL query string")
	}
	if err := fs.Err(); err != nil {
		return nil, err
	}
	v := &SavedView{ID: uuid.New(), Name: name, Query: query, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	full, err := s.views.SaveView(ctx, p.UserID, v)
	if err != nil {
		return nil, err
	}
	if full {
		return nil, apperr.Fields{{Field: "name", Rule: "max_items", Message: "you have the most saved views there may be: delete one first"}}.Err()
	}
	return v, nil
}

// DeleteView deletes one of p's saved views; any other is apperr.NotFound.
func (s *Service) DeleteView(ctx context.Context, p access.Principal, id string) error {
	vid, err := uuid.Parse(strings.TrimSpace(id))
	if err == nil {
		var ok bool
		if ok, err = s.views.DeleteView(ctx, p.UserID, vid); err == nil && !ok {
			err = apperr.New(apperr.NotFound, "view %q not found", id)
		}
	} else {
		err = apperr.New(apperr.NotFound, "view %q not found", id)
	}
	return err
}
