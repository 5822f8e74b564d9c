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
		t, ok := any(&txn{db: gtx, sql: stx, store: s}).(T)
		if !ok {
			var zero T
			return fmt.Errorf("postgres: the transaction does not implement %T", zero)
		}
		return fn(ctx, t)
	})
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
