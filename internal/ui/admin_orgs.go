package ui

import (
	"net/http"
	"sort"

	"github.com/certdesk/certdesk/internal/org"
	"github.com/labstack/echo/v4"
)

// orgNode is one organisation of the drawn tree.
type orgNode struct {
	Org org.Organization
	// Red: for a CERT, how many TLP:RED recipients it designated and
	// whether its TLP:RED incidents fall back (RedMissing); other kinds
	// designate none (RedApplies false).
	RedApplies bool
	RedCount   int
	RedMissing bool
	Children   []*orgNode
}

type adminOrgsView struct {
	Roots   []*orgNode
	MayAdd  bool // some managed organisation is a CERT, so something can be created below it
	Managed int
}

// adminOrgs draws the organisations the administrator manages as a tree:
// each with its kind, chat channel and TLP:RED recipients, and links to
// change it, its users and its recipients.
func (u *UI) adminOrgs(c echo.Context) error {
	p, err := adminPrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	orgs, err := u.o.Orgs.ManagedOrgs(ctx, p.OrgActor())
	if err != nil {
		return err
	}
	nodes := map[string]*orgNode{}
	v := adminOrgsView{Managed: len(orgs)}
	for _, o := range orgs {
		n := &orgNode{Org: o}
		if o.Kind.IsCERT() {
			v.MayAdd = true
			r, err := u.o.Incidents.RedRecipients(ctx, p, o.Slug)
			if err != nil {
				return err
			}
			n.RedApplies, n.RedCount, n.RedMissing = true, len(r.Designated), r.Undesignated()
		}
		nodes[o.Slug] = n
	}
	for _, o := range orgs {
		n := nodes[o.Slug]
		if parent, ok := nodes[o.ParentSlug]; ok && o.ParentSlug != "" {
			parent.Children = append(parent.Children, n)
		} else {
			v.Roots = append(v.Roots, n)
		}
	}
	byName := func(ns []*orgNode) {
		sort.SliceStable(ns, func(i, j int) bool {
			// CERTs first, then by name.
			if ci, cj := ns[i].Org.Kind.IsCERT(), ns[j].Org.Kind.IsCERT(); ci != cj {
				return ci
			}
			return ns[i].Org.Name < ns[j].Org.Name
		})
	}
	byName(v.Roots)
	for _, n := range nodes {
		byName(n.Children)
	}
	pg := u.newPage(c, "admin_orgs", "admin.orgs.title")
	switch c.QueryParam("done") {
	case "saved":
		pg.Notice = pg.L.T("admin.orgs.saved")
	case "red":
		pg.Notice = pg.L.T("admin.red.saved")
	}
	pg.Data = v
	return u.render(c, http.StatusOK, pg)
}
