package evidence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// Options are the dependencies of a Service.
type Options struct {
	Store     Store
	Incidents Incidents
	Blobs     BlobStore
	// MaxBytes is the largest file accepted, in bytes; it must be positive.
	MaxBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service holds the evidence use cases.
type Service struct {
	store     Store
	incidents Incidents
	blobs     BlobStore
	maxBytes  int64
	now       func() time.Time
}

// NewService returns a Service. It fails when a dependency is missing or
// MaxBytes is not positive, naming the field.
func NewService(o Options) (*Service, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("evidence: Options.Store is nil")
	case o.Incidents == nil:
		return nil, errors.New("evidence: Options.Incidents is nil")
	case o.Blobs == nil:
		return nil, errors.New("evidence: Options.Blobs is nil")
	case o.MaxBytes <= 0:
		return nil, fmt.Errorf("evidence: Options.MaxBytes must be positive, not %d", o.MaxBytes)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: o.Store, incidents: o.Incidents, blobs: o.Blobs, maxBytes: o.MaxBytes, now: o.Now}, nil
}

// MaxBytes is the largest file Upload accepts.
func (s *Service) MaxBytes() int64 { return s.maxBytes }

// CheckUpload returns the incident when p may see it (else apperr.NotFound)
// and the write table lets p add evidence to it (evidence.add for p's role
// in its relations to the incident; else apperr.Forbidden). Callers use it to
// refuse an upload before reading its body; Upload checks again.
func (s *Service) CheckUpload(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error) {
	inc, err := s.incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	if err := p.RequireWrite(access.AddEvidence, inc.Relations); err != nil {
		return nil, err
	}
	return inc, nil
}

// Upload stores content as a new attachment of the incident, with its
// "attachment_added" timeline event. Checks come in this order: the
// incident must be visible to p (apperr.NotFound), the write table must
// allow p evidence.add (apperr.Forbidden), the metadata must be valid
// (apperr.Invalid); then content is read to its end. More than MaxBytes is
// *TooLargeError; an error while reading content is returned as it is. The
// attachment is returned only after the bytes are on stable storage and its
// row and event committed; on any error no row exists (bytes already stored
// may stay behind as an unreferenced blob, which is never served).
func (s *Service) Upload(ctx context.Context, p access.Principal, idOrRef string, in NewAttachment, content io.Reader) (*Attachment, error) {
	inc, err := s.CheckUpload(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	display, original, contentType, description, err := in.normalize()
	if err != nil {
		return nil, err
	}
	sum, size, err := s.blobs.Put(ctx, content, s.maxBytes)
	if err != nil {
		return nil, err
	}
	a := &Attachment{
		ID: uuid.New(), IncidentID: inc.ID, SHA256: sum, Size: size,
		Filename: display, OriginalFilename: original, ContentType: contentType, Description: description,
		UploadedByID: p.UserIDPtr(), UploadedBy: p.Name(), CreatedAt: s.now().UTC(),
	}
	err = s.store.InEvidenceTx(ctx, func(ctx context.Context, tx Tx) error {
		// Again inside the transaction: the incident is still visible, p
		// may still add evidence to it, and events of one incident are
		// appended one at a time.
		locked, err := tx.LockIncident(ctx, p, inc.ID.String())
		if err != nil {
			return err
		}
		if err := p.RequireWrite(access.AddEvidence, locked.Relations); err != nil {
			return err
		}
		if err := tx.InsertAttachment(ctx, a); err != nil {
			return err
		}
		data, err := json.Marshal(map[string]any{
			"attachment_id": a.ID.String(), "filename": a.Filename, "size": a.Size, "sha256": a.SHA256,
		})
		if err != nil {
			return fmt.Errorf("event data: %w", err)
		}
		return tx.AppendEvent(ctx, &incident.Event{
			IncidentID: inc.ID, ActorUserID: p.UserIDPtr(), Actor: p.Name(),
			Kind: EventAttachmentAdded, Data: data, OccurredAt: a.CreatedAt,
		})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// List returns the incident and a page of its attachments, oldest first,
// and the cursor of the next page ("" on the last page).
func (s *Service) List(ctx context.Context, p access.Principal, idOrRef string, page incident.Page) (*incident.Incident, []Attachment, string, error) {
	inc, err := s.incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, nil, "", err
	}
	atts, next, err := s.ListOf(ctx, p, inc, page)
	if err != nil {
		return nil, nil, "", err
	}
	return inc, atts, next, nil
}

// ListOf is List for an incident the caller has just read for p: a page
// that shows the incident and its evidence reads the incident once. The
// store applies the visibility rule again.
func (s *Service) ListOf(ctx context.Context, p access.Principal, inc *incident.Incident, page incident.Page) ([]Attachment, string, error) {
	page.Limit = incident.ClampLimit(page.Limit)
	return s.store.Attachments(ctx, p, inc.ID, page)
}

// Get returns one attachment of an incident p may see. An attachment ID
// that is not a UUID, unknown, or of another incident is apperr.NotFound.
func (s *Service) Get(ctx context.Context, p access.Principal, idOrRef, attachmentID string) (*Attachment, error) {
	inc, err := s.incidents.Get(ctx, p, idOrRef)
	if err != nil {
		return nil, err
	}
	id, err := uuid.Parse(attachmentID)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "attachment %q not found", attachmentID)
	}
	return s.store.Attachment(ctx, p, inc.ID, id)
}

// Open returns an attachment as Get does, with its bytes. The caller closes
// the reader. Stored bytes whose size differs from the record are an
// internal error, never served.
func (s *Service) Open(ctx context.Context, p access.Principal, idOrRef, attachmentID string) (*Attachment, io.ReadSeekCloser, error) {
	a, err := s.Get(ctx, p, idOrRef, attachmentID)
	if err != nil {
		return nil, nil, err
	}
	r, size, err := s.blobs.Open(ctx, a.SHA256)
	if err != nil {
		return nil, nil, err
	}
	if size != a.Size {
		r.Close()
		return nil, nil, apperr.Wrap(fmt.Errorf("blob %s has %d bytes, the record says %d", a.SHA256, size, a.Size), "open attachment")
	}
	return a, r, nil
}
