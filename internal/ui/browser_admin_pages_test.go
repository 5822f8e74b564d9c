package ui_test

import (
	"context"
	"strings"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
)

// signInAs signs the tab in as email, signing out whoever is signed in.
func (b *tab) signInAs(email, pw string) {
	b.t.Helper()
	b.open("/account")
	if !strings.Contains(b.location(), "/signin") {
		b.submit(`.signout-form button`)
	}
	b.signIn(email, pw)
}

// The administration pages in the shared walk (axe-core, screenshots,
// German, 320 px reflow), as CERT North's administrator, then a city's
// administrator (signed in as whom it ends: the next walk signs in as
// the person it needs).
func init() {
	walks["admin"] = func(w *demoWorld) []visit {
		userPage := func(b *tab, email string) string {
			u, err := w.h.App.Identity.UserByEmail(context.Background(), access.System, email)
			if err != nil {
				panic(err)
			}
			return "/admin/users/" + u.ID.String()
		}
		return []visit{
			{"admin", func(b *tab) { b.signInAs("admin@cert-north.demo", app.DemoPassword); b.open("/admin") }},
			{"admin-organisations", func(b *tab) { b.open("/admin/organisations") }},
			{"admin-organisation-new", func(b *tab) { b.open("/admin/organisations/new?parent=cert-north") }},
			{"admin-organisation-new-error", func(b *tab) {
				b.fill("#name", "Stadt Flusstal", "#slug", "Stadt Flusstal", "#chat_channel", "#allgemein", "#contact_email", "it at flusstal")
				b.submit(`form[action="/admin/organisations"] button[type=submit]`)
			}},
			{"admin-organisation-edit", func(b *tab) { b.open("/admin/organisations/city-northbridge/edit") }},
			{"admin-users", func(b *tab) { b.open("/admin/users") }},
			{"admin-organisation-users", func(b *tab) { b.open("/admin/organisations/city-northbridge/users") }},
			{"admin-user-add-error", func(b *tab) {
				b.fill("#name", "Ohne Adresse", "#email", "keine-adresse")
				b.submit(`form[action="/admin/organisations/city-northbridge/users"] button[type=submit]`)
			}},
			{"admin-user-added", func(b *tab) {
				b.fill("#name", "Walk Newcomer", "#email", "newcomer@city-northbridge.demo")
				b.submit(`form[action="/admin/organisations/city-northbridge/users"] button[type=submit]`)
			}},
			{"admin-user", func(b *tab) { b.open(userPage(b, "responder@cert-north.demo")) }},
			{"admin-user-reset-link", func(b *tab) { b.submit(`form[action$="/reset-link"] button`) }},
			{"admin-user-disable", func(b *tab) { b.open(userPage(b, "newcomer@city-northbridge.demo") + "/disable") }},
			{"admin-user-disabled", func(b *tab) { b.submit(`#confirm`) }},
			{"admin-teams", func(b *tab) {
				b.open("/admin/teams")
				b.fill("#team_name", "Rufbereitschaft")
				b.submit(`form[action="/admin/teams"] button[type=submit]`)
			}},
			{"admin-teams-error", func(b *tab) {
				b.fill("#team_name", "rufbereitschaft")
				b.submit(`form[action="/admin/teams"] button[type=submit]`)
			}},
			{"admin-team-delete", func(b *tab) { b.open("/admin/teams"); b.submit(`a[href$="/delete"]`) }},
			{"admin-red-recipients", func(b *tab) { b.open("/admin/organisations/cert-north/red-recipients") }},
			{"admin-red-recipients-city", func(b *tab) { b.open("/admin/organisations/city-northbridge/red-recipients") }},
			{"account-tokens", func(b *tab) { b.open("/account/tokens") }},
			{"account-token-created", func(b *tab) {
				b.fill("#name", "Ticketsystem")
				b.submit(`form[action="/account/tokens"] button[type=submit]`)
			}},
			{"admin-city", func(b *tab) {
				b.signInAs("admin@city-northbridge.demo", app.DemoPassword)
				b.open("/admin")
			}},
			{"admin-city-organisations", func(b *tab) { b.open("/admin/organisations") }},
		}
	}
}
