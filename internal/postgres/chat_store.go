package postgres

import (
	"context"
	"encoding/json"
	"net/url"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var (
	_ notify.RootTx       = (*txn)(nil)
	_ notify.WebhookTx    = (*txn)(nil)
	_ notify.WebhookStore = (*Store)(nil)
)

// ThreadsBehind implements notify.RootTx.
func (t *txn) ThreadsBehind(ctx context.Context, incidentID uuid.UUID, version int64) ([]string, error) {
	var channels []string
	err := t.db.WithContext(ctx).Raw(`SELECT channel FROM slack_threads WHERE incident_id = ? AND shown_version < ?
		ORDER BY channel`, incidentID, version).Scan(&channels).Error
	return channels, translate(err, "threads behind")
}

// Threads implements notify.RootTx.
func (t *txn) Threads(ctx context.Context, incidentID uuid.UUID) ([]string, error) {
	var channels []string
	err := t.db.WithContext(ctx).Raw(`SELECT channel FROM slack_threads WHERE incident_id = ? ORDER BY channel`, incidentID).Scan(&channels).Error
	return channels, translate(err, "list threads")
}

// LockRoot implements notify.RootTx with a row lock on the thread.
func (t *txn) LockRoot(ctx context.Context, incidentID uuid.UUID, channel string) (notify.Root, bool, error) {
	var rows []struct {
		TS           string
		ShownVersion int64
		WithdrawnAt  *time.Time
	}
	err := t.db.WithContext(ctx).Raw(`SELECT ts, shown_version, withdrawn_at FROM slack_threads WHERE incident_id = ? AND channel = ?
		FOR UPDATE`, incidentID, channel).Scan(&rows).Error
	if err != nil {
		return notify.Root{}, false, translate(err, "lock thread root")
	}
	if len(rows) == 0 {
		return notify.Root{}, false, nil
	}
	return notify.Root{TS: rows[0].TS, Shown: rows[0].ShownVersion, Withdrawn: rows[0].WithdrawnAt != nil}, true, nil
}

// SetRootShown implements notify.RootTx. withdrawn_at keeps the time the
// root was first withdrawn.
func (t *txn) SetRootShown(ctx context.Context, incidentID uuid.UUID, channel string, version int64, withdrawn bool) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE slack_threads SET shown_version = ?,
		withdrawn_at = CASE WHEN ? THEN coalesce(withdrawn_at, now()) END WHERE incident_id = ? AND channel = ?`,
		version, withdrawn, incidentID, channel).Error
	return translate(err, "record thread root version")
}

// ChannelHasCERT implements notify.RootTx.
func (t *txn) ChannelHasCERT(ctx context.Context, channel string) (bool, error) {
	var n int64
	err := t.db.WithContext(ctx).Raw(`SELECT count(*) FROM organizations WHERE chat_channel = ?
		AND kind IN ('national_cert', 'regional_cert')`, channel).Scan(&n).Error
	return n > 0, translate(err, "channel owner")
}

// OrgWebhook implements notify.WebhookTx.
func (t *txn) OrgWebhook(ctx context.Context, orgID uuid.UUID) (string, string, error) {
	var rows []struct {
		WebhookURL    string
		WebhookSecret string
	}
	err := t.db.WithContext(ctx).Raw(`SELECT webhook_url, webhook_secret FROM organizations WHERE id = ?`, orgID).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return "", "", translate(err, "organisation webhook")
	}
	return rows[0].WebhookURL, rows[0].WebhookSecret, nil
}

// SetOrgWebhook implements notify.WebhookStore. The audit entry names the
// webhook's host only: a URL's path often holds a token.
func (s *Store) SetOrgWebhook(ctx context.Context, slug, rawURL, secret string) error {
	return s.SetOrgWebhookAs(ctx, org.Actor{System: true, Name: "certdesk"}, slug, rawURL, secret)
}

// SetOrgWebhookAs implements notify.ActorWebhookStore: as SetOrgWebhook,
// with the audit entry naming the actor.
func (s *Store) SetOrgWebhookAs(ctx context.Context, a org.Actor, slug, rawURL, secret string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.WithContext(ctx).Exec(`UPDATE organizations SET webhook_url = ?, webhook_secret = ?, updated_at = now()
			WHERE slug = ?`, rawURL, secret, slug)
		if res.Error != nil {
			return translate(res.Error, "set webhook")
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.NotFound, "organisation %q not found", slug)
		}
		change := map[string]any{"webhook": "removed"}
		if u, err := url.Parse(rawURL); err == nil && rawURL != "" {
			change = map[string]any{"webhook": "set", "webhook_host": u.Host}
		}
		b, _ := json.Marshal(change)
		return insertAudit(ctx, tx, audit.Entry{ActorUserID: a.UserID, Actor: a.Name, Action: audit.OrgChanged,
			TargetType: "organization", TargetID: slug, RemoteAddr: a.RemoteAddr, Data: b})
	})
}
