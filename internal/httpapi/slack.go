package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/labstack/echo/v4"
)

// SlackInbound handles the requests Slack sends (internal/slack.Inbound):
// it verifies their signature (an apperr.Unauthorized error when it does
// not hold) and acts as the Slack user's certdesk user.
type SlackInbound interface {
	// Interaction handles a button press; Slack gets an empty 200.
	Interaction(ctx context.Context, h http.Header, body []byte, remoteAddr string) error
	// Command handles the /incident slash command and returns the answer.
	Command(ctx context.Context, h http.Header, body []byte, remoteAddr string) (string, error)
}

// errSlackOff answers the Slack routes when Slack's inbound requests are
// not configured.
var errSlackOff = apperr.New(apperr.NotFound, "Slack interactivity is not configured (SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)")

// slackBody reads the raw body: the signature covers its exact bytes.
func (h *handlers) slackBody(c echo.Context) ([]byte, error) {
	if h.o.Slack == nil {
		return nil, errSlackOff
	}
	body, err := io.ReadAll(c.Request().Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge)
	}
	return body, err
}

// slackInteraction answers POST /slack/interactions.
func (h *handlers) slackInteraction(c echo.Context) error {
	body, err := h.slackBody(c)
	if err != nil {
		return err
	}
	if err := h.o.Slack.Interaction(c.Request().Context(), c.Request().Header, body, c.RealIP()); err != nil {
		return err
	}
	return c.NoContent(http.StatusOK)
}

type slackCommandResponse struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// slackCommand answers POST /slack/commands with an ephemeral message.
func (h *handlers) slackCommand(c echo.Context) error {
	body, err := h.slackBody(c)
	if err != nil {
		return err
	}
	text, err := h.o.Slack.Command(c.Request().Context(), c.Request().Header, body, c.RealIP())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, slackCommandResponse{ResponseType: "ephemeral", Text: text})
}
