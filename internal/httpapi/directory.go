package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// orgBody is an organisation in requests and responses.
type orgBody struct {
	Slug         string    `json:"slug"`
	Name         string    `json:"name"`
	Kind         string    `json:"kind"`
	Parent       *string   `json:"parent"`
	Country      string    `json:"country"`
	Region       string    `json:"region"`
	Sector       string    `json:"sector"`
	NIS2Class    string    `json:"nis2_class"`
	ChatChannel  string    `json:"chat_channel"`
	ContactEmail string    `json:"contact_email"`
	ContactPhone string    `json:"contact_phone"`
	TimeZone     string    `json:"time_zone"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Warnings are for the organisation's administrators (GET of one
	// organisation by an admin who manages it); absent otherwise.
	Warnings []warningBody `json:"warnings,omitempty"`
}

type createOrgRequest struct {
	Slug         string `json:"slug"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Parent       string `json:"parent"`
	Country      string `json:"country"`
	Region       string `json:"region"`
	Sector       string `json:"sector"`
	NIS2Class    string `json:"nis2_class"`
	ChatChannel  string `json:"chat_channel"`
	ContactEmail string `json:"contact_email"`
	ContactPhone string `json:"contact_phone"`
	TimeZone     string `json:"time_zone"`
}

type patchOrgRequest struct {
	Name         *string `json:"name"`
	Parent       *string `json:"parent"`
	Country      *string `json:"country"`
	Region       *string `json:"region"`
	Sector       *string `json:"sector"`
	NIS2Class    *string `json:"nis2_class"`
	ChatChannel  *string `json:"chat_channel"`
	ContactEmail *string `json:"contact_email"`
	ContactPhone *string `json:"contact_phone"`
	TimeZone     *string `json:"time_zone"`
}

func toOrgBody(o *org.Organization) orgBody {
	b := orgBody{Slug: o.Slug, Name: o.Name, Kind: string(o.Kind), Country: o.Country, Region: o.Region,
		Sector: o.Sector, NIS2Class: o.NIS2Class, ChatChannel: o.ChatChannel, ContactEmail: o.ContactEmail,
		ContactPhone: o.ContactPhone, TimeZone: o.TimeZone, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	if o.ParentSlug != "" {
		p := o.ParentSlug
		b.Parent = &p
	}
	return b
}

func orgList(os []org.Organization) map[string]any {
	out := make([]orgBody, len(os))
	for i := range os {
		out[i] = toOrgBody(&os[i])
	}
	return map[string]any{"organizations": out}
}

func (h *handlers) listOrgs(c echo.Context) error {
	os, err := h.o.Orgs.List(c.Request().Context(), principal(c).OrgActor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, orgList(os))
}

func (h *handlers) createOrg(c echo.Context) error {
	var req createOrgRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	o := &org.Organization{Slug: req.Slug, Name: req.Name, Kind: org.Kind(req.Kind), Country: req.Country, Region: req.Region,
		Sector: req.Sector, NIS2Class: req.NIS2Class, ChatChannel: req.ChatChannel, ContactEmail: req.ContactEmail,
		ContactPhone: req.ContactPhone, TimeZone: req.TimeZone}
	if err := h.o.Orgs.Create(c.Request().Context(), principal(c).OrgActor(), o, req.Parent); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/organizations/"+o.Slug)
	return c.JSON(http.StatusCreated, toOrgBody(o))
}

func (h *handlers) getOrg(c echo.Context) error {
	o, err := h.o.Orgs.Get(c.Request().Context(), principal(c).OrgActor(), c.Param("slug"))
	if err != nil {
		return err
	}
	ws, err := h.o.Incidents.AdminWarnings(c.Request().Context(), principal(c), o.Slug)
	if err != nil {
		return err
	}
	b := toOrgBody(o)
	if ws != nil {
		b.Warnings = warnings(ws)
	}
	return c.JSON(http.StatusOK, b)
}

func (h *handlers) patchOrg(c echo.Context) error {
	var req patchOrgRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	o, err := h.o.Orgs.Update(c.Request().Context(), principal(c).OrgActor(), c.Param("slug"), org.Patch{Name: req.Name, Parent: req.Parent, Country: req.Country,
		Region: req.Region, Sector: req.Sector, NIS2Class: req.NIS2Class, ChatChannel: req.ChatChannel,
		ContactEmail: req.ContactEmail,
		ContactPhone: req.ContactPhone, TimeZone: req.TimeZone})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrgBody(o))
}

func (h *handlers) constituency(c echo.Context) error {
	os, err := h.o.Orgs.Constituency(c.Request().Context(), principal(c).OrgActor(), c.Param("slug"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, orgList(os))
}

// userBody is a user in responses.
type userBody struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Org        string     `json:"org"`
	Disabled   bool       `json:"disabled"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	DisabledAt *time.Time `json:"disabled_at"`
}

func toUserBody(u *identity.User) userBody {
	return userBody{ID: u.ID.String(), Email: u.Email, Name: u.Name, Role: string(u.Role), Org: u.OrgSlug,
		Disabled: u.DisabledAt != nil, DisabledAt: u.DisabledAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type createUserRequest struct {
	Org      string `json:"org"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

type patchUserRequest struct {
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

func (h *handlers) listUsers(c echo.Context) error {
	us, err := h.o.Identity.Users(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := make([]userBody, len(us))
	for i := range us {
		out[i] = toUserBody(&us[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

func (h *handlers) createUser(c echo.Context) error {
	var req createUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	u, err := h.o.Identity.CreateUserIn(c.Request().Context(), principal(c), req.Org, identity.NewUser{Email: req.Email,
		Name: req.Name, Role: access.Role(req.Role), Password: req.Password})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toUserBody(u))
}

func (h *handlers) patchUser(c echo.Context) error {
	var req patchUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "user %q not found", c.Param("id"))
	}
	var role *access.Role
	if req.Role != nil {
		r := access.Role(*req.Role)
		role = &r
	}
	u, err := h.o.Identity.UpdateUser(c.Request().Context(), principal(c), id,
		identity.UserPatch{Name: req.Name, Role: role, Disabled: req.Disabled, Password: req.Password})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserBody(u))
}

// resetLinkBody is a new password reset link: shown once, never stored.
type resetLinkBody struct {
	UserID    string    `json:"user_id"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issueResetLink answers POST /users/{id}/reset-link: a one-time link for
// the user to set their password, for the administrator to pass on.
func (h *handlers) issueResetLink(c echo.Context) error {
	url, l, err := h.o.Identity.IssueResetLink(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, resetLinkBody{UserID: l.UserID.String(), URL: url, ExpiresAt: l.ExpiresAt})
}

func (h *handlers) me(c echo.Context) error {
	u, err := h.o.Identity.Me(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toUserBody(u))
}

// tokenBody is an API token's metadata; Token is set once, on creation.
type tokenBody struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Token      string     `json:"token,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func toTokenBody(t *identity.Token) tokenBody {
	return tokenBody{ID: t.ID.String(), Name: t.Name, Prefix: t.Prefix, ExpiresAt: t.ExpiresAt,
		LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt, CreatedAt: t.CreatedAt}
}

// createTokenRequest creates a token for the caller. Tokens for other users
// are issued by an operator (certdesk token create): an administrator who
// could mint a token for a user could act as that user, including where
// only that user is a named participant.
type createTokenRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (h *handlers) createToken(c echo.Context) error {
	var req createTokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	p := principal(c)
	plain, t, err := h.o.Identity.CreateToken(c.Request().Context(), p, p.UserID, req.Name, req.ExpiresAt)
	if err != nil {
		return err
	}
	b := toTokenBody(t)
	b.Token = plain
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, b)
}

func (h *handlers) listTokens(c echo.Context) error {
	ts, err := h.o.Identity.Tokens(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := make([]tokenBody, len(ts))
	for i := range ts {
		out[i] = toTokenBody(&ts[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": out})
}

func (h *handlers) revokeToken(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "token %q not found", c.Param("id"))
	}
	if err := h.o.Identity.RevokeToken(c.Request().Context(), principal(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type auditBody struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   string    `json:"target_id"`
	RemoteAddr string    `json:"remote_addr"`
	Data       any       `json:"data"`
}

// auditLog answers GET /api/v1/audit: a page of the audit log, narrowed
// by actor, action, target_type, target_id, since and until.
func (h *handlers) auditLog(c echo.Context) error {
	limit, err := queryInt(c, "limit", 0)
	if err != nil {
		return err
	}
	q := audit.Query{Actor: c.QueryParam("actor"), Action: audit.Action(c.QueryParam("action")),
		TargetType: c.QueryParam("target_type"), TargetID: c.QueryParam("target_id"), After: c.QueryParam("cursor"), Limit: limit}
	if q.Since, q.Until, err = timeRange(c, "since", "until"); err != nil {
		return err
	}
	es, next, err := h.o.Audit.Read(c.Request().Context(), principal(c), q)
	if err != nil {
		return err
	}
	out := make([]auditBody, len(es))
	for i, e := range es {
		out[i] = auditBody{ID: e.ID, At: e.At, Actor: e.Actor, Action: string(e.Action), TargetType: e.TargetType,
			TargetID: e.TargetID, RemoteAddr: e.RemoteAddr, Data: e.Data}
	}
	var nc *string
	if next != "" {
		nc = &next
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": out, "next_cursor": nc})
}

// timeRange reads two optional RFC 3339 query parameters; a malformed one
// is a 422 naming it.
func timeRange(c echo.Context, from, to string) (*time.Time, *time.Time, error) {
	var fs apperr.Fields
	var out [2]*time.Time
	for i, name := range []string{from, to} {
		if v := c.QueryParam(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fs.Add(name, "date_time", "%s must be an RFC 3339 time such as 2026-11-22T00:00:00Z", name)
				continue
			}
			out[i] = &t
		}
	}
	return out[0], out[1], fs.Err()
}
