// Package readmark records when each person last opened each incident,
// and tells which incidents have news for them since: something another
// person recorded on the timeline after they last looked (a comment, a
// task, a change, a report filed). What certdesk records by itself
// (routing, reminders, playbook steps) does not count: the pages show
// deadlines and requests on their own. "Our reports"
// shows it as the unread marker; the incident page marks an incident read.
package readmark

import (
	"context"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/google/uuid"
)

// Store keeps the read marks.
type Store interface {
	// MarkRead records that user opened the incident now, by the
	// database's clock: the clock that stamps timeline entries
	// (recorded_at), so that the two compare whatever the application
	// servers' clocks say.
	MarkRead(ctx context.Context, userID, incidentID uuid.UUID) error
	// Unread returns, of the given incidents, those whose timeline has an
	// entry by another person recorded after user last opened them (or at
	// all, when user never did).
	Unread(ctx context.Context, userID uuid.UUID, incidentIDs []uuid.UUID) (map[uuid.UUID]bool, error)
}

// Service holds the read-mark use cases.
type Service struct {
	store Store
}

// NewService returns a Service.
func NewService(store Store) *Service { return &Service{store: store} }

// MarkRead records that p opened the incident now. The caller has read
// the incident for p (the incident page), so that p sees it; certdesk
// itself and machine principals without a user mark nothing.
func (s *Service) MarkRead(ctx context.Context, p access.Principal, incidentID uuid.UUID) error {
	if p.System || p.UserID == uuid.Nil {
		return nil
	}
	return s.store.MarkRead(ctx, p.UserID, incidentID)
}

// MaxIncidents bounds the incidents of one Unread call (a page of a list).
const MaxIncidents = 200

// Unread reports which of the incidents (a page of a list p read) have
// news for p: something another person recorded on their timeline since
// p last opened them. One query for the whole page; at most MaxIncidents
// are looked at.
func (s *Service) Unread(ctx context.Context, p access.Principal, incidentIDs []uuid.UUID) (map[uuid.UUID]bool, error) {
	if p.System || p.UserID == uuid.Nil || len(incidentIDs) == 0 {
		return map[uuid.UUID]bool{}, nil
	}
	if len(incidentIDs) > MaxIncidents {
		incidentIDs = incidentIDs[:MaxIncidents]
	}
	return s.store.Unread(ctx, p.UserID, incidentIDs)
}
