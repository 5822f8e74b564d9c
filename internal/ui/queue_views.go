package ui

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// queueViewSave saves the view the person is looking at (the form's view)
// under a name; a view of the same name is replaced. An error comes back
// on the queue with the name typed.
func (u *UI) queueViewSave(c echo.Context) error {
	cur := current(c)
	raw, _ := url.ParseQuery(c.FormValue("view"))
	q := parseQueueQuery(raw)
	name := c.FormValue("name")
	if _, err := u.o.Triage.SaveView(c.Request().Context(), cur.Principal, name, q.values(false).Encode(), u.now()); err != nil {
		p := u.newPage(c, "queue", "queue.title")
		fe, err := u.formErrors(p.L, err)
		if err != nil {
			return err
		}
		for i := range fe {
			fe[i].Field = "view-" + fe[i].Field
		}
		p.Errors = fe
		return u.renderQueue(c, p, q, nil, bulkForm{}, name, http.StatusUnprocessableEntity)
	}
	v := q.values(false)
	v.Set("saved", "1")
	return c.Redirect(http.StatusSeeOther, "/queue?"+v.Encode())
}

// queueViewDelete deletes one of the person's saved views and returns to
// the queue.
func (u *UI) queueViewDelete(c echo.Context) error {
	if err := u.o.Triage.DeleteView(c.Request().Context(), current(c).Principal, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/queue")
}
