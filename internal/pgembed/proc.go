package pgembed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// staleWait bounds how long Start waits for the processes of a server left
// behind by an earlier run to go away.
const staleWait = 10 * time.Second

// stopStaleServer shuts down the server processes that an earlier run left
// behind in dataDir, if any. The postmaster named in postmaster.pid receives
// SIGQUIT when it is still alive and is a postgres process working in
// dataDir; server child processes that outlived their postmaster receive
// SIGQUIT as well. It then waits up to staleWait for all of them to exit, so
// that the new server does not find the old shared memory still in use.
func stopStaleServer(ctx context.Context, dataDir string, logger *slog.Logger) error {
	var victims []int

	if pid, ok := readPostmasterPID(dataDir); ok && processAlive(pid) && isClusterProcess(pid, dataDir) {
		logger.Warn("stopping postgres left behind by an earlier run", "pid", pid, "data_dir", dataDir)
		victims = append(victims, pid)
	}
	// Processes of a server whose postmaster died (for example children of a
	// postmaster killed with SIGKILL) also hold on to the shared memory.
	var orphans []int
	for _, pid := range clusterProcesses(dataDir) {
		if !slices.Contains(victims, pid) {
			orphans = append(orphans, pid)
		}
	}
	if len(orphans) > 0 {
		logger.Warn("stopping postgres processes left behind by an earlier run", "pids", orphans, "data_dir", dataDir)
		victims = append(victims, orphans...)
	}
	if len(victims) == 0 {
		return nil
	}

	for _, pid := range victims {
		if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("signal stale postgres process %d: %w", pid, err)
		}
	}

	deadline := time.Now().Add(staleWait)
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		remaining := 0
		for _, pid := range victims {
			if processAlive(pid) && isClusterProcess(pid, dataDir) {
				remaining++
			}
		}
		for _, pid := range clusterProcesses(dataDir) {
			if !slices.Contains(victims, pid) {
				remaining++
			}
		}
		if remaining == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres processes left behind by an earlier run in %s did not exit within %s", dataDir, staleWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// readPostmasterPID returns the process id on the first line of
// dataDir/postmaster.pid.
func readPostmasterPID(dataDir string) (int, bool) {
	f, err := os.Open(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// processAlive reports whether pid names a process that has not exited yet.
// Zombies (exited but not yet reaped) count as gone.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		// Without /proc, trust the signal probe.
		return !errors.Is(err, os.ErrNotExist) || !procAvailable()
	}
	// The state follows the command name, which is wrapped in parentheses
	// and may itself contain parentheses.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// isClusterProcess reports whether pid is a postgres process that works in
// dataDir. When the working directory cannot be read, the process name alone
// decides.
func isClusterProcess(pid int, dataDir string) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
		return false
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return true
	}
	return sameDir(cwd, dataDir)
}

// clusterProcesses lists the postgres processes whose working directory is
// dataDir (every server process changes into its data folder).
func clusterProcesses(dataDir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err != nil || !sameDir(cwd, dataDir) {
			continue
		}
		if processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sameDir reports whether the two paths name the same folder.
func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	if ra, err := filepath.EvalSymlinks(a); err == nil {
		a = ra
	}
	if rb, err := filepath.EvalSymlinks(b); err == nil {
		b = rb
	}
	return a == b
}

// procAvailable reports whether a Linux-style /proc file system is mounted.
func procAvailable() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// runningServer returns the port of a server that is running for dataDir
// under a live owner: its postmaster is alive, works in dataDir, and its
// parent is a live process other than init (a postmaster whose owner was
// killed is re-parented to init, or to a subreaper, and is stale).
func runningServer(dataDir string) (int, bool) {
	pid, ok := readPostmasterPID(dataDir)
	if !ok || !processAlive(pid) || !isClusterProcess(pid, dataDir) {
		return 0, false
	}
	ppid := parentPID(pid)
	if ppid <= 1 || !processAlive(ppid) {
		return 0, false
	}
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid)); err == nil {
		if strings.Contains(string(comm), "init") || strings.TrimSpace(string(comm)) == "systemd" {
			return 0, false
		}
	}
	return readPostmasterPort(dataDir)
}

// parentPID reads the parent process id of pid from /proc; 0 when unknown.
func parentPID(pid int) int {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:]) // state, ppid, ...
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// readPostmasterPort returns the port on the fourth line of postmaster.pid.
func readPostmasterPort(dataDir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	return port, err == nil && port > 0
}
