package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

type notificationField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

type notificationMessage struct {
	Header string              `json:"header"`
	Fields []notificationField `json:"fields"`
	Text   string              `json:"text"`
	Link   string              `json:"link"`
}

type notificationResponse struct {
	ID                string              `json:"id"`
	IncidentID        string              `json:"incident_id"`
	IncidentReference string              `json:"incident_reference"`
	EventKind         string              `json:"event_kind"`
	EventID           *int64              `json:"event_id"`
	RecipientOrg      string              `json:"recipient_org"`
	Channel           string              `json:"channel"`
	Provider          string              `json:"provider"`
	State             string              `json:"state"`
	Attempts          int                 `json:"attempts"`
	LastError         string              `json:"last_error"`
	MessageTS         string              `json:"message_ts"`
	ThreadTS          string              `json:"thread_ts"`
	Message           notificationMessage `json:"message"`
	CreatedAt         time.Time           `json:"created_at"`
	SentAt            *time.Time          `json:"sent_at"`
}

type notificationList struct {
	Notifications []notificationResponse `json:"notifications"`
	NextCursor    *string                `json:"next_cursor"`
}

// listNotifications answers GET /api/v1/notifications[?incident=<id or reference>].
func (h *handlers) listNotifications(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	ns, next, err := h.o.Notify.List(c.Request().Context(), principal(c), c.QueryParam("incident"),
		incident.Page{After: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := notificationList{Notifications: make([]notificationResponse, len(ns))}
	for i, n := range ns {
		m := notificationMessage{Header: n.Message.Header, Text: n.Message.Text, Link: n.Message.Link,
			Fields: make([]notificationField, len(n.Message.Fields))}
		for j, f := range n.Message.Fields {
			m.Fields[j] = notificationField{Label: f.Label, Value: f.Value}
		}
		out.Notifications[i] = notificationResponse{
			ID: n.ID.String(), IncidentID: n.IncidentID.String(), IncidentReference: n.IncidentReference,
			EventKind: n.EventKind, EventID: n.EventID, RecipientOrg: n.RecipientOrgSlug, Channel: n.Channel,
			Provider: string(n.Provider), State: string(n.State), Attempts: n.Attempts, LastError: n.LastError,
			MessageTS: n.ProviderMsgID, ThreadTS: n.ThreadTS, Message: m, CreatedAt: n.CreatedAt, SentAt: n.SentAt,
		}
	}
	if next != "" {
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}
