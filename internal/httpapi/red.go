package httpapi

import (
	"net/http"

	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// TLP:RED recipients (docs/api.md, "TLP:RED recipients").

type redUserBody struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	// Active is false for a designated user who receives nothing now:
	// disabled, moved to another organisation, or in a role that may not
	// acknowledge.
	Active bool `json:"active"`
}

type warningBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type redRecipientsResponse struct {
	Organization        string        `json:"organization"`
	Recipients          []redUserBody `json:"recipients"`
	EffectiveRecipients []redUserBody `json:"effective_recipients"`
	Source              string        `json:"source"`
	Warnings            []warningBody `json:"warnings"`
}

type putRedRecipientsRequest struct {
	Recipients *[]string `json:"recipients"`
}

func redUsers(us []incident.OrgUser, active func(incident.OrgUser) bool) []redUserBody {
	out := make([]redUserBody, len(us))
	for i, u := range us {
		out[i] = redUserBody{ID: u.ID.String(), Email: u.Email, Name: u.Name, Role: string(u.Role), Active: active(u)}
	}
	return out
}

func warnings(ws []incident.Warning) []warningBody {
	out := make([]warningBody, len(ws))
	for i, w := range ws {
		out[i] = warningBody{Code: w.Code, Message: w.Message}
	}
	return out
}

func toRedRecipients(r *incident.RedRouting) redRecipientsResponse {
	effective := map[string]bool{}
	for _, u := range r.Recipients {
		effective[u.ID.String()] = true
	}
	return redRecipientsResponse{
		Organization: r.Org.Slug,
		Recipients: redUsers(r.Designated, func(u incident.OrgUser) bool {
			return effective[u.ID.String()] && r.Source == incident.RedDesignated
		}),
		EffectiveRecipients: redUsers(r.Recipients, func(incident.OrgUser) bool { return true }),
		Source:              string(r.Source),
		Warnings:            warnings(r.Warnings),
	}
}

// getRedRecipients answers GET /api/v1/organizations/{slug}/red-recipients.
func (h *handlers) getRedRecipients(c echo.Context) error {
	r, err := h.o.Incidents.RedRecipients(c.Request().Context(), principal(c), c.Param("slug"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRedRecipients(r))
}

// putRedRecipients answers PUT /api/v1/organizations/{slug}/red-recipients
// with {"recipients": [e-mail, …]}.
func (h *handlers) putRedRecipients(c echo.Context) error {
	var req putRedRecipientsRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Recipients == nil {
		return invalidBody("recipients", "required", "recipients is required (a list of e-mail addresses; [] designates nobody)")
	}
	r, err := h.o.Incidents.SetRedRecipients(c.Request().Context(), principal(c), c.Param("slug"), *req.Recipients)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRedRecipients(r))
}

type redPreviewResponse struct {
	Organization     string   `json:"organization"`
	OrganizationName string   `json:"organization_name"`
	Source           string   `json:"source"`
	Recipients       []string `json:"recipients"`
	Note             string   `json:"note"`
}

// myRedRecipients answers GET /api/v1/me/red-recipients: who would
// receive a TLP:RED report the caller submits now.
func (h *handlers) myRedRecipients(c echo.Context) error {
	r, err := h.o.Incidents.RedRecipientsFor(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, redPreviewResponse{Organization: r.Org.Slug, OrganizationName: r.Org.Name,
		Source: string(r.Source), Recipients: r.Names(), Note: r.PreviewNote()})
}
