package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/mailin"
	"github.com/google/uuid"
)

// mailRow is the inbound_mail table.
type mailRow struct {
	ID          uuid.UUID `gorm:"primaryKey"`
	UserID      uuid.UUID
	OrgID       uuid.UUID
	Kind        string
	MessageID   string
	Sender      string
	Subject     string
	IncidentID  *uuid.UUID
	CommentID   *uuid.UUID
	DraftID     *uuid.UUID
	Attachments int
	Size        int64
	AuthResults string
	DKIM        string `gorm:"column:dkim"`
	SPF         string `gorm:"column:spf"`
	ReceivedAt  time.Time
}

func (mailRow) TableName() string { return "inbound_mail" }

func (r *mailRow) domain() *mailin.Record {
	return &mailin.Record{ID: r.ID, UserID: r.UserID, OrgID: r.OrgID, Kind: r.Kind, MessageID: r.MessageID, Sender: r.Sender,
		Subject: r.Subject, IncidentID: r.IncidentID, CommentID: r.CommentID, DraftID: r.DraftID, Attachments: r.Attachments,
		Size: r.Size, AuthResults: r.AuthResults, DKIM: r.DKIM, SPF: r.SPF, ReceivedAt: r.ReceivedAt.UTC()}
}

// InMailTx implements mailin.Store.
func (s *Store) InMailTx(ctx context.Context, fn func(ctx context.Context, tx mailin.Tx) error) error {
	return inTx(ctx, s, fn)
}

// MailOfDraft implements mailin.Store.
func (s *Store) MailOfDraft(ctx context.Context, draftID uuid.UUID) (*mailin.Record, error) {
	var rows []mailRow
	if err := s.db.WithContext(ctx).Raw(`SELECT * FROM inbound_mail WHERE draft_id = ? LIMIT 1`, draftID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load inbound mail")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "no mail for draft %s", draftID)
	}
	return rows[0].domain(), nil
}

// LockMail implements mailin.Tx.
func (t *txn) LockMail(ctx context.Context, id uuid.UUID) (*mailin.Record, error) {
	var rows []mailRow
	if err := t.db.WithContext(ctx).Raw(`SELECT * FROM inbound_mail WHERE id = ? FOR UPDATE`, id).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load inbound mail")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "inbound mail %s not found", id)
	}
	return rows[0].domain(), nil
}

// InsertMail implements mailin.Tx.
func (t *txn) InsertMail(ctx context.Context, r *mailin.Record) error {
	row := mailRow{ID: r.ID, UserID: r.UserID, OrgID: r.OrgID, Kind: r.Kind, MessageID: r.MessageID, Sender: r.Sender,
		Subject: r.Subject, IncidentID: r.IncidentID, CommentID: r.CommentID, DraftID: r.DraftID, Attachments: r.Attachments,
		Size: r.Size, AuthResults: r.AuthResults, DKIM: r.DKIM, SPF: r.SPF, ReceivedAt: r.ReceivedAt}
	return translate(t.db.WithContext(ctx).Create(&row).Error, "record inbound mail")
}
