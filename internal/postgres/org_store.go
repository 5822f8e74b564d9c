package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

var _ org.Store = (*Store)(nil)

// validSlug is organizations_slug_check.
var validSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// orgRow is the organizations table.
type orgRow struct {
	ID           uuid.UUID
	Slug         string
	Name         string
	Kind         string
	ParentID     *uuid.UUID
	Country      string
	Region       string
	Sector       string
	NIS2Class    string `gorm:"column:nis2_class"`
	ChatChannel  string
	ContactEmail string
	ContactPhone string
	TimeZone     string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	ParentSlug   *string `gorm:"->"`
}

func (orgRow) TableName() string { return "organizations" }

func (r orgRow) domain() org.Organization {
	o := org.Organization{ID: r.ID, Slug: r.Slug, Name: r.Name, Kind: org.Kind(r.Kind), ParentID: r.ParentID,
		Country: r.Country, Region: r.Region, Sector: r.Sector, NIS2Class: r.NIS2Class, ChatChannel: r.ChatChannel,
		ContactEmail: r.ContactEmail, ContactPhone: r.ContactPhone, TimeZone: r.TimeZone, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.ParentSlug != nil {
		o.ParentSlug = *r.ParentSlug
	}
	return o
}

const orgSelect = `SELECT o.*, p.slug AS parent_slug FROM organizations o LEFT JOIN organizations p ON p.id = o.parent_id`

func orgAudit(a org.Actor, action audit.Action, slug string, data any) audit.Entry {
	b, _ := json.Marshal(data)
	return audit.Entry{ActorUserID: a.UserID, Actor: a.Name, Action: action, TargetType: "organization", TargetID: slug,
		RemoteAddr: a.RemoteAddr, Data: b}
}

// CreateOrg implements org.Store.
func (s *Store) CreateOrg(ctx context.Context, a org.Actor, o *org.Organization) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if o.ID == uuid.Nil {
			o.ID = uuid.New()
		}
		if o.TimeZone == "" {
			o.TimeZone = "UTC"
		}
		row := orgRow{ID: o.ID, Slug: o.Slug, Name: o.Name, Kind: string(o.Kind), ParentID: o.ParentID, Country: o.Country,
			Region: o.Region, Sector: o.Sector, NIS2Class: o.NIS2Class, ChatChannel: o.ChatChannel, ContactEmail: o.ContactEmail,
			ContactPhone: o.ContactPhone, TimeZone: o.TimeZone}
		if err := tx.WithContext(ctx).Omit("CreatedAt", "UpdatedAt", "ParentSlug").Create(&row).Error; err != nil {
			if isConstraint(err, "organizations_parent_id_fkey") {
				return apperr.Fields{{Field: "parent", Rule: "exists", Message: "no such organisation"}}.Err()
			}
			return translate(err, "insert organisation")
		}
		err := tx.WithContext(ctx).Exec(`INSERT INTO org_closure (ancestor_id, descendant_id, depth)
			SELECT ancestor_id, ?, depth + 1 FROM org_closure WHERE descendant_id = ?
			UNION ALL SELECT ?::uuid, ?::uuid, 0`, o.ID, o.ParentID, o.ID, o.ID).Error
		if err != nil {
			return translate(err, "insert organisation closure")
		}
		return insertAudit(ctx, tx, orgAudit(a, audit.OrgCreated, o.Slug, map[string]any{"kind": o.Kind, "name": o.Name, "parent_id": o.ParentID}))
	})
}

// UpdateOrg implements org.Store.
func (s *Store) UpdateOrg(ctx context.Context, a org.Actor, o *org.Organization, moved bool, changes map[string]any) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.WithContext(ctx).Table("organizations").Where("id = ?", o.ID).Updates(map[string]any{
			"name": o.Name, "parent_id": o.ParentID, "country": o.Country, "region": o.Region, "sector": o.Sector,
			"nis2_class": o.NIS2Class, "chat_channel": o.ChatChannel, "contact_email": o.ContactEmail,
			"contact_phone": o.ContactPhone, "time_zone": o.TimeZone, "updated_at": gorm.Expr("now()"),
		}).Error
		if err != nil {
			return translate(err, "update organisation")
		}
		if moved {
			// Detach the subtree from its old ancestors, then attach it below
			// the new parent: every (new ancestor, subtree member) pair.
			if err := tx.WithContext(ctx).Exec(`DELETE FROM org_closure c
				WHERE c.descendant_id IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = ?)
				  AND c.ancestor_id NOT IN (SELECT descendant_id FROM org_closure WHERE ancestor_id = ?)`, o.ID, o.ID).Error; err != nil {
				return translate(err, "move organisation")
			}
			if o.ParentID != nil {
				if err := tx.WithContext(ctx).Exec(`INSERT INTO org_closure (ancestor_id, descendant_id, depth)
					SELECT up.ancestor_id, down.descendant_id, up.depth + down.depth + 1
					FROM org_closure up, org_closure down
					WHERE up.descendant_id = ? AND down.ancestor_id = ?`, *o.ParentID, o.ID).Error; err != nil {
					return translate(err, "move organisation")
				}
			}
		}
		if s.orgChanged != nil {
			_, sector := changes["sector"]
			_, zone := changes["time_zone"]
			if moved || sector || zone {
				stx, err := SQLTx(tx)
				if err != nil {
					return err
				}
				tn := &txn{db: tx, sql: stx, store: s}
				if err := s.orgChanged(ctx, tn, stats.OrgChange{OrgID: o.ID, Moved: moved, Sector: sector, TimeZone: zone}); err != nil {
					return fmt.Errorf("keep the metrics: %w", err)
				}
			}
		}
		return insertAudit(ctx, tx, orgAudit(a, audit.OrgChanged, o.Slug, changes))
	})
}

// CreateOrganization creates an organisation as the system (the CLI, the
// demo, tests).
func (s *Store) CreateOrganization(ctx context.Context, o *org.Organization) error {
	return s.CreateOrg(ctx, org.Actor{System: true, Name: "certdesk"}, o)
}

// OrganizationBySlug returns one organisation. Not found: apperr.NotFound.
func (s *Store) OrganizationBySlug(ctx context.Context, slug string) (*org.Organization, error) {
	return orgBySlug(ctx, s.db, slug)
}

// Org implements org.Store.
func (s *Store) Org(ctx context.Context, slug string) (*org.Organization, error) {
	return orgBySlug(ctx, s.db, slug)
}

func orgBySlug(ctx context.Context, db *gorm.DB, slug string) (*org.Organization, error) {
	if !validSlug.MatchString(slug) { // cannot exist (the column has the same check)
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", strings.ToValidUTF8(slug, "?"))
	}
	var rows []orgRow
	if err := db.WithContext(ctx).Raw(orgSelect+" WHERE o.slug = ?", slug).Scan(&rows).Error; err != nil {
		return nil, translate(err, "load organisation")
	}
	if len(rows) == 0 {
		return nil, apperr.New(apperr.NotFound, "organisation %q not found", slug)
	}
	o := rows[0].domain()
	return &o, nil
}

// Orgs implements org.Store.
func (s *Store) Orgs(ctx context.Context, ids []uuid.UUID) ([]org.Organization, error) {
	q, args := orgSelect+" ORDER BY o.slug", []any{}
	if ids != nil {
		q, args = orgSelect+" WHERE o.id IN ? ORDER BY o.slug", []any{ids}
	}
	return scanOrgs(s.db.WithContext(ctx).Raw(q, args...))
}

// Descendants implements org.Store.
func (s *Store) Descendants(ctx context.Context, id uuid.UUID) ([]org.Organization, error) {
	return scanOrgs(s.db.WithContext(ctx).Raw(orgSelect+` JOIN org_closure c ON c.descendant_id = o.id
		WHERE c.ancestor_id = ? AND c.depth > 0 ORDER BY c.depth, o.slug`, id))
}

// IsDescendant implements org.Store.
func (s *Store) IsDescendant(ctx context.Context, ancestor, id uuid.UUID) (bool, error) {
	var ok bool
	err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM org_closure WHERE ancestor_id = ? AND descendant_id = ?)`, ancestor, id).Scan(&ok).Error
	return ok, translate(err, "check constituency")
}

func scanOrgs(q *gorm.DB) ([]org.Organization, error) {
	var rows []orgRow
	if err := q.Scan(&rows).Error; err != nil {
		return nil, translate(err, "list organisations")
	}
	out := make([]org.Organization, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

func (t *txn) OrgBySlug(ctx context.Context, slug string) (*org.Organization, error) {
	return orgBySlug(ctx, t.db, slug)
}
