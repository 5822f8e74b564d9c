package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// CreateOrganization inserts an organisation and its rows of the closure
// table in one transaction. It fills o.ID, CreatedAt and UpdatedAt.
func (s *Store) CreateOrganization(ctx context.Context, o *org.Organization) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return createOrganization(ctx, tx, o)
	})
}

func createOrganization(ctx context.Context, tx *gorm.DB, o *org.Organization) error {
	if o.ID == uuid.Nil {
		o.ID = uuid.New()
	}
	row := orgRow{ID: o.ID, Slug: o.Slug, Name: o.Name, Kind: string(o.Kind), ParentID: o.ParentID}
	if err := tx.WithContext(ctx).Create(&row).Error; err != nil {
		if isConstraint(err, "organizations_parent_id_fkey") {
			return &apperr.Error{Code: apperr.Invalid, Message: "the parent organisation does not exist",
				Fields: []apperr.FieldError{{Field: "parent", Rule: "exists", Message: "no such organisation"}}, Err: err}
		}
		return translate(err, "insert organisation")
	}
	o.CreatedAt, o.UpdatedAt = row.CreatedAt.UTC(), row.UpdatedAt.UTC()
	err := tx.WithContext(ctx).Exec(`INSERT INTO org_closure (ancestor_id, descendant_id, depth)
		SELECT ancestor_id, ?, depth + 1 FROM org_closure WHERE descendant_id = ?
		UNION ALL SELECT ?::uuid, ?::uuid, 0`, o.ID, o.ParentID, o.ID, o.ID).Error
	return translate(err, "insert organisation closure")
}

// OrganizationBySlug returns one organisation. Not found: apperr.NotFound.
func (s *Store) OrganizationBySlug(ctx context.Context, slug string) (*org.Organization, error) {
	var rows []orgRow
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).Limit(1).Find(&rows).Error; err != nil {
		return nil, translate(err, "load organisation")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
	}
	o := rows[0].domain()
	return &o, nil
}
