package postgres

import (
	"context"

	"github.com/certdesk/certdesk/internal/misp"
)

// InMISPTx implements misp.Store: one transaction for an import's
// incident and observables.
func (s *Store) InMISPTx(ctx context.Context, fn func(ctx context.Context, tx misp.Tx) error) error {
	return inTx(ctx, s, fn)
}
