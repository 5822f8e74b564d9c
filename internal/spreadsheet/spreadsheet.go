// Package spreadsheet defuses cells of the CSV files certdesk writes (the
// API's export and the web UI's queue), so that text an attacker wrote —
// an incident's title — cannot run as a formula in the reader's
// spreadsheet (OWASP, "CSV injection").
package spreadsheet

import (
	"strings"
	"unicode"
)

// Safe prefixes with a quote every cell a spreadsheet would run as a
// formula: one that starts with a tab or a carriage return, or whose
// first visible character is = + - or @ (after any white space, line
// breaks and zero-width characters, which spreadsheets skip). It changes
// cells in place and returns them.
func Safe(cells []string) []string {
	for i, v := range cells {
		if FormulaLike(v) {
			cells[i] = "'" + v
		}
	}
	return cells
}

// FormulaLike reports whether a spreadsheet would read v as a formula.
func FormulaLike(v string) bool {
	if v == "" {
		return false
	}
	if v[0] == '\t' || v[0] == '\r' {
		return true
	}
	rest := strings.TrimLeftFunc(v, func(r rune) bool { return unicode.IsSpace(r) || invisible(r) })
	return rest != "" && strings.ContainsRune("=+-@", rune(rest[0]))
}

// invisible reports the zero-width characters a spreadsheet ignores before
// a formula: zero-width space, non-joiner and joiner, the word joiner and
// the byte-order mark.
func invisible(r rune) bool {
	return (r >= '\u200b' && r <= '\u200d') || r == '\u2060' || r == '\ufeff'
}
