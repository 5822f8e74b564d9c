package slack

import (
	"errors"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/notify"
	slackapi "github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		err       error
		permanent bool
		retry     time.Duration // > 0: a rate limit
	}{
		{"rate limited", &slackapi.RateLimitedError{RetryAfter: 7 * time.Second}, false, 7 * time.Second},
		{"channel_not_found", slackapi.SlackErrorResponse{Err: "channel_not_found"}, true, 0},
		{"invalid_auth", slackapi.SlackErrorResponse{Err: "invalid_auth"}, true, 0},
		{"not_in_channel", slackapi.SlackErrorResponse{Err: "not_in_channel"}, true, 0},
		{"internal_error", slackapi.SlackErrorResponse{Err: "internal_error"}, false, 0},
		{"http 500", slackapi.StatusCodeError{Code: 500, Status: "500 Internal Server Error"}, false, 0},
		{"network", errors.New("dial tcp: connection refused"), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := classify(tc.err)
			require.Equal(t, tc.permanent, notify.IsPermanent(got))
			var rl *notify.RateLimitError
			require.Equal(t, tc.retry > 0, errors.As(got, &rl))
			if tc.retry > 0 {
				require.Equal(t, tc.retry, rl.RetryAfter)
			}
			require.ErrorContains(t, got, tc.err.Error(), "the cause is kept")
		})
	}
}

func TestBlocksEscapeIncidentText(t *testing.T) {
	t.Parallel()
	bs := Blocks(notify.Message{Header: "h", Text: "<!channel> see <https://evil.example|here> & more",
		Fields: []notify.Field{{Label: "Reference", Value: "INC-2026-000001"}}, Link: "https://certdesk.example/incidents/INC-2026-000001"})
	require.Len(t, bs, 3)
	sec, ok := bs[1].(*slackapi.SectionBlock)
	require.True(t, ok)
	require.Equal(t, "&lt;!channel&gt; see &lt;https://evil.example|here&gt; &amp; more", sec.Text.Text)
	require.Len(t, sec.Fields, 1)
}
