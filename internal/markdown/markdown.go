// Package markdown turns the Markdown that users write (incident
// descriptions, comments) into HTML that is safe to put into a page, and
// into plain text for excerpts.
//
// Rendering has two steps, so that neither has to be perfect alone:
//
//  1. goldmark (CommonMark with the GitHub extensions: tables,
//     strikethrough, autolinks, task lists) renders the source. It runs
//     without html.WithUnsafe: raw HTML in the source is never copied to the
//     output, and links to javascript:, vbscript:, file: and data: URLs
//     lose their destination.
//  2. bluemonday sanitises the result against an allowlist of exactly the
//     elements and attributes step 1 produces (see policy). Whatever step 1
//     might let through by mistake — an element, an event handler, a
//     style attribute, a URL with another scheme — is removed here.
//
// Images are not embedded: an image becomes a link to it, labelled with its
// alternative text. An image in a case record would be fetched by every
// reader's browser, telling whoever runs its server who reads the incident,
// when, and from where (a tracking pixel in a TLP:RED case); the service's
// Content-Security-Policy would block a foreign image anyway.
//
// Every link gets rel="nofollow noopener noreferrer" and no target.
//
// The output is bounded by a multiple of the source: a reference link
// ("[x]", three bytes) repeats its definition's destination, so 50 KB of
// references to one long URL would render to hundreds of megabytes. Links
// whose destinations together exceed maxLinkBytes(the source's length)
// lose their destination and keep their text (see linkTransformer).
//
// Cost: rendering is fast for what people write, but goldmark has
// quadratic corners that a hostile writer can reach (50,000 characters of
// "[a](" or "*a_" take seconds), and GFM tables pad every row to the
// header's width (bounded here: see boundedTable). Render once when the
// text is written and store the HTML with Version, rather than on every
// read of a list.
package markdown

import (
	"bytes"
	stdhtml "html"
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	gmrenderer "github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Version identifies what Render produces. It goes up whenever a change of
// the renderer or of the sanitiser's policy changes the HTML of some
// source, so that HTML stored by an older version is known to be stale and
// is rendered again.
const Version = 2 // 2: links past maxLinkBytes lose their destination

// LinkRel is the rel attribute of every link in rendered HTML.
const LinkRel = "nofollow noopener noreferrer"

// renderer is the configured pair of Markdown renderer and sanitiser. Both
// are safe for concurrent use once built.
type renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// std is built on first use and never changed afterwards.
var std = sync.OnceValue(newRenderer)

func newRenderer() *renderer {
	md := goldmark.New(
		goldmark.WithExtensions(
			boundedTable{},
			extension.Strikethrough,
			extension.Linkify,
			extension.TaskList,
		),
		goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkTransformer{}, 1000))),
		// Comments are written like chat messages and e-mails: a line break
		// in the source is a line break on the page, as on GitHub.
		goldmark.WithRendererOptions(html.WithHardWraps()),
	)
	return &renderer{md: md, policy: policy()}
}

// boundedTable is goldmark's GFM table extension with a bound on the cells
// a table may have. A GFM table row has as many cells as the header, even
// when the row is written as a bare "|": 44 KB of source (a header of 1,000
// columns over 20,000 such rows) would render to 200 MB of empty cells and
// take minutes. A paragraph whose table would hold more cells than
// maxTableCells(its length) stays a paragraph.
type boundedTable struct{}

func (boundedTable) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithParagraphTransformers(util.Prioritized(tableLimit{extension.NewTableParagraphTransformer()}, 200)),
		parser.WithASTTransformers(util.Prioritized(extension.NewTableASTTransformer(), 0)),
	)
	m.Renderer().AddOptions(gmrenderer.WithNodeRenderers(util.Prioritized(
		extension.NewTableHTMLRenderer(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)), 500)))
}

// maxTableCells is how many cells a table written in n bytes may have: a
// table whose cells are all written out has fewer cells than bytes.
func maxTableCells(n int) int { return 2*n + 10_000 }

// tableLimit runs the table transformer only on paragraphs whose table
// stays within maxTableCells.
type tableLimit struct{ next parser.ParagraphTransformer }

func (t tableLimit) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() < 2 {
		return
	}
	// A table has as many columns as its delimiter row has cells, at most
	// one more than the pipes in any line, and at most one row per line.
	maxPipes, size := 0, 0
	for i := range lines.Len() {
		seg := lines.At(i)
		v := seg.Value(reader.Source())
		maxPipes = max(maxPipes, bytes.Count(v, []byte{'|'}))
		size += len(v)
	}
	if (maxPipes+1)*lines.Len() > maxTableCells(size) {
		return
	}
	t.next.Transform(node, reader, pc)
}

// policy is the sanitiser's allowlist: what goldmark renders from
// CommonMark and the GFM extensions, and nothing else. It is built from the
// same pieces as bluemonday's UGCPolicy (standard URLs, lists, tables) but
// leaves out what UGCPolicy allows and Markdown never needs: <img> (with
// any http or https source), forms and presentational elements.
func policy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	// http, https, mailto and relative URLs only; they must parse.
	p.AllowStandardURLs()
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).OnElements("a")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + LinkRel + `$`)).OnElements("a")

	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
		"blockquote", "pre", "em", "strong", "del", "s")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+#.-]{1,40}$`)).OnElements("code")
	p.AllowElements("code")
	p.AllowLists()
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowTables()
	p.AllowElements("table", "thead", "tbody", "tr", "th", "td")
	// Task list items: a disabled checkbox, checked or not.
	p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
	p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^$`)).OnElements("input")
	return p
}

// Render returns src, a Markdown document, as sanitised HTML. It never
// fails: whatever src holds, the result is markup without scripts, event
// handlers, styles, frames, images or links other than http, https, mailto
// and relative ones. Should the Markdown renderer fail or panic on some
// input, the source is shown as preformatted text instead.
func Render(src string) string {
	return std().safeRender(src)
}

// safeRender is render with a safety net.
func (r *renderer) safeRender(src string) (out string) {
	defer func() {
		if recover() != nil {
			out = r.policy.Sanitize("<pre>" + stdhtml.EscapeString(src) + "</pre>")
		}
	}()
	return r.render(src)
}

// render is Render without the safety net, for the tests.
func (r *renderer) render(src string) string {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		// goldmark reports only the errors of the writer, and a
		// bytes.Buffer has none; this is the fallback all the same.
		return r.policy.Sanitize("<pre>" + stdhtml.EscapeString(src) + "</pre>")
	}
	return r.policy.Sanitize(buf.String())
}

// maxLinkBytes is how many bytes of link destinations and titles a source
// of n bytes may render: every destination written out in the source fits,
// and reference links may repeat a definition up to this bound.
func maxLinkBytes(n int) int { return 2*n + 16_384 }

// linkTransformer gives every link its rel attribute and turns images into
// links (see the package comment). Links and images past maxLinkBytes keep
// only their text.
type linkTransformer struct{}

func (linkTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	var images []*ast.Image
	var unlink []ast.Node
	budget := maxLinkBytes(len(reader.Source()))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if budget -= len(n.Destination) + len(n.Title); budget < 0 {
				unlink = append(unlink, n)
			}
			n.SetAttributeString("rel", []byte(LinkRel))
		case *ast.AutoLink:
			n.SetAttributeString("rel", []byte(LinkRel))
		case *ast.Image:
			// A converted image without a description shows its destination.
			if budget -= 2*len(n.Destination) + len(n.Title); budget < 0 {
				unlink = append(unlink, n)
			} else {
				images = append(images, n)
			}
		}
		return ast.WalkContinue, nil
	})
	for _, n := range unlink {
		unwrap(n)
	}
	for _, img := range images {
		parent := img.Parent()
		if parent == nil {
			continue
		}
		if insideLink(img) {
			unwrap(img) // a link cannot hold another link: keep only the description
			continue
		}
		link := ast.NewLink()
		link.Destination = img.Destination
		link.Title = img.Title
		link.SetAttributeString("rel", []byte(LinkRel))
		if !img.HasChildren() {
			link.AppendChild(link, ast.NewString(img.Destination))
		}
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		parent.ReplaceChild(parent, img, link)
	}
}

// unwrap replaces n with its children.
func unwrap(n ast.Node) {
	parent := n.Parent()
	if parent == nil {
		return
	}
	for c := n.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, n, c)
		c = next
	}
	parent.RemoveChild(parent, n)
}

func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if _, ok := p.(*ast.Link); ok {
			return true
		}
	}
	return false
}
