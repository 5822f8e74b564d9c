// Package playbooks holds the playbooks certdesk ships, embedded.
package playbooks

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

// FS returns the shipped playbooks: every *.yaml file of this folder.
func FS() fs.FS { return files }
