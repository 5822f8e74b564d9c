package markdown

import (
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// PlainText returns the text a reader sees in src, a Markdown document:
// no markup, entities decoded, runs of white space (including the breaks
// between paragraphs, list items and table cells) as one space, trimmed.
// It is for excerpts, notifications and search; it is not HTML and must be
// escaped like any other text where it is shown.
func PlainText(src string) string {
	return HTMLText(Render(src))
}

// HTMLText is PlainText for HTML that Render returned: the text a reader
// sees in it.
func HTMLText(rendered string) string {
	z := html.NewTokenizer(strings.NewReader(rendered))
	var b strings.Builder
	space := false
	emit := func(s string) {
		for _, c := range s {
			if unicode.IsSpace(c) {
				space = true
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(c)
		}
	}
	for {
		switch z.Next() {
		case html.ErrorToken: // io.EOF: the tokenizer reads from a string
			return b.String()
		case html.TextToken:
			emit(string(z.Text()))
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if breaksText(atom.Lookup(name)) {
				space = true
			}
		}
	}
}

// breaksText reports whether an element separates the text around it.
func breaksText(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Br, atom.Hr, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Blockquote, atom.Pre, atom.Ul, atom.Ol, atom.Li, atom.Table, atom.Thead, atom.Tbody,
		atom.Tr, atom.Th, atom.Td, atom.Input, atom.Div:
		return true
	}
	return false
}
