package markdown

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"
)

// xssPayloads are attempts to get script into a page through Markdown:
// raw HTML, event handlers, dangerous URL schemes in every link syntax,
// entity and encoding tricks, and parser-confusion classics.
var xssPayloads = []struct {
	name, src string
	keep      string // text that must still be shown, if any
}{
	{"script tag", `<script>alert(1)</script>`, ""},
	{"script tag, upper case", `<SCRIPT SRC=//evil.example/x.js></SCRIPT>`, ""},
	{"script inline in a paragraph", `hello <script>alert(1)</script> world`, "hello"},
	{"script split by a comment", `<scr<!-- -->ipt>alert(1)</script>`, ""},
	{"img onerror", `<img src=x onerror=alert(1)>`, ""},
	{"img onerror in a sentence", `see <img src="x" onerror="alert(1)"> here`, "here"},
	{"inline element with a handler", `a <b onmouseover=alert(1)>b</b> c`, "c"},
	{"details ontoggle", `<details open ontoggle=alert(1)>x</details>`, ""},
	{"body onload", `<body onload=alert(1)>`, ""},
	{"raw javascript link", `<a href="javascript:alert(1)">click</a>`, "click"},
	{"raw link with entity-encoded scheme", `<a href="&#106;avascript&#58;alert(1)">click</a>`, "click"},
	{"raw link with tab in the scheme", "<a href=\"java\tscript:alert(1)\">click</a>", "click"},
	{"markdown javascript link", `[click](javascript:alert(1))`, "click"},
	{"markdown javascript link, mixed case", `[click](JaVaScRiPt:alert(document.cookie))`, "click"},
	{"markdown javascript link in angle brackets", `[click](<javascript:alert(1)>)`, "click"},
	{"markdown javascript link, leading space", `[click]( javascript:alert(1))`, "click"},
	{"markdown javascript link, entity", `[click](&#106;avascript:alert(1))`, "click"},
	{"markdown javascript link, hex entity", `[click](&#x6A;&#x61;vascript:alert(1))`, "click"},
	{"markdown javascript link, escaped colon", `[click](javascript&colon;alert(1))`, "click"},
	{"markdown javascript link, percent-encoded", `[click](javascript%3Aalert(1))`, "click"},
	{"markdown javascript reference link", "[click][x]\n\n[x]: javascript:alert(1)", "click"},
	{"markdown vbscript link", `[click](vbscript:msgbox(1))`, "click"},
	{"markdown file link", `[click](file:///etc/passwd)`, "click"},
	{"markdown data html link", `[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`, "click"},
	{"markdown data png link", `[click](data:image/png;base64,iVBORw0KGgo=)`, "click"},
	{"markdown link title breaking out", `[click](https://example.com "x\" onmouseover=\"alert(1)")`, "click"},
	{"markdown link destination breaking out", `[click](https://example.com/"onmouseover="alert(1))`, "click"},
	{"image onerror via title", `![a](x.png "x\" onerror=\"alert(1)")`, ""},
	{"image with javascript source", `![a](javascript:alert(1))`, ""},
	{"image with data svg source", `![a](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`, ""},
	{"autolink javascript", `<javascript:alert(1)>`, ""},
	{"autolink data", `<data:text/html,<script>alert(1)</script>>`, ""},
	{"linkified www with a quote", `www.example.com/"onmouseover="alert(1)"`, ""},
	{"linkified url with script", `https://example.com/<script>alert(1)</script>`, ""},
	{"autolink email with a handler", `<x@example.com" onclick="alert(1)>`, ""},
	{"svg onload", `<svg onload=alert(1)>`, ""},
	{"svg with script", `<svg><script>alert(1)</script></svg>`, ""},
	{"svg animate href", `<svg><a><animate attributeName=href values=javascript:alert(1) /><text x=20 y=20>X</text></a></svg>`, ""},
	{"math xlink", `<math><mi xlink:href="javascript:alert(1)">X</mi></math>`, ""},
	{"iframe", `<iframe src="https://evil.example"></iframe>`, ""},
	{"iframe srcdoc", `<iframe srcdoc="<script>alert(1)</script>"></iframe>`, ""},
	{"object", `<object data="javascript:alert(1)"></object>`, ""},
	{"embed", `<embed src="javascript:alert(1)">`, ""},
	{"form action", `<form action="javascript:alert(1)"><button>go</button></form>`, ""},
	{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`, ""},
	{"base href", `<base href="javascript:alert(1)//">`, ""},
	{"link stylesheet", `<link rel="stylesheet" href="https://evil.example/x.css">`, ""},
	{"style element", `<style>body{background:url(javascript:alert(1))}</style>`, ""},
	{"style attribute", `<p style="background:url(javascript:alert(1))">styled</p>`, ""},
	{"style attribute inline", `a <span style="color:red">styled</span>`, "styled"},
	{"style attribute, expression", `<div style="width: expression(alert(1))">x</div>`, ""},
	{"entity-encoded script tag", `&#60;script&#62;alert(1)&#60;/script&#62;`, "alert(1)"},
	{"named entities script tag", `&lt;script&gt;alert(1)&lt;/script&gt;`, "alert(1)"},
	{"double-encoded entities", `&amp;lt;script&amp;gt;alert(1)`, "alert(1)"},
	{"noscript mXSS", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, ""},
	{"comment breakout", `<!--><script>alert(1)</script>-->`, ""},
	{"cdata", `<![CDATA[<script>alert(1)</script>]]>`, ""},
	{"unclosed tag swallowing", `<img src="x` + "\n\n" + `onerror=alert(1)//">`, ""},
	{"html block in a list", "- <img src=x onerror=alert(1)>\n- item", "item"},
	{"html in a table cell", "| a |\n|---|\n| <img src=x onerror=alert(1)> |", "a"},
	{"html in a blockquote", "> <script>alert(1)</script>", ""},
	{"code span with a script tag", "`<script>alert(1)</script>`", "<script>alert(1)</script>"},
	{"fenced code with a script tag", "```html\n<script>alert(1)</script>\n```", "<script>alert(1)</script>"},
	{"fenced code language breaking out", "```\"><script>alert(1)</script>\nx\n```", "x"},
	{"fenced code language with a handler", "```x onmouseover=alert(1)\ncode\n```", "code"},
	{"heading attribute syntax", `# Title {onclick=alert(1) style=color:red}`, "Title"},
	{"task list with html", "- [x] <img src=x onerror=alert(1)> done", "done"},
	{"nested image in a link", `[![a](javascript:alert(1))](javascript:alert(1))`, ""},
	{"NUL and control characters", "[click](java\x00script:alert(1)) \x01\x7f", "click"},
	{"utf-16 surrogate escape", `[click](java\u0073cript:alert(1))`, "click"},
}

// normalMarkdown is what comments and descriptions are written in; every
// fragment must appear in the output.
var normalMarkdown = []struct {
	name, src string
	want      []string
}{
	{"headings", "# One\n## Two\n###### Six", []string{"<h1>One</h1>", "<h2>Two</h2>", "<h6>Six</h6>"}},
	{"emphasis", "*em* **strong** ~~struck~~", []string{"<em>em</em>", "<strong>strong</strong>", "<del>struck</del>"}},
	{"line breaks are kept", "line one\nline two", []string{"line one<br>", "line two"}},
	{"unordered list", "- a\n- b", []string{"<ul>", "<li>a</li>", "<li>b</li>"}},
	{"ordered list from 3", "3. c\n4. d", []string{`<ol start="3">`, "<li>c</li>"}},
	{"task list", "- [ ] open\n- [x] done", []string{`<input disabled="" type="checkbox"> open`, `<input checked="" disabled="" type="checkbox"> done`}},
	{"code span", "run `rm -rf /tmp/x`", []string{"<code>rm -rf /tmp/x</code>"}},
	{"fenced code", "```go\nfmt.Println(\"<hi>\")\n```", []string{`<pre><code class="language-go">fmt.Println(&#34;&lt;hi&gt;&#34;)`}},
	{"indented code", "    x := 1", []string{"<pre><code>x := 1"}},
	{"blockquote", "> quoted", []string{"<blockquote>", "<p>quoted</p>"}},
	{"link", `[CERT](https://cert.example/advisory?id=1&x=2 "Advisory")`,
		[]string{`<a href="https://cert.example/advisory?id=1&amp;x=2" title="Advisory" rel="nofollow noopener noreferrer">CERT</a>`}},
	{"relative link", "[INC-2026-000001](/incidents/INC-2026-000001)", []string{`<a href="/incidents/INC-2026-000001" rel="nofollow noopener noreferrer">`}},
	{"mailto link", "[mail](mailto:soc@cert.example)", []string{`href="mailto:soc@cert.example"`}},
	{"autolink", "<https://cert.example/x>", []string{`<a href="https://cert.example/x" rel="nofollow noopener noreferrer">https://cert.example/x</a>`}},
	{"linkified url", "see https://cert.example/ioc.txt now", []string{`<a href="https://cert.example/ioc.txt" rel="nofollow noopener noreferrer">https://cert.example/ioc.txt</a>`}},
	{"linkified www", "see www.cert.example today", []string{`<a href="http://www.cert.example" rel="nofollow noopener noreferrer">www.cert.example</a>`}},
	{"email autolink", "<soc@cert.example>", []string{`<a href="mailto:soc@cert.example" rel="nofollow noopener noreferrer">soc@cert.example</a>`}},
	{"table", "| host | ip |\n|:---|---:|\n| web1 | 10.0.0.1 |", []string{"<table>", `<th align="left">host</th>`, `<th align="right">ip</th>`, `<td align="left">web1</td>`, `<td align="right">10.0.0.1</td>`}},
	{"thematic break", "a\n\n---\n\nb", []string{"<hr>"}},
	{"image becomes a link", "![screenshot of the note](https://cert.example/note.png)",
		[]string{`<a href="https://cert.example/note.png" rel="nofollow noopener noreferrer">screenshot of the note</a>`}},
	{"image without a description", "![](https://cert.example/note.png)",
		[]string{`<a href="https://cert.example/note.png" rel="nofollow noopener noreferrer">https://cert.example/note.png</a>`}},
	{"entities", "AT&T &copy; 1 < 2", []string{"AT&amp;T © 1 &lt; 2"}},
}

// allowedElements is what the output may contain: the policy's allowlist.
var allowedElements = []string{"a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code",
	"em", "strong", "del", "s", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "input",
	// AllowLists and AllowTables also admit these; goldmark does not produce them.
	"dl", "dt", "dd", "caption", "col", "colgroup", "tfoot"}

// safeURL matches http, https and mailto URLs and relative ones (no
// scheme before the first /, ? or #).
var safeURL = regexp.MustCompile(`^(?i)(https?:|mailto:|[^:/?#]*$|[^:/?#]*[/?#])`)

// unsafeMarkup returns what is wrong with rendered HTML, or "". Text is
// allowed to say anything (it is escaped, so "<script" cannot appear in
// it); the markup must be inert: it is tokenized as a browser tokenizes it,
// and every element must be on the allowlist, no attribute may be an event
// handler (on...=) or a style, and every URL (entities decoded, white space
// and control characters dropped, as a browser does) must be http, https,
// mailto or relative — no javascript:, vbscript: or data:.
func unsafeMarkup(out string) string {
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "<iframe", "<svg", "<img", "<style", "<object", "<embed", "<math", "<!--"} {
		if strings.Contains(lower, bad) {
			return "contains " + bad
		}
	}
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			raw := string(z.Raw())
			name, hasAttr := z.TagName()
			if !slices.Contains(allowedElements, string(name)) {
				return fmt.Sprintf("element <%s> is not allowed", name)
			}
			rel := ""
			href := false
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key := string(k)
				// What a browser does with the value: entities decoded (by
				// TagAttr), controls and white space ignored.
				val := strings.Map(func(r rune) rune {
					if r <= ' ' || r == 0x7f {
						return -1
					}
					return r
				}, string(v))
				switch {
				case strings.HasPrefix(key, "on"), key == "style", key == "src", key == "srcdoc", key == "action", key == "formaction":
					return fmt.Sprintf("attribute %s on <%s>", key, name)
				case key == "href" || key == "cite":
					if !safeURL.MatchString(val) {
						return fmt.Sprintf("unsafe URL %q in <%s %s>", val, name, key)
					}
					href = href || key == "href"
				case key == "rel":
					rel = val
				}
			}
			if string(name) == "a" && tt == html.StartTagToken && href && rel != strings.ReplaceAll(LinkRel, " ", "") {
				return fmt.Sprintf("link without rel=%q: %s", LinkRel, raw)
			}
		}
	}
}

// markupOnly returns the tags of out, without the text between them.
func markupOnly(out string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(out))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.TextToken {
			b.Write(z.Raw())
		}
	}
	return b.String()
}

func TestRenderMakesXSSInert(t *testing.T) {
	t.Parallel()
	for _, tc := range xssPayloads {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := Render(tc.src)
			require.Empty(t, unsafeMarkup(out), "output: %s", out)
			// The same, literally: text may mention these words (it is
			// escaped), so the last three are looked for in the tags only.
			lower, tags := strings.ToLower(out), strings.ToLower(markupOnly(out))
			require.NotContains(t, lower, "<script")
			require.NotContains(t, lower, "<iframe")
			require.NotContains(t, tags, "javascript:")
			require.NotContains(t, tags, "style=")
			require.NotRegexp(t, `\son[a-z]+\s*=`, tags)
			if tc.keep != "" {
				require.Contains(t, PlainText(tc.src), tc.keep, "the harmless text is still shown; output: %s", out)
			}
		})
	}
}

func TestRenderMarkdown(t *testing.T) {
	t.Parallel()
	for _, tc := range normalMarkdown {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := Render(tc.src)
			for _, w := range tc.want {
				require.Contains(t, out, w, "output: %s", out)
			}
			require.Empty(t, unsafeMarkup(out), "output: %s", out)
		})
	}
}

// TestUnsafeMarkupFindsUnsafeMarkup checks the checker: the XSS tests are
// only as good as unsafeMarkup.
func TestUnsafeMarkupFindsUnsafeMarkup(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		`<script>alert(1)</script>`,
		`<p onclick="x">a</p>`,
		`<p/onclick="x">a</p>`,
		`<a href="javascript:alert(1)" rel="nofollow noopener noreferrer">a</a>`,
		`<a href="&#106;avascript:alert(1)" rel="nofollow noopener noreferrer">a</a>`,
		"<a href=\"java\tscript:alert(1)\" rel=\"nofollow noopener noreferrer\">a</a>",
		`<a href="data:text/html,x" rel="nofollow noopener noreferrer">a</a>`,
		`<a href="https://x.example">no rel</a>`,
		`<p style="color:red">a</p>`,
		`<img src="https://x.example/p.png">`,
		`<iframe src="https://x.example"></iframe>`,
		`<video><source src=x></video>`,
	} {
		require.NotEmpty(t, unsafeMarkup(bad), "%s passes the checker", bad)
	}
	require.Empty(t, unsafeMarkup(`<p>javascript: onclick= style= are words</p>`), "text may say anything")
}

func TestTablesAreBounded(t *testing.T) {
	t.Parallel()
	t.Run("a wide header over bare rows stays text", func(t *testing.T) {
		t.Parallel()
		// Each "|" row would become 1,000 empty cells: 20 MB of HTML from 8 KB.
		src := strings.Repeat("|a", 1000) + "\n" + strings.Repeat("|-", 1000) + "\n" + strings.Repeat("|\n", 2_000)
		out := Render(src)
		require.NotContains(t, out, "<table>")
		require.Less(t, len(out), 4*len(src))
	})
	t.Run("a long table written out renders", func(t *testing.T) {
		t.Parallel()
		src := strings.Repeat("| h ", 10) + "|\n" + strings.Repeat("|---", 10) + "|\n" + strings.Repeat(strings.Repeat("| x ", 10)+"|\n", 1000)
		out := Render(src)
		require.Contains(t, out, "<table>")
		require.Equal(t, 10_000, strings.Count(out, "<td>"))
	})
	t.Run("short rows are padded as GFM says", func(t *testing.T) {
		t.Parallel()
		src := "| a | b | c | d | e |\n|---|---|---|---|---|\n" + strings.Repeat("| x |\n", 500)
		out := Render(src)
		require.Contains(t, out, "<table>")
		require.Equal(t, 2500, strings.Count(out, "<td>"))
	})
}

// TestReferenceLinksAreBounded: a reference link repeats its definition's
// destination; thousands of references to one long URL would render to
// a hundred times the source or more (found by FuzzRender's output bound).
// Past maxLinkBytes links keep their text and lose their destination.
func TestReferenceLinksAreBounded(t *testing.T) {
	t.Parallel()
	long := "https://evil.example/" + strings.Repeat("a", 8_000)
	src := "[x]: " + long + "\n\n" + strings.Repeat("[x] ", 2_000)
	out := Render(src)
	require.LessOrEqual(t, len(out), maxRenderedBytes(len(src)), "rendered %d bytes from %d", len(out), len(src))
	require.Equal(t, maxLinkBytes(len(src))/len(long), strings.Count(out, long), "links until the budget is spent")
	require.Contains(t, out, "x x x", "the rest keep their text")

	img := "![](" + long + ") "
	out = Render(strings.Repeat(img, 20) + "\n\n" + "[y]: " + long + "\n\n" + strings.Repeat("![y] ", 100))
	require.LessOrEqual(t, len(out), maxRenderedBytes(20*len(img)+len(long)+600))

	// What people write is untouched: a few links to the same place.
	out = Render("See [the advisory][a], [again][a] and ![shot](https://x.example/s.png).\n\n[a]: https://x.example/adv")
	require.Equal(t, 2, strings.Count(out, `href="https://x.example/adv"`))
	require.Contains(t, out, `href="https://x.example/s.png"`)
}

// maxRenderedBytes is the bound FuzzRender holds Render's output to: a
// multiple of the source (markup around every byte: ">" nests a
// blockquote, "&" is "&amp;") plus room for what bounded tables and link
// destinations may add beyond it (maxTableCells(0) empty cells,
// maxLinkBytes(0)).
func maxRenderedBytes(n int) int { return 64*n + 256<<10 }

func TestPlainText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, want string }{
		{"# Breach\n\nSome **bold** and `code`.", "Breach Some bold and code."},
		{"- one\n- two", "one two"},
		{"a &amp; b &lt;c&gt;", "a & b <c>"},
		{"`<script>alert(1)</script>`", "<script>alert(1)</script>"},
		{"<script>alert(1)</script>hidden", ""},
		{"[label](https://x.example) ![alt](https://x.example/i.png)", "label alt"},
		{"| a | b |\n|---|---|\n| 1 | 2 |", "a b 1 2"},
		{"  \n\n  ", ""},
	} {
		require.Equal(t, tc.want, PlainText(tc.src), "PlainText(%q)", tc.src)
	}
}

// TestRenderSurvivesPanics checks the safety net of Render: should the
// Markdown renderer panic, the source is shown as escaped text.
func TestRenderSurvivesPanics(t *testing.T) {
	t.Parallel()
	r := &renderer{
		md:     goldmark.New(goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(panicky{}, 1)))),
		policy: policy(),
	}
	require.Panics(t, func() { r.render("x") })
	require.Equal(t, "<pre>&lt;img src=x onerror=alert(1)&gt; &amp; *text*</pre>", r.safeRender("<img src=x onerror=alert(1)> & *text*"))
}

type panicky struct{}

func (panicky) Transform(*ast.Document, text.Reader, parser.Context) { panic("boom") }

func TestRenderIsConcurrent(t *testing.T) {
	t.Parallel()
	done := make(chan string)
	for i := range 8 {
		go func() { done <- Render(fmt.Sprintf("**%d** [x](https://x.example/%d)", i, i)) }()
	}
	for range 8 {
		require.Contains(t, <-done, "<strong>")
	}
}

func FuzzRender(f *testing.F) {
	for _, tc := range xssPayloads {
		f.Add(tc.src)
	}
	for _, tc := range normalMarkdown {
		f.Add(tc.src)
	}
	f.Add("[x]: https://a.example/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n\n[x][x][x][x][x][x][x][x][x][x][x][x][x][x][x][x]")
	f.Add(">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>> x")
	f.Add("|a|b|c|d|e|f|g|h|\n|-|-|-|-|-|-|-|-|\n|\n|\n|\n|\n")
	r := std()
	f.Fuzz(func(t *testing.T, src string) {
		// goldmark has quadratic corners (see the package comment): keep
		// every input well inside the size of a comment, so that one input
		// takes milliseconds.
		if len(src) > 8<<10 {
			return // longer than a comment: not an input this fuzzer judges
		}
		out := r.render(src) // without Render's recover: a panic fails the fuzz test
		if len(out) > maxRenderedBytes(len(src)) {
			t.Fatalf("%d bytes of source rendered to %d bytes", len(src), len(out))
		}
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("script in the output of %q: %s", src, out)
		}
		if bad := unsafeMarkup(out); bad != "" {
			t.Fatalf("unsafe output for %q: %s\n%s", src, bad, out)
		}
		_ = PlainText(src)
	})
}
