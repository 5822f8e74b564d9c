package audit

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
)

// DefaultLimit and MaxLimit bound a page of the audit log, as every list.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Query narrows the audit log and pages through it. Zero fields match
// every entry.
type Query struct {
	// Actor is who acted: an e-mail address, "certdesk" (the system) or
	// "anonymous" (failed authentication); equal ignoring case.
	Actor string
	// Action is what happened, exactly ("user.changed").
	Action Action
	// TargetType and TargetID name the target, each exactly ("user" and
	// the user's ID; "incident" and its reference).
	TargetType string
	TargetID   string
	// Since and Until bound the time of the entries: at or after Since,
	// before Until.
	Since, Until *time.Time
	// After is the cursor of the page to read (the next cursor of the page
	// before); empty: the newest entries.
	After string
	// Limit is the page size: 0 means DefaultLimit, more than MaxLimit
	// means MaxLimit.
	Limit int
}

// Validate names every filter that breaks a rule and clamps the limit.
func (q *Query) Validate() error {
	var fs apperr.Fields
	fs.Text("actor", q.Actor, 254)
	fs.Text("action", string(q.Action), 64)
	fs.Text("target_type", q.TargetType, 64)
	fs.Text("target_id", q.TargetID, 254)
	if q.Since != nil && q.Until != nil && !q.Since.Before(*q.Until) {
		fs.Add("until", "after_since", "until must be later than since")
	}
	switch {
	case q.Limit <= 0:
		q.Limit = DefaultLimit
	case q.Limit > MaxLimit:
		q.Limit = MaxLimit
	}
	return fs.Err()
}

// Store reads the audit log.
type Store interface {
	// AuditLog returns the page of entries matching q (validated), newest
	// first, and the next page's cursor ("" after the last page). A
	// cursor it did not write is apperr.Invalid naming cursor.
	AuditLog(ctx context.Context, q Query) ([]Entry, string, error)
	// AppendAudit writes one entry in a transaction of its own.
	AppendAudit(ctx context.Context, e Entry) error
}

// Service is the audit log's reader, the one use case the API and the web
// interface both call.
type Service struct {
	store Store
}

// NewService returns a Service reading from store.
func NewService(store Store) *Service { return &Service{store: store} }

// Read returns a page of the audit log, newest first, with the next page's
// cursor. Only a principal allowed access.ReadAudit (an admin of the
// national CERT) reads it: anyone else gets apperr.Forbidden before the
// query is looked at. A filter that breaks a rule is apperr.Invalid
// naming it.
func (s *Service) Read(ctx context.Context, p access.Principal, q Query) ([]Entry, string, error) {
	if err := p.Require(access.ReadAudit); err != nil {
		return nil, "", err
	}
	if err := q.Validate(); err != nil {
		return nil, "", err
	}
	return s.store.AuditLog(ctx, q)
}

// Record writes an entry about what p did, for an action no other service
// records in its own transaction (an administrator operating the job
// queue). The actor, their ID and address come from p.
func (s *Service) Record(ctx context.Context, p access.Principal, e Entry) error {
	e.ActorUserID, e.Actor, e.RemoteAddr = p.UserIDPtr(), p.Name(), p.RemoteAddr
	return s.store.AppendAudit(ctx, e)
}
