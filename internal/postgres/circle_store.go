package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
)

// The circle of an incident: who sees it as an organisation, and the
// shares, participants, escalations and queued notifications that reach
// out of it (docs/security.md, "When the TLP tightens or a share ends").

// OrgCanSee implements incident.Tx and notify.Tx: visibleTo for the
// organisation as a whole (access.OrgOnly). An organisation that does not
// exist sees nothing.
func (t *txn) OrgCanSee(ctx context.Context, orgID, incidentID uuid.UUID) (bool, error) {
	var kinds []string
	if err := t.db.WithContext(ctx).Raw(`SELECT kind FROM organizations WHERE id = ?`, orgID).Scan(&kinds).Error; err != nil {
		return false, translate(err, "load organisation")
	}
	if len(kinds) == 0 {
		return false, nil
	}
	vis, args := visibleTo(access.OrgOnly(orgID, org.Kind(kinds[0])))
	var ok bool
	err := t.db.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM incidents i WHERE i.id = ? AND "+vis+")",
		append([]any{incidentID}, args...)...).Scan(&ok).Error
	return ok, translate(err, "check the organisation's visibility")
}

// ChannelSees implements notify.RootTx.
func (t *txn) ChannelSees(ctx context.Context, channel string, incidentID uuid.UUID) (bool, error) {
	var ids []uuid.UUID
	if err := t.db.WithContext(ctx).Raw(`SELECT id FROM organizations WHERE chat_channel = ? ORDER BY id`, channel).Scan(&ids).Error; err != nil {
		return false, translate(err, "find the channel's organisations")
	}
	for _, id := range ids {
		ok, err := t.OrgCanSee(ctx, id, incidentID)
		if err != nil || !ok {
			return false, err
		}
	}
	return len(ids) > 0, nil
}

// Shares implements incident.Tx.
func (t *txn) Shares(ctx context.Context, incidentID uuid.UUID) ([]incident.Share, error) {
	var rows []struct {
		OrgID        uuid.UUID
		OrgSlug      string
		OrgName      string
		Kind         string
		StrictCircle bool
	}
	err := t.db.WithContext(ctx).Raw(`SELECT s.org_id, o.slug AS org_slug, o.name AS org_name, s.kind, s.strict_circle
		FROM incident_shares s JOIN organizations o ON o.id = s.org_id WHERE s.incident_id = ? ORDER BY o.slug`, incidentID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list shares")
	}
	out := make([]incident.Share, len(rows))
	for i, r := range rows {
		out[i] = incident.Share{OrgID: r.OrgID, OrgSlug: r.OrgSlug, OrgName: r.OrgName, Kind: r.Kind, StrictCircle: r.StrictCircle}
	}
	return out, nil
}

// DeleteShare implements incident.Tx.
func (t *txn) DeleteShare(ctx context.Context, incidentID, orgID uuid.UUID) error {
	err := t.db.WithContext(ctx).Exec(`DELETE FROM incident_shares WHERE incident_id = ? AND org_id = ?`, incidentID, orgID).Error
	return translate(err, "end share")
}

// Participants implements incident.Tx.
func (t *txn) Participants(ctx context.Context, incidentID uuid.UUID) ([]incident.Participant, error) {
	var rows []struct {
		UserID  uuid.UUID
		Email   string
		OrgID   uuid.UUID
		OrgSlug string
	}
	err := t.db.WithContext(ctx).Raw(`SELECT p.user_id, u.email, u.org_id, o.slug AS org_slug
		FROM incident_participants p JOIN users u ON u.id = p.user_id JOIN organizations o ON o.id = u.org_id
		WHERE p.incident_id = ? ORDER BY u.email`, incidentID).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "list participants")
	}
	out := make([]incident.Participant, len(rows))
	for i, r := range rows {
		out[i] = incident.Participant{UserID: r.UserID, Email: r.Email, OrgID: r.OrgID, OrgSlug: r.OrgSlug}
	}
	return out, nil
}

// DeleteParticipant implements incident.Tx.
func (t *txn) DeleteParticipant(ctx context.Context, incidentID, userID uuid.UUID) error {
	err := t.db.WithContext(ctx).Exec(`DELETE FROM incident_participants WHERE incident_id = ? AND user_id = ?`, incidentID, userID).Error
	return translate(err, "remove participant")
}

// PendingNotifications implements notify.Tx. The incident is locked by
// the caller (an incident change), so the lock order is the one
// LockNotification takes: the incident, then the notification.
func (t *txn) PendingNotifications(ctx context.Context, incidentID uuid.UUID) ([]notify.Notification, error) {
	var rows []notificationRow
	if err := t.db.WithContext(ctx).Raw(notificationSelect+` WHERE n.incident_id = ? AND n.state = 'pending'
		ORDER BY n.created_at, n.id FOR UPDATE OF n`, incidentID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list pending notifications")
	}
	out := make([]notify.Notification, len(rows))
	for i := range rows {
		n, err := rows[i].domain()
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// OpenEscalations implements escalation.Tx.
func (t *txn) OpenEscalations(ctx context.Context, incidentID uuid.UUID) ([]escalation.Escalation, error) {
	var rows []escalationRow
	if err := t.db.WithContext(ctx).Raw(escalationSelect("TRUE")+` WHERE e.incident_id = ? AND e.state = 'requested'
		ORDER BY e.requested_at, e.id FOR UPDATE OF e`, incidentID).Scan(&rows).Error; err != nil {
		return nil, translate(err, "list open escalations")
	}
	out := make([]escalation.Escalation, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// JoinStrictCircle implements escalation.Tx: the organisation's share
// (kind escalation when it had none) is marked as in the strict circle.
func (t *txn) JoinStrictCircle(ctx context.Context, incidentID, orgID uuid.UUID, note string, by *uuid.UUID) error {
	err := t.db.WithContext(ctx).Exec(`INSERT INTO incident_shares (incident_id, org_id, kind, note, created_by, strict_circle)
		VALUES (?, ?, 'escalation', ?, ?, true)
		ON CONFLICT (incident_id, org_id) DO UPDATE SET strict_circle = true`, incidentID, orgID, note, by).Error
	return translate(err, "join the strict circle")
}
