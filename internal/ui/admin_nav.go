package ui

import (
	"strings"

	"github.com/certdesk/certdesk/internal/access"
)

// adminNavigation is the sub-navigation of the administration pages
// (partials/admin_nav.html), for administrators (show nil: every
// administrator). The directory's pages (organisations, users, teams) and
// administration II's (deliveries, audit log) share it.
var adminNavigation = []struct {
	key, href string
	show      func(p access.Principal) bool
}{
	{"admin.nav.overview", "/admin", nil},
	{"admin.nav.organisations", "/admin/organisations", nil},
	{"admin.nav.users", "/admin/users", nil},
	{"admin.nav.teams", "/admin/teams", func(p access.Principal) bool { return p.OrgKind.IsCERT() }},
	{"admin.nav.deliveries", "/admin/deliveries", nil},
	// The organisation's own identity provider (admin_sso.go).
	{"oidc.admin.nav", "/admin/identity-provider", nil},
	{"admin.nav.audit", "/admin/audit", func(p access.Principal) bool { return p.Can(access.ReadAudit) }}, // the national CERT's administrators
	// River's web UI of the background jobs (jobs.go), a page of its own.
	{"admin.nav.jobs", JobsPrefix + "/", func(p access.Principal) bool { return p.Can(access.OperateJobs) }},
	// The playbook catalogue (admin_playbooks.go).
	{"playbooks.nav", "/admin/playbooks", nil},
}

// adminNavFor returns the administration sub-navigation of p on path
// (nil outside /admin or for anyone but an administrator), marking the
// entry whose address is the longest prefix of path. The pages of one
// organisation's users count as users.
func adminNavFor(p access.Principal, path string) []navItem {
	if p.Role != access.Admin || (path != "/admin" && !strings.HasPrefix(path, "/admin/")) {
		return nil
	}
	if strings.HasPrefix(path, "/admin/organisations/") && strings.HasSuffix(path, "/users") {
		path = "/admin/users"
	}
	best := -1
	var out []navItem
	for _, n := range adminNavigation {
		if n.show != nil && !n.show(p) {
			continue
		}
		out = append(out, navItem{Key: n.key, Href: n.href})
		if (path == n.href || strings.HasPrefix(path, n.href+"/")) && (best < 0 || len(n.href) > len(out[best].Href)) {
			best = len(out) - 1
		}
	}
	if best >= 0 {
		out[best].Current = true
	}
	return out
}
