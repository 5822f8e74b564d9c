package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/internal/incident"
)

// views are the parsed templates: one set per page (the layout, every
// partial and the page's own file) and per language (the set's "t"
// translates into that language). They are built once, in New; nothing
// is parsed while serving.
type views struct {
	sets map[string]map[string]*template.Template // language → page → template set
}

// keyRE finds the message keys a template names literally: {{t "key"}}.
var keyRE = regexp.MustCompile(`\bt "([a-z0-9_.]+)"`)

// parseViews parses layout.html, partials/*.html and pages/*.html from
// fsys. It fails on a template that does not parse, and on a literal
// message key that the catalogue does not have.
func parseViews(fsys fs.FS, cat *i18n.Catalogue) (*views, error) {
	shared := []string{"layout.html"}
	partials, err := fs.Glob(fsys, "partials/*.html")
	if err != nil {
		return nil, err
	}
	shared = append(shared, partials...)
	pages, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, err
	}
	if len(pages) == 0 {
		return nil, fmt.Errorf("ui: no page templates")
	}
	var missing []string
	for _, name := range append(append([]string{}, shared...), pages...) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			if !cat.Has(m[1]) {
				missing = append(missing, name+": "+m[1])
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("ui: templates name messages the catalogue lacks:\n  %s", strings.Join(missing, "\n  "))
	}
	base, err := template.New("layout").Funcs(funcs(cat.Printer(cat.Default()))).ParseFS(fsys, shared...)
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	v := &views{sets: map[string]map[string]*template.Template{}}
	for _, lang := range cat.Languages() {
		v.sets[lang] = map[string]*template.Template{}
	}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		set, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if set, err = set.ParseFS(fsys, p); err != nil {
			return nil, fmt.Errorf("ui: %w", err)
		}
		if set.Lookup("content") == nil {
			return nil, fmt.Errorf("ui: %s defines no \"content\"", p)
		}
		for _, lang := range cat.Languages() {
			l, err := set.Clone()
			if err != nil {
				return nil, err
			}
			v.sets[lang][name] = l.Funcs(funcs(cat.Printer(lang)))
		}
	}
	return v, nil
}

// funcs are the template functions; "t" is bound to one language.
func funcs(p *i18n.Printer) template.FuncMap {
	return template.FuncMap{
		"t":        p.T,
		"tlpClass": tlpClass,
		"tlpMeaningKey": func(t incident.TLP) string {
			return "tlp.meaning." + strings.ReplaceAll(strings.TrimPrefix(tlpClass(t), "tlp-"), "-", "_")
		},
		"fieldError": findFieldError,
		"wbField":    wbField,
	}
}

// tlpClass is the CSS class (and message suffix) of a TLP label.
func tlpClass(t incident.TLP) string {
	switch t {
	case incident.TLPRed:
		return "tlp-red"
	case incident.TLPAmberStrict:
		return "tlp-amber-strict"
	case incident.TLPAmber:
		return "tlp-amber"
	case incident.TLPGreen:
		return "tlp-green"
	}
	return "tlp-clear"
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// fragment renders the template name of page's set in lang into w: a
// part of a page (a row of the queue) for a script to insert.
func (v *views) fragment(w io.Writer, lang, page, name string, data any) error {
	set, ok := v.sets[lang][page]
	if !ok {
		return fmt.Errorf("ui: no page %q in %q", page, lang)
	}
	if err := set.ExecuteTemplate(w, name, data); err != nil {
		return fmt.Errorf("ui: render %s of %s: %w", name, page, err)
	}
	return nil
}

// execute renders page name in lang into w.
func (v *views) execute(w io.Writer, lang, name string, data any) error {
	set, ok := v.sets[lang][name]
	if !ok {
		return fmt.Errorf("ui: no page %q in %q", name, lang)
	}
	if err := set.ExecuteTemplate(w, "layout", data); err != nil {
		return fmt.Errorf("ui: render %s: %w", name, err)
	}
	return nil
}
