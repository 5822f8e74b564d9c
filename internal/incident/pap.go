package incident

import (
	"slices"
	"strings"
)

// PAP is a Permissible Actions Protocol label: what a recipient may do
// with the information (the MISP "PAP" taxonomy, version 3). TLP says whom
// information may reach; PAP says which actions it may drive.
type PAP string

// The PAP labels, most restrictive first.
const (
	// PAPRed: non-detectable actions only; passive use of logs, nothing
	// on the network.
	PAPRed PAP = "PAP:RED"
	// PAPAmber: passive cross checks, such as third-party services (whois)
	// or a monitoring honeypot.
	PAPAmber PAP = "PAP:AMBER"
	// PAPGreen: active actions allowed: ping, block, interact.
	PAPGreen PAP = "PAP:GREEN"
	// PAPClear: no restrictions.
	PAPClear PAP = "PAP:CLEAR"
)

// PAPs lists the labels, most restrictive first.
var PAPs = []PAP{PAPRed, PAPAmber, PAPGreen, PAPClear}

// DefaultPAP is the label of an incident created without one: PAP:AMBER,
// passive cross checks only, the default of the common CERT tools (TheHive
// among them) and the cautious choice for a report nobody has assessed yet.
const DefaultPAP = PAPAmber

// ParsePAP accepts a label with or without the "PAP:" prefix, in any case,
// and the taxonomy's older PAP:WHITE as PAP:CLEAR.
func ParsePAP(s string) (PAP, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "PAP:") {
		u = "PAP:" + u
	}
	if u == "PAP:WHITE" {
		u = string(PAPClear)
	}
	p := PAP(u)
	return p, slices.Contains(PAPs, p)
}

// Valid reports whether p is a known label in canonical form.
func (p PAP) Valid() bool { return slices.Contains(PAPs, p) }

// Level is the label without its "PAP:" prefix ("AMBER"), as CSS classes
// and the STIX marking name it.
func (p PAP) Level() string { return strings.TrimPrefix(string(p), "PAP:") }

// PAPRuleMessage is the message of a PAP label that is not one: it names
// the field and the labels allowed.
func PAPRuleMessage(field string) string {
	return field + " must be one of: " + list(PAPs)
}
