package pgembed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// defaultStartTimeout is used when Options.StartTimeout is zero.
	defaultStartTimeout = 30 * time.Second
	// shutdownGrace is how long each shutdown step waits before escalating.
	shutdownGrace = 10 * time.Second
	// pollInterval is the pause between readiness checks.
	pollInterval = 50 * time.Millisecond
	// logFileName is the server's log file inside the data folder.
	logFileName = "certdesk-postgres.log"
	// logTailLines is how many log lines an error includes.
	logTailLines = 20
	// portAttempts is how often Start tries again with another port when the
	// chosen port was taken before postgres could bind it.
	portAttempts = 3
)

// errPortInUse reports that postgres could not bind the port picked for it.
var errPortInUse = errors.New("port already in use")

// Options configures a cluster started with Start.
type Options struct {
	// DataDir is the folder that holds the cluster; it is the PGDATA folder
	// itself. It is created when missing. DataDir is required.
	DataDir string
	// BinDir is the folder that holds initdb and postgres. When it is empty,
	// Start uses FindBinDir with the process environment.
	BinDir string
	// Ephemeral selects fast but unsafe settings (fsync, synchronous_commit
	// and full_page_writes off, initdb --no-sync) and makes Stop remove
	// DataDir. Use it for tests only.
	Ephemeral bool
	// Logger receives progress and warning messages; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds the wait for the server to accept connections;
	// zero means 30 seconds.
	StartTimeout time.Duration
	// Port, when not zero, is the TCP port on 127.0.0.1 to listen on,
	// instead of a free port picked anew on every start: for a test that
	// stops a cluster and starts it again under clients that keep its URL.
	// Start fails when the port is taken.
	Port int
}

// Cluster is a running PostgreSQL server started by Start. Its methods are
// safe for concurrent use.
type Cluster struct {
	dataDir   string
	binDir    string
	ephemeral bool
	logger    *slog.Logger
	user      *serverUser // non-nil when the server runs as user postgres
	logPath   string

	// Set by launch before Start returns; read-only afterwards.
	port     int
	fixed    bool // Options.Port was set: launch keeps port
	cmd      *exec.Cmd
	logStart int64         // size of the log file when the server was launched
	exited   chan struct{} // closed once the server process has been reaped
	waitErr  error         // the server's exit status; read only after exited is closed

	// attached is true when Start found a server already running for
	// DataDir under a live owner (another certdesk process): the cluster
	// then uses that server and Stop leaves it running.
	attached bool

	stopOnce sync.Once
	stopErr  error
}

// Start runs a PostgreSQL server for opts.DataDir and returns once it accepts
// connections. It initialises the cluster with initdb when DataDir holds no
// PG_VERSION file, shuts down server processes that an earlier, killed run
// left behind in DataDir, and listens on a free TCP port on 127.0.0.1 only.
// When the calling process runs as root, the server runs as the
// operating-system user "postgres". The caller must call Stop when done.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("pgembed: Options.DataDir is required")
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}

	binDir := opts.BinDir
	if binDir == "" {
		if binDir, err = FindBinDir(os.Getenv); err != nil {
			return nil, err
		}
	} else if !hasBinaries(binDir) {
		return nil, fmt.Errorf("%w: BinDir %s does not contain both initdb and postgres; %s",
			ErrNoBinaries, binDir, fixHint)
	}

	var su *serverUser
	if os.Getuid() == 0 {
		if su, err = lookupServerUser(); err != nil {
			return nil, err
		}
	}

	c := &Cluster{
		dataDir:   dataDir,
		binDir:    binDir,
		ephemeral: opts.Ephemeral,
		logger:    logger,
		user:      su,
		logPath:   filepath.Join(dataDir, logFileName),
		port:      opts.Port,
		fixed:     opts.Port != 0,
	}

	started := false
	if opts.Ephemeral {
		defer func() {
			if !started {
				_ = os.RemoveAll(dataDir)
			}
		}()
	}

	if port, ok := runningServer(dataDir); ok {
		c.port = port
		if err := c.ping(ctx); err == nil {
			logger.Info("using the postgres server already running for this data folder", "port", port, "data_dir", dataDir)
			c.attached = true
			started = true
			return c, nil
		}
	}
	c.port = opts.Port // zero: launch picks one
	if err := stopStaleServer(ctx, dataDir, logger); err != nil {
		return nil, fmt.Errorf("stale server: %w", err)
	}
	if err := prepareDataDir(dataDir, su); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}

	for attempt := 1; ; attempt++ {
		err := c.launch(ctx, timeout)
		if err == nil {
			break
		}
		if errors.Is(err, errPortInUse) && attempt < portAttempts && !c.fixed {
			logger.Warn("postgres port was taken, trying another", "port", c.port)
			continue
		}
		return nil, err
	}
	started = true
	return c, nil
}

// URL returns the connection URL of the given database on the cluster, for
// the superuser "postgres" without password and without TLS, in the form
// postgres://postgres@127.0.0.1:PORT/DATABASE?sslmode=disable.
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, url.PathEscape(database))
}

// Port returns the TCP port on 127.0.0.1 that the server listens on. The
// port is picked anew on every Start.
func (c *Cluster) Port() int {
	return c.port
}

// Stop shuts the server down with a fast shutdown (SIGINT), which rolls back
// open transactions and keeps committed data. When the server has not exited
// after 10 seconds it receives SIGQUIT (immediate shutdown, recovered on the
// next start). Stop waits for the server to exit and, for an ephemeral
// cluster, then removes the data folder. Stop may be called more than once
// and from several goroutines; every call returns the result of the first.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopErr = c.stop()
	})
	return c.stopErr
}

func (c *Cluster) stop() error {
	if c.attached {
		return nil
	}
	began := time.Now()
	select {
	case <-c.exited:
		c.logger.Warn("postgres had already exited", "err", c.waitErr, "data_dir", c.dataDir)
	default:
		c.terminate(syscall.SIGINT)
		c.logger.Info("postgres stopped", "pid", c.cmd.Process.Pid, "took", time.Since(began).Round(time.Millisecond))
	}
	if c.ephemeral {
		if err := os.RemoveAll(c.dataDir); err != nil {
			return fmt.Errorf("remove data folder: %w", err)
		}
	}
	return nil
}

// terminate sends first to the server and escalates (SIGQUIT, then SIGKILL to
// the whole process group) whenever the server has not exited after
// shutdownGrace. It returns once the server process has been reaped.
func (c *Cluster) terminate(first syscall.Signal) {
	signals := []syscall.Signal{first, syscall.SIGQUIT}
	if first == syscall.SIGQUIT {
		signals = signals[:1]
	}
	for _, sig := range signals {
		select {
		case <-c.exited:
			return
		default:
		}
		if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			c.logger.Warn("signal postgres", "signal", sig, "err", err)
		}
		timer := time.NewTimer(shutdownGrace)
		select {
		case <-c.exited:
			timer.Stop()
			return
		case <-timer.C:
			c.logger.Warn("postgres did not exit in time", "signal", sig, "waited", shutdownGrace)
		}
	}
	select {
	case <-c.exited:
		return
	default:
	}
	// The process group id is the server's pid (Setpgid), and the server has
	// not been reaped yet, so the group still belongs to it.
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.exited
}

// initdb creates the cluster in the (empty) data folder, with the C.UTF-8
// locale or, when that fails, the C locale.
func (c *Cluster) initdb(ctx context.Context) error {
	began := time.Now()
	c.logger.Info("initialising postgres cluster", "data_dir", c.dataDir, "bin_dir", c.binDir)
	var firstErr error
	for _, locale := range []string{"C.UTF-8", "C"} {
		args := []string{"-D", c.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=" + locale}
		if c.ephemeral {
			args = append(args, "--no-sync")
		}
		cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "initdb"), args...)
		c.prepareCmd(cmd, syscall.SIGKILL)
		cmd.Cancel = func() error {
			return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		cmd.WaitDelay = shutdownGrace
		out, err := cmd.CombinedOutput()
		if err == nil {
			c.logger.Info("initialised postgres cluster", "locale", locale, "took", time.Since(began).Round(time.Millisecond))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("initdb: %w", ctx.Err())
		}
		err = fmt.Errorf("initdb --locale=%s: %w\n%s", locale, err, tailLines(out, logTailLines))
		if firstErr != nil {
			return fmt.Errorf("%w\n(before that: %w)", err, firstErr)
		}
		firstErr = err
		c.logger.Warn("initdb failed, trying again with locale C", "err", err)
		// initdb clears the folder after a failure; make sure it is still
		// there and owned by the right user.
		if err := prepareDataDir(c.dataDir, c.user); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
	}
	return firstErr
}

// launch starts the postgres process on a fresh port (or the fixed one)
// and waits until it accepts connections.
func (c *Cluster) launch(ctx context.Context, timeout time.Duration) error {
	port := c.port
	if !c.fixed {
		var err error
		if port, err = freePort(); err != nil {
			return fmt.Errorf("pick port: %w", err)
		}
		c.port = port
	}

	logFile, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	if c.user != nil {
		if err := logFile.Chown(int(c.user.uid), int(c.user.gid)); err != nil {
			logFile.Close()
			return fmt.Errorf("open server log: %w", err)
		}
	}
	if fi, err := logFile.Stat(); err == nil {
		c.logStart = fi.Size()
	}

	args := []string{
		"-D", c.dataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
	}
	if c.ephemeral {
		args = append(args,
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off",
		)
	}
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...)
	c.prepareCmd(cmd, syscall.SIGQUIT)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	began := time.Now()
	err = cmd.Start()
	logFile.Close()
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd = cmd
	c.exited = make(chan struct{})
	go func(exited chan struct{}) {
		c.waitErr = cmd.Wait()
		close(exited)
	}(c.exited)

	readyCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	var lastErr error
	for {
		if lastErr = c.ping(readyCtx); lastErr == nil {
			c.logger.Info("postgres started", "port", port, "pid", cmd.Process.Pid, "data_dir", c.dataDir,
				"ephemeral", c.ephemeral, "took", time.Since(began).Round(time.Millisecond))
			return nil
		}
		select {
		case <-c.exited:
			tail := c.logTail()
			if strings.Contains(tail, "Address already in use") {
				return fmt.Errorf("postgres on port %d: %w", port, errPortInUse)
			}
			return fmt.Errorf("postgres exited before accepting connections (%v); last lines of %s:\n%s",
				c.waitErr, c.logPath, tail)
		case <-readyCtx.Done():
			c.terminate(syscall.SIGQUIT)
			if ctx.Err() != nil {
				return fmt.Errorf("wait for postgres: %w", ctx.Err())
			}
			return fmt.Errorf("postgres did not accept connections within %s (last error: %v); last lines of %s:\n%s",
				timeout, lastErr, c.logPath, c.logTail())
		case <-ticker.C:
		}
	}
}

// ping opens one connection to the server and checks it.
func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// prepareCmd sets the working folder, process attributes and environment of
// an initdb or postgres command, including the switch to user postgres when
// running as root.
func (c *Cluster) prepareCmd(cmd *exec.Cmd, deathSignal syscall.Signal) {
	cmd.Dir = "/"
	cmd.SysProcAttr = newSysProcAttr(deathSignal)
	env := os.Environ()
	if c.user != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: c.user.uid, Gid: c.user.gid}
		kept := env[:0:0]
		for _, kv := range env {
			name, _, _ := strings.Cut(kv, "=")
			if name != "HOME" && name != "USER" && name != "LOGNAME" {
				kept = append(kept, kv)
			}
		}
		env = append(kept, "HOME="+c.user.home, "USER="+c.user.name, "LOGNAME="+c.user.name)
	}
	cmd.Env = env
}

// logTail returns the last lines the server wrote to its log since launch.
func (c *Cluster) logTail() string {
	f, err := os.Open(c.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read server log: %v)", err)
	}
	defer f.Close()
	const maxRead = 64 << 10
	start := c.logStart
	if fi, err := f.Stat(); err == nil && fi.Size()-start > maxRead {
		start = fi.Size() - maxRead
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read server log: %v)", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read server log: %v)", err)
	}
	return tailLines(data, logTailLines)
}

// tailLines returns the last n lines of out.
func tailLines(out []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(out, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// clockTicks is the unit of the times in /proc/<pid>/stat (USER_HZ), 100
// on every Linux architecture Go runs on.
const clockTicks = 100

// CPU returns the processor time the server has used since it started:
// the user and system time of the postmaster and its children (backends,
// workers; each runs in a session of its own, so they are found by their
// parent) and of the children that have exited, which the postmaster
// reaps. It reads /proc (Linux); the bench divides it by the work done in
// a phase.
func (c *Cluster) CPU() (time.Duration, error) {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0, errors.New("pgembed: the server is not running")
	}
	pm := strconv.Itoa(c.cmd.Process.Pid)
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("pgembed: %w", err)
	}
	var ticks int64
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// Fields after the command name, which is in parentheses and may
		// hold spaces: state ppid pgrp … utime stime cutime cstime (the
		// 3rd to 17th fields of proc(5)). A backend's cutime and cstime
		// are 0 (it reaps nobody), the postmaster's hold its exited ones.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 || (d.Name() != pm && f[1] != pm) {
			continue
		}
		for _, k := range f[11:15] {
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("pgembed: /proc/%s/stat: %w", d.Name(), err)
			}
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
