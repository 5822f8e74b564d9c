package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/comment"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/evidence"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/task"
)

// The web UI's targets (design §8, issue 11): server time of every page
// p99 ≤ 50 ms on the demo data and ≤ 150 ms for a city at 1,000,000
// incidents; a page without scripts weighs under 100 KB.
const (
	uiDemoTarget   = 50
	uiLargeTarget  = 150
	uiWeightTarget = 100 // KB
)

// uiPersona is who asks for the pages, and the identifiers the pages'
// routes are filled with.
type uiPersona struct {
	email, password string
	ref             string // an incident of theirs, with comments, evidence and requests
	commentID       string // a comment they wrote (its edit page)
	attachmentID    string // an evidence file of that incident
	resetToken      string // a usable password reset link's token (of someone else)
}

// pageRoute is one page of the router to measure, with its path filled in.
type pageRoute struct {
	route, path string
	public      bool // asked for signed out (it does not need a session)
}

// uiDemo measures the web UI on the demo data: the real app with its
// workers (which route the demo's incidents and run their playbooks), the
// demo seeded, then every page as the reporting city's officer (signed
// out for the public pages), UIRequests times each in-process through the
// whole handler stack (middleware, session, services, templates; no
// network): server time p99 against 50 ms, and each HTML page's weight
// without scripts (its HTML, the style sheet and the icon) against 100 KB.
func (e *env) uiDemo(ctx context.Context) error {
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		return err
	}
	cfg.DataDir, cfg.BlobDir = e.dir, e.dir+"/blobs-ui"
	cfg.JobPollInterval = e.opts.PollInterval
	a, url, closeDB, err := e.phaseApp(ctx, "ui", cfg, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer closeDB()
	stopWorkers, err := runWorkers(ctx, a)
	if err != nil {
		return err
	}
	defer stopWorkers()
	e.progress("UI: seeding the demo")
	if err := a.SeedDemo(ctx, io.Discard, cfg.BaseURL); err != nil {
		return err
	}
	// Let the workers route every incident and finish what the demo set
	// off (playbooks, notifications), so that the pages show it and the
	// measurement does not share the machine with it.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var busy int64
		if err := querySQL(ctx, url, `SELECT (SELECT count(*) FROM incidents WHERE coordinating_org_id IS NULL)
			+ (SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')
				OR state = 'scheduled' AND scheduled_at < now() + interval '1 second')`, &busy); err != nil {
			return err
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			e.report.Notes = append(e.report.Notes, fmt.Sprintf("UI: %d demo jobs were still running when the pages were measured", busy))
			break
		}
		// A poll with a deadline (above): the demo's jobs leave no event
		// to wait on, and 100 ms is short against the seconds they take.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	who := uiPersona{email: "reporter@city-northbridge.demo", password: app.DemoPassword}
	if err := querySQL(ctx, url, `SELECT i.reference, c.id::text, a.id::text FROM incidents i
		JOIN incident_comments c ON c.incident_id = i.id JOIN users u ON u.id = c.author_id
		JOIN incident_attachments a ON a.incident_id = i.id
		WHERE i.title = 'Ransomware encrypted file servers at city hall' AND u.email = 'reporter@city-northbridge.demo' LIMIT 1`,
		&who.ref, &who.commentID, &who.attachmentID); err != nil {
		return fmt.Errorf("the demo's incident: %w", err)
	}
	if who.resetToken, err = resetToken(ctx, a, "viewer@national-cert.demo"); err != nil {
		return err
	}
	return e.measurePages(ctx, a, who, "demo data", uiDemoTarget, true)
}

// uiLarge measures the pages for a city among LargeCount incidents (the
// large phase's data): its officer, one real incident of theirs with a
// comment, evidence and a request, every page as in uiDemo, against
// 150 ms.
func (e *env) uiLarge(ctx context.Context, a *app.App, citySlug, regionSlug string) error {
	city, err := a.Store.OrganizationBySlug(ctx, citySlug)
	if err != nil {
		return err
	}
	region, err := a.Store.OrganizationBySlug(ctx, regionSlug)
	if err != nil {
		return err
	}
	const pw = "bench-lantern-harbour-2026"
	officer, err := a.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: city.ID, Email: "officer@" + citySlug + ".example",
		Name: "City officer", Role: access.Reporter, Password: pw})
	if err != nil {
		return err
	}
	cert, err := a.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: region.ID, Email: "responder@" + regionSlug + ".example",
		Name: "Regional responder", Role: access.Responder, Password: pw})
	if err != nil {
		return err
	}
	p := officer.Principal()
	inc, _, err := a.Incidents.Create(ctx, p, incident.NewIncident{Title: "Ransomware on the file servers",
		Description: description, Severity: incident.High, Significant: true, Category: "malicious-code", Type: "infected-system"}, nil)
	if err != nil {
		return err
	}
	who := uiPersona{email: officer.Email, password: pw, ref: inc.Reference}
	var cm *comment.Comment
	if cm, _, err = a.Comments.Add(ctx, p, inc.Reference, "Servers **FS01** and **FS03** are affected.", nil); err != nil {
		return err
	}
	who.commentID = cm.ID.String()
	att, err := a.Evidence.Upload(ctx, p, inc.Reference, evidence.NewAttachment{Filename: "README-RESTORE.txt", ContentType: "text/plain"},
		strings.NewReader("Your files are encrypted."))
	if err != nil {
		return err
	}
	who.attachmentID = att.ID.String()
	if _, err := a.Tasks.Create(ctx, cert.Principal(), inc.Reference, task.NewTask{Title: "Send us the ransom note",
		Assignee: officer.Email}); err != nil {
		return err
	}
	if who.resetToken, err = resetToken(ctx, a, cert.Email); err != nil {
		return err
	}
	if err := e.measurePages(ctx, a, who, fmt.Sprintf("at %d incidents, city", e.opts.LargeCount), uiLargeTarget, false); err != nil {
		return err
	}
	// The triage queue of the city's regional CERT (issue 12: its first
	// page p99 ≤ 50 ms at 1,000,000 incidents), each tab, and its live
	// check.
	var queue []pageRoute
	for _, tab := range []string{"all", "new", "mine", "unassigned", "escalated", "at_risk"} {
		queue = append(queue, pageRoute{route: "/queue?tab=" + tab, path: "/queue?tab=" + tab})
	}
	queue = append(queue, pageRoute{route: "/queue/live", path: "/queue/live"})
	return e.measure(ctx, a, uiPersona{email: cert.Email, password: pw}, queue,
		fmt.Sprintf("at %d incidents, regional CERT", e.opts.LargeCount), uiDemoTarget, false)
}

// measurePages signs who in and measures every page route of the router.
func (e *env) measurePages(ctx context.Context, a *app.App, who uiPersona, what string, target float64, weights bool) error {
	routes, skipped := pageRoutes(a, who)
	if len(skipped) > 0 {
		e.report.Notes = append(e.report.Notes, "UI pages not measured (a parameter the bench cannot fill): "+strings.Join(skipped, ", "))
	}
	return e.measure(ctx, a, who, routes, what, target, weights)
}

// measure signs who in and measures the routes, each signed out when it
// does not need a session.
func (e *env) measure(ctx context.Context, a *app.App, who uiPersona, routes []pageRoute, what string, target float64, weights bool) error {
	secret, _, err := a.Sessions.SignIn(ctx, who.email, who.password, session.Client{RemoteAddr: "127.0.0.1", UserAgent: "certdesk-bench"})
	if err != nil {
		return fmt.Errorf("sign in %s: %w", who.email, err)
	}
	cookie := "certdesk-session=" + secret
	serve := func(path, cookie string) (*httptest.ResponseRecorder, time.Duration) {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		t := time.Now()
		a.HTTP.ServeHTTP(rec, req)
		return rec, time.Since(t)
	}
	// What every page loads besides its HTML, without scripts: the style
	// sheet and the icon, by their versioned URLs from a page.
	signin, _ := serve("/signin", "")
	var static int
	for _, m := range regexp.MustCompile(`(?:href)="(/static/[^"]+)"`).FindAllStringSubmatch(signin.Body.String(), -1) {
		rec, _ := serve(m[1], "")
		static += rec.Body.Len()
	}
	e.progress("UI %s: %d pages × %d requests", what, len(routes), e.opts.UIRequests)
	for i := range routes {
		r := &routes[i]
		// A page that sends a signed-out visitor to sign in is measured
		// signed in; the others (sign-in, help, the reset pages) signed out.
		rec, _ := serve(r.path, "")
		r.public = !(rec.Code == http.StatusSeeOther && strings.HasPrefix(rec.Header().Get("Location"), "/signin"))
	}
	for _, r := range routes {
		c := cookie
		if r.public {
			c = ""
		}
		var first *httptest.ResponseRecorder
		for range 3 { // warm-up
			first, _ = serve(r.path, c)
		}
		if first.Code >= 500 {
			return fmt.Errorf("GET %s: %d %s", r.path, first.Code, first.Body.String())
		}
		lat := make([]time.Duration, 0, e.opts.UIRequests)
		for range e.opts.UIRequests {
			_, d := serve(r.path, c)
			lat = append(lat, d)
		}
		who := "signed in"
		if r.public {
			who = "signed out"
		}
		e.report.Rows = append(e.report.Rows, NewRow(fmt.Sprintf("UI %s, %s, server time p99", r.route, what), "ms",
			Ms(Percentile(lat, 99)), 0, Target{AtMost, target},
			fmt.Sprintf("GET %s %s (%d): p50 %.1f ms of %d requests in-process after 3 warm-ups", r.path, who, first.Code,
				Ms(Percentile(lat, 50)), len(lat))))
		if weights && strings.HasPrefix(first.Header().Get("Content-Type"), "text/html") && first.Code < 300 {
			kb := float64(first.Body.Len()+static) / 1024
			e.report.Rows = append(e.report.Rows, NewRow(fmt.Sprintf("UI %s weight without scripts", r.route), "KB", kb, 0,
				Target{Below, uiWeightTarget}, fmt.Sprintf("HTML %.1f KB + style sheet and icon %.1f KB, uncompressed",
					float64(first.Body.Len())/1024, float64(static)/1024)))
		}
	}
	return nil
}

// pageRoutes lists the GET routes of the web UI (everything but the API,
// Slack, the static files and the operational endpoints), from the
// router, so that a page added later is measured without a change here,
// with their parameters filled from who; routes with a parameter it
// cannot fill are returned as skipped.
func pageRoutes(a *app.App, who uiPersona) (routes []pageRoute, skipped []string) {
	param := regexp.MustCompile(`:[A-Za-z]+`)
	for _, r := range a.HTTP.Routes() {
		if r.Method != http.MethodGet || strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/slack/") ||
			strings.HasPrefix(r.Path, "/static/") || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		switch r.Path {
		case "/healthz", "/readyz", "/metrics", "/api":
			continue
		}
		ok := true
		path := param.ReplaceAllStringFunc(r.Path, func(p string) string {
			switch {
			case p == ":ref":
				return who.ref
			case p == ":token":
				return who.resetToken
			case p == ":id" && strings.Contains(r.Path, "/comments/"):
				return who.commentID
			case p == ":id" && strings.Contains(r.Path, "/evidence/"):
				return who.attachmentID
			}
			ok = false
			return p
		})
		if !ok {
			skipped = append(skipped, r.Path)
			continue
		}
		routes = append(routes, pageRoute{route: r.Path, path: path})
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].route < routes[j].route })
	sort.Strings(skipped)
	return routes, skipped
}

// resetToken issues a password reset link for the user and returns its
// token (the reset page reads it without using it).
func resetToken(ctx context.Context, a *app.App, email string) (string, error) {
	u, err := a.Identity.UserByEmail(ctx, access.System, email)
	if err != nil {
		return "", err
	}
	link, _, err := a.Identity.IssueResetLink(ctx, access.System, u.ID.String())
	if err != nil {
		return "", err
	}
	_, token, _ := strings.Cut(link, "/password-reset/")
	return token, nil
}
