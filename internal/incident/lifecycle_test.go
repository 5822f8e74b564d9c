package incident

import (
	"fmt"
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/stretchr/testify/require"
)

// TestTransitionTable checks every pair of stages, open and closed, with and
// without a reason.
func TestTransitionTable(t *testing.T) {
	t.Parallel()
	for _, status := range []Status{Open, Closed} {
		for _, from := range Stages {
			for _, to := range Stages {
				for _, reason := range []string{"", "new facts"} {
					name := fmt.Sprintf("%s/%s->%s/reason=%q", status, from, to, reason)
					err := CheckTransition(from, status, to, reason)
					var want apperr.Code
					switch {
					case status == Closed:
						want = apperr.Conflict // reopen first
					case from == to:
						want = apperr.Conflict // nothing to do
					case to.Index() < from.Index() && reason == "":
						want = apperr.Invalid // back needs a reason
					}
					if want == "" {
						require.NoError(t, err, name)
						continue
					}
					require.Equal(t, want, apperr.CodeOf(err), name)
					if want == apperr.Conflict {
						e, _ := apperr.As(err)
						require.Contains(t, e.Details, "allowed", "%s: a 409 names the allowed stages", name)
					}
					if want == apperr.Invalid {
						e, _ := apperr.As(err)
						require.Equal(t, "reason", e.Fields[0].Field, name)
					}
				}
			}
		}
	}
	require.Equal(t, apperr.Invalid, apperr.CodeOf(CheckTransition(Response, Open, "panic", "")))
}
