package ui

import (
	"net/http"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/cacao"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/labstack/echo/v4"
)

// adminPlaybooksView is the data of the playbook catalogue page
// (pages/admin_playbooks.html).
type adminPlaybooksView struct {
	Entries []catalogueEntry
	Valid   int
	Invalid int
}

// catalogueEntry is one playbook file of the catalogue with its
// validation result.
type catalogueEntry struct {
	ID          string
	Name        string
	Description string
	Version     int
	File        string
	Origin      playbook.Origin
	Replaces    string
	Valid       bool
	Errors      []string // file:line:col message, as the loader reports them
	Triggers    []string
	Steps       int
	SHA256      string
}

// adminPlaybooks lists the playbook catalogue (playbook.Service.Entries):
// every file, shipped or local, with its validation result; a file that
// does not validate lists its problems as file:line:col message. It is
// for administrators and for the people of a CERT (who run playbooks);
// others get the 404 page.
func (u *UI) adminPlaybooks(c echo.Context) error {
	pr := current(c).Principal
	if !showsRuns(pr) {
		return apperr.New(apperr.NotFound, "page not found")
	}
	p := u.newPage(c, "admin_playbooks", "playbooks.title")
	v := adminPlaybooksView{}
	for _, e := range u.o.Playbooks.Entries() {
		ce := catalogueEntry{ID: e.ID, File: e.File, Origin: e.Origin, Replaces: e.Replaces, Valid: e.Valid, SHA256: e.SHA256}
		if len(ce.SHA256) > 12 {
			ce.SHA256 = ce.SHA256[:12]
		}
		if pb := e.Playbook; pb != nil {
			ce.Name, ce.Description, ce.Version, ce.Steps = pb.Name, strings.TrimSpace(pb.Description), pb.Version, len(pb.Steps)
			for _, t := range pb.Triggers {
				s := triggerText(p.L, t.On)
				if t.When != nil {
					s += " — " + t.When.Source
				}
				ce.Triggers = append(ce.Triggers, s)
			}
		}
		for _, pe := range e.Errors {
			ce.Errors = append(ce.Errors, pe.Error())
		}
		if e.Valid {
			v.Valid++
		} else {
			v.Invalid++
		}
		v.Entries = append(v.Entries, ce)
	}
	p.Data = v
	return u.render(c, http.StatusOK, p)
}

// adminPlaybookCACAO downloads a valid playbook of the catalogue as a
// CACAO v2 playbook: the same file as the API's
// GET /api/v1/playbooks/{id}/cacao, for the people the catalogue page is
// for (others get the 404 page). An invalid playbook is apperr.Conflict.
func (u *UI) adminPlaybookCACAO(c echo.Context) error {
	if !showsRuns(current(c).Principal) {
		return apperr.New(apperr.NotFound, "page not found")
	}
	pb, err := u.o.Playbooks.Playbook(c.Param("id"))
	if err != nil {
		return err
	}
	body, err := cacao.Marshal(pb)
	if err != nil {
		return apperr.Wrap(err, "CACAO export")
	}
	download(c, pb.ID+".cacao.json", "TLP:CLEAR")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}
