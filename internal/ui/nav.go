package ui

import (
	"strings"

	"github.com/certdesk/certdesk/internal/access"
)

// navItem is one entry of the navigation.
type navItem struct {
	Key     string // message key of its label
	Href    string
	Current bool
	Count   string // a number beside the label ("3" open requests), or ""
}

// navigation lists the navigation's entries and who sees them (show nil:
// everyone).
var navigation = []struct {
	key, href string
	show      func(p access.Principal) bool
}{
	{"nav.queue", "/queue", worksQueue},
	{"nav.our_reports", "/reports", hasRole(access.Reporter)},
	{"nav.report", "/report", hasRole(access.Reporter, access.Responder, access.Coordinator, access.Admin)},
	{"nav.escalations", "/escalations", hasRole(access.Responder, access.Coordinator, access.Admin)}, // escalation_nav.go counts the open ones
	{"nav.dashboard", "/dashboard", nil},                                                             // every role reads incidents, so every role has figures
	{"nav.incidents", "/incidents", nil},
	{"nav.admin", "/admin", hasRole(access.Admin)}, // administration (docs/ui.md, "Administration")
	{"nav.account", "/account", nil},
}

// hasRole is a navigation rule: the entry is for these roles.
func hasRole(rs ...access.Role) func(access.Principal) bool {
	return func(p access.Principal) bool {
		for _, r := range rs {
			if p.Role == r {
				return true
			}
		}
		return false
	}
}

// worksQueue reports whether p works a CERT's triage queue: the
// responders, coordinators and administrators of a national or regional
// CERT.
func worksQueue(p access.Principal) bool {
	return p.OrgKind.IsCERT() && (p.Role == access.Responder || p.Role == access.Coordinator || p.Role == access.Admin)
}

// navFor returns the navigation of p, marking the entry of path.
func navFor(p access.Principal, path string) []navItem {
	var out []navItem
	for _, n := range navigation {
		if n.show != nil && !n.show(p) {
			continue
		}
		out = append(out, navItem{Key: n.key, Href: n.href, Current: path == n.href || strings.HasPrefix(path, n.href+"/")})
	}
	return out
}

// landing is where a person lands after signing in: a CERT's responders,
// coordinators and administrators on the triage queue, reporters on "Our
// reports", viewers (leadership) on the dashboard, everyone else on the
// incident list.
func landing(p access.Principal) string {
	if worksQueue(p) {
		return "/queue"
	}
	switch p.Role {
	case access.Reporter:
		return "/reports"
	case access.Viewer:
		return "/dashboard"
	}
	return "/incidents"
}
