//go:build reliability

package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/slackfake"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// workerConcurrency is CERTDESK_WORKER_CONCURRENCY of every process.
const workerConcurrency = 8

// quick reports whether the battery runs in its quick mode
// (CERTDESK_RELIABILITY=quick or unset) rather than the long one.
func quick() bool { return os.Getenv("CERTDESK_RELIABILITY") != "long" }

// pick returns q in quick mode and l in long mode.
func pick[T any](q, l T) T {
	if quick() {
		return q
	}
	return l
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// binary builds cmd/certdesk once per test process and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "certdesk-rel-bin")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "certdesk")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/certdesk/certdesk/cmd/certdesk")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// harness is one test's world: a fresh database migrated by `certdesk
// migrate up`, a fake Slack in the test process, and the certdesk
// processes the test starts.
type harness struct {
	t     *testing.T
	bin   string
	dir   string
	dbURL string
	slack *slackRecorder
	// env is given to every process (before its own).
	env   map[string]string
	procs []*proc
}

// newHarness creates a database, migrates it with the binary and starts
// the fake Slack.
func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, bin: binary(t), dir: t.TempDir()}
	h.dbURL = testdb.NewEmpty(t)
	h.slack = newSlackRecorder()
	ss := httptest.NewServer(h.slack)
	t.Cleanup(ss.Close)
	h.env = map[string]string{
		"DATABASE_URL":                h.dbURL,
		"CERTDESK_DATA_DIR":           filepath.Join(h.dir, "data"),
		"CERTDESK_LOG_LEVEL":          "warn",
		"CERTDESK_DB_MAX_CONNS":       "20",
		"CERTDESK_WORKER_CONCURRENCY": fmt.Sprint(workerConcurrency),
		"SLACK_API_URL":               ss.URL + "/api/",
		"SLACK_BOT_TOKEN":             "xoxb-reliability",
		"CERTDESK_SHUTDOWN_TIMEOUT":   "20s",
		"CERTDESK_JOB_RESCUE_AFTER":   "15s",
	}
	t.Cleanup(func() {
		for _, p := range h.procs {
			p.stop(syscall.SIGKILL)
		}
		if t.Failed() {
			for _, p := range h.procs {
				t.Logf("--- last log lines of %s:\n%s", p.name, p.tail(40))
			}
		}
	})
	h.run("migrate", "up")
	return h
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// environ returns os.Environ with h.env and extra on top.
func (h *harness) environ(extra map[string]string) []string {
	env := os.Environ()
	for k, v := range h.env {
		env = append(env, k+"="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// run runs a certdesk command to its end and returns its standard output.
func (h *harness) run(args ...string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	cmd.Env = h.environ(nil)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		h.t.Fatalf("certdesk %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// demoToken seeds the demo (`certdesk demo`) and returns the API token it
// issued to the demo user email.
func (h *harness) demoToken(email string) string {
	h.t.Helper()
	out := h.run("demo")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == email {
			return f[3]
		}
	}
	h.t.Fatalf("no token for %s in the demo's output:\n%s", email, out)
	return ""
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is a certdesk process the harness runs and may kill and restart;
// it keeps its address (CERTDESK_ADDR) across restarts.
type proc struct {
	h      *harness
	name   string
	args   []string
	extra  map[string]string
	addr   string // serve only
	logf   string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the exit of the last run, once exited is closed
	starts int
}

// serve starts `certdesk serve` on a free loopback port with extra
// environment and waits until /readyz answers 200.
func (h *harness) serve(name string, extra map[string]string) *proc {
	h.t.Helper()
	p := &proc{h: h, name: name, args: []string{"serve"}, extra: map[string]string{}, addr: freeAddr(h.t),
		logf: filepath.Join(h.dir, name+".log")}
	for k, v := range extra {
		p.extra[k] = v
	}
	p.extra["CERTDESK_ADDR"] = p.addr
	h.procs = append(h.procs, p)
	p.start()
	return p
}

// worker starts `certdesk worker` and waits until it runs.
func (h *harness) worker(name string, extra map[string]string) *proc {
	h.t.Helper()
	p := &proc{h: h, name: name, args: []string{"worker"}, extra: extra, logf: filepath.Join(h.dir, name+".log")}
	h.procs = append(h.procs, p)
	p.start()
	return p
}

// URL is the base URL of a serve process.
func (p *proc) URL() string { return "http://" + p.addr }

// start starts the process and waits until it is ready: /readyz 200 for
// serve, the "worker running" log line for worker.
func (p *proc) start() {
	t := p.h.t
	t.Helper()
	lf, err := os.OpenFile(p.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(lf, "=== start %d\n", p.starts+1)
	var offset int64
	if st, err := lf.Stat(); err == nil {
		offset = st.Size()
	}
	cmd := exec.Command(p.h.bin, p.args...)
	cmd.Env = p.h.environ(p.extra)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("start %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		lf.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited while starting: %v\n%s", p.name, p.err, p.tail(30))
		default:
		}
		if p.ready(offset) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 90 s\n%s", p.name, p.tail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var readyClient = &http.Client{Timeout: 2 * time.Second}

func (p *proc) ready(logOffset int64) bool {
	if p.addr == "" {
		b, err := os.ReadFile(p.logf)
		return err == nil && int64(len(b)) > logOffset && bytes.Contains(b[logOffset:], []byte("certdesk worker running"))
	}
	resp, err := readyClient.Get(p.URL() + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop sends sig to the process and waits until it exited (at most a
// minute, then SIGKILL). It returns the process's exit error.
func (p *proc) stop(sig syscall.Signal) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return p.exitErr()
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		<-exited
	}
	return p.exitErr()
}

func (p *proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// kill stops the process with SIGKILL.
func (p *proc) kill() { p.stop(syscall.SIGKILL) }

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logf)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logContains reports whether the process's log (every run) has s.
func (p *proc) logContains(s string) bool {
	b, _ := os.ReadFile(p.logf)
	return bytes.Contains(b, []byte(s))
}

// slackRecorder is the fake Slack with a count of every top-level and
// threaded chat.postMessage by its content, to find a message posted
// twice.
type slackRecorder struct {
	fake  *slackfake.Server
	next  http.Handler
	mu    sync.Mutex
	posts map[string]int // channel, text and blocks → posts
	total int
}

func newSlackRecorder() *slackRecorder {
	f := slackfake.New(nil, nil)
	return &slackRecorder{fake: f, next: f.Handler(), posts: map[string]int{}}
}

func (s *slackRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/chat.postMessage" {
		if err := r.ParseForm(); err == nil {
			key := r.PostForm.Get("channel") + "\x00" + r.PostForm.Get("text") + "\x00" + r.PostForm.Get("blocks")
			s.mu.Lock()
			s.posts[key]++
			s.total++
			s.mu.Unlock()
		}
	}
	s.next.ServeHTTP(w, r)
}

// counts returns the number of posts and of messages posted more than
// once (with the number of extra posts).
func (s *slackRecorder) counts() (posts, duplicated, extra int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.posts {
		if n > 1 {
			duplicated++
			extra += n - 1
		}
	}
	return s.total, duplicated, extra
}

// query runs one SQL query against the harness's database and scans its
// single row into dest.
func (h *harness) query(sql string, dest ...any) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.dbURL)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
}

// eventually polls cond every 250 ms until it returns "" or limit passes;
// then it fails the test with cond's last answer.
func (h *harness) eventually(limit time.Duration, what string, cond func() string) time.Duration {
	h.t.Helper()
	began := time.Now()
	var last string
	for time.Since(began) < limit {
		if last = cond(); last == "" {
			return time.Since(began)
		}
		time.Sleep(250 * time.Millisecond)
	}
	h.t.Fatalf("%s: not done after %s: %s", what, limit, last)
	return 0
}

// writePlaybook writes a local playbook into a folder of its own and
// returns the folder (CERTDESK_PLAYBOOK_DIR).
func (h *harness) writePlaybook(name, yaml string) string {
	h.t.Helper()
	dir := filepath.Join(h.dir, "playbooks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".yaml"), []byte(yaml), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return dir
}

// reporter posts reports with Idempotency-Keys to one of the URLs base
// returns, retrying the same key after a connection error or a 5xx until
// it gets a 2xx (acknowledged) or the context ends.
type reporter struct {
	token  string
	client *http.Client
	// observe, when set, is told the outcome of every attempt: when its
	// request was written (zero: never), its status (0: none) and error.
	observe func(wrote time.Time, status int, err error)
}

// report is one report a client sent.
type report struct {
	title string
	id    string // the incident's ID from the 2xx answer; "" when never acknowledged
}

// errRefused is a 4xx answer: a bug in the test, not a fault.
var errRefused = errors.New("refused")

// post sends one report until acknowledged; it returns the incident ID.
// base is called before every attempt (the target may change).
func (r *reporter) post(ctx context.Context, base func() string, key, title string, category string) (string, int, error) {
	body, _ := json.Marshal(map[string]any{
		"title": title, "description": "Reliability battery report " + key, "stage": "response",
		"severity": "high", "tlp": "TLP:AMBER", "category": category, "type": category,
	})
	attempts := 0
	for {
		attempts++
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base()+"/api/v1/incidents", bytes.NewReader(body))
		if err != nil {
			return "", attempts, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.token)
		req.Header.Set("Idempotency-Key", key)
		var wrote time.Time
		if r.observe != nil {
			req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				WroteRequest: func(httptrace.WroteRequestInfo) {
					if wrote.IsZero() {
						wrote = time.Now()
					}
				},
			}))
		}
		resp, err := r.client.Do(req)
		if r.observe != nil {
			status := 0
			if err == nil {
				status = resp.StatusCode
			}
			r.observe(wrote, status, err)
		}
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode/100 == 2:
				var out struct {
					ID string `json:"id"`
				}
				if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
					return "", attempts, fmt.Errorf("2xx without an id: %s", b)
				}
				return out.ID, attempts, nil
			case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusConflict:
				return "", attempts, fmt.Errorf("%w: %d %s", errRefused, resp.StatusCode, b)
			}
		}
		if ctx.Err() != nil {
			return "", attempts, ctx.Err()
		}
		select {
		case <-ctx.Done():
			return "", attempts, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
