package throttle_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestLimiterRefusesPastTheLimitUntilTheWindowEnds(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	ctx := context.Background()
	// A fixed instant 20 s into a minute: the window ends in 40 s.
	now := time.Date(2026, 12, 3, 10, 0, 20, 0, time.UTC)
	l := throttle.New(h.App.Store, func() time.Time { return now })
	rule := throttle.Rule{Scope: "test.addr", Limit: 3, Window: time.Minute}

	for i := 1; i <= 3; i++ {
		require.NoError(t, l.Check(ctx, rule, "192.0.2.1"), "attempt %d is allowed", i)
		n, err := l.Fail(ctx, rule, "192.0.2.1")
		require.NoError(t, err)
		require.Equal(t, i, n)
	}
	err := l.Check(ctx, rule, "192.0.2.1")
	require.True(t, apperr.Is(err, apperr.RateLimited), "the fourth attempt is refused: %v", err)
	ae, _ := apperr.As(err)
	require.Equal(t, 40*time.Second, ae.RetryAfter)

	// Another key and another scope are counted apart.
	require.NoError(t, l.Check(ctx, rule, "192.0.2.2"))
	require.NoError(t, l.Check(ctx, throttle.Rule{Scope: "test.other", Limit: 3, Window: time.Minute}, "192.0.2.1"))

	// The next window starts empty.
	now = now.Add(40 * time.Second)
	require.NoError(t, l.Check(ctx, rule, "192.0.2.1"))
}

func TestConcurrentFailuresAreAllCounted(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	// Two limiters on one database stand for two replicas.
	a := throttle.New(h.App.Store, func() time.Time { return now })
	b := throttle.New(h.App.Store, func() time.Time { return now })
	rule := throttle.Rule{Scope: "test.addr", Limit: 100, Window: time.Hour}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(l *throttle.Limiter) {
			defer wg.Done()
			_, err := l.Fail(ctx, rule, "198.51.100.7")
			require.NoError(t, err)
		}(map[bool]*throttle.Limiter{true: a, false: b}[i%2 == 0])
	}
	wg.Wait()
	n, err := a.Fail(ctx, rule, "198.51.100.7")
	require.NoError(t, err)
	require.Equal(t, 21, n)
}
