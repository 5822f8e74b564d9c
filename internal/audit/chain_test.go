package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/audit"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/slackfake"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// TestAuditEncodeIsDocumented: the canonical encoding and hash of a row,
// byte for byte as docs/reliability.md gives them to auditors.
func TestAuditEncodeIsDocumented(t *testing.T) {
	t.Parallel()
	r := audit.ChainRow{Seq: 2, ID: 7, AtMicros: 1764806400000000, ActorUserID: "", Actor: "certdesk",
		Action: "org.created", TargetType: "organization", TargetID: "cert-é", RemoteAddr: "", Data: `{"kind": "national_cert"}`}
	require.Equal(t, `1:2,1:7,16:1764806400000000,0:,8:certdesk,11:org.created,12:organization,7:cert-é,0:,25:{"kind": "national_cert"},`,
		string(audit.Encode(r)), "lengths count bytes: é is two")
	require.Equal(t, "26b1dd63af7d810d1d5cd4662f98f98a5ca2db9a75f979f3e2c6e549a1264c47", fmt.Sprintf("%x", audit.Hash(audit.Genesis, r)))
}

// chainWorld is a running certdesk with audit rows written the ordinary
// way, and a superuser connection to tamper with them.
type chainWorld struct {
	h   *testapp.Harness
	ctx context.Context
}

func chainSetup(t *testing.T, opts testapp.Options) chainWorld {
	t.Helper()
	h := testapp.New(t, opts)
	w := chainWorld{h: h, ctx: context.Background()}
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	for range 3 {
		h.User("region", access.Responder) // user.created and token.created each
	}
	return w
}

// tamper runs stmt as the database superuser (the test cluster's role) with
// the append-only trigger disabled, as an intruder with the database's
// keys would.
func (w chainWorld) tamper(t *testing.T, stmt string, args ...any) {
	t.Helper()
	tx, err := w.h.App.DB.SQL.BeginTx(w.ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	var super bool
	require.NoError(t, tx.QueryRowContext(w.ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super))
	require.True(t, super, "the test connects as the superuser")
	_, err = tx.ExecContext(w.ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update`)
	require.NoError(t, err)
	res, err := tx.ExecContext(w.ctx, stmt, args...)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Positive(t, n, stmt)
	_, err = tx.ExecContext(w.ctx, `ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update`)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
}

// rowAt returns the id of the audit row at chain position seq.
func (w chainWorld) rowAt(t *testing.T, seq int64) int64 {
	t.Helper()
	var id int64
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(w.ctx, `SELECT id FROM audit_log WHERE chain_seq = $1`, seq).Scan(&id))
	return id
}

func (w chainWorld) rows(t *testing.T) int64 {
	t.Helper()
	var n int64
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(w.ctx, `SELECT count(*) FROM audit_log`).Scan(&n))
	return n
}

// verifyCLI runs `certdesk audit verify` on the world's database.
func (w chainWorld) verifyCLI(t *testing.T) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"DATABASE_URL": w.h.DBURL, "CERTDESK_DATA_DIR": t.TempDir(), "CERTDESK_LOG_LEVEL": "error"}
	err := app.Run(w.ctx, app.Env{Args: []string{"audit", "verify"}, Getenv: func(k string) string { return env[k] },
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return out.String(), err
}

// TestAuditVerifyCatchesAChangedRow: a row changed by the superuser with
// the append-only trigger disabled breaks the chain at that row; verify
// names it and the command exits non-zero.
func TestAuditVerifyCatchesAChangedRow(t *testing.T) {
	t.Parallel()
	w := chainSetup(t, testapp.Options{NoWorkers: true})
	n := w.rows(t)
	require.GreaterOrEqual(t, n, int64(6))
	v, err := audit.Verify(w.ctx, w.h.App.Store)
	require.NoError(t, err)
	require.Nil(t, v.Fault)
	require.Equal(t, n, v.Rows)
	require.Equal(t, n, v.Head.Seq)
	out, err := w.verifyCLI(t)
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("ok: %d rows, head position %d, hash ", n, n))

	victim := w.rowAt(t, 3)
	w.tamper(t, `UPDATE audit_log SET actor = 'someone@else.example' WHERE id = $1`, victim)
	v, err = audit.Verify(w.ctx, w.h.App.Store)
	require.NoError(t, err)
	require.NotNil(t, v.Fault)
	require.Equal(t, audit.FaultHash, v.Fault.Kind)
	require.Equal(t, victim, v.Fault.RowID)
	require.Equal(t, int64(3), v.Fault.Seq)
	require.Equal(t, int64(2), v.Rows, "the rows before it verified")
	out, err = w.verifyCLI(t)
	require.ErrorIs(t, err, app.ErrAuditBroken, "main exits non-zero")
	require.Contains(t, out, fmt.Sprintf("BROKEN after 2 good rows: audit row %d (position 3): its hash ", victim))
}

// TestAuditVerifyCatchesADeletedRow: a row deleted from the middle of the
// chain is named by the row after it; the last row deleted is caught by
// the chain's head.
func TestAuditVerifyCatchesADeletedRow(t *testing.T) {
	t.Parallel()
	w := chainSetup(t, testapp.Options{NoWorkers: true})
	next := w.rowAt(t, 5)
	w.tamper(t, `DELETE FROM audit_log WHERE chain_seq = 4`)
	v, err := audit.Verify(w.ctx, w.h.App.Store)
	require.NoError(t, err)
	require.NotNil(t, v.Fault)
	require.Equal(t, audit.FaultMissing, v.Fault.Kind)
	require.Equal(t, next, v.Fault.RowID)
	require.Contains(t, v.Fault.Detail, fmt.Sprintf("audit row %d (position 5): positions 4 to 4 before it are missing", next))
	out, err := w.verifyCLI(t)
	require.ErrorIs(t, err, app.ErrAuditBroken)
	require.Contains(t, out, "positions 4 to 4 before it are missing")

	t.Run("the last row", func(t *testing.T) {
		w := chainSetup(t, testapp.Options{NoWorkers: true})
		n := w.rows(t)
		w.tamper(t, `DELETE FROM audit_log WHERE chain_seq = $1`, n)
		v, err := audit.Verify(w.ctx, w.h.App.Store)
		require.NoError(t, err)
		require.NotNil(t, v.Fault)
		require.Equal(t, audit.FaultHead, v.Fault.Kind)
		require.Equal(t, n, v.Fault.Seq)
		require.Equal(t, n-1, v.Rows)
	})
}

// TestAuditChainConcurrentWrites: transactions writing audit rows at once,
// some rolled back, leave one chain with no fork and no gap.
func TestAuditChainConcurrentWrites(t *testing.T) {
	t.Parallel()
	w := chainSetup(t, testapp.Options{NoWorkers: true})
	before := w.rows(t)
	const writers, txs, perTx = 8, 15, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range txs {
				if err := writeAudit(w.ctx, w.h.App.DB.SQL, g, i, perTx, i%5 == 4); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	committed := int64(writers * (txs - txs/5) * perTx)
	require.Equal(t, before+committed, w.rows(t))
	v, err := audit.Verify(w.ctx, w.h.App.Store)
	require.NoError(t, err)
	require.Nil(t, v.Fault, "%v", v.Fault)
	require.Equal(t, before+committed, v.Rows, "every committed row is in the chain")
	var gaps int64
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(w.ctx,
		`SELECT max(chain_seq) - count(*) FROM audit_log`).Scan(&gaps))
	require.Zero(t, gaps, "rolled-back inserts leave no gap")
}

// writeAudit writes n audit rows in one transaction, committed or rolled
// back, with text that is not ASCII.
func writeAudit(ctx context.Context, db *sql.DB, g, i, n int, rollback bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for k := range n {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (actor, action, target_type, target_id, data)
			VALUES ($1, 'test.written', 'écrit', $2, $3)`, fmt.Sprintf("writer-%d@ex.example", g), fmt.Sprintf("%d-%d", i, k),
			fmt.Sprintf(`{"g": %d, "note": "Grüße \u00e9", "k": [%d]}`, g, k)); err != nil {
			return err
		}
	}
	if rollback {
		return tx.Rollback()
	}
	return tx.Commit()
}

// TestAuditWatchJobAlertsOnce: the periodic job, worked by River, alerts
// the national CERT's channel once for a broken chain however often it
// runs, again for a new first break, and resolves the alerts once the
// chain verifies.
func TestAuditWatchJobAlertsOnce(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(io.Discard, nil)
	slackSrv := httptest.NewServer(fake.Handler())
	t.Cleanup(slackSrv.Close)
	h := testapp.New(t, testapp.Options{Playbooks: testapp.NoPlaybooks, Config: func(c *config.Config) {
		c.SlackAPIURL, c.SlackBotToken = slackSrv.URL+"/api/", "xoxb-test"
	}})
	w := chainWorld{h: h, ctx: context.Background()}
	require.NoError(t, h.App.Store.CreateOrganization(w.ctx, &org.Organization{Slug: "national", Name: "National CERT",
		Kind: org.NationalCERT, ChatChannel: "C0NATIONAL1"}))
	for range 3 {
		h.User("national", access.Responder)
	}
	runs := 0
	work := func() {
		t.Helper()
		runs++
		_, err := h.App.River.Insert(w.ctx, audit.WatchJob{}, nil)
		require.NoError(t, err)
		h.Eventually(func() bool {
			var n int
			require.NoError(t, h.App.DB.SQL.QueryRowContext(w.ctx,
				`SELECT count(*) FROM river_job WHERE kind = 'audit.verify' AND state = 'completed'`).Scan(&n))
			return n == runs
		}, "the audit.verify job completes")
	}
	alerts := func() []slackfake.Message { return fake.Messages("C0NATIONAL1") }

	work()
	require.Empty(t, alerts(), "a whole chain raises nothing")

	victim := w.rowAt(t, 4)
	var action string
	require.NoError(t, h.App.DB.SQL.QueryRowContext(w.ctx, `SELECT action FROM audit_log WHERE id = $1`, victim).Scan(&action))
	w.tamper(t, `UPDATE audit_log SET action = 'nothing.happened' WHERE id = $1`, victim)
	for range 3 {
		work()
	}
	require.Len(t, alerts(), 1, "one alert for one broken chain, not one per run")
	require.Contains(t, alerts()[0].Text, fmt.Sprintf("audit row %d (position 4)", victim))

	earlier := w.rowAt(t, 2)
	var addr string
	require.NoError(t, h.App.DB.SQL.QueryRowContext(w.ctx, `SELECT remote_addr FROM audit_log WHERE id = $1`, earlier).Scan(&addr))
	w.tamper(t, `UPDATE audit_log SET remote_addr = '203.0.113.9' WHERE id = $1`, earlier)
	work()
	work()
	require.Len(t, alerts(), 2, "a new first break is a new alert")
	require.Contains(t, alerts()[1].Text, fmt.Sprintf("audit row %d (position 2)", earlier))

	var open, sent int
	require.NoError(t, h.App.DB.SQL.QueryRowContext(w.ctx, `SELECT count(*) FILTER (WHERE resolved_at IS NULL),
		count(*) FILTER (WHERE sent_at IS NOT NULL) FROM audit_chain_alerts`).Scan(&open, &sent))
	require.Equal(t, []int{1, 2}, []int{open, sent})

	// Restored from a copy: the chain verifies and the alerts are resolved.
	w.tamper(t, `UPDATE audit_log SET remote_addr = $2 WHERE id = $1`, earlier, addr)
	w.tamper(t, `UPDATE audit_log SET action = $2 WHERE id = $1`, victim, action)
	work()
	require.NoError(t, h.App.DB.SQL.QueryRowContext(w.ctx, `SELECT count(*) FILTER (WHERE resolved_at IS NULL),
		count(*) FILTER (WHERE sent_at IS NOT NULL) FROM audit_chain_alerts`).Scan(&open, &sent))
	require.Equal(t, []int{0, 2}, []int{open, sent}, "resolved; nothing new sent")
	require.Len(t, alerts(), 2)
}
