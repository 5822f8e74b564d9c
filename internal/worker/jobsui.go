package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"riverqueue.com/riverui"
)

// JobsUI returns River's web UI (riverqueue.com/riverui) on c, served
// under prefix: queues, running, retried, stuck and discarded jobs, and
// retrying, cancelling or deleting a job and pausing a queue. It does no
// authorisation of its own: the caller mounts it behind certdesk's
// (ui.Options.Jobs). Job arguments are hidden
// in the job list by default (a job's page still shows them: they are
// identifiers, and a chat reply's text, which names an incident's
// reference at most). Its background services (the cached job counts)
// start at its first request and stop when ctx ends.
func JobsUI(ctx context.Context, c *Client, log *slog.Logger, prefix string) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints:                riverui.NewEndpoints(c, nil),
		JobListHideArgsByDefault: true,
		Logger:                   log,
		Prefix:                   prefix,
	})
	if err != nil {
		return nil, fmt.Errorf("river UI: %w", err)
	}
	return &lazyStart{ctx: ctx, h: h, log: log}, nil
}

// lazyStart starts riverui's services at the first request, so that a
// process whose jobs page nobody opens runs no count queries.
type lazyStart struct {
	ctx  context.Context
	h    *riverui.Handler
	log  *slog.Logger
	once sync.Once
}

func (l *lazyStart) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.once.Do(func() {
		if err := l.h.Start(l.ctx); err != nil {
			l.log.Error("river UI: start", "err", err)
		}
	})
	l.h.ServeHTTP(w, r)
}
