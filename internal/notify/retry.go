package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Retry policy of deliveries that failed with an error worth retrying
// (Slack down, HTTP 5xx, a network error or timeout): the first retry
// after 2 s, each later one after twice the wait before, never more than
// RetryCap. A rate limit is not a failure: it waits for Retry-After.
const (
	RetryBase = 2 * time.Second
	RetryCap  = 10 * time.Minute
)

// RetryDelay is how long a notification waits after its attempt-th failed
// attempt (1 for the first): 2 s, 4 s, 8 s, ... up to RetryCap (from the
// 10th attempt on). Once Slack is back, everything queued is delivered
// within RetryCap; with River's 25 attempts, a notification is given up
// about 2 h 47 min after its first attempt (RetryDelay summed over 24
// retries).
func RetryDelay(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 20 { // 2 s << 19 is far beyond the cap already
		return RetryCap
	}
	return min(RetryBase<<(attempt-1), RetryCap)
}

// GiveUp marks a notification that is still pending as failed after its
// last attempt, with cause as its last error and a notification_failed
// timeline event, so that a notification is never dropped silently.
func (s *Service) GiveUp(ctx context.Context, id uuid.UUID, attempts int, cause error) error {
	return s.fail(ctx, id, uuid.Nil, fmt.Sprintf("gave up after %d attempts: %v", attempts, cause), true)
}

// fail records a failure of a notification that is still pending, in a
// transaction of its own: lastError, one more attempt and the release of
// the claim when token names the delivery that failed (uuid.Nil: a
// give-up, whose attempts are counted already), and when final
// the state failed with a notification_failed timeline event
// (markFailed). Deliver calls it after a failed call (final when the
// error is permanent), GiveUp after the last attempt.
func (s *Service) fail(ctx context.Context, id, token uuid.UUID, lastError string, final bool) error {
	return s.store.InNotifyTx(ctx, func(ctx context.Context, tx Tx) error {
		n, err := tx.LockNotification(ctx, id)
		if err != nil {
			return err
		}
		if n.State != Pending {
			return nil
		}
		if token != uuid.Nil {
			n.Attempts++
			if n.ClaimToken == token {
				n.releaseClaim()
			}
		}
		n.LastError = truncate(lastError, 1000)
		if !final {
			return tx.UpdateNotification(ctx, n)
		}
		return s.markFailed(ctx, tx, n)
	})
}
