// Package org holds organisations and their constituency tree.
package org

import (
	"time"

	"github.com/google/uuid"
)

// Kind is the kind of an organisation.
type Kind string

// The organisation kinds. CERTs form the tree; local authorities and
// operators are its leaves; partners stand outside it.
const (
	NationalCERT   Kind = "national_cert"
	RegionalCERT   Kind = "regional_cert"
	LocalAuthority Kind = "local_authority"
	Operator       Kind = "operator"
	Partner        Kind = "partner"
)

// Kinds lists every kind, for validation messages.
var Kinds = []Kind{NationalCERT, RegionalCERT, LocalAuthority, Operator, Partner}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

// IsCERT reports whether organisations of kind k have a constituency.
func (k Kind) IsCERT() bool { return k == NationalCERT || k == RegionalCERT }

// Organization is one organisation of the directory.
type Organization struct {
	ID           uuid.UUID
	Slug         string
	Name         string
	Kind         Kind
	ParentID     *uuid.UUID
	ParentSlug   string // filled on reads
	Country      string // ISO 3166-1 alpha-2, e.g. "DE"
	Region       string
	Sector       string // one of Sectors, or ""
	NIS2Class    string // Essential, Important or ""
	ChatChannel  string // Slack channel ID
	ContactEmail string
	ContactPhone string // for emergencies, e.g. "+49 30 1234 5678"; the help page shows the responsible CERT's
	TimeZone     string // IANA name, e.g. "Europe/Berlin"
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Sectors are the NIS2 sectors (as in the MISP nis2 taxonomy's
// impact-sectors-impacted), for an organisation's sector.
var Sectors = []string{"energy", "transport", "banking", "financial", "health", "drinking-water", "waste-water",
	"digital-infrastructure", "ict-services", "public-administration", "space", "courier", "waste-management",
	"chemical", "food", "manufacturing", "digital-providers", "research"}

// NIS2 entity classes.
const (
	Essential = "essential"
	Important = "important"
)
