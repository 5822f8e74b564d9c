package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/org"
	"gorm.io/gorm"
)

var _ audit.WatchStore = (*Store)(nil)

// AuditChainHead implements audit.ChainReader.
func (s *Store) AuditChainHead(ctx context.Context) (audit.ChainHead, error) {
	var h struct {
		Seq  int64
		Hash []byte
	}
	res := s.db.WithContext(ctx).Raw(`SELECT seq, hash FROM audit_chain_head`).Scan(&h)
	if res.Error != nil {
		return audit.ChainHead{}, translate(res.Error, "read the audit chain's head")
	}
	if res.RowsAffected != 1 {
		return audit.ChainHead{}, apperr.New(apperr.Internal, "the audit chain has no head row")
	}
	return audit.ChainHead{Seq: h.Seq, Hash: h.Hash}, nil
}

// AuditChain implements audit.ChainReader: the columns in the text forms
// of the canonical encoding (audit.Encode).
func (s *Store) AuditChain(ctx context.Context, after, upTo int64, limit int) ([]audit.ChainRow, error) {
	var rows []audit.ChainRow
	err := s.db.WithContext(ctx).Raw(`SELECT chain_seq AS seq, id,
			(extract(epoch FROM at) * 1000000)::bigint AS at_micros,
			coalesce(actor_user_id::text, '') AS actor_user_id, actor, action, target_type, target_id,
			remote_addr, data::text AS data, hash
		FROM audit_log WHERE chain_seq > ? AND chain_seq <= ? ORDER BY chain_seq LIMIT ?`, after, upTo, limit).
		Scan(&rows).Error
	return rows, translate(err, "read the audit chain")
}

// OpenChainAlert implements audit.WatchStore.
func (s *Store) OpenChainAlert(ctx context.Context, key, detail string, at time.Time) (audit.Alert, error) {
	var a audit.Alert
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE audit_chain_alerts SET resolved_at = ? WHERE resolved_at IS NULL AND fault <> ?`,
			at, key).Error; err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO audit_chain_alerts (fault, detail, raised_at) VALUES (?, ?, ?)
			ON CONFLICT (fault) WHERE resolved_at IS NULL DO NOTHING`, key, detail, at).Error; err != nil {
			return err
		}
		return tx.Raw(`SELECT id, fault, detail, raised_at, sent_at FROM audit_chain_alerts
			WHERE fault = ? AND resolved_at IS NULL`, key).Scan(&a).Error
	})
	return a, translate(err, "open the audit chain alert")
}

// ResolveChainAlerts implements audit.WatchStore.
func (s *Store) ResolveChainAlerts(ctx context.Context, at time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE audit_chain_alerts SET resolved_at = ? WHERE resolved_at IS NULL`, at).Error
	return translate(err, "resolve the audit chain alerts")
}

// ChainAlertSent implements audit.WatchStore.
func (s *Store) ChainAlertSent(ctx context.Context, id int64, at time.Time) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE audit_chain_alerts SET sent_at = ? WHERE id = ?`, at, id).Error
	return translate(err, "record the audit chain alert sent")
}

// NationalCERT returns the national CERT (the oldest, if there were
// several); apperr.NotFound when there is none.
func (s *Store) NationalCERT(ctx context.Context) (*org.Organization, error) {
	return nationalCERT(ctx, s.db)
}
