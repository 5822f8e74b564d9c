// Package web holds the web UI's files, embedded in the binary.
package web

import "embed"

// Static holds the files served under /static/ and the landing page.
//
//go:embed static
var Static embed.FS
