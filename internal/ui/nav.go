package ui

import (
	"slices"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
)

// navItem is one entry of the navigation.
type navItem struct {
	Key     string // message key of its label
	Href    string
	Current bool
}

// navigation lists the navigation's entries and the roles that see them
// (none listed: every role). The reporter's "Our reports", the
// responder's queue and the leadership dashboard are added here by the
// pages that bring them.
var navigation = []struct {
	key, href string
	roles     []access.Role
}{
	{"nav.our_reports", "/reports", []access.Role{access.Reporter}},
	{"nav.report", "/report", []access.Role{access.Reporter, access.Responder, access.Coordinator, access.Admin}},
	{"nav.incidents", "/incidents", nil},
	{"nav.account", "/account", nil},
}

// navFor returns the navigation of role, marking the entry of path.
func navFor(role access.Role, path string) []navItem {
	var out []navItem
	for _, n := range navigation {
		if len(n.roles) > 0 && !slices.Contains(n.roles, role) {
			continue
		}
		out = append(out, navItem{Key: n.key, Href: n.href, Current: path == n.href || strings.HasPrefix(path, n.href+"/")})
	}
	return out
}

// landing is where a role lands after signing in: reporters on "Our
// reports"; every other role on the incident list for now (responders
// will land on their queue and viewers on the dashboard when those pages
// exist).
func landing(r access.Role) string {
	if r == access.Reporter {
		return "/reports"
	}
	return "/incidents"
}
