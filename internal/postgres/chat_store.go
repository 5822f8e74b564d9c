package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/google/uuid"
)

var _ notify.RootTx = (*txn)(nil)

// ThreadsBehind implements notify.RootTx.
func (t *txn) ThreadsBehind(ctx context.Context, incidentID uuid.UUID, version int64) ([]string, error) {
	var channels []string
	err := t.db.WithContext(ctx).Raw(`SELECT channel FROM slack_threads WHERE incident_id = ? AND shown_version < ?
		ORDER BY channel`, incidentID, version).Scan(&channels).Error
	return channels, translate(err, "threads behind")
}

// LockRoot implements notify.RootTx with a row lock on the thread.
func (t *txn) LockRoot(ctx context.Context, incidentID uuid.UUID, channel string) (string, int64, bool, error) {
	var rows []struct {
		TS           string
		ShownVersion int64
	}
	err := t.db.WithContext(ctx).Raw(`SELECT ts, shown_version FROM slack_threads WHERE incident_id = ? AND channel = ?
		FOR UPDATE`, incidentID, channel).Scan(&rows).Error
	if err != nil {
		return "", 0, false, translate(err, "lock thread root")
	}
	if len(rows) == 0 {
		return "", 0, false, nil
	}
	return rows[0].TS, rows[0].ShownVersion, true, nil
}

// SetRootShown implements notify.RootTx.
func (t *txn) SetRootShown(ctx context.Context, incidentID uuid.UUID, channel string, version int64) error {
	err := t.db.WithContext(ctx).Exec(`UPDATE slack_threads SET shown_version = ? WHERE incident_id = ? AND channel = ?`,
		version, incidentID, channel).Error
	return translate(err, "record thread root version")
}

// ChannelHasCERT implements notify.RootTx.
func (t *txn) ChannelHasCERT(ctx context.Context, channel string) (bool, error) {
	var n int64
	err := t.db.WithContext(ctx).Raw(`SELECT count(*) FROM organizations WHERE chat_channel = ?
		AND kind IN ('national_cert', 'regional_cert')`, channel).Scan(&n).Error
	return n > 0, translate(err, "channel owner")
}
