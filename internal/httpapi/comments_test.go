package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

type commentBody struct {
	ID         string            `json:"id"`
	IncidentID string            `json:"incident_id"`
	Author     string            `json:"author"`
	AuthorOrg  *string           `json:"author_org"`
	Body       string            `json:"body"`
	BodyHTML   string            `json:"body_html"`
	CreatedAt  time.Time         `json:"created_at"`
	EditedAt   *time.Time        `json:"edited_at"`
	Version    int               `json:"version"`
	Links      map[string]string `json:"links"`
}

type commentListBody struct {
	IncidentID string        `json:"incident_id"`
	Reference  string        `json:"reference"`
	Comments   []commentBody `json:"comments"`
	NextCursor *string       `json:"next_cursor"`
}

type revisionListBody struct {
	IncidentID     string `json:"incident_id"`
	CommentID      string `json:"comment_id"`
	CurrentVersion int    `json:"current_version"`
	Revisions      []struct {
		Version  int       `json:"version"`
		Body     string    `json:"body"`
		BodyHTML string    `json:"body_html"`
		EditedBy string    `json:"edited_by"`
		EditedAt time.Time `json:"edited_at"`
	} `json:"revisions"`
	NextCursor *string `json:"next_cursor"`
}

// commentWorld is the bundle of the comment tests: national > region >
// city-a, city-b; users of city-a and region; one TLP:AMBER incident
// reported by city-a's reporter.
type commentWorld struct {
	h                                                     *testapp.Harness
	author, colleague, viewer, regionResponder, otherCity secUser
	incID, incRef                                         string
	comments                                              string // the incident's comments URL
}

func setupComments(t *testing.T) *commentWorld {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city-a", org.LocalAuthority, "region")
	h.Org("city-b", org.LocalAuthority, "region")
	w := &commentWorld{h: h,
		author:          secNewUser(h, "city-a", access.Reporter),
		colleague:       secNewUser(h, "city-a", access.Responder),
		viewer:          secNewUser(h, "city-a", access.Viewer),
		regionResponder: secNewUser(h, "region", access.Responder),
		otherCity:       secNewUser(h, "city-b", access.Reporter),
	}
	r := h.As(w.author.Token).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Phishing wave", "tlp": "TLP:AMBER"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var inc incidentBody
	r.JSON(t, &inc)
	w.incID, w.incRef = inc.ID, inc.Reference
	w.comments = "/api/v1/incidents/" + inc.ID + "/comments"
	return w
}

// post comments as u and requires 201.
func (w *commentWorld) post(t *testing.T, u secUser, body string) commentBody {
	t.Helper()
	r := w.h.As(u.Token).Request(http.MethodPost, w.comments, map[string]any{"body": body})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var c commentBody
	r.JSON(t, &c)
	return c
}

func (w *commentWorld) list(t *testing.T, u secUser, query string) commentListBody {
	t.Helper()
	r := w.h.As(u.Token).Request(http.MethodGet, w.comments+query, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var l commentListBody
	r.JSON(t, &l)
	return l
}

func (w *commentWorld) patch(u secUser, id, body string, header ...string) *testapp.Response {
	return w.h.As(u.Token).Request(http.MethodPatch, w.comments+"/"+id, map[string]any{"body": body}, header...)
}

// apiXSSPayloads go through the whole API; internal/markdown has the long list.
var apiXSSPayloads = []string{
	`<script>alert(document.cookie)</script>`,
	`<img src=x onerror=alert(1)>`,
	`[click me](javascript:alert(1))`,
	`[click me](JaVaScRiPt:alert(1))`,
	`[click me](&#106;avascript:alert(1))`,
	`<javascript:alert(1)>`,
	`[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	`<svg onload=alert(1)><circle r=10 /></svg>`,
	`<iframe src="https://evil.example/"></iframe>`,
	`<p style="background:url(javascript:alert(1))">styled</p>`,
	`<a href="https://ok.example" onclick="alert(1)">x</a>`,
	`&lt;script&gt;alert(1)&lt;/script&gt;`,
	`![pixel](https://tracker.example/p.gif "x\" onerror=\"alert(1)")`,
	"**bold** and\n\n```html\n<script>alert(1)</script>\n```",
	"</textarea><script>alert(1)</script>",
	`"><script>alert(1)</script>`,
}

// inertHTML returns what in rendered HTML could run script, or "": it
// tokenizes the HTML as a browser does and looks at every tag.
func inertHTML(s string) string {
	lower := strings.ToLower(s)
	for _, bad := range []string{"<script", "<iframe", "<svg", "<img", "<style", "<object", "<embed"} {
		if strings.Contains(lower, bad) {
			return "contains " + bad
		}
	}
	safeURL := regexp.MustCompile(`^(?i)(https?:|mailto:|[^:/?#]*$|[^:/?#]*[/?#])`)
	z := html.NewTokenizer(strings.NewReader(s))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, more := z.TagName()
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			key := string(k)
			val := strings.Map(func(r rune) rune {
				if r <= ' ' || r == 0x7f {
					return -1
				}
				return r
			}, string(v))
			switch {
			case strings.HasPrefix(key, "on"), key == "style", key == "src", key == "srcdoc":
				return fmt.Sprintf("<%s %s=%q>", name, key, v)
			case key == "href" && !safeURL.MatchString(val):
				return fmt.Sprintf("<%s href=%q>", name, v)
			case key == "href" && strings.Contains(strings.ToLower(val), "javascript:"):
				return fmt.Sprintf("<%s href=%q>", name, v)
			}
		}
	}
	return ""
}

func TestCommentXSSComesOutInert(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	posted := map[string]string{}
	for _, p := range apiXSSPayloads {
		c := w.post(t, w.author, p)
		require.Equal(t, p, c.Body, "the source is returned verbatim")
		require.Empty(t, inertHTML(c.BodyHTML), "POST answer for %q: %s", p, c.BodyHTML)
		posted[c.ID] = p
	}
	r := w.h.As(w.regionResponder.Token).Request(http.MethodGet, w.comments+"?limit=100", nil)
	require.Equal(t, http.StatusOK, r.Status)
	// The JSON itself is safe: application/json, not sniffed, and "<"
	// escaped, so no browser runs the source even if the URL is opened.
	require.Equal(t, "application/json", strings.Split(r.Header.Get("Content-Type"), ";")[0])
	require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	require.NotContains(t, strings.ToLower(string(r.Body)), "<script")
	var l commentListBody
	r.JSON(t, &l)
	require.Len(t, l.Comments, len(apiXSSPayloads))
	for _, c := range l.Comments {
		require.Equal(t, posted[c.ID], c.Body, "the source is returned verbatim")
		require.Empty(t, inertHTML(c.BodyHTML), "GET answer for %q: %s", c.Body, c.BodyHTML)
	}

	t.Run("the checker finds live markup", func(t *testing.T) {
		for _, bad := range []string{`<p onclick="x">a</p>`, `<a href="java&#x09;script:alert(1)">x</a>`, `<img src=x>`, `<b style="x">b</b>`} {
			require.NotEmpty(t, inertHTML(bad), bad)
		}
	})
	t.Run("edits and revisions are sanitised too", func(t *testing.T) {
		c := w.post(t, w.author, "harmless")
		r := w.patch(w.author, c.ID, `<img src=x onerror=alert(1)> [x](javascript:alert(1))`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		var e commentBody
		r.JSON(t, &e)
		require.Empty(t, inertHTML(e.BodyHTML), e.BodyHTML)
		require.Equal(t, http.StatusOK, w.patch(w.author, c.ID, "harmless again").Status)
		var revs revisionListBody
		w.h.As(w.author.Token).Request(http.MethodGet, w.comments+"/"+c.ID+"/revisions", nil).JSON(t, &revs)
		require.Len(t, revs.Revisions, 2)
		for _, rv := range revs.Revisions {
			require.Empty(t, inertHTML(rv.BodyHTML), rv.BodyHTML)
		}
	})
}

func TestCommentRendersMarkdown(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	c := w.post(t, w.author, "## Findings\n\n- **web1** isolated\n- see [the advisory](https://cert.example/a-1)\n\n| host | ip |\n|---|---|\n| web1 | 10.0.0.1 |")
	for _, want := range []string{"<h2>Findings</h2>", "<strong>web1</strong>", `<a href="https://cert.example/a-1" rel="nofollow noopener noreferrer">the advisory</a>`, "<td>10.0.0.1</td>"} {
		require.Contains(t, c.BodyHTML, want)
	}
	require.Equal(t, w.author.Email, c.Author)
	require.Equal(t, "city-a", *c.AuthorOrg)
	require.Equal(t, w.incID, c.IncidentID)
	require.Equal(t, 1, c.Version)
	require.Nil(t, c.EditedAt)
	require.Equal(t, w.comments+"/"+c.ID+"/revisions", c.Links["revisions"])
}

func TestCommentEditKeepsHistory(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	c := w.post(t, w.author, "first *draft*")
	bodies := []string{"first *draft*", "second draft", "third and final"}
	for i, b := range bodies[1:] {
		r := w.patch(w.author, c.ID, b)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, fmt.Sprintf(`"%d"`, i+2), r.Header.Get("ETag"))
		var e commentBody
		r.JSON(t, &e)
		require.Equal(t, b, e.Body)
		require.Equal(t, i+2, e.Version)
		require.NotNil(t, e.EditedAt)
		require.Equal(t, c.CreatedAt, e.CreatedAt, "an edit keeps the creation time")
	}

	l := w.list(t, w.regionResponder, "")
	require.Len(t, l.Comments, 1, "an edit is not another comment")
	require.Equal(t, "third and final", l.Comments[0].Body)
	require.Equal(t, 3, l.Comments[0].Version)

	var revs revisionListBody
	r := w.h.As(w.regionResponder.Token).Request(http.MethodGet, w.comments+"/"+c.ID+"/revisions", nil)
	require.Equal(t, http.StatusOK, r.Status, "whoever sees the incident sees the history: %s", r.Body)
	r.JSON(t, &revs)
	require.Equal(t, 3, revs.CurrentVersion)
	require.Equal(t, c.ID, revs.CommentID)
	require.Len(t, revs.Revisions, 2)
	for i, rv := range revs.Revisions {
		require.Equal(t, i+1, rv.Version)
		require.Equal(t, bodies[i], rv.Body, "every earlier body, oldest first")
		require.Equal(t, w.author.Email, rv.EditedBy)
	}
	require.Contains(t, revs.Revisions[0].BodyHTML, "<em>draft</em>")
	require.Equal(t, c.CreatedAt, revs.Revisions[0].EditedAt, "version 1 was written when the comment was created")
	require.True(t, revs.Revisions[1].EditedAt.After(revs.Revisions[0].EditedAt))

	t.Run("pages of revisions", func(t *testing.T) {
		var p1, p2 revisionListBody
		w.h.As(w.author.Token).Request(http.MethodGet, w.comments+"/"+c.ID+"/revisions?limit=1", nil).JSON(t, &p1)
		require.Len(t, p1.Revisions, 1)
		require.NotNil(t, p1.NextCursor)
		w.h.As(w.author.Token).Request(http.MethodGet, w.comments+"/"+c.ID+"/revisions?limit=1&cursor="+url.QueryEscape(*p1.NextCursor), nil).JSON(t, &p2)
		require.Len(t, p2.Revisions, 1)
		require.Equal(t, 2, p2.Revisions[0].Version)
		require.Nil(t, p2.NextCursor)
	})
	t.Run("the same body again changes nothing", func(t *testing.T) {
		r := w.patch(w.author, c.ID, "third and final")
		require.Equal(t, http.StatusOK, r.Status)
		var e commentBody
		r.JSON(t, &e)
		require.Equal(t, 3, e.Version)
		var again revisionListBody
		w.h.As(w.author.Token).Request(http.MethodGet, w.comments+"/"+c.ID+"/revisions", nil).JSON(t, &again)
		require.Len(t, again.Revisions, 2)
	})
	t.Run("history cannot be rewritten in the database", func(t *testing.T) {
		ctx := context.Background()
		_, err := w.h.App.DB.Pool.Exec(ctx, "UPDATE incident_comment_revisions SET body = 'forged'")
		require.ErrorContains(t, err, "append-only")
		_, err = w.h.App.DB.Pool.Exec(ctx, "DELETE FROM incident_comments")
		require.ErrorContains(t, err, "append-only")
	})
}

func TestCommentEditRules(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	own := w.post(t, w.author, "mine")
	theirs := w.post(t, w.colleague, "the colleague's")

	// Another incident and its comment: not reachable under the first one.
	r := w.h.As(w.author.Token).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Other", "tlp": "TLP:AMBER"})
	var other incidentBody
	r.JSON(t, &other)
	r = w.h.As(w.author.Token).Request(http.MethodPost, "/api/v1/incidents/"+other.ID+"/comments", map[string]any{"body": "elsewhere"})
	require.Equal(t, http.StatusCreated, r.Status)
	var elsewhere commentBody
	r.JSON(t, &elsewhere)

	version := 1
	for _, tc := range []struct {
		name   string
		by     secUser
		id     string
		body   string
		header []string
		want   int
		field  string
		edited bool
	}{
		{"a colleague of the same organisation may not edit", w.colleague, own.ID, "hijacked", nil, http.StatusForbidden, "", false},
		{"the regional CERT may not edit", w.regionResponder, own.ID, "hijacked", nil, http.StatusForbidden, "", false},
		{"a viewer may not edit", w.viewer, own.ID, "hijacked", nil, http.StatusForbidden, "", false},
		{"an organisation that does not see the incident gets 404", w.otherCity, own.ID, "hijacked", nil, http.StatusNotFound, "", false},
		{"the author may not edit another's comment", w.author, theirs.ID, "hijacked", nil, http.StatusForbidden, "", false},
		{"a comment of another incident is not found", w.author, elsewhere.ID, "moved", nil, http.StatusNotFound, "", false},
		{"an unknown comment is not found", w.author, testapp.NewID(), "x", nil, http.StatusNotFound, "", false},
		{"a malformed comment ID is not found", w.author, "not-a-uuid", "x", nil, http.StatusNotFound, "", false},
		{"an empty body is refused", w.author, own.ID, "  \n ", nil, http.StatusUnprocessableEntity, "body", false},
		{"a bad If-Match is refused", w.author, own.ID, "x", []string{"If-Match", "yesterday"}, http.StatusUnprocessableEntity, "If-Match", false},
		{"a stale If-Match is refused", w.author, own.ID, "late", []string{"If-Match", `"7"`}, http.StatusPreconditionFailed, "", false},
		{"the author edits", w.author, own.ID, "mine, edited", nil, http.StatusOK, "", true},
		{"the author edits with the current version", w.author, own.ID, "mine, edited again", []string{"If-Match", `"2"`}, http.StatusOK, "", true},
		{"the previous version is now stale", w.author, own.ID, "lost update", []string{"If-Match", `"2"`}, http.StatusPreconditionFailed, "", false},
		{"If-Match * matches any version", w.author, own.ID, "mine, final", []string{"If-Match", "*"}, http.StatusOK, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.patch(tc.by, tc.id, tc.body, tc.header...)
			require.Equal(t, tc.want, r.Status, "%s", r.Body)
			if tc.want != http.StatusOK {
				require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
				require.NotContains(t, string(r.Body), "mine", "an error shows nothing of the comment")
			}
			if tc.field != "" {
				require.Equal(t, tc.field, fieldOf(t, r))
			}
			if tc.want == http.StatusPreconditionFailed {
				require.EqualValues(t, version, r.Map(t)["current_version"], "412 says the current version")
			}
			if tc.edited {
				version++
			}
			var l commentListBody
			w.h.As(w.author.Token).Request(http.MethodGet, w.comments, nil).JSON(t, &l)
			require.Equal(t, version, l.Comments[0].Version)
			require.Equal(t, "the colleague's", l.Comments[1].Body, "nobody changed another's comment")
		})
	}
}

func TestConcurrentEditsWithIfMatchLoseNothing(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	c := w.post(t, w.author, "v1")
	const writers = 6
	status := make([]int, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i] = w.patch(w.author, c.ID, fmt.Sprintf("edit %d", i), "If-Match", `"1"`).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range status {
		require.Contains(t, []int{http.StatusOK, http.StatusPreconditionFailed}, s)
		if s == http.StatusOK {
			ok++
		}
	}
	require.Equal(t, 1, ok, "exactly one edit based on version 1 wins: %v", status)
	var revs revisionListBody
	w.h.As(w.author.Token).Request(http.MethodGet, w.comments+"/"+c.ID+"/revisions", nil).JSON(t, &revs)
	require.Equal(t, 2, revs.CurrentVersion)
	require.Len(t, revs.Revisions, 1)
	require.Equal(t, "v1", revs.Revisions[0].Body)
}

func TestCommentAccess(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	c := w.post(t, w.author, "seen by the incident's readers")

	t.Run("who may post", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			by   secUser
			want int
		}{
			{"the reporter", w.author, http.StatusCreated},
			{"a responder of the reporting organisation", w.colleague, http.StatusCreated},
			{"the regional CERT above", w.regionResponder, http.StatusCreated},
			{"a viewer", w.viewer, http.StatusForbidden},
			{"a city that does not see the incident", w.otherCity, http.StatusNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := w.h.As(tc.by.Token).Request(http.MethodPost, w.comments, map[string]any{"body": "from " + tc.name})
				require.Equal(t, tc.want, r.Status, "%s", r.Body)
			})
		}
	})
	t.Run("who may read", func(t *testing.T) {
		for _, u := range []secUser{w.author, w.colleague, w.viewer, w.regionResponder} {
			l := w.list(t, u, "")
			require.Equal(t, c.ID, l.Comments[0].ID)
			require.Equal(t, w.incRef, l.Reference)
		}
		for _, path := range []string{w.comments, w.comments + "/" + c.ID + "/revisions"} {
			r := w.h.As(w.otherCity.Token).Request(http.MethodGet, path, nil)
			require.Equal(t, http.StatusNotFound, r.Status, "an incident one does not see is not found: %s", path)
			require.NotContains(t, string(r.Body), "seen by")
		}
	})
	t.Run("by reference", func(t *testing.T) {
		r := w.h.As(w.author.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.incRef+"/comments", nil)
		require.Equal(t, http.StatusOK, r.Status)
		r = w.h.As(w.author.Token).Request(http.MethodPost, "/api/v1/incidents/"+w.incRef+"/comments", map[string]any{"body": "by ref"})
		require.Equal(t, http.StatusCreated, r.Status)
	})
	t.Run("TLP:RED: only participants", func(t *testing.T) {
		r := w.h.As(w.author.Token).Request(http.MethodPost, "/api/v1/incidents", map[string]any{"title": "Red", "tlp": "TLP:RED"})
		var red incidentBody
		r.JSON(t, &red)
		path := "/api/v1/incidents/" + red.ID + "/comments"
		require.Equal(t, http.StatusCreated, w.h.As(w.author.Token).Request(http.MethodPost, path, map[string]any{"body": "red detail"}).Status)
		for _, u := range []secUser{w.colleague, w.regionResponder, w.viewer} {
			require.Equal(t, http.StatusNotFound, w.h.As(u.Token).Request(http.MethodGet, path, nil).Status)
			require.Equal(t, http.StatusNotFound, w.h.As(u.Token).Request(http.MethodPost, path, map[string]any{"body": "x"}).Status)
		}
	})
	t.Run("unknown incident", func(t *testing.T) {
		for _, id := range []string{testapp.NewID(), "INC-1999-999999", "nonsense"} {
			require.Equal(t, http.StatusNotFound, w.h.As(w.author.Token).Request(http.MethodGet, "/api/v1/incidents/"+id+"/comments", nil).Status)
			require.Equal(t, http.StatusNotFound, w.h.As(w.author.Token).Request(http.MethodPost, "/api/v1/incidents/"+id+"/comments", map[string]any{"body": "x"}).Status)
			require.Equal(t, http.StatusNotFound, w.h.As(w.author.Token).Request(http.MethodGet, "/api/v1/incidents/"+id+"/comments/"+c.ID+"/revisions", nil).Status)
		}
	})
}

func TestCommentBadInput(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	for _, tc := range []struct {
		name        string
		body        any
		field, rule string
	}{
		{"no body", `{}`, "body", "required"},
		{"blank body", map[string]any{"body": " \n\t "}, "body", "required"},
		{"too long", map[string]any{"body": strings.Repeat("é", 50_001)}, "body", "max_length"},
		{"NUL character", map[string]any{"body": "a\u0000b"}, "body", "characters"},
		{"wrong type", `{"body": 5}`, "body", "type"},
		{"unknown field", `{"body": "x", "author": "someone@else.example"}`, "author", "unknown_field"},
		{"not JSON", `{"body": `, "body", "json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Even a caller who does not see the incident gets the 4xx: the
			// body is checked first and reveals nothing.
			want := http.StatusUnprocessableEntity
			if tc.rule == "json" {
				want = http.StatusBadRequest // not well-formed JSON
			}
			for _, u := range []secUser{w.author, w.otherCity, w.viewer} {
				r := w.h.As(u.Token).Request(http.MethodPost, w.comments, tc.body)
				require.Equal(t, want, r.Status, "%s", r.Body)
				p := r.Map(t)
				e := p["errors"].([]any)[0].(map[string]any)
				require.Equal(t, tc.field, e["field"], "%s", r.Body)
				require.Equal(t, tc.rule, e["rule"], "%s", r.Body)
			}
		})
	}
	t.Run("the longest body is accepted", func(t *testing.T) {
		c := w.post(t, w.author, strings.Repeat("é", 50_000))
		require.Equal(t, 50_000, utf8.RuneCountInString(c.Body))
	})
	t.Run("bad cursor and limit", func(t *testing.T) {
		r := w.h.As(w.author.Token).Request(http.MethodGet, w.comments+"?cursor=bm90IGpzb24", nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, "cursor", fieldOf(t, r))
		r = w.h.As(w.author.Token).Request(http.MethodGet, w.comments+"?limit=x", nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, "limit", fieldOf(t, r))
	})
	t.Run("nothing was stored by bad requests", func(t *testing.T) {
		l := w.list(t, w.author, "")
		require.Len(t, l.Comments, 1, "only the longest body")
	})
}

func TestCommentsPageOldestFirst(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	var want []string
	for i := range 7 {
		want = append(want, w.post(t, w.author, fmt.Sprintf("comment %d", i)).ID)
	}
	var got []string
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 10, "pagination ends")
		q := "?limit=3"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		l := w.list(t, w.regionResponder, q)
		require.LessOrEqual(t, len(l.Comments), 3)
		for _, c := range l.Comments {
			got = append(got, c.ID)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	require.Equal(t, want, got, "every comment once, oldest first")
}

func TestCommentTimelineEvents(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	long := "# Heading\n\n**Ransom note** found <script>alert(1)</script> on `web1`. " + strings.Repeat("More detail. ", 40)
	c := w.post(t, w.author, long)
	require.Equal(t, http.StatusOK, w.patch(w.author, c.ID, "Short *edit*").Status)

	var tl timelineBody
	w.h.As(w.regionResponder.Token).Request(http.MethodGet, "/api/v1/incidents/"+w.incID+"/timeline", nil).JSON(t, &tl)
	var kinds []string
	for _, e := range tl.Events {
		kinds = append(kinds, e.Kind)
	}
	require.Equal(t, []string{"created", "routed", "comment_added", "comment_edited"}, kinds)

	added := tl.Events[2]
	require.Equal(t, w.author.Email, added.Actor)
	require.Equal(t, c.ID, added.Data["comment_id"])
	require.Equal(t, w.author.Email, added.Data["author"])
	excerpt := added.Data["excerpt"].(string)
	require.LessOrEqual(t, utf8.RuneCountInString(excerpt), 200)
	require.True(t, strings.HasPrefix(excerpt, "Heading Ransom note found alert(1) on web1. More detail."), "plain text, no markup: %q", excerpt)
	require.True(t, strings.HasSuffix(excerpt, "…"), "a cut excerpt says so: %q", excerpt)
	require.NotContains(t, excerpt, "<", "raw HTML is dropped, its text kept")

	edited := tl.Events[3]
	require.Equal(t, c.ID, edited.Data["comment_id"])
	require.EqualValues(t, 2, edited.Data["version"])
	require.Equal(t, "Short edit", edited.Data["excerpt"])
}

func TestCommentIdempotencyKey(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	send := func(body, key string) *testapp.Response {
		return w.h.As(w.author.Token).Request(http.MethodPost, w.comments, map[string]any{"body": body}, "Idempotency-Key", key)
	}
	first := send("once", "k-1")
	require.Equal(t, http.StatusCreated, first.Status)
	again := send("once", "k-1")
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	var a, b commentBody
	first.JSON(t, &a)
	again.JSON(t, &b)
	require.Equal(t, a.ID, b.ID)
	require.Equal(t, http.StatusConflict, send("another", "k-1").Status)
	require.Len(t, w.list(t, w.author, "").Comments, 1)
}

func TestStaleRenderingIsRenderedAgain(t *testing.T) {
	secWarmSpec(t)
	t.Parallel()
	w := setupComments(t)
	c := w.post(t, w.author, "**fresh**")
	// A rendering stored by another renderer version (as after an upgrade
	// that fixes the sanitiser) is not served.
	_, err := w.h.App.DB.Pool.Exec(context.Background(),
		`UPDATE incident_comments SET body_html = '<img src=x onerror=alert(1)>', html_version = 0 WHERE id = $1`, c.ID)
	require.NoError(t, err)
	l := w.list(t, w.author, "")
	require.Equal(t, "<p><strong>fresh</strong></p>\n", l.Comments[0].BodyHTML)
}
