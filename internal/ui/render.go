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
// translates into that language). New parses every page once, so that a
// template that does not parse stops the start; the set of a page in a
// language is then built from the parsed layout and partials the first
// time it is shown, and kept. (Each set holds a copy of every partial:
// built for every page and language up front, they took gigabytes in the
// race-detector tests, where every test starts an app.)
type views struct {
	fsys  fs.FS
	base  *template.Template          // the layout and the partials, never executed
	pages map[string]string           // page → its file
	funcs map[string]template.FuncMap // language → its functions
	mu    sync.Mutex
	sets  map[string]map[string]*template.Template // language → page → template set, as built
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
	v := &views{fsys: fsys, base: base, pages: map[string]string{}, funcs: map[string]template.FuncMap{},
		sets: map[string]map[string]*template.Template{}}
	for _, lang := range cat.Languages() {
		v.funcs[lang] = funcs(cat.Printer(lang))
		v.sets[lang] = map[string]*template.Template{}
	}
	for _, p := range pages {
		set, err := v.parse(p)
		if err != nil {
			return nil, err
		}
		if set.Lookup("content") == nil {
			return nil, fmt.Errorf("ui: %s defines no \"content\"", p)
		}
		v.pages[strings.TrimSuffix(path.Base(p), ".html")] = p
	}
	return v, nil
}

// parse parses the page file p over a copy of the layout and partials.
func (v *views) parse(p string) (*template.Template, error) {
	set, err := v.base.Clone()
	if err != nil {
		return nil, err
	}
	if set, err = set.ParseFS(v.fsys, p); err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	return set, nil
}

// set returns the template set of page in lang, building it the first
// time.
func (v *views) set(lang, page string) (*template.Template, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if set, ok := v.sets[lang][page]; ok {
		return set, nil
	}
	p, ok := v.pages[page]
	fs, lok := v.funcs[lang]
	if !ok || !lok {
		return nil, fmt.Errorf("ui: no page %q in %q", page, lang)
	}
	set, err := v.parse(p)
	if err != nil {
		return nil, err
	}
	set = set.Funcs(fs)
	v.sets[lang][page] = set
	return set, nil
}

// funcs are the template functions; "t" is bound to one language.
func funcs(p *i18n.Printer) template.FuncMap {
	return template.FuncMap{
		"t":        p.T,
		"tlpClass": tlpClass,
		"tlpMeaningKey": func(t incident.TLP) string {
			return "tlp.meaning." + strings.ReplaceAll(strings.TrimPrefix(tlpClass(t), "tlp-"), "-", "_")
		},
		"papClass":      papClass,
		"papMeaningKey": func(p incident.PAP) string { return "pap.meaning." + strings.TrimPrefix(papClass(p), "pap-") },
		"fieldError":    findFieldError,
		"wbField":       wbField,
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

// papClass is the CSS class (and message suffix) of a PAP label.
func papClass(p incident.PAP) string {
	switch p {
	case incident.PAPRed:
		return "pap-red"
	case incident.PAPGreen:
		return "pap-green"
	case incident.PAPClear:
		return "pap-clear"
	}
	return "pap-amber"
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// fragment renders the template name of page's set in lang into w: a
// part of a page (a row of the queue) for a script to insert.
func (v *views) fragment(w io.Writer, lang, page, name string, data any) error {
	set, err := v.set(lang, page)
	if err != nil {
		return err
	}
	if err := set.ExecuteTemplate(w, name, data); err != nil {
		return fmt.Errorf("ui: render %s of %s: %w", name, page, err)
	}
	return nil
}

// execute renders page name in lang into w.
func (v *views) execute(w io.Writer, lang, name string, data any) error {
	set, err := v.set(lang, name)
	if err != nil {
		return err
	}
	if err := set.ExecuteTemplate(w, "layout", data); err != nil {
		return fmt.Errorf("ui: render %s: %w", name, err)
	}
	return nil
}
