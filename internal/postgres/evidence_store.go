package postgres

import (
	"context"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

var (
	_ evidence.Store = (*Store)(nil)
	_ evidence.Tx    = (*txn)(nil)
)

// attachmentRow is the incident_attachments table.
type attachmentRow struct {
	ID               uuid.UUID
	IncidentID       uuid.UUID
	SHA256           string `gorm:"column:sha256"`
	Size             int64
	Filename         string
	OriginalFilename string
	ContentType      string
	Description      string
	UploadedBy       *uuid.UUID
	UploadedByName   string // the uploader's e-mail, as recorded
	CreatedAt        time.Time
	// read-only, from joins: the uploader's name and organisation now
	UploaderName    *string `gorm:"->"`
	UploaderOrgName *string `gorm:"->"`
}

func (attachmentRow) TableName() string { return "incident_attachments" }

func (r *attachmentRow) domain() evidence.Attachment {
	a := evidence.Attachment{
		ID: r.ID, IncidentID: r.IncidentID, SHA256: r.SHA256, Size: r.Size,
		Filename: r.Filename, OriginalFilename: r.OriginalFilename, ContentType: r.ContentType,
		Description: r.Description, UploadedByID: r.UploadedBy, UploadedBy: r.UploadedByName, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.UploaderName != nil {
		a.UploaderName = *r.UploaderName
	}
	if r.UploaderOrgName != nil {
		a.UploaderOrgName = *r.UploaderOrgName
	}
	return a
}

// attachmentSelect reads attachments of visible incidents only, with the
// uploader's name and organisation; the visibility condition and its
// arguments follow.
const attachmentSelect = `SELECT a.*, u.name AS uploader_name, uo.name AS uploader_org_name
FROM incident_attachments a JOIN incidents i ON i.id = a.incident_id
LEFT JOIN users u ON u.id = a.uploaded_by
LEFT JOIN organizations uo ON uo.id = u.org_id
WHERE `

// InEvidenceTx implements evidence.Store.
func (s *Store) InEvidenceTx(ctx context.Context, fn func(ctx context.Context, tx evidence.Tx) error) error {
	return inTx(ctx, s, fn)
}

// attachmentCursor is the keyset position after the last attachment of a page.
type attachmentCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// Attachments implements evidence.Store.
func (s *Store) Attachments(ctx context.Context, p access.Principal, incidentID uuid.UUID, page incident.Page) ([]evidence.Attachment, string, error) {
	vis, args := visibleTo(p)
	q := attachmentSelect + vis + " AND a.incident_id = ?"
	args = append(args, incidentID)
	if page.After != "" {
		var c attachmentCursor
		if err := decodeCursor(page.After, &c); err != nil {
			return nil, "", err
		}
		q += " AND (a.created_at, a.id) > (?, ?)"
		args = append(args, c.At, c.ID)
	}
	q += " ORDER BY a.created_at, a.id LIMIT ?"
	args = append(args, page.Limit+1)
	var rows []attachmentRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", translate(err, "list attachments")
	}
	rows, next := trimPage(rows, page.Limit, func(last attachmentRow) any { return attachmentCursor{At: last.CreatedAt, ID: last.ID} })
	out := make([]evidence.Attachment, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, next, nil
}

// Attachment implements evidence.Store.
func (s *Store) Attachment(ctx context.Context, p access.Principal, incidentID, id uuid.UUID) (*evidence.Attachment, error) {
	vis, args := visibleTo(p)
	var rows []attachmentRow
	err := s.db.WithContext(ctx).Raw(attachmentSelect+vis+" AND a.incident_id = ? AND a.id = ?",
		append(args, incidentID, id)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "load attachment")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "attachment %s not found", id)
	}
	a := rows[0].domain()
	return &a, nil
}

// InsertAttachment implements evidence.Tx.
func (t *txn) InsertAttachment(ctx context.Context, a *evidence.Attachment) error {
	row := attachmentRow{
		ID: a.ID, IncidentID: a.IncidentID, SHA256: a.SHA256, Size: a.Size,
		Filename: a.Filename, OriginalFilename: a.OriginalFilename, ContentType: a.ContentType,
		Description: a.Description, UploadedBy: a.UploadedByID, UploadedByName: a.UploadedBy, CreatedAt: a.CreatedAt,
	}
	return translate(t.db.WithContext(ctx).Create(&row).Error, "insert attachment")
}
