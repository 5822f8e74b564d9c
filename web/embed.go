// Package web holds the web UI's files, embedded in the binary: the
// message catalogue of every language (internal/i18n) and the static
// files.
package web

import "embed"

// Static holds the files served under /static/ and the landing page.
//
//go:embed static
var Static embed.FS

// I18n holds the message catalogue: one <language>.json per language.
//
//go:embed i18n
var I18n embed.FS
