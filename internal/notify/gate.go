package notify

import (
	"errors"
	"sync"
	"time"
)

// TroubleSpan is how long after a failed call to a Slack channel this
// process keeps the channel's deliveries in strict order (one at a time,
// oldest notification first): long enough for every retry of the storm's
// backlog (RetryCap) to have come round.
const TroubleSpan = RetryCap

// OrderWindow bounds how far back a delivery in strict order looks for
// earlier pending notifications of its channel: older ones (their jobs
// lost, or snoozed for a day) do not hold the channel up.
const OrderWindow = 24 * time.Hour

// orderStep is how long a delivery waits per earlier notification of its
// channel still pending, at most orderMaxWait: the first in line looks
// again soon, the hundredth later, so that a long backlog does not poll
// the database once per message and step.
const (
	orderStep    = 250 * time.Millisecond
	orderMaxWait = 30 * time.Second
)

// gate is what this process knows about each Slack channel's trouble: the
// Retry-After the channel was last given (no call to it before then) and
// when a call to it last failed (its deliveries go in strict order until
// TroubleSpan after that). It is kept in memory: another worker process
// learns a channel's Retry-After from its own first 429 (docs/slack.md).
type gate struct {
	mu       sync.Mutex
	until    map[string]time.Time // channel → no call before
	troubled map[string]time.Time // channel → last failed call
}

func newGate() *gate {
	return &gate{until: map[string]time.Time{}, troubled: map[string]time.Time{}}
}

// hold returns a *RateLimitError when channel was told to wait past now.
func (g *gate) hold(channel string, now time.Time) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.until[channel]
	if !ok {
		return nil
	}
	if !now.Before(until) {
		delete(g.until, channel)
		return nil
	}
	return &RateLimitError{RetryAfter: until.Sub(now), Err: errors.New("the channel's Retry-After has not passed")}
}

// inTrouble reports whether a call to channel failed within TroubleSpan
// before now.
func (g *gate) inTrouble(channel string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	at, ok := g.troubled[channel]
	if ok && now.Sub(at) > TroubleSpan {
		delete(g.troubled, channel)
		return false
	}
	return ok
}

// observe records the outcome err of a call to channel that ended at now:
// a rate limit holds the channel for its Retry-After, and any failure worth
// retrying puts it in trouble. A permanent error says nothing about the
// channel's load.
func (g *gate) observe(channel string, now time.Time, err error) {
	if err == nil || IsPermanent(err) || channel == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.troubled[channel] = now
	var rl *RateLimitError
	if errors.As(err, &rl) {
		if until := now.Add(rl.RetryAfter); until.After(g.until[channel]) {
			g.until[channel] = until
		}
	}
}

// orderWait is how long a delivery with earlier notifications still
// pending in its channel waits before it looks again.
func orderWait(earlier int) time.Duration {
	return min(time.Duration(earlier)*orderStep, orderMaxWait)
}
