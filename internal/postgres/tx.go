package postgres

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// inTx runs fn in one transaction with a handle of the domain's
// transaction type T. Every domain's Tx interface is implemented by the
// same *txn (each in the file of its domain), so a use case of one domain
// can append timeline events and queue jobs in the same transaction as its
// own writes. A domain store's InXTx method is one call to inTx.
func inTx[T any](ctx context.Context, s *Store, fn func(ctx context.Context, tx T) error) error {
	return s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		stx, err := SQLTx(gtx)
		if err != nil {
			return err
		}
		tn := &txn{db: gtx, sql: stx, store: s}
		t, ok := any(tn).(T)
		if !ok {
			var zero T
			return fmt.Errorf("postgres: the transaction does not implement %T", zero)
		}
		if err := fn(ctx, t); err != nil {
			return err
		}
		return tn.dispatch(ctx)
	})
}

// maxDispatchRounds bounds how often handlers may react to events that
// handlers appended: a loop between two handlers is a bug, not a workload.
const maxDispatchRounds = 8

// dispatch hands the events appended in the transaction to the store's
// handlers, then the events they appended, until there are none.
func (t *txn) dispatch(ctx context.Context) error {
	for round := 0; len(t.appended) > 0; round++ {
		if round == maxDispatchRounds {
			return fmt.Errorf("postgres: event handlers still appending events after %d rounds", maxDispatchRounds)
		}
		evs := t.appended
		t.appended = nil
		if err := t.store.events(ctx, t, evs); err != nil {
			return err
		}
		// The handlers may have written the incidents held: later rounds
		// read them again.
		t.held = nil
	}
	return nil
}

// trimPage cuts rows fetched with LIMIT limit+1 to one page and returns the
// next page's cursor, made from the last row kept ("" on the last page).
func trimPage[R any](rows []R, limit int, cursorOf func(last R) any) ([]R, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodeCursor(cursorOf(rows[len(rows)-1]))
}
