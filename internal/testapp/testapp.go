// Package testapp boots the real certdesk on a throwaway database for a
// test: real PostgreSQL, real River workers, the real HTTP stack on a
// loopback port. Every response a test receives through it is validated
// against docs/openapi.yaml, so the document cannot drift from the code.
package testapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/docs"
	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/internal/postgres"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Harness is one running certdesk for one test.
type Harness struct {
	t      testing.TB
	App    *app.App
	URL    string // base URL of the HTTP server
	DBURL  string // the test's own database
	Config config.Config
	// Token is sent as "Authorization: Bearer" when set; see As.
	Token string
	// Clock is the application's clock; Advance moves it and the jobs
	// scheduled by it.
	Clock  *Clock
	client *http.Client
}

// Clock is a controllable clock: the real time plus an offset that only
// grows.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen bool      // Freeze was called: the time is base+offset
	base   time.Time // the real time when the clock was frozen
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen {
		return c.base.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Freeze stops the clock at the current time; Advance still moves it. For
// tests whose outcome must not depend on how long the machine takes, such
// as a count of failures within one throttle window.
func (c *Clock) Freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		c.base, c.frozen = time.Now(), true
	}
}

// Advance moves the application's clock forward by d, and makes every
// River job scheduled for up to the new time due now, as River's scheduler
// would when that time came: a timer set for "in 30 minutes" runs after
// Advance(30*time.Minute).
func (h *Harness) Advance(d time.Duration) {
	h.t.Helper()
	h.Clock.mu.Lock()
	h.Clock.offset += d
	h.Clock.mu.Unlock()
	_, err := h.App.DB.SQL.ExecContext(context.Background(), `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state IN ('scheduled', 'retryable') AND scheduled_at <= $1`, h.Clock.Now())
	require.NoError(h.t, err)
}

// As returns a harness whose requests carry token.
func (h *Harness) As(token string) *Harness {
	c := *h
	c.Token = token
	return &c
}

// WithT returns a harness that reports its failures to t: for requests
// made inside a subtest or a fuzz target (where the *testing.F that
// started the harness may not be used) on the harness of the test.
func (h *Harness) WithT(t testing.TB) *Harness {
	c := *h
	c.t = t
	return &c
}

// User creates a user of role in the organisation slug and returns it with
// a fresh API token.
func (h *Harness) User(orgSlug string, role access.Role) (*identity.User, string) {
	h.t.Helper()
	ctx := context.Background()
	o, err := h.App.Store.OrganizationBySlug(ctx, orgSlug)
	require.NoError(h.t, err)
	u, err := h.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: o.ID,
		Email: string(role) + "." + uuid.NewString()[:8] + "@" + orgSlug + ".example", Role: role})
	require.NoError(h.t, err)
	tok, _, err := h.App.Identity.CreateToken(ctx, access.System, u.ID, "test", nil)
	require.NoError(h.t, err)
	return u, tok
}

// Options adjust New.
type Options struct {
	// NoWorkers leaves the River client stopped (jobs stay queued).
	NoWorkers bool
	// Config changes the default configuration before the app is built.
	Config func(*config.Config)
	// Playbooks, when not nil, replace the shipped playbooks that triggers
	// and manual starts choose from; an empty slice (NoPlaybooks) means none.
	Playbooks []*playbook.Playbook
	// DatabaseURL, when set, is the migrated database the app runs on
	// instead of a fresh clone from testdb: for a test that runs its own
	// PostgreSQL cluster (to stop and start it). The test owns it.
	DatabaseURL string
}

// NoPlaybooks runs an app without any playbook, for tests that count their
// own notifications, timers or timeline events: a playbook triggered by the
// same incident would add its own (playbook runs are tested in
// internal/runbook).
var NoPlaybooks = []*playbook.Playbook{}

// New starts certdesk on a fresh database; everything stops when t ends.
func New(t testing.TB, opts Options) *Harness {
	t.Helper()
	ctx := context.Background()
	dbURL := opts.DatabaseURL
	if dbURL == "" {
		dbURL = testdb.New(t)
	}
	cfg, err := config.Load(func(string) string { return "" })
	require.NoError(t, err)
	cfg.DatabaseURL = dbURL
	cfg.JobPollInterval = 20 * time.Millisecond
	cfg.DBMaxConns = 10
	cfg.Workers = !opts.NoWorkers
	cfg.BlobDir = t.TempDir() // attachment files: the test's own folder, never ./data
	cfg.DataDir = t.TempDir() // the sealed secrets' key file too
	// The server listens before the app is built, so that the base URL
	// (links, the web UI's cookies) is where it really is.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg.BaseURL = "http://" + ln.Addr().String()
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	log := slog.New(slog.DiscardHandler)
	db, err := postgres.Open(ctx, dbURL, cfg.DBMaxConns, log)
	require.NoError(t, err)
	clock := &Clock{}
	a, err := app.New(cfg, db, log, clock.Now)
	require.NoError(t, err)
	if opts.Playbooks != nil {
		a.Runs.SetPlaybooks(opts.Playbooks)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.HTTP}}
	srv.Start()
	h := &Harness{t: t, App: a, URL: srv.URL, DBURL: dbURL, Config: cfg, Clock: clock, client: srv.Client()}
	if cfg.Workers {
		require.NoError(t, a.River.Start(ctx))
	}
	t.Cleanup(func() {
		srv.Close()
		if cfg.Workers {
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			_ = a.River.Stop(stopCtx)
		}
		db.Close()
	})
	return h
}

// Replica starts a second certdesk on the harness's database, as another
// replica behind a load balancer: its own database pool, services and HTTP
// server, on the same clock; its job client only inserts jobs. It stops
// when the test ends.
func (h *Harness) Replica() *Harness {
	h.t.Helper()
	cfg := h.Config
	cfg.Workers = false
	log := slog.New(slog.DiscardHandler)
	db, err := postgres.Open(context.Background(), h.DBURL, cfg.DBMaxConns, log)
	require.NoError(h.t, err)
	a, err := app.New(cfg, db, log, h.Clock.Now)
	require.NoError(h.t, err)
	srv := httptest.NewServer(a.HTTP)
	h.t.Cleanup(func() {
		srv.Close()
		db.Close()
	})
	r := &Harness{t: h.t, App: a, URL: srv.URL, DBURL: h.DBURL, Config: cfg, Token: h.Token, Clock: h.Clock, client: srv.Client()}
	return r
}

// Org creates an organisation; parent is a slug or "".
func (h *Harness) Org(slug string, kind org.Kind, parent string) *org.Organization {
	h.t.Helper()
	o := &org.Organization{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:], Kind: kind}
	if parent != "" {
		p, err := h.App.Store.OrganizationBySlug(context.Background(), parent)
		require.NoError(h.t, err)
		o.ParentID = &p.ID
	}
	require.NoError(h.t, h.App.Store.CreateOrganization(context.Background(), o))
	return o
}

// Response is a received HTTP response, already validated against the
// OpenAPI document.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Request sends a request. body is sent as is when it is a string or
// []byte, else encoded as JSON. header holds extra headers in pairs.
func (h *Harness) Request(method, path string, body any, header ...string) *Response {
	h.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		raw, err = json.Marshal(b)
		require.NoError(h.t, err)
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	require.NoError(h.t, err)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.client.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: out}
	validate(h.t, req, raw, r)
	return r
}

var (
	specOnce sync.Once
	spec     *openapi3.T
	router   routers.Router
	specErr  error
)

func init() {
	// kin-openapi decodes problem documents as JSON.
	openapi3filter.RegisterBodyDecoder("application/problem+json", openapi3filter.JSONBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/plain", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/merge-patch+json", openapi3filter.JSONBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
}

// Spec returns the parsed, validated OpenAPI document.
func Spec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(docs.OpenAPI)
		if err != nil {
			specErr = fmt.Errorf("docs/openapi.yaml does not parse: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = fmt.Errorf("docs/openapi.yaml is not valid OpenAPI: %w", err)
			return
		}
		spec = doc
		router, specErr = gorillamux.NewRouter(doc)
	})
	require.NoError(t, specErr)
	return spec, router
}

// validate fails the test when the request's JSON body or the response
// (or the route) is not what the OpenAPI document describes.
func validate(t testing.TB, req *http.Request, reqBody []byte, r *Response) {
	t.Helper()
	_, rt := Spec(t)
	// The router matches on the document's server URL "/": route by path only.
	vreq := req.Clone(context.Background())
	vreq.URL.Scheme, vreq.URL.Host, vreq.Host = "", "", ""
	route, params, err := rt.FindRoute(vreq)
	require.NoError(t, err, "%s %s is not in docs/openapi.yaml", req.Method, req.URL.Path)
	if reqBody != nil {
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{ExcludeRequestBody: true, ExcludeRequestQueryParams: true, MultiError: true}}
	if checksRequestBody(req, reqBody, r.Status) {
		rb := route.Operation.RequestBody
		require.NotNil(t, rb, "%s %s takes no request body in docs/openapi.yaml, but certdesk accepted one (%d)", req.Method, req.URL.Path, r.Status)
		vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
		err := openapi3filter.ValidateRequestBody(context.Background(), &openapi3filter.RequestValidationInput{
			Request: vreq, PathParams: params, Route: route, Options: &openapi3filter.Options{MultiError: true}}, rb.Value)
		require.NoError(t, err, "%s %s: certdesk answered %d to a request body docs/openapi.yaml does not allow: %s",
			req.Method, req.URL.Path, r.Status, reqBody)
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Body: io.NopCloser(bytes.NewReader(r.Body)), Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true},
	})
	require.NoError(t, err, "%s %s → %d does not match docs/openapi.yaml; body: %s", req.Method, req.URL.Path, r.Status, r.Body)
}

// checksRequestBody reports whether validate checks the request's body
// against the document: a JSON body (application/json or a +json type)
// that certdesk accepted, with a 2xx or 3xx answer. Requests that certdesk
// refused are checked only through their answer, which must be a problem
// document the operation lists: many tests send a wrong body on purpose,
// to see the refusal (400 malformed, 413 too large, 415 not JSON, 422 a
// field that breaks a rule), or to see that a caller who may not write is
// refused (404, 403) before the rules of the write itself are checked
// (docs/security.md, the order of the answers), and a 401 or 429 is
// decided before the body is read. A body that certdesk took and the
// document refuses is a disagreement between the two, and fails the test.
// A body sent with another content type (multipart uploads, Slack's form
// posts) is not checked here.
func checksRequestBody(req *http.Request, body []byte, status int) bool {
	if body == nil || status >= 400 {
		return false
	}
	mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// Eventually polls cond every 20 ms until it holds or 10 s pass.
func (h *Harness) Eventually(cond func() bool, msg string) {
	h.t.Helper()
	require.Eventually(h.t, cond, 10*time.Second, 20*time.Millisecond, msg)
}

// NewID returns a random UUID string.
func NewID() string { return uuid.NewString() }
