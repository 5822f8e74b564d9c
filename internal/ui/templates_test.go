package ui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/settings"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/web"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

func catalogue(t *testing.T) *i18n.Catalogue {
	t.Helper()
	sub, err := fs.Sub(web.I18n, "i18n")
	require.NoError(t, err)
	c, err := i18n.LoadDir(sub, "en")
	require.NoError(t, err)
	return c
}

func templateFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, fs.WalkDir(web.Templates, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Templates, p)
		out[p] = string(b)
		return err
	}))
	require.NotEmpty(t, out)
	return out
}

// actionRE matches a template action ({{…}}, comments included).
var actionRE = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

// punctuation may stand between actions: separators, not words.
var punctuation = regexp.MustCompile(`^[\s–—·:,.;()/|•\-]*$`)

// The attributes whose values people read or hear.
var visibleAttrs = map[string]bool{"title": true, "aria-label": true, "aria-description": true, "placeholder": true,
	"alt": true, "aria-roledescription": true, "aria-valuetext": true, "label": true}

// No template holds a word outside {{…}}: every user-visible string, in
// text and in the attributes people read (title, aria-label,
// placeholder, alt, the value of buttons), comes from the catalogue.
func TestTemplatesHoldNoLiteralText(t *testing.T) {
	t.Parallel()
	for name, src := range templateFiles(t) {
		stripped := actionRE.ReplaceAllString(src, "")
		z := html.NewTokenizer(strings.NewReader(stripped))
		inScriptOrStyle := false
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			tok := z.Token()
			switch tt {
			case html.TextToken:
				if !inScriptOrStyle && !punctuation.MatchString(tok.Data) {
					t.Errorf("%s: literal text %q: put it in the catalogue (web/i18n) and use {{t \"key\"}}", name, strings.TrimSpace(tok.Data))
				}
			case html.StartTagToken, html.SelfClosingTagToken:
				inScriptOrStyle = tok.Data == "script" || tok.Data == "style"
				isButton := tok.Data == "button" || tok.Data == "input" && (attr(tok, "type") == "submit" || attr(tok, "type") == "button")
				for _, a := range tok.Attr {
					if (visibleAttrs[a.Key] || (isButton && a.Key == "value" && tok.Data == "input")) && !punctuation.MatchString(a.Val) {
						t.Errorf("%s: <%s %s=%q>: a literal string people read; use the catalogue", name, tok.Data, a.Key, a.Val)
					}
				}
			case html.EndTagToken:
				inScriptOrStyle = false
			}
		}
	}
}

// The checker itself finds literal text and attributes.
func TestLiteralTextCheckerFindsWords(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`<p>Sign in</p>`, `<a title="Help">{{t "x"}}</a>`, `<p>{{t "x"}} now</p>`, `<input aria-label="Search">`} {
		stripped := actionRE.ReplaceAllString(bad, "")
		z := html.NewTokenizer(strings.NewReader(stripped))
		found := false
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			tok := z.Token()
			if tt == html.TextToken && !punctuation.MatchString(tok.Data) {
				found = true
			}
			for _, a := range tok.Attr {
				if visibleAttrs[a.Key] && !punctuation.MatchString(a.Val) {
					found = true
				}
			}
		}
		require.True(t, found, bad)
	}
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// No inline style or script anywhere (the CSP would refuse them): no
// style attributes or elements, no script with content, no event handler
// attributes, no javascript: URLs.
func TestTemplatesHaveNoInlineStyleOrScript(t *testing.T) {
	t.Parallel()
	for name, src := range templateFiles(t) {
		stripped := actionRE.ReplaceAllString(src, "")
		z := html.NewTokenizer(strings.NewReader(stripped))
		var open string
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			tok := z.Token()
			switch tt {
			case html.StartTagToken, html.SelfClosingTagToken:
				open = tok.Data
				if tok.Data == "style" {
					t.Errorf("%s: <style> element", name)
				}
				if tok.Data == "script" && attr(tok, "src") == "" {
					t.Errorf("%s: <script> without src", name)
				}
				for _, a := range tok.Attr {
					if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
						t.Errorf("%s: <%s %s=…>: inline style or handler", name, tok.Data, a.Key)
					}
					if strings.Contains(strings.ToLower(a.Val), "javascript:") {
						t.Errorf("%s: <%s %s=%q>", name, tok.Data, a.Key, a.Val)
					}
				}
			case html.TextToken:
				if open == "script" && strings.TrimSpace(tok.Data) != "" {
					t.Errorf("%s: inline script", name)
				}
			case html.EndTagToken:
				open = ""
			}
		}
	}
}

// Messages named by computed keys (a severity, a stage, an event kind…)
// exist in the catalogue, so no page shows a "!key!".
func TestComputedKeysExist(t *testing.T) {
	t.Parallel()
	c := catalogue(t)
	var keys []string
	for _, s := range incident.Severities {
		keys = append(keys, "severity."+string(s))
	}
	for _, s := range incident.Stages {
		keys = append(keys, "stage."+string(s))
	}
	for _, tlp := range incident.TLPs {
		keys = append(keys, funcs(c.Printer("en"))["tlpMeaningKey"].(func(incident.TLP) string)(tlp))
	}
	for _, p := range incident.PAPs {
		keys = append(keys, funcs(c.Printer("en"))["papMeaningKey"].(func(incident.PAP) string)(p),
			"pap.short."+strings.TrimPrefix(papClass(p), "pap-"))
	}
	keys = append(keys, "fieldname.pap", "workbench.done.pap", "casework.done.observable_pap")
	for _, r := range access.Roles {
		keys = append(keys, "role."+string(r))
	}
	for _, th := range settings.Themes {
		keys = append(keys, "theme."+string(th))
	}
	for _, d := range incident.DeadlineKinds {
		keys = append(keys, "deadline."+string(d))
	}
	for _, k := range []string{"created", "routed", "shared", "participant_added", "field_changed", "assigned", "stage_changed",
		"closed", "reopened", "acknowledged", "deadline_met", "manual", "deadline_reminder", "deadline_missed",
		"deadline_timer_failed", "attachment_added", "notified", "notification_failed", "observable_added",
		"observable_updated", "observable_removed", "escalated", "escalation_accepted", "escalation_declined",
		"escalation_returned", "escalation_policy_notified", "comment_added", "comment_edited", "playbook_started",
		"playbook_step", "playbook_finished", "task_created", "task_updated", "task_completed", "task_cancelled",
		"share_ended", "participant_removed", "strict_circle_joined", "escalation_cancelled", "notification_withdrawn"} {
		keys = append(keys, "event."+k)
	}
	for _, st := range []string{stepDone, stepCurrent, stepSkipped, stepNotYet} {
		keys = append(keys, "stepper."+st)
	}
	for _, st := range []incident.DeadlineState{incident.DeadlinePending, incident.DeadlineOnTime, incident.DeadlineMetLate, incident.DeadlineMissed} {
		keys = append(keys, "deadline.state."+string(st))
	}
	for _, st := range task.Statuses {
		keys = append(keys, "request.status."+string(st))
	}
	for _, d := range []string{"comment", "comment_edited", "evidence", "task"} {
		keys = append(keys, "incident.done."+d)
	}
	for _, rule := range []string{"required", "max_length", "utf8", "characters"} {
		keys = append(keys, "field.body."+rule) // comment.ValidateBody's rules
	}
	for _, k := range escalation.Kinds {
		for _, form := range []string{"kind", "kind_label", "kind_long", "kind_hint"} {
			keys = append(keys, "escalation."+form+"."+string(k))
		}
	}
	for _, u := range []string{"kb", "mb", "gb"} {
		keys = append(keys, "size."+u, "size."+u+"_whole")
	}
	for _, e := range []string{"not_found", "forbidden", "csrf", "rate_limited", "internal", "unavailable", "too_large",
		"bad_request", "unauthorized", "insufficient_storage"} {
		keys = append(keys, "error."+e+".title", "error."+e+".text")
	}
	for _, k := range keys {
		require.True(t, c.Has(k), k)
	}
}

// A template that does not parse, a page without content, and a message
// key the catalogue lacks each stop New: serve does not start with them.
func TestBrokenTemplatesStopTheStart(t *testing.T) {
	t.Parallel()
	c := catalogue(t)
	layout := `{{define "layout"}}<title>{{t "app.name"}}</title>{{template "content" .}}{{end}}`
	for name, files := range map[string]fstest.MapFS{
		"syntax":     {"layout.html": {Data: []byte(layout)}, "pages/x.html": {Data: []byte(`{{define "content"}}{{if}}{{end}}`)}},
		"no content": {"layout.html": {Data: []byte(layout)}, "pages/x.html": {Data: []byte(`{{define "other"}}{{end}}`)}},
		"no pages":   {"layout.html": {Data: []byte(layout)}},
		"key":        {"layout.html": {Data: []byte(layout)}, "pages/x.html": {Data: []byte(`{{define "content"}}{{t "no.such.key"}}{{end}}`)}},
		"partial":    {"layout.html": {Data: []byte(layout)}, "partials/p.html": {Data: []byte(`{{define "p"}}{{.X}`)}, "pages/x.html": {Data: []byte(`{{define "content"}}{{end}}`)}},
	} {
		_, err := parseViews(files, c)
		require.Error(t, err, name)
	}
	_, err := parseViews(fstest.MapFS{"layout.html": {Data: []byte(layout)}, "pages/x.html": {Data: []byte(`{{define "content"}}{{end}}`)}}, c)
	require.NoError(t, err)

	sub, err := fs.Sub(web.Templates, "templates")
	require.NoError(t, err)
	_, err = parseViews(sub, c)
	require.NoError(t, err, "the shipped templates parse")
}

// Return addresses stay on this site.
func TestSafeReturn(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/incidents/INC-2026-000001": "/incidents/INC-2026-000001",
		"/incidents?after=abc":       "/incidents?after=abc",
		"//evil.example/x":           "",
		"/\\evil.example":            "",
		"https://evil.example/":      "",
		"javascript:alert(1)":        "",
		"incidents":                  "",
		"/signin?return=/x":          "",
		"/signout":                   "",
		"/x\r\nSet-Cookie: a=b":      "",
		"":                           "",
	} {
		require.Equal(t, want, safeReturn(in), in)
	}
	require.Equal(t, "/signin?return=/x", safePath("/signin?return=/x"), "the language switch may return to the sign-in page")
}
