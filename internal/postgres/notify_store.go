package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/google/uuid"
)

var (
	_ notify.Store = (*Store)(nil)
	_ notify.Tx    = (*txn)(nil)
)

// notificationRow is the notifications table, with what reads join to it.
type notificationRow struct {
	ID                uuid.UUID
	IncidentID        uuid.UUID
	EventKey          string
	EventID           *int64
	EventKind         string
	RecipientOrgID    uuid.UUID
	RecipientUserID   *uuid.UUID
	Channel           string
	Provider          string
	Message           []byte
	State             string
	Attempts          int
	LastError         string
	ProviderMessageID string
	ThreadTS          string `gorm:"column:thread_ts"`
	CreatedAt         time.Time
	SentAt            *time.Time
	ClaimedUntil      *time.Time
	ClaimToken        *uuid.UUID
	ClaimRoot         bool
	// read-only, from joins
	IncidentReference string `gorm:"->"`
	RecipientOrgSlug  string `gorm:"->"`
}

// messageJSON is how a rendered message is stored.
type messageJSON struct {
	Header string      `json:"header"`
	Fields [][2]string `json:"fields"`
	Text   string      `json:"text"`
	Link   string      `json:"link"`
	// Actions are [kind, value] pairs (buttons).
	Actions [][2]string `json:"actions,omitempty"`
}

func encodeMessage(m notify.Message) string {
	mj := messageJSON{Header: m.Header, Text: m.Text, Link: m.Link, Fields: make([][2]string, len(m.Fields))}
	for i, f := range m.Fields {
		mj.Fields[i] = [2]string{f.Label, f.Value}
	}
	for _, a := range m.Actions {
		mj.Actions = append(mj.Actions, [2]string{string(a.Kind), a.Value})
	}
	b, _ := json.Marshal(mj)
	return string(b)
}

func (r *notificationRow) domain() (notify.Notification, error) {
	var mj messageJSON
	if err := json.Unmarshal(r.Message, &mj); err != nil {
		return notify.Notification{}, fmt.Errorf("notification %s: message: %w", r.ID, err)
	}
	m := notify.Message{Header: mj.Header, Text: mj.Text, Link: mj.Link}
	for _, f := range mj.Fields {
		m.Fields = append(m.Fields, notify.Field{Label: f[0], Value: f[1]})
	}
	for _, a := range mj.Actions {
		m.Actions = append(m.Actions, notify.Action{Kind: notify.ActionKind(a[0]), Value: a[1]})
	}
	return notify.Notification{
		ID: r.ID, IncidentID: r.IncidentID, EventKey: r.EventKey, EventID: r.EventID, EventKind: r.EventKind,
		RecipientOrgID: r.RecipientOrgID, RecipientUserID: r.RecipientUserID, Channel: r.Channel, Provider: notify.Provider(r.Provider), Message: m,
		State: notify.State(r.State), Attempts: r.Attempts, LastError: r.LastError, ProviderMsgID: r.ProviderMessageID,
		ThreadTS: r.ThreadTS, CreatedAt: r.CreatedAt.UTC(), SentAt: utcp(r.SentAt),
		ClaimedUntil: utcp(r.ClaimedUntil), ClaimToken: derefUUID(r.ClaimToken), ClaimRoot: r.ClaimRoot,
		IncidentReference: r.IncidentReference, RecipientOrgSlug: r.RecipientOrgSlug,
	}, nil
}

// notificationSelect reads notifications with their incident's reference
// and the recipient's slug. Reads for a principal add visibleTo over "i".
const notificationSelect = `SELECT n.*, i.reference AS incident_reference, o.slug AS recipient_org_slug
FROM notifications n
JOIN incidents i ON i.id = n.incident_id
JOIN organizations o ON o.id = n.recipient_org_id`

// InNotifyTx implements notify.Store.
func (s *Store) InNotifyTx(ctx context.Context, fn func(ctx context.Context, tx notify.Tx) error) error {
	return inTx(ctx, s, fn)
}

// notificationCursor is the keyset position after the last notification
// of a page.
type notificationCursor struct {
	Created time.Time `json:"c"`
	ID      uuid.UUID `json:"i"`
}

// Notifications implements notify.Store.
func (s *Store) Notifications(ctx context.Context, p access.Principal, f notify.Filter, page incident.Page) ([]notify.Notification, string, error) {
	vis, args := visibleTo(p)
	q := notificationSelect + " WHERE " + vis
	if f.IncidentID != nil {
		q += " AND n.incident_id = ?"
		args = append(args, *f.IncidentID)
	}
	if f.State != "" {
		q += " AND n.state = ?"
		args = append(args, string(f.State))
	}
	if f.Provider != "" {
		q += " AND n.provider = ?"
		args = append(args, string(f.Provider))
	}
	if page.After != "" {
		var c notificationCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q += " AND (n.created_at, n.id) < (?, ?)"
		args = append(args, c.Created, c.ID)
	}
	q += " ORDER BY n.created_at DESC, n.id DESC LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []notificationRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list notifications")
	}
	rows, next := trimPage(rows, page.Limit, func(last notificationRow) any { return notificationCursor{Created: last.CreatedAt, ID: last.ID} })
	out := make([]notify.Notification, len(rows))
	for i := range rows {
		n, err := rows[i].domain()
		if err != nil {
			return nil, "", err
		}
		out[i] = n
	}
	return out, next, nil
}

// InsertNotification implements notify.Tx.
func (t *txn) InsertNotification(ctx context.Context, n *notify.Notification) (bool, error) {
	res := t.db.WithContext(ctx).Exec(`INSERT INTO notifications (id, incident_id, event_key, event_id, event_kind,
		recipient_org_id, recipient_user_id, channel, provider, message, state, attempts, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
		ON CONFLICT ON CONSTRAINT notifications_event_recipient_provider_key DO NOTHING`,
		n.ID, n.IncidentID, n.EventKey, n.EventID, n.EventKind, n.RecipientOrgID, n.RecipientUserID, n.Channel, string(n.Provider),
		encodeMessage(n.Message), string(n.State), n.CreatedAt)
	if res.Error != nil {
		return false, translate(res.Error, "insert notification")
	}
	return res.RowsAffected == 1, nil
}

// LockNotification implements notify.Tx. It locks the notification's
// incident first (lockIncidentOf), the order of every incident change: a
// change that withdraws queued notifications holds the incident and then
// locks them.
func (t *txn) LockNotification(ctx context.Context, id uuid.UUID) (*notify.Notification, error) {
	if err := t.lockIncidentOf(ctx, "notifications", id); err != nil {
		return nil, err
	}
	return t.lockedNotification(ctx, id)
}

// LockNotificationWithIncident implements notify.Tx: the incident is
// locked and read in one statement, then the notification.
func (t *txn) LockNotificationWithIncident(ctx context.Context, id uuid.UUID) (*notify.Notification, *incident.Incident, error) {
	inc, err := oneIncident(ctx, t.db, access.System, "i.id = (SELECT incident_id FROM notifications WHERE id = ?)", id, "FOR UPDATE OF i")
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil, apperr.New(apperr.NotFound, "notification %s not found", id)
	} else if err != nil {
		return nil, nil, err
	}
	n, err := t.lockedNotification(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return n, inc, nil
}

// lockedNotification reads a notification FOR UPDATE (its incident is
// locked already).
func (t *txn) lockedNotification(ctx context.Context, id uuid.UUID) (*notify.Notification, error) {
	var rows []notificationRow
	if err := t.db.WithContext(ctx).Raw(notificationSelect+" WHERE n.id = ? FOR UPDATE OF n", id).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load notification")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "notification %s not found", id)
	}
	n, err := rows[0].domain()
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// UpdateNotification implements notify.Tx.
func (t *txn) UpdateNotification(ctx context.Context, n *notify.Notification) error {
	var token *uuid.UUID
	if n.ClaimToken != uuid.Nil {
		token = &n.ClaimToken
	}
	err := t.db.WithContext(ctx).Exec(`UPDATE notifications SET provider = ?, state = ?, attempts = ?, last_error = ?,
		provider_message_id = ?, thread_ts = ?, sent_at = ?, message = ?, claimed_until = ?, claim_token = ?, claim_root = ?
		WHERE id = ?`,
		string(n.Provider), string(n.State), n.Attempts, n.LastError, n.ProviderMsgID, n.ThreadTS, n.SentAt,
		encodeMessage(n.Message), n.ClaimedUntil, token, n.ClaimRoot, n.ID).Error
	return translate(err, "update notification")
}

// LockThread implements notify.Tx with a transaction-scoped advisory lock
// on (incident, channel), held by a delivery's claim (a short
// transaction, never during the call to Slack): one claim at a time
// decides whether it posts the thread's first message (RootClaimUntil).
func (t *txn) LockThread(ctx context.Context, incidentID uuid.UUID, channel string) (string, error) {
	if err := t.db.WithContext(ctx).Exec(`SELECT pg_advisory_xact_lock(hashtextextended('slack_thread:' || ? || ':' || ?, 0))`,
		incidentID.String(), channel).Error; err != nil {
		return "", translate(err, "lock thread")
	}
	var ts []string
	if err := t.db.WithContext(ctx).Raw(`SELECT ts FROM slack_threads WHERE incident_id = ? AND channel = ?`,
		incidentID, channel).Scan(&ts).Error; err != nil {
		return "", translate(err, "load thread")
	}
	if len(ts) == 0 {
		return "", nil
	}
	return ts[0], nil
}

// RootClaimUntil implements notify.Tx. The caller holds LockThread, so
// no other claim of the thread's first message starts meanwhile.
func (t *txn) RootClaimUntil(ctx context.Context, incidentID uuid.UUID, channel string, except uuid.UUID, now time.Time) (*time.Time, error) {
	var until []time.Time
	if err := t.db.WithContext(ctx).Raw(`SELECT claimed_until FROM notifications
		WHERE incident_id = ? AND channel = ? AND provider = 'slack' AND state = 'pending' AND claim_root
		AND claimed_until > ? AND id <> ? ORDER BY claimed_until DESC LIMIT 1`,
		incidentID, channel, now, except).Scan(&until).Error; err != nil {
		return nil, translate(err, "load thread claim")
	}
	if len(until) == 0 {
		return nil, nil
	}
	u := until[0].UTC()
	return &u, nil
}

// InsertThread implements notify.Tx.
func (t *txn) InsertThread(ctx context.Context, incidentID uuid.UUID, channel, ts string) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO slack_threads (incident_id, channel, ts) VALUES (?, ?, ?)
		ON CONFLICT DO NOTHING`, incidentID, channel, ts).Error
	return translate(err, "record thread")
}

// SQLTx returns the *sql.Tx the domain transaction runs in: River
// completes a job in it (internal/worker), so that the job is done
// exactly when its effect commits.
func (t *txn) SQLTx() *sql.Tx { return t.sql }

// derefUUID returns *u, or uuid.Nil for a NULL.
func derefUUID(u *uuid.UUID) uuid.UUID {
	if u == nil {
		return uuid.Nil
	}
	return *u
}

// EarlierPending implements notify.Tx. It reads the range of
// notifications_created_idx from since to n, so its cost is bounded by the
// notifications created in that time.
func (t *txn) EarlierPending(ctx context.Context, n *notify.Notification, since time.Time) (int, error) {
	var count int
	err := t.db.WithContext(ctx).Raw(`SELECT count(*) FROM (SELECT 1 FROM notifications
		WHERE created_at >= ? AND (created_at, id) < (?, ?)
		AND channel = ? AND provider = 'slack' AND state = 'pending' LIMIT 100) e`,
		since, n.CreatedAt, n.ID, n.Channel).Scan(&count).Error
	return count, translate(err, "count earlier notifications")
}
