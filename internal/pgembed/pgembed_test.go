package pgembed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// requireBinaries skips the test when no PostgreSQL binaries are installed.
func requireBinaries(t *testing.T) {
	t.Helper()
	if _, err := FindBinDir(nil); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL binaries in CI (make test installs them): %v", err)
		}
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
}

// shortTempDir returns a fresh folder with a short path, removed at the end
// of the test.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pg")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// testLogger writes the package's messages to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startCluster starts a cluster and registers its Stop as cleanup.
func startCluster(t *testing.T, opts Options) *Cluster {
	t.Helper()
	opts.Logger = testLogger(t)
	began := time.Now()
	c, err := Start(t.Context(), opts)
	require.NoError(t, err)
	t.Logf("Start took %s (port %d)", time.Since(began).Round(time.Millisecond), c.Port())
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func connect(t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.URL("postgres"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// waitGone polls until no process is left in the process group led by pid
// (the server and all its children).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	require.Eventuallyf(t, func() bool {
		return errors.Is(syscall.Kill(-pid, 0), syscall.ESRCH)
	}, 15*time.Second, 20*time.Millisecond, "processes of group %d still running", pid)
}

func TestEphemeralStartStop(t *testing.T) {
	requireBinaries(t)
	dir := shortTempDir(t)
	c := startCluster(t, Options{DataDir: dir, Ephemeral: true})

	require.Equal(t, "postgres://postgres@127.0.0.1:"+strconv.Itoa(c.Port())+"/app?sslmode=disable", c.URL("app"))

	conn := connect(t, c)
	_, err := conn.Exec(t.Context(), "CREATE TABLE t (id int PRIMARY KEY, name text)")
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "INSERT INTO t VALUES (1, 'one')")
	require.NoError(t, err)
	var fsync string
	require.NoError(t, conn.QueryRow(t.Context(), "SHOW fsync").Scan(&fsync))
	require.Equal(t, "off", fsync)
	require.NoError(t, conn.Close(t.Context()))

	pid := c.cmd.Process.Pid
	began := time.Now()
	// Stop is idempotent and safe to call concurrently.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Stop()
		}()
	}
	wg.Wait()
	t.Logf("Stop took %s", time.Since(began).Round(time.Millisecond))
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, c.Stop())

	_, err = os.Stat(dir)
	require.ErrorIs(t, err, fs.ErrNotExist)
	waitGone(t, pid)
}

func TestPersistentKeepsData(t *testing.T) {
	requireBinaries(t)
	dir := shortTempDir(t)

	c := startCluster(t, Options{DataDir: dir})
	conn := connect(t, c)
	var fsync string
	require.NoError(t, conn.QueryRow(t.Context(), "SHOW fsync").Scan(&fsync))
	require.Equal(t, "on", fsync)
	_, err := conn.Exec(t.Context(), "CREATE TABLE t (id int PRIMARY KEY, name text)")
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "INSERT INTO t VALUES (1, 'kept')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))
	pid := c.cmd.Process.Pid
	require.NoError(t, c.Stop())
	waitGone(t, pid)

	_, err = os.Stat(filepath.Join(dir, "PG_VERSION"))
	require.NoError(t, err, "a persistent data folder survives Stop")

	c2 := startCluster(t, Options{DataDir: dir})
	var name string
	require.NoError(t, connect(t, c2).QueryRow(t.Context(), "SELECT name FROM t WHERE id = 1").Scan(&name))
	require.Equal(t, "kept", name)
	require.NoError(t, c2.Stop())

	// A server that cannot start fails fast with the end of its log.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("99\n"), 0o600))
	_, err = Start(t.Context(), Options{DataDir: dir, Logger: testLogger(t)})
	require.Error(t, err)
	require.Contains(t, err.Error(), "incompatible with server")
	t.Logf("expected failure: %v", err)
}

func TestPersistentAfterCrash(t *testing.T) {
	requireBinaries(t)
	dir := shortTempDir(t)

	c := startCluster(t, Options{DataDir: dir})
	conn := connect(t, c)
	_, err := conn.Exec(t.Context(), "CREATE TABLE t (id int PRIMARY KEY, name text)")
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "INSERT INTO t VALUES (1, 'committed')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))

	// Simulate a crash: the postmaster dies without any shutdown.
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	<-c.exited
	_, err = os.Stat(filepath.Join(dir, "postmaster.pid"))
	require.NoError(t, err, "a killed server leaves its pid file behind")

	c2 := startCluster(t, Options{DataDir: dir})
	var name string
	require.NoError(t, connect(t, c2).QueryRow(t.Context(), "SELECT name FROM t WHERE id = 1").Scan(&name))
	require.Equal(t, "committed", name)
	require.NoError(t, c2.Stop())
	// Stopping the crashed cluster is harmless.
	require.NoError(t, c.Stop())
}

func TestAttachesToRunningServer(t *testing.T) {
	requireBinaries(t)
	dir := shortTempDir(t)

	// The first server is running and owned by a live process (this one),
	// as when "certdesk serve" runs and "certdesk migrate" starts beside it.
	old := startCluster(t, Options{DataDir: dir})
	_, err := connect(t, old).Exec(t.Context(), "CREATE TABLE t (id int PRIMARY KEY)")
	require.NoError(t, err)

	c := startCluster(t, Options{DataDir: dir})
	require.Equal(t, old.Port(), c.Port(), "the second cluster uses the running server")
	var n int
	require.NoError(t, connect(t, c).QueryRow(t.Context(), "SELECT count(*) FROM t").Scan(&n))
	require.Equal(t, 0, n)
	require.NoError(t, c.Stop())
	select {
	case <-old.exited:
		t.Fatal("stopping an attached cluster stopped the server it shares")
	default:
	}
	require.NoError(t, connect(t, old).Ping(t.Context()))
}

// helperDirEnv names the data folder in which the helper process started by
// TestParentKilled runs its cluster.
const helperDirEnv = "PGEMBED_TEST_HELPER_DIR"

// TestParentKilled checks that a server does not outlive an owner killed with
// SIGKILL and that its data folder can be started again afterwards.
func TestParentKilled(t *testing.T) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		runHelper(dir)
		return
	}
	requireBinaries(t)
	dir := shortTempDir(t)

	helper := exec.Command(os.Args[0], "-test.run=^TestParentKilled$")
	helper.Env = append(os.Environ(), helperDirEnv+"="+dir)
	helper.Stderr = testWriter{t}
	stdin, err := helper.StdinPipe()
	require.NoError(t, err)
	stdout, err := helper.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, helper.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = helper.Process.Kill()
		_ = helper.Wait()
	})

	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var pid int
			if _, err := fmt.Sscanf(sc.Text(), "READY %d", &pid); err == nil {
				ready <- pid
			}
		}
		close(ready)
	}()
	var pid int
	select {
	case p, ok := <-ready:
		require.True(t, ok, "helper exited before its cluster was ready")
		pid = p
	case <-time.After(time.Minute):
		t.Fatal("helper did not report a running cluster")
	}

	require.NoError(t, helper.Process.Signal(syscall.SIGKILL))
	_ = helper.Wait()
	waitGone(t, pid) // the parent-death signal took the server down

	c := startCluster(t, Options{DataDir: dir})
	var name string
	require.NoError(t, connect(t, c).QueryRow(t.Context(), "SELECT name FROM t WHERE id = 1").Scan(&name))
	require.Equal(t, "from helper", name)
	require.NoError(t, c.Stop())
}

// runHelper is the body of the helper process of TestParentKilled: it starts
// a persistent cluster in dir, writes a row, reports the server's pid and
// waits until its standard input closes.
func runHelper(dir string) {
	ctx := context.Background()
	c, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'from helper')")
		_ = conn.Close(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		_ = c.Stop()
		os.Exit(2)
	}
	fmt.Printf("READY %d\n", c.cmd.Process.Pid)
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = c.Stop()
}

func TestRootNeedsTraversableParent(t *testing.T) {
	requireBinaries(t)
	if os.Getuid() != 0 {
		t.Skip("only root hands the data folder to user postgres")
	}
	parent := t.TempDir() // mode 0700, owned by root
	require.NoError(t, os.Chmod(parent, 0o700))
	_, err := Start(t.Context(), Options{DataDir: filepath.Join(parent, "data"), Ephemeral: true})
	require.Error(t, err)
	require.Contains(t, err.Error(), "cannot be entered by user postgres")
	require.Contains(t, err.Error(), "chmod o+x")
}

func TestFindBinDirMissing(t *testing.T) {
	empty := t.TempDir()
	_, err := FindBinDir(func(name string) string {
		if name == "PG_BINDIR" {
			return empty
		}
		return ""
	})
	require.ErrorIs(t, err, ErrNoBinaries)
	require.Contains(t, err.Error(), "apt-get install postgresql")
	require.Contains(t, err.Error(), "DATABASE_URL")

	_, err = Start(t.Context(), Options{DataDir: filepath.Join(empty, "data"), BinDir: empty})
	require.ErrorIs(t, err, ErrNoBinaries)
}

func TestFindBinDirFound(t *testing.T) {
	requireBinaries(t)
	dir, err := FindBinDir(func(string) string { return "" })
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, "initdb"))
	require.FileExists(t, filepath.Join(dir, "postgres"))
}

func TestVersionOrder(t *testing.T) {
	require.True(t, versionLess(parseVersion("9.6"), parseVersion("15")))
	require.True(t, versionLess(parseVersion("15"), parseVersion("16")))
	require.False(t, versionLess(parseVersion("16"), parseVersion("9")))
}

// CPU counts the server's processor time: it grows with work done in a
// backend, and a backend that has exited still counts (the postmaster
// reaps it).
func TestCPUCountsTheServersProcesses(t *testing.T) {
	requireBinaries(t)
	c := startCluster(t, Options{DataDir: shortTempDir(t), Ephemeral: true})
	before, err := c.CPU()
	require.NoError(t, err)
	conn := connect(t, c)
	// About a second of work in one backend (hashing in a loop).
	_, err = conn.Exec(t.Context(), "SELECT count(md5(g::text)) FROM generate_series(1, 3000000) g")
	require.NoError(t, err)
	busy, err := c.CPU()
	require.NoError(t, err)
	require.Greater(t, busy-before, 100*time.Millisecond, "the backend's work counts")
	require.NoError(t, conn.Close(t.Context()))
	require.Eventually(t, func() bool {
		after, err := c.CPU()
		return err == nil && after >= busy
	}, 10*time.Second, 50*time.Millisecond, "an exited backend's time stays counted")
	_, err = (&Cluster{}).CPU()
	require.Error(t, err)
}
