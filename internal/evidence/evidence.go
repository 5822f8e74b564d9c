// Package evidence is the evidence attached to incidents: files uploaded by
// the people working a case (logs, screenshots, ransom notes, mail
// headers), with who added them, when, and their SHA-256.
//
// The bytes live in a content-addressed blob store (see package blob); the
// metadata lives in the database next to the incident. An attachment is
// visible exactly when its incident is: every use case reads the incident
// through the visibility rule first (an invisible incident is
// apperr.NotFound), and the store's queries apply the same rule again.
//
// The file name a client sends is metadata only. It is never used as a
// path: the display name is a sanitised base name (DisplayName), and the
// name as sent is kept beside it for the record.
package evidence

import (
	"context"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/google/uuid"
)

// EventAttachmentAdded is the timeline event of a new attachment. Its data
// holds attachment_id, filename, size and sha256.
const EventAttachmentAdded incident.EventKind = "attachment_added"

// Attachment is one file of evidence on an incident.
type Attachment struct {
	ID         uuid.UUID
	IncidentID uuid.UUID
	// SHA256 is the hex SHA-256 of the bytes: their name in the blob store
	// and what a recipient checks a download against.
	SHA256 string
	Size   int64
	// Filename is the display name: a base name without separators or
	// control characters, at most MaxFilename characters (DisplayName).
	Filename string
	// OriginalFilename is the name as the client sent it (made valid UTF-8,
	// NUL bytes replaced), for the record. It is never used as a path.
	OriginalFilename string
	// ContentType is the media type the client declared, or
	// application/octet-stream. It is metadata only: downloads are always
	// served as application/octet-stream.
	ContentType  string
	Description  string
	UploadedByID *uuid.UUID
	UploadedBy   string // the uploader's e-mail, or "certdesk"
	CreatedAt    time.Time
	// UploaderName and UploaderOrgName are the uploader's name and their
	// organisation's name, filled on reads ("" for certdesk).
	UploaderName    string
	UploaderOrgName string
}

// Limits on attachment metadata.
const (
	MaxFilename         = 255  // characters of the display name
	MaxOriginalFilename = 4096 // bytes of the name as sent
	MaxDescription      = 2000 // characters
	MaxContentType      = 255  // bytes
	// DefaultContentType is what an attachment without a valid declared
	// media type is recorded as.
	DefaultContentType = "application/octet-stream"
	// fallbackName is the display name of a file sent without a usable name.
	fallbackName = "attachment"
)

// NewAttachment is the metadata of an upload, as the client sent it.
type NewAttachment struct {
	Filename    string // the file name as sent; may be anything
	ContentType string // the declared media type; may be anything
	Description string
}

// normalize checks the metadata and returns the values to store: the
// display name, the name as sent, the media type and the description.
func (n NewAttachment) normalize() (display, original, contentType, description string, err error) {
	var fs apperr.Fields
	if len(n.Filename) > MaxOriginalFilename {
		fs.Add("file", "max_length", "the file name must be at most %d bytes", MaxOriginalFilename)
	}
	if !utf8.ValidString(n.Description) {
		fs.Add("description", "utf8", "description must be valid UTF-8")
	} else if utf8.RuneCountInString(n.Description) > MaxDescription {
		fs.Add("description", "max_length", "description must be at most %d characters", MaxDescription)
	} else if strings.ContainsRune(n.Description, 0) {
		fs.Add("description", "no_nul", "description must not contain NUL characters")
	}
	if err := fs.Err(); err != nil {
		return "", "", "", "", err
	}
	original = strings.ReplaceAll(strings.ToValidUTF8(n.Filename, "\uFFFD"), "\x00", "\uFFFD")
	return DisplayName(n.Filename), original, MediaType(n.ContentType), n.Description, nil
}

// DisplayName turns a file name as a client sent it into the name shown
// and offered for download: the last element of any path (both / and \
// separate), without control, format (bidirectional overrides, zero-width)
// or line-separator characters, without surrounding spaces or trailing dots,
// made valid UTF-8 and cut to MaxFilename characters (keeping a short
// extension). A name left empty, "." or ".." becomes "attachment".
// The result never contains a path separator.
func DisplayName(raw string) string {
	s := strings.ToValidUTF8(raw, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\':
			return '/'
		case unicode.IsControl(r), unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp):
			return -1
		}
		return r
	}, s)
	// The last non-empty path element.
	parts := strings.Split(s, "/")
	s = ""
	for i := len(parts) - 1; i >= 0; i-- {
		if p := strings.TrimSpace(parts[i]); p != "" {
			s = p
			break
		}
	}
	s = trim(s)
	if utf8.RuneCountInString(s) > MaxFilename {
		s = trim(cut(s))
	}
	if s == "" {
		return fallbackName
	}
	return s
}

// trim removes leading spaces and trailing spaces and dots (which some
// file systems drop, so that "a.exe." would become "a.exe").
func trim(s string) string {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	return strings.TrimRightFunc(s, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
}

// cut shortens a name to MaxFilename characters, keeping an extension of
// up to 16 characters.
func cut(s string) string {
	ext := ""
	if i := strings.LastIndexByte(s, '.'); i > 0 {
		if e := s[i:]; utf8.RuneCountInString(e) <= 16 {
			ext = e
		}
	}
	stem := []rune(strings.TrimSuffix(s, ext))
	stem = stem[:MaxFilename-utf8.RuneCountInString(ext)]
	return strings.TrimRightFunc(string(stem), unicode.IsSpace) + ext
}

// MediaType returns the declared media type in canonical form when it
// parses as one (type/subtype with optional parameters, at most
// MaxContentType bytes), else application/octet-stream.
func MediaType(declared string) string {
	mt, params, err := mime.ParseMediaType(declared)
	if err != nil || !strings.Contains(mt, "/") || strings.HasPrefix(mt, "/") || strings.HasSuffix(mt, "/") {
		return DefaultContentType
	}
	out := mime.FormatMediaType(mt, params)
	if out == "" || len(out) > MaxContentType || !utf8.ValidString(out) {
		return DefaultContentType
	}
	return out
}

// TooLargeError is returned by BlobStore.Put (and Upload) when the content
// is larger than the limit. Nothing is stored.
type TooLargeError struct {
	Max int64 // the limit in bytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the file is larger than the limit of %d bytes", e.Max)
}

// BlobStore keeps the bytes of attachments, named by their SHA-256. Two
// implementations exist: a folder (package blob) and an S3-compatible
// object store (package objstore); internal/blob's contract tests run one
// table against both.
type BlobStore interface {
	// Put reads r to its end and stores it. It returns the hex SHA-256 and
	// the size; more than max bytes is *TooLargeError. An error from r is
	// returned as is. On any error nothing is kept. When Put returns nil the
	// bytes are on stable storage.
	Put(ctx context.Context, r io.Reader, max int64) (sha256 string, size int64, err error)
	// Open returns the stored bytes of a SHA-256 and their size. The
	// reader seeks (Range requests) and may keep using ctx while it is
	// read; the caller closes it. A SHA-256 that is not 64 lower-case hex
	// digits is apperr.NotFound; a valid one without bytes is an internal
	// error (a row leads to every blob that is opened).
	Open(ctx context.Context, sha256 string) (io.ReadSeekCloser, int64, error)
}

// Incidents reads incidents through the visibility rule (incident.Service).
type Incidents interface {
	// Get returns an incident p may see, by ID or reference; apperr.NotFound otherwise.
	Get(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
}

// Store is the persistence of attachment metadata. Its reads return only
// attachments of incidents p may see.
type Store interface {
	// InEvidenceTx runs fn in one database transaction.
	InEvidenceTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Attachments returns a page of an incident's attachments, oldest first,
	// and the cursor of the next page ("" on the last page).
	Attachments(ctx context.Context, p access.Principal, incidentID uuid.UUID, page incident.Page) ([]Attachment, string, error)
	// Attachment returns one attachment of an incident; apperr.NotFound when
	// it does not exist, belongs to another incident or p may not see the
	// incident.
	Attachment(ctx context.Context, p access.Principal, incidentID, id uuid.UUID) (*Attachment, error)
}

// Tx is what an evidence use case may do inside a transaction.
type Tx interface {
	// LockIncident reads an incident p may see (by UUID or reference) and
	// locks it until the end of the transaction.
	LockIncident(ctx context.Context, p access.Principal, idOrRef string) (*incident.Incident, error)
	// InsertAttachment records an attachment.
	InsertAttachment(ctx context.Context, a *Attachment) error
	// AppendEvent adds a timeline event; it fills ID and RecordedAt.
	AppendEvent(ctx context.Context, ev *incident.Event) error
}
