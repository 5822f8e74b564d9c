package stats

import "context"

// BackfillInBatches is Backfill with batches of n incidents (the tests
// cross batch boundaries with a handful).
func (m *Maintainer) BackfillInBatches(ctx context.Context, n int) (int, error) {
	return m.backfill(ctx, n)
}
