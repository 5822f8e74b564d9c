package ui

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/labstack/echo/v4"
)

// deliveryRow is one notification of the delivery log.
type deliveryRow struct {
	Created   template.HTML
	Sent      template.HTML
	Reference string
	Recipient string
	Provider  string // message key
	State     string // message key
	Failed    bool
	Attempts  int
	Why       string
	Event     string
}

// deliveriesView is the data of the delivery log.
type deliveriesView struct {
	Incident, State, Provider string
	States, Providers         []string
	Rows                      []deliveryRow
	Filter                    template.URL // the filters as a query, for the pager
	Filtered                  bool
	Next                      string
	Paged                     bool
}

// adminDeliveries is the notification delivery log: what was sent,
// what is waiting or being retried, what failed and why, per incident
// and channel, newest first, 50 a page, filtered by incident, state and
// channel in the URL; only notifications of incidents the administrator
// may see (notify.Service.Deliveries applies the visibility rule).
func (u *UI) adminDeliveries(c echo.Context) error {
	p, err := requireAdmin(c)
	if err != nil {
		return err
	}
	q := notify.DeliveryQuery{Incident: strings.TrimSpace(c.QueryParam("incident")), State: notify.State(c.QueryParam("state")),
		Provider: notify.Provider(c.QueryParam("provider"))}
	pg := u.newPage(c, "admin_deliveries", "adminconf.deliveries.title")
	v := &deliveriesView{Incident: q.Incident, State: string(q.State), Provider: string(q.Provider),
		States:    []string{string(notify.Pending), string(notify.Sent), string(notify.Failed), string(notify.Withdrawn)},
		Providers: []string{string(notify.Slack), string(notify.Webhook), string(notify.Email), string(notify.Log)}, Paged: c.QueryParam("after") != ""}
	filter := url.Values{}
	for k, val := range map[string]string{"incident": q.Incident, "state": string(q.State), "provider": string(q.Provider)} {
		if val != "" {
			filter.Set(k, val)
		}
	}
	v.Filter, v.Filtered = template.URL(filter.Encode()), len(filter) > 0
	pg.Data = v
	ns, next, err := u.o.Notify.Deliveries(c.Request().Context(), p, q, incident.Page{After: c.QueryParam("after"), Limit: 50})
	if err != nil {
		switch {
		case apperr.Is(err, apperr.NotFound) && q.Incident != "":
			pg.Errors = []fieldError{{Field: "incident", Message: pg.L.T("adminconf.deliveries.err.incident")}}
		case apperr.Is(err, apperr.Invalid):
			e, _ := apperr.As(err)
			for _, f := range e.Fields {
				field := f.Field
				if field == "cursor" {
					field = "incident"
				}
				pg.Errors = append(pg.Errors, fieldError{Field: field, Message: pg.L.T("adminconf.deliveries.err." + f.Field)})
			}
		default:
			return err
		}
		return u.render(c, http.StatusBadRequest, pg)
	}
	for _, n := range ns {
		r := deliveryRow{Created: pg.L.Time(n.CreatedAt), Reference: n.IncidentReference, Recipient: n.RecipientOrgSlug,
			Provider: "adminconf.provider." + string(n.Provider), Attempts: n.Attempts, Why: n.LastError, Event: n.EventKind}
		if n.SentAt != nil {
			r.Sent = pg.L.Time(*n.SentAt)
		}
		switch {
		case n.State == notify.Pending && n.Attempts > 0:
			r.State = "adminconf.state.retrying"
		default:
			r.State = "adminconf.state." + string(n.State)
		}
		r.Failed = n.State == notify.Failed
		v.Rows = append(v.Rows, r)
	}
	v.Next = next
	return u.render(c, http.StatusOK, pg)
}
