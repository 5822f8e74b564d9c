// Package web holds the web UI's files, embedded in the binary: the
// templates (parsed once at start-up by internal/ui), the message
// catalogue of every language (internal/i18n) and the static files
// (style sheet, script, icon).
package web

import "embed"

// Static holds the files served under /static/.
//
//go:embed static
var Static embed.FS

// Templates holds the HTML templates: layout.html, partials/*.html and
// one pages/<page>.html per page.
//
//go:embed templates
var Templates embed.FS

// I18n holds the message catalogue: one <language>.json per language.
//
//go:embed i18n
var I18n embed.FS
