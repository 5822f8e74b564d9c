package throttle_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/certdesk/certdesk/internal/throttle"
	"github.com/stretchr/testify/assert"
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

func TestRefuseAnswersRateLimitedPastTheLimitOnly(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 45, 0, time.UTC)
	l := throttle.New(h.App.Store, func() time.Time { return now })
	rule := throttle.Rule{Scope: "test.addr", Limit: 2, Window: time.Minute}
	require.NoError(t, l.Refuse(ctx, rule, "192.0.2.1", "unknown token"))
	require.NoError(t, l.Refuse(ctx, rule, "192.0.2.1", "unknown token"))
	err := l.Refuse(ctx, rule, "192.0.2.1", "unknown token")
	ae, ok := apperr.As(err)
	require.True(t, ok && ae.Code == apperr.RateLimited, "the third failure is refused: %v", err)
	require.Equal(t, 15*time.Second, ae.RetryAfter)
	require.Error(t, l.Refuse(ctx, throttle.Rule{Scope: "test.addr", Window: time.Minute}, "k", ""), "a rule without a limit is a bug")
	require.Error(t, l.Check(ctx, throttle.Rule{Scope: "test.addr", Limit: 1, Window: 2 * throttle.MaxWindow}, "k"), "so is a window longer than MaxWindow")
}

// sweepSetup is a limiter and a sweeper of one summarised rule on one
// database, with a clock the test moves.
type sweepWorld struct {
	h       *testapp.Harness
	now     time.Time
	rule    throttle.Rule
	limiter *throttle.Limiter
	sweeper *throttle.Sweeper
}

func sweepSetup(t *testing.T) *sweepWorld {
	t.Helper()
	w := &sweepWorld{h: testapp.New(t, testapp.Options{NoWorkers: true}),
		now:  time.Date(2026, 12, 3, 10, 0, 5, 0, time.UTC),
		rule: throttle.Rule{Scope: "test.addr", Limit: 20, Window: time.Minute}}
	clock := func() time.Time { return w.now }
	w.limiter = throttle.New(w.h.App.Store, clock)
	var err error
	w.sweeper, err = throttle.NewSweeper(w.h.App.Store, []throttle.Summary{{Rule: w.rule, Action: audit.AuthFailed}}, clock)
	require.NoError(t, err)
	return w
}

type auditRow struct {
	RemoteAddr string
	Data       map[string]any
}

func (w *sweepWorld) authFailed(t *testing.T) []auditRow {
	t.Helper()
	rows, err := w.h.App.DB.Pool.Query(context.Background(),
		`SELECT remote_addr, data FROM audit_log WHERE action = 'auth.failed' ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		require.NoError(t, rows.Scan(&r.RemoteAddr, &r.Data))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func (w *sweepWorld) windows(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, w.h.App.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM auth_throttle").Scan(&n))
	return n
}

// TestManyFailuresFromOneAddressInOneMinuteAreOneAuditRow is the bound of
// security review finding 9: however many failures one source has in a
// window, the audit log gets one entry for it, carrying the count.
func TestManyFailuresFromOneAddressInOneMinuteAreOneAuditRow(t *testing.T) {
	t.Parallel()
	w := sweepSetup(t)
	ctx := context.Background()
	for i := 0; i < 250; i++ {
		reason := "unknown token"
		if i%50 == 0 {
			reason = "revoked token"
		}
		_ = w.limiter.Refuse(ctx, w.rule, "198.51.100.7", reason)
	}
	_, err := w.limiter.FailFor(ctx, w.rule, "203.0.113.9", "unknown token")
	require.NoError(t, err)

	res, err := w.sweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Audited, "a window is summarised once it has ended, not before")
	require.Empty(t, w.authFailed(t))

	w.now = w.now.Add(time.Minute) // the window 10:00–10:01 has ended
	_, err = w.limiter.FailFor(ctx, w.rule, "198.51.100.7", "unknown token")
	require.NoError(t, err)
	res, err = w.sweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, res.Audited)
	rows := w.authFailed(t)
	require.Len(t, rows, 2, "one row per source and minute: %v", rows)
	require.Equal(t, "198.51.100.7", rows[0].RemoteAddr)
	require.EqualValues(t, 250, rows[0].Data["failures"])
	require.EqualValues(t, 230, rows[0].Data["refused"])
	require.Equal(t, map[string]any{"unknown token": 245.0, "revoked token": 5.0}, rows[0].Data["reasons"])
	require.Equal(t, "2026-12-03T10:00:00Z", rows[0].Data["window_start"])
	require.Equal(t, "2026-12-03T10:01:00Z", rows[0].Data["window_end"])
	require.Equal(t, "203.0.113.9", rows[1].RemoteAddr)
	require.EqualValues(t, 1, rows[1].Data["failures"])

	// Sweeping again writes nothing new; the next window follows once it ends.
	res, err = w.sweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, res.Audited)
	w.now = w.now.Add(time.Minute)
	_, err = w.sweeper.Sweep(ctx)
	require.NoError(t, err)
	rows = w.authFailed(t)
	require.Len(t, rows, 3)
	require.EqualValues(t, 1, rows[2].Data["failures"])
}

func TestSweepsRunningAtOnceSummariseEachWindowOnce(t *testing.T) {
	t.Parallel()
	w := sweepSetup(t)
	ctx := context.Background()
	for i := 0; i < 40; i++ {
		_, err := w.limiter.FailFor(ctx, w.rule, "192.0.2."+strconv.Itoa(i), "unknown token")
		require.NoError(t, err)
	}
	w.now = w.now.Add(time.Minute)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := w.sweeper.Sweep(ctx)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	require.Len(t, w.authFailed(t), 40)
}

func TestSweepRemovesOldWindows(t *testing.T) {
	t.Parallel()
	w := sweepSetup(t)
	ctx := context.Background()
	other := throttle.Rule{Scope: "test.prefix", Limit: 20, Window: time.Minute}
	_, err := w.limiter.FailFor(ctx, w.rule, "192.0.2.1", "unknown token")
	require.NoError(t, err)
	_, err = w.limiter.Fail(ctx, other, "cdt_abcdef")
	require.NoError(t, err)
	require.Equal(t, 2, w.windows(t))

	w.now = w.now.Add(time.Hour)
	res, err := w.sweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, throttle.SweepResult{Audited: 1, Removed: 0}, res, "windows are kept for MaxWindow")

	w.now = w.now.Add(throttle.MaxWindow)
	res, err = w.sweeper.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, throttle.SweepResult{Audited: 0, Removed: 2}, res, "the summarised window and the unsummarised scope's go")
	require.Zero(t, w.windows(t))
	require.Len(t, w.authFailed(t), 1, "the audit entry stays")
}

func TestReasonsAreBounded(t *testing.T) {
	t.Parallel()
	w := sweepSetup(t)
	ctx := context.Background()
	for i := 0; i < throttle.MaxReasons+5; i++ {
		_, err := w.limiter.FailFor(ctx, w.rule, "192.0.2.1", "reason "+strconv.Itoa(i)+"\x00\n")
		require.NoError(t, err)
	}
	_, err := w.limiter.FailFor(ctx, w.rule, "192.0.2.1", "reason 0")
	require.NoError(t, err)
	w.now = w.now.Add(time.Minute)
	_, err = w.sweeper.Sweep(ctx)
	require.NoError(t, err)
	rows := w.authFailed(t)
	require.Len(t, rows, 1)
	reasons := rows[0].Data["reasons"].(map[string]any)
	require.Len(t, reasons, throttle.MaxReasons+1)
	require.EqualValues(t, 2, reasons["reason 0"], "a known reason keeps counting")
	require.EqualValues(t, 5, reasons[throttle.OtherReason])
}

// Attempts begun at the same moment on two replicas are counted before
// any is checked: of 12 concurrent Begins against a limit of 5, exactly 5
// go ahead. A success is taken back; a failure stays counted with its
// reason; ending twice changes nothing.
func TestBeginCountsConcurrentAttemptsBeforeTheCheck(t *testing.T) {
	t.Parallel()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	a := throttle.New(h.App.Store, func() time.Time { return now })
	b := throttle.New(h.App.Store, func() time.Time { return now })
	rule := throttle.Rule{Scope: "test.account", Limit: 5, Window: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var begun []*throttle.Attempt
	refused := 0
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			try, err := []*throttle.Limiter{a, b}[i%2].Begin(ctx, rule, "ana")
			mu.Lock()
			defer mu.Unlock()
			if apperr.Is(err, apperr.RateLimited) {
				refused++
				return
			}
			assert.NoError(t, err)
			begun = append(begun, try)
		}()
	}
	wg.Wait()
	require.Len(t, begun, rule.Limit)
	require.Equal(t, 12-rule.Limit, refused)

	// Two succeed (taken back, one of them twice), three fail.
	require.NoError(t, begun[0].End(ctx, false, ""))
	require.NoError(t, begun[0].End(ctx, false, ""))
	require.NoError(t, begun[1].End(ctx, false, ""))
	for _, try := range begun[2:] {
		require.NoError(t, try.End(ctx, true, "wrong password"))
	}
	n, err := h.App.Store.ThrottleCount(ctx, rule.Scope, "ana", now.Truncate(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 3, n)
	var reasons string
	require.NoError(t, h.App.DB.SQL.QueryRowContext(ctx, `SELECT reasons::text FROM auth_throttle WHERE scope = $1`, rule.Scope).Scan(&reasons))
	require.JSONEq(t, `{"wrong password": 3}`, reasons)
	// Two more may begin now.
	for range 2 {
		_, err := a.Begin(ctx, rule, "ana")
		require.NoError(t, err)
	}
	_, err = b.Begin(ctx, rule, "ana")
	require.True(t, apperr.Is(err, apperr.RateLimited), "%v", err)
}
