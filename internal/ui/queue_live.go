package ui

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// liveLimit is how many changed incidents one poll of the live queue
// returns; more than that, and queue.js offers to reload the page.
const liveLimit = 20

// liveOverlap reaches back before the last poll, for changes that were
// written (stamped with their time) before the last poll but committed
// after it; queue.js ignores a row it already shows at that version.
const liveOverlap = 5 * time.Second

// liveJSON is the answer to one poll of the live queue.
type liveJSON struct {
	Now  string    `json:"now"`  // pass it back as since
	More bool      `json:"more"` // more changed than one answer holds: reload
	Rows []liveRow `json:"rows"`
}

type liveRow struct {
	Reference string `json:"reference"`
	Version   int64  `json:"version"`
	Row       string `json:"row"` // the row's HTML
}

// queueLive is what queue.js polls, about every second, while a queue is
// open: the incidents of the same view changed since the last poll
// (since), newest first, each as its row's HTML. It is one query on the
// (updated_at, id) index with the view's conditions and the visibility
// rule; only when something changed are the rows' organisations and
// assignees read to render them. The poll does not count as activity:
// an open queue does not keep the session alive.
func (u *UI) queueLive(c echo.Context) error {
	cur := current(c)
	l := u.locale(c)
	q := parseQueueQuery(c.QueryParams())
	since, err := time.Parse(time.RFC3339Nano, c.QueryParam("since"))
	if err != nil || since.After(l.Now) {
		since = l.Now
	}
	since = since.Add(-liveOverlap)
	f := q.filter(cur.Principal)
	f.UpdatedAfter, f.Sort = &since, incident.SortUpdatedDesc
	out := liveJSON{Now: l.Now.UTC().Format(time.RFC3339Nano), Rows: []liveRow{}}
	if cur.Principal.OrgKind.IsCERT() {
		list, next, err := u.o.Incidents.List(c.Request().Context(), cur.Principal, f, incident.Page{Limit: liveLimit})
		if err != nil {
			return err
		}
		out.More = next != ""
		if len(list) > 0 {
			rc, err := u.rowContext(c, cur.Principal, list)
			if err != nil {
				return err
			}
			for i := range list {
				html, err := u.rowHTML(c, l, rc, &list[i])
				if err != nil {
					return err
				}
				out.Rows = append(out.Rows, liveRow{Reference: list[i].Reference, Version: list[i].Version, Row: html})
			}
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, out)
}

// background marks a request that a page's script makes by itself (the
// live queue's polls): identify then does not count it as the person's
// activity. It runs before identify.
func (u *UI) background(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(backgroundKey, true)
		return next(c)
	}
}
