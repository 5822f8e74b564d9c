package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// commentRequest is the body of POST .../comments and PATCH .../comments/{commentId}.
type commentRequest struct {
	Body string `json:"body"`
}

// commentResponse is a comment as the API shows it: the Markdown source
// and its sanitised HTML.
type commentResponse struct {
	ID         string     `json:"id"`
	IncidentID string     `json:"incident_id"`
	Author     string     `json:"author"`
	AuthorOrg  *string    `json:"author_org"`
	Body       string     `json:"body"`
	BodyHTML   string     `json:"body_html"`
	CreatedAt  time.Time  `json:"created_at"`
	EditedAt   *time.Time `json:"edited_at"`
	Version    int64      `json:"version"`
	Links      links      `json:"links"`
}

func toCommentResponse(c *comment.Comment) commentResponse {
	base := "/api/v1/incidents/" + c.IncidentID.String() + "/comments/" + c.ID.String()
	r := commentResponse{ID: c.ID.String(), IncidentID: c.IncidentID.String(), Author: c.Author, Body: c.Body,
		BodyHTML: c.BodyHTML, CreatedAt: c.CreatedAt, EditedAt: c.EditedAt, Version: c.Version,
		Links: links{"revisions": base + "/revisions"}}
	if c.AuthorOrg != "" {
		org := c.AuthorOrg
		r.AuthorOrg = &org
	}
	return r
}

type commentList struct {
	IncidentID string            `json:"incident_id"`
	Reference  string            `json:"reference"`
	Comments   []commentResponse `json:"comments"`
	NextCursor *string           `json:"next_cursor"`
}

// revisionResponse is an earlier body of a comment.
type revisionResponse struct {
	Version  int64     `json:"version"`
	Body     string    `json:"body"`
	BodyHTML string    `json:"body_html"`
	EditedBy string    `json:"edited_by"`
	EditedAt time.Time `json:"edited_at"`
}

type revisionList struct {
	IncidentID     string             `json:"incident_id"`
	CommentID      string             `json:"comment_id"`
	CurrentVersion int64              `json:"current_version"`
	Revisions      []revisionResponse `json:"revisions"`
	NextCursor     *string            `json:"next_cursor"`
}

func (h *handlers) listComments(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	inc, cs, next, err := h.o.Comments.List(c.Request().Context(), principal(c), c.Param("id"),
		incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := commentList{IncidentID: inc.ID.String(), Reference: inc.Reference, Comments: make([]commentResponse, len(cs))}
	for i := range cs {
		out.Comments[i] = toCommentResponse(&cs[i])
	}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) createComment(c echo.Context) error {
	var req commentRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	var idem *incident.IdempotencyKey
	if key := c.Request().Header.Get("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKey {
			return &apperr.Error{Code: apperr.Invalid, Message: "the Idempotency-Key header is too long",
				Fields: []apperr.FieldError{{Field: "Idempotency-Key", Rule: "max_length", Message: "at most 255 characters"}}}
		}
		// The key space is shared with other POSTs: the hash covers the
		// route and the incident as well as the body.
		canonical, _ := json.Marshal(req)
		sum := sha256.Sum256(append([]byte("comment\x00"+c.Param("id")+"\x00"), canonical...))
		idem = &incident.IdempotencyKey{Caller: callerKey(c), Key: key, RequestHash: hex.EncodeToString(sum[:])}
	}
	cm, replayed, err := h.o.Comments.Add(c.Request().Context(), principal(c), c.Param("id"), req.Body, idem)
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set("ETag", etag(cm.Version))
	return c.JSON(http.StatusCreated, toCommentResponse(cm))
}

func (h *handlers) patchComment(c echo.Context) error {
	var req commentRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ifMatch, err := parseIfMatch(c.Request().Header.Get("If-Match"))
	if err != nil {
		return err
	}
	cm, err := h.o.Comments.Edit(c.Request().Context(), principal(c), c.Param("id"), c.Param("commentId"), req.Body, ifMatch)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(cm.Version))
	return c.JSON(http.StatusOK, toCommentResponse(cm))
}

func (h *handlers) listCommentRevisions(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	cm, revs, next, err := h.o.Comments.Revisions(c.Request().Context(), principal(c), c.Param("id"), c.Param("commentId"),
		incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := revisionList{IncidentID: cm.IncidentID.String(), CommentID: cm.ID.String(), CurrentVersion: cm.Version,
		Revisions: make([]revisionResponse, len(revs))}
	for i, r := range revs {
		out.Revisions[i] = revisionResponse{Version: r.Version, Body: r.Body, BodyHTML: r.BodyHTML, EditedBy: r.EditedBy, EditedAt: r.EditedAt}
	}
	if next != "" {
		out.NextCursor = &next
	}
	c.Response().Header().Set("ETag", etag(cm.Version))
	return c.JSON(http.StatusOK, out)
}

// parseIfMatch reads an If-Match header holding one version: "3" (the
// ETag as sent), 3, or * (any version). An empty header is no condition.
func parseIfMatch(h string) (*int64, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return nil, nil
	}
	v, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(h, `"`), `"`), 10, 64)
	if err != nil || v < 1 {
		return nil, &apperr.Error{Code: apperr.Invalid, Message: "the If-Match header is not a version",
			Fields: []apperr.FieldError{{Field: "If-Match", Rule: "format", Message: `If-Match must be the ETag of the version you read, e.g. "3"`}}}
	}
	return &v, nil
}
