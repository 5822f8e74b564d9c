// Package arch holds the test of certdesk's import rules
// (docs/architecture.md, "Dependencies"): which package may import what.
// It has no code of its own.
package arch
