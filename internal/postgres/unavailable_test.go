package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// TestUnavailable: the errors of a database that cannot be reached or is
// not serving are recognised (and shown as a 503 with Retry-After), the
// errors of a statement are not.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("load incident: %w", refused), true},
		{"connection reset", fmt.Errorf("query: %w", syscall.ECONNRESET), true},
		{"unexpected end of stream", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"closed connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"query cancelled", &pgconn.PgError{Code: "57014"}, false},
		{"context deadline", context.DeadlineExceeded, false},
		{"other", errors.New("boom"), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, postgres.Unavailable(tc.err))
			if tc.want {
				ue := postgres.UnavailableError(tc.err)
				require.Equal(t, apperr.Unavailable, ue.Code)
				require.Equal(t, postgres.RetryAfter, ue.RetryAfter)
				require.ErrorIs(t, ue, tc.err)
			}
		})
	}
}
