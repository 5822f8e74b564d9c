package httpapi

import (
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/labstack/echo/v4"
)

// actorOf returns who makes the request, for the timeline.
func actorOf(c echo.Context) incident.Actor {
	return incident.Actor{Name: "api"}
}

// callerKey scopes idempotency keys to one caller.
func callerKey(c echo.Context) string {
	return "anonymous"
}
