// Package migrations holds certdesk's versioned SQL migrations, embedded in
// the binary. They are applied by goose after River's own migrations.
package migrations

import "embed"

// FS holds the migration files, named NNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
