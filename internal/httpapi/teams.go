package httpapi

import (
	"net/http"
	"time"

	"github.com/certdesk/certdesk/internal/team"
	"github.com/labstack/echo/v4"
)

// teamResponse is a team as the API shows it.
type teamResponse struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Members   []memberResponse `json:"members"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// memberResponse is one member of a team.
type memberResponse struct {
	UserID  string    `json:"user_id"`
	Email   string    `json:"email"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	AddedAt time.Time `json:"added_at"`
}

func toTeamResponse(t *team.Team) teamResponse {
	r := teamResponse{ID: t.ID.String(), Name: t.Name, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Members: []memberResponse{}}
	for _, m := range t.Members {
		r.Members = append(r.Members, memberResponse{UserID: m.UserID.String(), Email: m.Email, Name: m.Name,
			Role: string(m.Role), AddedAt: m.AddedAt})
	}
	return r
}

type teamList struct {
	Teams []teamResponse `json:"teams"`
}

// teamRequest is the body of POST /api/v1/teams and PATCH /api/v1/teams/{id}.
type teamRequest struct {
	Name string `json:"name"`
}

// memberRequest is the body of POST /api/v1/teams/{id}/members.
type memberRequest struct {
	Email string `json:"email"`
}

func (h *handlers) listTeams(c echo.Context) error {
	ts, err := h.o.Teams.List(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	out := teamList{Teams: make([]teamResponse, len(ts))}
	for i := range ts {
		out.Teams[i] = toTeamResponse(&ts[i])
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handlers) createTeam(c echo.Context) error {
	var req teamRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	t, err := h.o.Teams.Create(c.Request().Context(), principal(c), req.Name)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/teams/"+t.ID.String())
	return c.JSON(http.StatusCreated, toTeamResponse(t))
}

func (h *handlers) getTeam(c echo.Context) error {
	t, err := h.o.Teams.Get(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTeamResponse(t))
}

func (h *handlers) renameTeam(c echo.Context) error {
	var req teamRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	t, err := h.o.Teams.Rename(c.Request().Context(), principal(c), c.Param("id"), req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTeamResponse(t))
}

func (h *handlers) deleteTeam(c echo.Context) error {
	if err := h.o.Teams.Delete(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handlers) addTeamMember(c echo.Context) error {
	var req memberRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	t, err := h.o.Teams.AddMember(c.Request().Context(), principal(c), c.Param("id"), req.Email)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTeamResponse(t))
}

func (h *handlers) removeTeamMember(c echo.Context) error {
	t, err := h.o.Teams.RemoveMember(c.Request().Context(), principal(c), c.Param("id"), c.Param("userId"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTeamResponse(t))
}
