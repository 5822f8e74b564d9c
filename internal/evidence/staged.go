package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Staged is a file uploaded before its incident exists: the guided report
// takes files before it is sent (internal/report). The bytes are in the
// blob store already; AttachInTx makes the file an attachment of the new
// incident in the transaction that creates it. Its fields are those of an
// Attachment, already checked and normalised.
type Staged struct {
	SHA256           string `json:"sha256"`
	Size             int64  `json:"size"`
	Filename         string `json:"filename"`
	OriginalFilename string `json:"original_filename"`
	ContentType      string `json:"content_type"`
}

// Stage stores content for an attachment to come and returns what
// AttachInTx needs. The metadata is checked as Upload checks it
// (apperr.Invalid); more than MaxBytes is *TooLargeError. It needs
// incident.create (apperr.Forbidden): only people who may report stage
// files for a report.
func (s *Service) Stage(ctx context.Context, p access.Principal, in NewAttachment, content io.Reader) (*Staged, error) {
	if err := p.Require(access.CreateIncident); err != nil {
		return nil, err
	}
	display, original, contentType, _, err := in.normalize()
	if err != nil {
		return nil, err
	}
	sum, size, err := s.blobs.Put(ctx, content, s.maxBytes)
	if err != nil {
		return nil, err
	}
	return &Staged{SHA256: sum, Size: size, Filename: display, OriginalFilename: original, ContentType: contentType}, nil
}

// AttachInTx makes a staged file an attachment of an incident inside the
// caller's transaction, with its "attachment_added" event, as Upload does:
// the incident must be visible to p (apperr.NotFound) and the write table
// must allow p evidence.add (apperr.Forbidden). The staged bytes must be
// in the blob store with the size recorded (else an internal error: the
// file was not staged here).
func (s *Service) AttachInTx(ctx context.Context, tx Tx, p access.Principal, incidentID uuid.UUID, f Staged) (*Attachment, error) {
	inc, err := tx.LockIncident(ctx, p, incidentID.String())
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(access.AddEvidence, inc.Relations); err != nil {
		return nil, err
	}
	r, size, err := s.blobs.Open(ctx, f.SHA256)
	if err != nil {
		return nil, apperr.Wrap(fmt.Errorf("staged file %s: %w", f.SHA256, err), "attach staged file")
	}
	r.Close()
	if size != f.Size {
		return nil, apperr.Wrap(fmt.Errorf("staged file %s has %d bytes, the draft says %d", f.SHA256, size, f.Size), "attach staged file")
	}
	a := &Attachment{ID: uuid.New(), IncidentID: inc.ID, SHA256: f.SHA256, Size: f.Size, Filename: DisplayName(f.Filename),
		OriginalFilename: f.OriginalFilename, ContentType: MediaType(f.ContentType), UploadedByID: p.UserIDPtr(),
		UploadedBy: p.Name(), CreatedAt: s.now().UTC()}
	if err := tx.InsertAttachment(ctx, a); err != nil {
		return nil, err
	}
	data, err := json.Marshal(map[string]any{"attachment_id": a.ID.String(), "filename": a.Filename, "size": a.Size, "sha256": a.SHA256})
	if err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(),
		Kind: EventAttachmentAdded, Data: data, OccurredAt: a.CreatedAt}); err != nil {
		return nil, err
	}
	return a, nil
}
