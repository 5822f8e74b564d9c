package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/netip"
	"net/smtp"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/app"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/linking"
	"github.com/certdesk/certdesk/internal/mail/mailtest"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/slackfake"
	"github.com/certdesk/certdesk/internal/stix"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// The leak crawler (security review, "make the class impossible"): it
// plants canaries — a unique string in every text field of a TLP:RED and
// of a TLP:AMBER+STRICT incident, their observables, comments, tasks,
// evidence and timeline entries, and a TLP:RED observable inside a
// TLP:AMBER incident — then, as every demo user who may not see them,
// crawls every exit: every GET route of the API (found from the router,
// so a new route is crawled without a change here) with every identifier
// it knows, list filters and full-text search for the canaries, every
// incident write route as a problem body, the Slack command, and every
// message the fake Slack and a webhook receiver got. No canary may appear
// anywhere, and every request that names an invisible incident answers
// 404.

// leakSigningSecret signs the crawler's Slack commands.
const leakSigningSecret = "leak-crawler-signing-secret"

// canaryIncident is one incident full of canaries.
type canaryIncident struct {
	token string // the canary: every field of the incident carries it
	tlp   string
	id    string
	ref   string
	// observableOnly: the incident itself is visible to many; only its
	// observable (TLP:RED) carries the canary.
	observableOnly bool
}

// webhookSink records every webhook body certdesk sends.
type webhookSink struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (w *webhookSink) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	w.bodies = append(w.bodies, b)
	w.mu.Unlock()
	rw.WriteHeader(http.StatusNoContent)
}

func (w *webhookSink) all() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.bodies...)
}

// demoUser is a demo user with a token.
type demoUser struct {
	id, email, org, role, token, slackID string
	session                              string // the secret of a web UI session, signed in with the demo password
}

func TestLeakCrawler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	sink := &webhookSink{}
	hooks := httptest.NewServer(sink)
	t.Cleanup(hooks.Close)
	slackUsers := map[string]string{} // Slack user ID → e-mail, filled below
	fake := slackfake.New(nil, slackUsers)
	slackSrv := httptest.NewServer(fake.Handler())
	t.Cleanup(slackSrv.Close)
	relay := mailtest.Start(t, mailtest.Options{}) // e-mail: a third exit
	h := testapp.New(t, testapp.Options{Config: func(c *config.Config) {
		c.SMTPRelay, c.SMTPFrom, c.SMTPCAFile = relay.Addr, "certdesk@cert.demo", relay.CAFile
		c.SlackAPIURL = slackSrv.URL + "/api/"
		c.SlackBotToken = "xoxb-fake"
		c.SlackSigningSecret = leakSigningSecret
		c.OutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.Mail.Domain = "certdesk.test"
	}})
	require.NoError(t, h.App.SeedDemo(ctx, io.Discard, h.URL))

	// Every demo organisation also gets a signed webhook: a second exit.
	var slugs []string
	rows, err := h.App.DB.Pool.Query(ctx, `SELECT slug FROM organizations ORDER BY slug`)
	require.NoError(t, err)
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		slugs = append(slugs, s)
	}
	require.NoError(t, rows.Err())
	for _, s := range slugs {
		require.NoError(t, h.App.Store.SetOrgWebhook(ctx, s, hooks.URL+"/"+s, "secret-"+s))
	}
	// Every organisation has a contact address and every person chose
	// e-mail.
	_, err = h.App.DB.Pool.Exec(ctx, `UPDATE organizations SET contact_email = 'contact@' || slug || '.demo' WHERE contact_email = ''`)
	require.NoError(t, err)
	_, err = h.App.DB.Pool.Exec(ctx, `INSERT INTO user_settings (user_id, email_notifications) SELECT id, true FROM users
		ON CONFLICT (user_id) DO UPDATE SET email_notifications = true`)
	require.NoError(t, err)

	// Every demo user, with a token and a Slack identity.
	var users []demoUser
	rows, err = h.App.DB.Pool.Query(ctx, `SELECT u.id, u.email, o.slug, u.role FROM users u
		JOIN organizations o ON o.id = u.org_id WHERE u.email LIKE '%.demo' ORDER BY u.email`)
	require.NoError(t, err)
	for rows.Next() {
		var u demoUser
		var id uuid.UUID
		require.NoError(t, rows.Scan(&id, &u.email, &u.org, &u.role))
		u.id = id.String()
		users = append(users, u)
	}
	require.NoError(t, rows.Err())
	require.Len(t, users, 5*len(slugs), "one demo user of every role in every organisation")
	for i := range users {
		tok, _, err := h.App.Identity.CreateToken(ctx, access.System, uuid.MustParse(users[i].id), "crawler", nil)
		require.NoError(t, err)
		users[i].token = tok
		users[i].slackID = fmt.Sprintf("UCRAWL%03d", i)
		slackUsers[users[i].slackID] = users[i].email
		// A session for the web UI, through the real sign-in; before the
		// crawl, whose probes (reset links) count as failed
		// authentications of this address and would throttle sign-ins.
		users[i].session, _, err = h.App.Sessions.SignIn(ctx, users[i].email, app.DemoPassword,
			session.Client{RemoteAddr: "127.0.0.1", UserAgent: "leak crawler"})
		require.NoError(t, err, users[i].email)
	}
	byEmail := map[string]demoUser{}
	for _, u := range users {
		byEmail[u.email] = u
	}

	// Plant the canaries, as the reporter of a city.
	reporter := byEmail["reporter@city-northbridge.demo"]
	api := func(tok, method, path string, body any) (int, []byte) {
		t.Helper()
		return send(t, h.URL, tok, method, path, body)
	}
	newToken := func() string { return "cnry" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] }
	canaries := []*canaryIncident{
		{token: newToken(), tlp: "TLP:RED"},
		{token: newToken(), tlp: "TLP:AMBER+STRICT"},
		{token: newToken(), tlp: "TLP:AMBER", observableOnly: true},
	}
	drain := func(what string) {
		t.Helper()
		require.Eventually(t, func() bool {
			var pending int
			_ = h.App.DB.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM incidents WHERE coordinating_org_id IS NULL)
				+ (SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')
					AND scheduled_at <= now() + interval '1 minute')`).Scan(&pending)
			return pending == 0
		}, 60*time.Second, 50*time.Millisecond, what)
	}
	// Each canary incident lives a realistic life first: reported as
	// TLP:GREEN with a harmless title, shared with the partner CERT and
	// escalated to the national CERT, so that chat threads and webhooks
	// about it exist in many organisations' channels. Only then is it
	// tightened and filled with canaries: whatever reaches those channels
	// afterwards is a leak.
	coordinator := byEmail["coordinator@cert-north.demo"]
	for _, c := range canaries {
		status, body := api(reporter.token, http.MethodPost, "/api/v1/incidents", map[string]any{
			"title": "Suspicious sign-ins on the council's VPN", "description": "Details follow.", "tlp": "TLP:GREEN",
			"severity": "high", "category": "intrusions", "type": "system-compromise",
		})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		var inc struct{ ID, Reference string }
		require.NoError(t, json.Unmarshal(body, &inc))
		c.id, c.ref = inc.ID, inc.Reference
	}
	drain("the canary incidents are routed")
	for _, c := range canaries {
		base := "/api/v1/incidents/" + c.id
		status, body := api(coordinator.token, http.MethodPost, base+"/shares", map[string]any{"org": "partner-cert", "note": "for awareness"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		status, body = api(coordinator.token, http.MethodPost, base+"/escalations", map[string]any{
			"to": "national-cert", "kind": "assist", "reason": "possible campaign"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
	}
	drain("the shares and escalations are notified")
	for _, c := range canaries {
		base := "/api/v1/incidents/" + c.id
		patch := map[string]any{"tlp": c.tlp}
		if !c.observableOnly {
			patch["title"] = c.token + "-title"
			patch["description"] = "# Report\n\n" + c.token + "-description"
			patch["tags"] = []string{c.token + "-tag"}
			patch["affected_assets"] = []map[string]string{{"name": c.token + "-asset", "kind": "server", "criticality": "high"}}
		}
		status, body := send(t, h.URL, reporter.token, http.MethodPatch, base, patch)
		require.Equal(t, http.StatusOK, status, "%s", body)
		status, body = api(reporter.token, http.MethodPost, base+"/observables", map[string]any{
			"type": "domain", "value": c.token + "-obs.example", "tlp": "TLP:RED", "note": c.token + "-note",
			"tags": []string{c.token + "-obstag"}})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		if c.observableOnly {
			continue
		}
		status, body = api(reporter.token, http.MethodPost, base+"/comments", map[string]any{"body": c.token + "-comment"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		status, body = api(reporter.token, http.MethodPost, base+"/timeline", map[string]any{"summary": c.token + "-entry"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		status, body = api(reporter.token, http.MethodPost, base+"/tasks", map[string]any{
			"title": c.token + "-task", "description": c.token + "-taskdescription"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		status, body = upload(t, h.URL, reporter.token, base+"/attachments", c.token+"-evidence.txt", c.token+"-evidencedescription",
			[]byte("evidence bytes "+c.token+"-content"))
		require.Equal(t, http.StatusCreated, status, "%s", body)
	}

	// Links and merges (issue 17): every canary is linked to an incident
	// many see and shares an indicator with incidents of two organisations
	// (a campaign); one ordinary incident is merged into the TLP:RED canary,
	// so that everyone who sees it follows the canary's stage and status.
	var otherReporter demoUser
	for _, u := range users {
		if u.role == "reporter" && u.org != reporter.org && otherReporter.token == "" {
			otherReporter = u
		}
	}
	plain := func(tok, title string) string {
		t.Helper()
		status, body := api(tok, http.MethodPost, "/api/v1/incidents", map[string]any{"title": title, "tlp": "TLP:GREEN"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		var inc struct{ ID string }
		require.NoError(t, json.Unmarshal(body, &inc))
		status, body = api(tok, http.MethodPost, "/api/v1/incidents/"+inc.ID+"/observables", map[string]any{"type": "domain", "value": "campaign.leak.example"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
		return inc.ID
	}
	plain(otherReporter.token, "Phishing at a neighbour")
	for _, c := range canaries {
		_, _, err := h.App.Links.Link(ctx, access.System, c.id, plain(reporter.token, "Phishing next door"), linking.Related)
		require.NoError(t, err)
		status, body := api(reporter.token, http.MethodPost, "/api/v1/incidents/"+c.id+"/observables", map[string]any{"type": "domain", "value": "campaign.leak.example"})
		require.Equal(t, http.StatusCreated, status, "%s", body)
	}
	_, err = h.App.Links.Merge(ctx, access.System, plain(reporter.token, "Phishing duplicate"), canaries[0].id)
	require.NoError(t, err)

	drain("every notification of the canaries is delivered")

	// Who may see each canary, by the design's rule (design §2), computed
	// here from the data, not by the code under test: TLP:RED only its
	// named participants; TLP:AMBER+STRICT the reporting and the
	// coordinating organisation and named participants; a TLP:RED
	// observable only those who would see a TLP:RED incident.
	maySee := func(u demoUser, c *canaryIncident) bool {
		var ok bool
		q := `SELECT EXISTS (SELECT 1 FROM incident_participants WHERE incident_id = $1 AND user_id = $2)`
		if c.tlp == "TLP:AMBER+STRICT" {
			q = `SELECT EXISTS (SELECT 1 FROM incident_participants WHERE incident_id = $1 AND user_id = $2)
				OR EXISTS (SELECT 1 FROM incidents i JOIN users u ON u.id = $2
					WHERE i.id = $1 AND u.org_id IN (i.reporting_org_id, i.coordinating_org_id))`
		}
		require.NoError(t, h.App.DB.Pool.QueryRow(ctx, q, c.id, u.id).Scan(&ok))
		return ok
	}

	// Identifiers to crawl with.
	ids := crawlIDs(t, h, canaries)
	routes := h.App.HTTP.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })

	var docs, exitsUsed int
	exits := map[string]bool{}
	var hits []string
	check := func(where string, blob []byte, secret []string) {
		docs++
		low := bytes.ToLower(blob)
		for _, s := range secret {
			if bytes.Contains(low, []byte(s)) {
				hits = append(hits, fmt.Sprintf("%s carries canary %s", where, s))
			}
		}
	}
	notFound := func(where string, status int) {
		if status != http.StatusNotFound {
			hits = append(hits, fmt.Sprintf("%s answered %d for an invisible incident (want 404)", where, status))
		}
	}

	crawled, taxiiPages := 0, 0
	for _, u := range users {
		var secret []string
		hidden := map[string]bool{} // incident IDs and references u may not open
		for _, c := range canaries {
			if maySee(u, c) {
				continue
			}
			secret = append(secret, c.token)
			if !c.observableOnly {
				hidden[c.id], hidden[c.ref] = true, true
			}
		}
		if len(secret) == 0 {
			continue
		}
		crawled++
		for _, r := range routes {
			if !strings.HasPrefix(r.Path, "/api/v1/") && r.Method != http.MethodGet {
				continue
			}
			if strings.HasPrefix(r.Path, "/slack/") || strings.HasSuffix(r.Path, "/*") || r.Method == "echo_route_not_found" {
				continue
			}
			for _, p := range expand(r.Method, r.Path, ids) {
				if r.Method != http.MethodGet && !hiddenPath(p.path, hidden) {
					continue // writes go only to incidents u may not see: they must be 404s
				}
				exits[r.Method+" "+r.Path] = true
				status, body, header := fetch(t, h.URL, u.token, r.Method, p.path, p.body, p.contentType)
				body = withoutEcho(body)
				where := fmt.Sprintf("%s %s as %s", r.Method, p.path, u.email)
				check(where, append(body, []byte(fmt.Sprint(header))...), secret)
				switch {
				case !hiddenPath(p.path, hidden):
				case r.Method == http.MethodGet:
					notFound(where, status)
				default:
					// A write the crawler sends without a valid body may be
					// refused for its body before any incident is looked up
					// (422). That says nothing about the incident only if
					// the answer is the one an incident that does not exist
					// gets: same status, same body.
					ghost := ghostPath(p.path)
					gStatus, gBody, _ := fetch(t, h.URL, u.token, r.Method, ghost, p.body, p.contentType)
					if status != http.StatusNotFound && (status != gStatus || !sameAnswer(body, gBody)) {
						hits = append(hits, fmt.Sprintf("%s answered %d for an invisible incident, and %d for one that does not exist (%s)",
							where, status, gStatus, ghost))
					}
				}
				// Follow a list's cursor a few pages (a TAXII page's next all
				// the way).
				taxii := strings.HasPrefix(p.path, "/taxii2/")
				if taxii && status == http.StatusOK && bytes.Contains(body, []byte(`"objects":[`)) {
					taxiiPages++
				}
				base := p.path
				for page := 0; (page < 5 || taxii && page < 100) && status == http.StatusOK && r.Method == http.MethodGet; page++ {
					next, param := nextCursor(body), "cursor"
					if taxii {
						next, param = taxiiNext(body), "next"
					}
					if next == "" {
						break
					}
					sep := "?"
					if strings.Contains(base, "?") {
						sep = "&"
					}
					status, body, _ = fetch(t, h.URL, u.token, http.MethodGet, base+sep+param+"="+url.QueryEscape(next), nil, "")
					check(where+" (next page)", body, secret)
				}
			}
		}
		// The Slack command: /incident <ref> as this user.
		for _, c := range canaries {
			for _, ref := range []string{c.ref, c.id} {
				status, body := slashCommand(t, h.URL, u.slackID, "/incident", ref)
				exits["POST /slack/commands"] = true
				check("/incident "+ref+" as "+u.email, body, secret)
				if status >= 500 {
					hits = append(hits, fmt.Sprintf("/incident %s as %s answered %d", ref, u.email, status))
				}
			}
		}
	}
	require.Greater(t, crawled, 30, "most demo users may not see the canaries")
	require.Positive(t, taxiiPages, "the TAXII feeds served objects to users who may not see the canaries")

	// Inbound e-mail (internal/mailin): every user who may not see a
	// canary incident mails a comment to it over SMTP. The reply must be
	// that of a reference that does not exist, and carry no canary.
	mailSrv, err := h.App.Mail.Listen("127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = mailSrv.Serve() }()
	t.Cleanup(func() { _ = mailSrv.Shutdown(context.Background()) })
	const ghostRef = "INC-2099-999999"
	for _, u := range users {
		for _, c := range canaries {
			if c.observableOnly || maySee(u, c) {
				continue
			}
			exits["SMTP replies"] = true
			reply := mailReply(t, mailSrv.Addr(), u.email, "Re: ["+c.ref+"] status")
			ghost := mailReply(t, mailSrv.Addr(), u.email, "Re: ["+ghostRef+"] status")
			where := fmt.Sprintf("SMTP reply to %s mailing %s", u.email, c.ref)
			check(where, []byte(reply), canaryTokens(canaries))
			if strings.ReplaceAll(reply, c.ref, "REF") != strings.ReplaceAll(ghost, ghostRef, "REF") || !strings.HasPrefix(reply, "550 ") {
				hits = append(hits, fmt.Sprintf("%s: %q, for one that does not exist %q", where, reply, ghost))
			}
		}
	}
	require.True(t, exits["SMTP replies"], "some users mailed an incident they may not see")

	// What left by chat and webhook: no canary of a TLP:RED or
	// TLP:AMBER+STRICT incident, nor a TLP:RED observable, ever goes to a
	// channel or a webhook, whoever owns it.
	var all []string
	for _, c := range canaries {
		all = append(all, c.token)
	}
	require.NotEmpty(t, fake.Channels(), "the crawl is only as good as its traffic: Slack got messages")
	require.NotEmpty(t, sink.all(), "and webhook receivers got bodies")
	for _, ch := range fake.Channels() {
		for _, m := range fake.Messages(ch) {
			check("Slack message in "+ch, []byte(m.Text+string(m.Blocks)), all)
		}
	}
	exits["Slack messages"] = true
	for _, b := range sink.all() {
		check("webhook body", b, all)
	}
	exits["webhook bodies"] = true
	require.NotEmpty(t, relay.Messages(), "and the mail relay got messages")
	for _, rec := range relay.Messages() {
		// Raw (headers, envelope) and decoded (the quoted-printable body,
		// whose soft line breaks could split a canary).
		check("e-mail to "+strings.Join(rec.To, ","), rec.Data, all)
		if m, err := mail.ReadMessage(bytes.NewReader(rec.Data)); err == nil {
			body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
			subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			check("e-mail to "+strings.Join(rec.To, ","), []byte(subject+"\n"+string(body)), all)
		}
	}
	exits["e-mail messages"] = true
	exitsUsed = len(exits)

	t.Logf("leak crawler: %d users crawled, %d exits, %d documents, %d canaries, %d hits",
		crawled, exitsUsed, docs, len(canaries), len(hits))
	require.Empty(t, hits, "canaries leaked:\n%s", strings.Join(hits, "\n"))

	// The web UI: every demo user who may not see a canary signs in (a
	// session each, through the real sign-in) and crawls every page route
	// of the router with every identifier known, following the pages'
	// own "next page" links, and posts every form that names an incident
	// to the incidents they may not see.
	pages := crawlPages(t, h, users, canaries, maySee, ids)
	t.Logf("leak crawler, web UI: %d users signed in, %d page routes (%d GET, %d POST), %d pages, %d canaries, %d hits",
		pages.users, len(pages.routes), pages.gets, pages.posts, pages.docs, len(canaries), len(pages.hits))
	require.Greater(t, pages.users, 30, "most demo users may not see the canaries")
	require.Empty(t, pages.hits, "canaries leaked on pages:\n%s", strings.Join(pages.hits, "\n"))
}

// canaryTokens returns every canary's token.
func canaryTokens(canaries []*canaryIncident) []string {
	var out []string
	for _, c := range canaries {
		out = append(out, c.token)
	}
	return out
}

// mailReply mails a comment from from with subject to the SMTP listener
// at addr and returns the reply to the command refused, or "250".
func mailReply(t *testing.T, addr, from, subject string) string {
	t.Helper()
	c, err := smtp.Dial(addr)
	require.NoError(t, err)
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err.Error()
	}
	if err := c.Rcpt("incidents@certdesk.test"); err != nil {
		return err.Error()
	}
	w, err := c.Data()
	require.NoError(t, err)
	_, err = fmt.Fprintf(w, "From: %s\r\nTo: incidents@certdesk.test\r\nSubject: %s\r\n\r\nAny news?\r\n", from, subject)
	require.NoError(t, err)
	if err := w.Close(); err != nil {
		return err.Error()
	}
	return "250"
}

// pageCrawl is what the crawl of the web UI did and found.
type pageCrawl struct {
	mu          sync.Mutex
	users, docs int
	gets, posts int
	routes      map[string]bool
	hits        []string
}

func (c *pageCrawl) hit(format string, args ...any) {
	c.mu.Lock()
	c.hits = append(c.hits, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// isPageRoute reports whether a route of the router is a page of the web
// UI (not the API, Slack, the static files or the operational endpoints).
func isPageRoute(path string) bool {
	for _, prefix := range []string{"/api/", "/slack/", "/static/", "/taxii2/"} {
		if strings.HasPrefix(path, prefix) {
			return false
		}
	}
	switch path {
	case "/healthz", "/readyz", "/metrics", "/api":
		return false
	}
	return !strings.HasSuffix(path, "/*")
}

// expandPage turns a page route into concrete paths with every known
// identifier: :ref every incident (ID and reference), a comment's or an
// evidence file's :id those of the canaries; anything else one
// placeholder (a page added later is crawled with it until it is named
// here).
func expandPage(pattern string, ids map[string][]string) []string {
	paths := []string{pattern}
	for _, loc := range paramRE.FindAllStringIndex(pattern, -1) {
		param := pattern[loc[0]:loc[1]]
		var out []string
		for _, p := range paths {
			i := strings.Index(p, param)
			prefix := p[:i]
			values := []string{"x"}
			switch {
			case param == ":ref":
				values = ids["incident"]
			case param == ":id" && strings.HasSuffix(prefix, "/comments/"):
				values = ids["commentId"]
			case param == ":id" && strings.HasSuffix(prefix, "/evidence/"):
				values = ids["attachment"]
			case param == ":id" && strings.HasSuffix(prefix, "/tasks/"):
				values = ids["taskId"]
			}
			for _, v := range values {
				out = append(out, prefix+url.PathEscape(v)+p[i+len(param):])
			}
		}
		paths = out
	}
	return paths
}

// hiddenPage reports whether a page path names an incident in hidden.
func hiddenPage(path string, hidden map[string]bool) bool {
	rest, ok := strings.CutPrefix(path, "/incidents/")
	if !ok {
		return false
	}
	seg, _, _ := strings.Cut(rest, "/")
	seg, _ = url.PathUnescape(seg)
	return hidden[seg]
}

var (
	mainRE = regexp.MustCompile(`(?s)<main\b.*</main>`)
	hrefRE = regexp.MustCompile(`href="([^"]+)"`)
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// crawlPages crawls the web UI as every demo user who may not see a
// canary, with their session, four users at a time.
func crawlPages(t *testing.T, h *testapp.Harness, users []demoUser, canaries []*canaryIncident,
	maySee func(demoUser, *canaryIncident) bool, ids map[string][]string) *pageCrawl {
	t.Helper()
	c := &pageCrawl{routes: map[string]bool{}}
	var gets, posts []string
	for _, r := range h.App.HTTP.Routes() {
		if !isPageRoute(r.Path) || r.Method == "echo_route_not_found" {
			continue
		}
		switch {
		case r.Method == http.MethodGet:
			gets = append(gets, r.Path)
		case r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/incidents/:ref/"):
			posts = append(posts, r.Path)
		default:
			continue
		}
		c.routes[r.Method+" "+r.Path] = true
	}
	// River's web UI (/admin/jobs/, the national CERT's administrators)
	// draws its pages from its JSON API, which carries the jobs' arguments
	// and errors: crawl its lists of every state as everyone too.
	for _, state := range []string{"available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled"} {
		gets = append(gets, "/admin/jobs/api/jobs?state="+state+"&limit=1000")
	}
	sort.Strings(gets)
	sort.Strings(posts)
	require.Contains(t, gets, "/incidents/:ref", "the crawl finds the pages in the router")

	type job struct {
		u      demoUser
		secret []string
		hidden map[string]bool
	}
	var jobs []job
	for _, u := range users {
		j := job{u: u, hidden: map[string]bool{}}
		for _, cn := range canaries {
			if maySee(u, cn) {
				continue
			}
			j.secret = append(j.secret, cn.token)
			if !cn.observableOnly {
				j.hidden[cn.id], j.hidden[cn.ref] = true, true
			}
		}
		if len(j.secret) > 0 {
			jobs = append(jobs, j)
		}
	}
	c.users = len(jobs)

	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				j := jobs[i]
				b := &pageBrowser{base: h.URL, cookie: "certdesk-session=" + j.u.session}
				check := func(where string, status int, body []byte, header http.Header) {
					c.mu.Lock()
					c.docs++
					c.mu.Unlock()
					low := bytes.ToLower(append(body, []byte(fmt.Sprint(header))...))
					for _, sec := range j.secret {
						if bytes.Contains(low, []byte(sec)) {
							c.hit("%s carries canary %s", where, sec)
						}
					}
				}
				// The 404 page of a reference that does not exist: a page
				// naming an invisible incident must be the same.
				_, missing, _, err := b.get("/incidents/INC-2099-999999")
				if err != nil {
					c.hit("%s: %v", j.u.email, err)
					continue
				}
				missingMain := normalisePage(missing, "/incidents/INC-2099-999999")
				for _, route := range gets {
					for _, path := range expandPage(route, ids) {
						status, body, header, err := b.get(path)
						if err != nil {
							c.hit("GET %s as %s: %v", path, j.u.email, err)
							continue
						}
						where := fmt.Sprintf("GET %s as %s", path, j.u.email)
						check(where, status, body, header)
						if hiddenPage(path, j.hidden) {
							if status != http.StatusNotFound {
								c.hit("%s answered %d for an invisible incident (want 404)", where, status)
							} else if got := normalisePage(body, path); got != missingMain {
								c.hit("%s is not the 404 page of a reference that does not exist", where)
							}
						}
						// Follow the page's own links to its next pages
						// (?after=, ?comments=, ?evidence=), a few of them.
						followed := 0
						for _, m := range hrefRE.FindAllSubmatch(body, -1) {
							next := strings.ReplaceAll(string(m[1]), "&amp;", "&")
							if followed == 5 || !(strings.HasPrefix(next, "?") || strings.HasPrefix(next, path+"?")) || next == "?" ||
								strings.HasPrefix(next, "?#") {
								continue
							}
							if strings.HasPrefix(next, "?") {
								next = path + next
							}
							followed++
							status, body, header, err := b.get(next)
							if err == nil {
								check(fmt.Sprintf("GET %s as %s", next, j.u.email), status, body, header)
							}
						}
					}
				}
				// Every form of an incident, posted to the incidents this
				// user may not see: the 404 page, and nothing of them.
				for _, route := range posts {
					for _, path := range expandPage(route, ids) {
						if !hiddenPage(path, j.hidden) {
							continue
						}
						status, body, header, err := b.post(path, url.Values{"body": {"crawler"}})
						where := fmt.Sprintf("POST %s as %s", path, j.u.email)
						if err != nil {
							c.hit("%s: %v", where, err)
							continue
						}
						check(where, status, body, header)
						if status != http.StatusNotFound {
							c.hit("%s answered %d for an invisible incident (want 404)", where, status)
						}
					}
				}
			}
		}()
	}
	for i := range jobs {
		work <- i
	}
	close(work)
	wg.Wait()
	c.gets, c.posts = len(gets), len(posts)
	return c
}

// normalisePage is the <main> of a page with the path asked for taken out.
func normalisePage(body []byte, path string) string {
	return strings.ReplaceAll(string(mainRE.Find(body)), path, "PATH")
}

// pageBrowser fetches pages with a session cookie, following no redirect,
// and posts forms with the session's CSRF token as a same-origin browser
// does.
type pageBrowser struct {
	base, cookie, csrf string
}

func (b *pageBrowser) get(path string) (int, []byte, http.Header, error) {
	return b.do(http.MethodGet, path, nil)
}

func (b *pageBrowser) post(path string, form url.Values) (int, []byte, http.Header, error) {
	if b.csrf == "" {
		_, page, _, err := b.get("/account")
		if err != nil {
			return 0, nil, nil, err
		}
		m := csrfRE.FindSubmatch(page)
		if m == nil {
			return 0, nil, nil, fmt.Errorf("no CSRF token on /account")
		}
		b.csrf = string(m[1])
	}
	form.Set("csrf", b.csrf)
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()))
}

func (b *pageBrowser) do(method, path string, body io.Reader) (int, []byte, http.Header, error) {
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Cookie", b.cookie)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header, err
}

// noRedirects is an HTTP client that shows redirects instead of following
// them (a page that sends elsewhere is a document too).
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// crawlIDs collects the identifiers the crawler puts into route
// parameters: every incident, organisation, escalation, playbook and
// user, and the sub-resources of the canary incidents.
func crawlIDs(t *testing.T, h *testapp.Harness, canaries []*canaryIncident) map[string][]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string][]string{}
	q := func(param, query string, args ...any) {
		rows, err := h.App.DB.Pool.Query(ctx, query, args...)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var v any
			require.NoError(t, rows.Scan(&v))
			switch x := v.(type) {
			case [16]byte:
				ids[param] = append(ids[param], uuid.UUID(x).String())
			default:
				ids[param] = append(ids[param], fmt.Sprint(x))
			}
		}
		require.NoError(t, rows.Err())
	}
	var canaryIDs []string
	for _, c := range canaries {
		canaryIDs = append(canaryIDs, c.id)
		ids["incident"] = append(ids["incident"], c.id, c.ref)
	}
	q("attachment", `SELECT id FROM incident_attachments WHERE incident_id::text = ANY($1)`, canaryIDs)
	q("observable", `SELECT id FROM incident_observables WHERE incident_id::text = ANY($1)`, canaryIDs)
	q("taskId", `SELECT id FROM incident_tasks WHERE incident_id::text = ANY($1)`, canaryIDs)
	q("commentId", `SELECT id FROM incident_comments WHERE incident_id::text = ANY($1)`, canaryIDs)
	q("runId", `SELECT id FROM playbook_runs WHERE incident_id::text = ANY($1)`, canaryIDs)
	q("stepId", `SELECT DISTINCT step_id FROM playbook_steps s JOIN playbook_runs r ON r.id = s.run_id WHERE r.incident_id::text = ANY($1)`, canaryIDs)
	q("escalation", `SELECT id FROM escalations`)
	q("linkId", `SELECT id FROM incident_links`)
	q("slug", `SELECT slug FROM organizations`)
	q("user", `SELECT id FROM users WHERE email LIKE '%.demo' LIMIT 5`)
	q("playbook", `SELECT DISTINCT playbook_id FROM playbook_runs`)
	ids["playbook"] = append(ids["playbook"], "ransomware")
	ids["kind"] = []string{"nis2_early_warning", "nis2_notification", "nis2_final_report", "gdpr_notification"}
	var search []string
	for _, c := range canaries {
		search = append(search, c.token, c.token+"-title", c.token+"-obs.example")
	}
	ids["search"] = search
	// TAXII: the canaries' reporting organisation's collection (a
	// collection holds one reporting organisation's incidents) and one that
	// does not exist; the STIX objects of the canary incidents' bundles as
	// certdesk itself builds them (all their observables), but the
	// identities and markings, which say nothing of an incident.
	var reporterOrg uuid.UUID
	require.NoError(t, h.App.DB.Pool.QueryRow(ctx, `SELECT reporting_org_id FROM incidents WHERE id = $1`, canaries[0].id).Scan(&reporterOrg))
	ids["collection"] = []string{reporterOrg.String(), uuid.NewString()}
	seen := map[string]bool{}
	for _, c := range canaries {
		exp, err := h.App.Observables.Export(ctx, access.System, c.id)
		require.NoError(t, err)
		b, err := stix.Build(exp)
		require.NoError(t, err)
		for _, o := range b.Objects {
			raw, err := json.Marshal(o)
			require.NoError(t, err)
			var head struct{ ID, Type string }
			require.NoError(t, json.Unmarshal(raw, &head))
			if head.Type != "identity" && head.Type != "marking-definition" && !seen[head.ID] {
				seen[head.ID] = true
				ids["stixObject"] = append(ids["stixObject"], head.ID)
			}
		}
	}
	return ids
}

// crawlPath is one concrete request of a route.
type crawlPath struct {
	path        string
	body        []byte
	contentType string
}

var paramRE = regexp.MustCompile(`:[A-Za-z]+`)

// expand turns a route pattern into concrete requests with every known
// identifier, and list routes into searches for the canaries.
func expand(method, pattern string, ids map[string][]string) []crawlPath {
	valuesOf := func(param, prefix string) []string {
		switch {
		case param == ":id" && strings.HasPrefix(prefix, "/api/v1/incidents"):
			return ids["incident"]
		case param == ":id" && strings.HasPrefix(prefix, "/api/v1/escalations"):
			return ids["escalation"]
		case param == ":id" && strings.HasPrefix(prefix, "/api/v1/users"):
			return ids["user"]
		case param == ":id" && strings.HasPrefix(prefix, "/api/v1/playbooks"):
			return ids["playbook"]
		case param == ":id" && strings.HasPrefix(prefix, "/api/v1/tokens"):
			return nil
		case param == ":slug":
			return ids["slug"]
		case param == ":attachment":
			return ids["attachment"]
		case param == ":observable":
			return ids["observable"]
		case param == ":taskId":
			return ids["taskId"]
		case param == ":commentId":
			return ids["commentId"]
		case param == ":linkId":
			return ids["linkId"]
		case param == ":runId":
			return append(ids["runId"], uuid.NewString())
		case param == ":stepId":
			return append(ids["stepId"], "isolate")
		case param == ":kind":
			return ids["kind"]
		case param == ":collection":
			return ids["collection"]
		case param == ":object":
			return ids["stixObject"]
		}
		return []string{"x"}
	}
	paths := []string{pattern}
	for _, loc := range paramRE.FindAllStringIndex(pattern, -1) {
		param := pattern[loc[0]:loc[1]]
		var out []string
		for _, p := range paths {
			i := strings.Index(p, param)
			for _, v := range valuesOf(param, p[:i]) {
				out = append(out, p[:i]+url.PathEscape(v)+p[i+len(param):])
			}
		}
		paths = out
	}
	var res []crawlPath
	for _, p := range paths {
		cp := crawlPath{path: p}
		if method != http.MethodGet {
			cp.body, cp.contentType = []byte(`{}`), "application/json"
		}
		res = append(res, cp)
	}
	if method == http.MethodGet {
		switch pattern {
		case "/api/v1/incidents/:id/export":
			// Every format of the export is an exit of its own.
			for _, cp := range slices.Clone(res) {
				res = append(res, crawlPath{path: cp.path + "?format=stix"}, crawlPath{path: cp.path + "?format=misp"})
			}
		case "/api/v1/incidents", "/api/v1/incidents.csv", "/api/v1/incidents.misp.json":
			for _, s := range ids["search"] {
				res = append(res, crawlPath{path: pattern + "?q=" + url.QueryEscape(s)})
			}
			res = append(res, crawlPath{path: pattern + "?tlp=" + url.QueryEscape("TLP:RED")},
				crawlPath{path: pattern + "?tlp=" + url.QueryEscape("TLP:AMBER+STRICT")},
				crawlPath{path: pattern + "?reporting_org=city-northbridge"})
		case "/api/v1/observables":
			for _, s := range ids["search"] {
				res = append(res, crawlPath{path: pattern + "?value=" + url.QueryEscape(s)})
			}
		case "/api/v1/notifications", "/api/v1/tasks":
			for _, id := range ids["incident"] {
				res = append(res, crawlPath{path: pattern + "?incident=" + url.QueryEscape(id)})
			}
		case "/api/v1/escalations":
			res = append(res, crawlPath{path: pattern + "?direction=inbox"}, crawlPath{path: pattern + "?direction=outbox"})
		case "/taxii2/certdesk/collections/:collection/objects/", "/taxii2/certdesk/collections/:collection/manifest/":
			// The filters and a first page of one object, whose next the
			// crawl follows.
			for _, cp := range slices.Clone(res) {
				res = append(res, crawlPath{path: cp.path + "?limit=1"},
					crawlPath{path: cp.path + "?match[type]=incident,indicator,domain-name,observed-data,sighting"},
					crawlPath{path: cp.path + "?added_after=2000-01-01T00:00:00Z&match[version]=all"})
				for _, id := range ids["stixObject"] {
					res = append(res, crawlPath{path: cp.path + "?match[id]=" + url.QueryEscape(id)})
				}
			}
		}
	}
	return res
}

// withoutEcho drops what an answer only repeats of the crawler's own
// request: the correlation search's searched_for list echoes the value
// searched for (a canary), which is no leak; its matches are kept.
func withoutEcho(body []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if _, ok := m["searched_for"]; !ok {
		return body
	}
	delete(m, "searched_for")
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// ghostPath is path with its incident replaced by one that does not exist.
func ghostPath(path string) string {
	rest, _ := strings.CutPrefix(path, "/api/v1/incidents/")
	_, tail, found := strings.Cut(rest, "/")
	ghost := "/api/v1/incidents/" + uuid.NewString()
	if found {
		ghost += "/" + tail
	}
	return ghost
}

// requestIDRE matches the request ID an error answer carries.
var requestIDRE = regexp.MustCompile(`"request_id":"[^"]*"`)

// sameAnswer reports whether two error answers are the same but for their
// request IDs and the incident named (by ID or reference) in the path they
// echo.
func sameAnswer(a, b []byte) bool {
	norm := func(x []byte) string {
		x = requestIDRE.ReplaceAll(x, []byte(`"request_id":""`))
		return string(uuidRE.ReplaceAll(refRE.ReplaceAll(x, []byte("ID")), []byte("ID")))
	}
	return norm(a) == norm(b)
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	refRE  = regexp.MustCompile(`INC-\d{4}-\d+`)
)

// hiddenPath reports whether path names an incident in hidden.
func hiddenPath(path string, hidden map[string]bool) bool {
	rest, ok := strings.CutPrefix(path, "/api/v1/incidents/")
	if !ok {
		return false
	}
	seg, _, _ := strings.Cut(rest, "/")
	seg, _ = url.PathUnescape(seg)
	return hidden[seg]
}

// nextCursor finds a list's next_cursor.
func nextCursor(body []byte) string {
	var m struct {
		NextCursor *string `json:"next_cursor"`
	}
	if json.Unmarshal(body, &m) != nil || m.NextCursor == nil {
		return ""
	}
	return *m.NextCursor
}

// taxiiNext finds a TAXII envelope's or manifest's next.
func taxiiNext(body []byte) string {
	var m struct {
		More bool   `json:"more"`
		Next string `json:"next"`
	}
	if json.Unmarshal(body, &m) != nil || !m.More {
		return ""
	}
	return m.Next
}

// send sends a JSON request with a bearer token, outside testapp's OpenAPI
// check (the crawler sends what no client should).
func send(t *testing.T, base, tok, method, path string, body any) (int, []byte) {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(t, err)
	}
	status, out, _ := fetch(t, base, tok, method, path, raw, "application/json")
	return status, out
}

// fetch sends one request and returns status, body and header.
func fetch(t *testing.T, base, tok, method, path string, body []byte, contentType string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(t, err)
	if contentType != "" && body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out, resp.Header
}

// upload sends one file as multipart evidence.
func upload(t *testing.T, base, tok, path, name, description string, content []byte) (int, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	require.NoError(t, w.WriteField("description", description))
	fw, err := w.CreateFormFile("file", name)
	require.NoError(t, err)
	_, err = fw.Write(content)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	status, out, _ := fetch(t, base, tok, http.MethodPost, path, b.Bytes(), w.FormDataContentType())
	return status, out
}

// slashCommand sends a Slack slash command signed like Slack does.
func slashCommand(t *testing.T, base, slackUser, command, text string) (int, []byte) {
	t.Helper()
	form := url.Values{"command": {command}, "text": {text}, "user_id": {slackUser}, "team_id": {"T0CRAWL"},
		"channel_id": {"C0CRAWL"}, "trigger_id": {uuid.NewString()}}
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(leakSigningSecret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	req, err := http.NewRequest(http.MethodPost, base+"/slack/commands", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}
