// Package i18n is the one message catalogue of everything certdesk shows
// people: the web UI's words, in every language it speaks, and the
// formatting of dates, times, durations and deadlines in a person's
// language and time zone.
//
// Messages live in one JSON file per language (web/i18n/<lang>.json): an
// object from message key to text, where a text is a string or, for
// counts, an object of plural forms ("one", "other"). Texts are fmt
// formats (%s, %d, %[2]s): the same key has the same verbs in every
// language. The first language given to Load is the default and the
// reference: every other language must translate every key of it (Check).
// The messages are served through golang.org/x/text/message, which also
// formats numbers the way each language writes them.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Catalogue holds the messages of every language.
type Catalogue struct {
	langs   []string // base language codes, default first
	tags    []language.Tag
	matcher language.Matcher
	texts   map[string]map[string]Text // language → key → text
	builder *catalog.Builder
}

// Text is one message in one language: a plain text, or plural forms.
type Text struct {
	Plain  string
	Plural map[string]string // "one", "other" (and "zero", "two", "few", "many" where a language has them)
}

// pluralForms are the CLDR plural categories a message file may use.
var pluralForms = map[string]plural.Form{"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other}

// Load reads <lang>.json of every language in langs from fsys. The first
// language is the default. It fails when a file is missing or malformed,
// or when Check finds a key without a translation.
func Load(fsys fs.FS, langs ...string) (*Catalogue, error) {
	if len(langs) == 0 {
		return nil, fmt.Errorf("i18n: no languages")
	}
	c := &Catalogue{texts: map[string]map[string]Text{}, builder: catalog.NewBuilder(catalog.Fallback(language.Make(langs[0])))}
	for _, lang := range langs {
		tag, err := language.Parse(lang)
		if err != nil {
			return nil, fmt.Errorf("i18n: language %q: %w", lang, err)
		}
		raw, err := readLanguage(fsys, lang)
		if err != nil {
			return nil, err
		}
		texts := make(map[string]Text, len(raw))
		for key, v := range raw {
			var t Text
			if err := json.Unmarshal(v, &t.Plain); err != nil {
				if err := json.Unmarshal(v, &t.Plural); err != nil || t.Plural["other"] == "" {
					return nil, fmt.Errorf("i18n: %s.json: %q must be a string or an object of plural forms with \"other\"", lang, key)
				}
				var cases []any
				for _, f := range []string{"zero", "one", "two", "few", "many", "other"} {
					if s, ok := t.Plural[f]; ok {
						cases = append(cases, pluralForms[f], s)
					}
				}
				for f := range t.Plural {
					if _, ok := pluralForms[f]; !ok {
						return nil, fmt.Errorf("i18n: %s.json: %q has an unknown plural form %q", lang, key, f)
					}
				}
				if err := c.builder.Set(tag, key, plural.Selectf(1, "%d", cases...)); err != nil {
					return nil, fmt.Errorf("i18n: %s.json: %q: %w", lang, key, err)
				}
			} else if err := c.builder.SetString(tag, key, t.Plain); err != nil {
				return nil, fmt.Errorf("i18n: %s.json: %q: %w", lang, key, err)
			}
			texts[key] = t
		}
		c.langs = append(c.langs, tag.String())
		c.tags = append(c.tags, tag)
		c.texts[tag.String()] = texts
	}
	c.matcher = language.NewMatcher(c.tags)
	if err := c.Check(); err != nil {
		return nil, err
	}
	return c, nil
}

// readLanguage reads a language's messages: <lang>.json and, when there
// are any, the files <lang>/*.json beside it (one per area of the UI, so
// that pages added side by side do not edit one file). A key defined in
// two files is an error.
func readLanguage(fsys fs.FS, lang string) (map[string]json.RawMessage, error) {
	files := []string{path.Clean(lang + ".json")}
	more, err := fs.Glob(fsys, path.Clean(lang)+"/*.json")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	sort.Strings(more)
	files = append(files, more...)
	all := map[string]json.RawMessage{}
	where := map[string]string{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		for k, v := range raw {
			if other, dup := where[k]; dup {
				return nil, fmt.Errorf("i18n: %q is defined in %s and in %s", k, other, f)
			}
			all[k], where[k] = v, f
		}
	}
	return all, nil
}

// LoadDir loads every <lang>.json of fsys, with def the default: adding
// a language is adding its file (docs/ui.md, "Languages").
func LoadDir(fsys fs.FS, def string) (*Catalogue, error) {
	files, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	langs := []string{def}
	for _, f := range files {
		if l := strings.TrimSuffix(f, ".json"); l != def {
			langs = append(langs, l)
		}
	}
	sort.Strings(langs[1:])
	return Load(fsys, langs...)
}

// verbRE finds the fmt verbs a text may use: %s, %d, %v, %q, with an
// argument index (%[2]s); %% writes a "%".
var verbRE = regexp.MustCompile(`%(\[[0-9]+\])?[sdvq]`)

// strayPercent reports a "%" that is neither %% nor a verb: fmt would
// print it as "%!x(MISSING)".
func strayPercent(s string) bool {
	return strings.Contains(verbRE.ReplaceAllString(strings.ReplaceAll(s, "%%", ""), ""), "%")
}

func verbs(s string) []string {
	s = strings.ReplaceAll(s, "%%", "")
	v := verbRE.FindAllString(s, -1)
	sort.Strings(v)
	return v
}

// Check reports every key of the default language that another language
// does not translate (or translates with other fmt verbs), and every key
// another language has that the default lacks.
func (c *Catalogue) Check() error {
	var problems []string
	for _, lang := range c.langs {
		for key, t := range c.texts[lang] {
			for _, text := range append([]string{t.Plain}, mapValues(t.Plural)...) {
				if !strings.HasPrefix(key, "format.") && strayPercent(text) {
					problems = append(problems, fmt.Sprintf("%s: %q has a %% that is not a verb (write %%%% for a percent sign)", lang, key))
				}
			}
		}
	}
	ref := c.texts[c.langs[0]]
	for _, lang := range c.langs[1:] {
		texts := c.texts[lang]
		for _, key := range c.Keys() {
			t, ok := texts[key]
			switch {
			case !ok || (t.Plain == "" && len(t.Plural) == 0):
				problems = append(problems, fmt.Sprintf("%s: %q has no text", lang, key))
			case !slices.Equal(verbs(ref[key].all()), verbs(t.all())):
				problems = append(problems, fmt.Sprintf("%s: %q has the verbs %v, %s has %v", lang, key, verbs(t.all()), c.langs[0], verbs(ref[key].all())))
			}
		}
		for key := range texts {
			if _, ok := ref[key]; !ok {
				problems = append(problems, fmt.Sprintf("%s: %q is not a key of %s", lang, key, c.langs[0]))
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("i18n: the catalogue is incomplete:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// all is the text, or its plural forms joined, for checks.
func (t Text) all() string {
	if len(t.Plural) == 0 {
		return t.Plain
	}
	return t.Plural["other"]
}

// Languages lists the languages, default first, as base codes ("en", "de").
func (c *Catalogue) Languages() []string { return slices.Clone(c.langs) }

// Default is the default language.
func (c *Catalogue) Default() string { return c.langs[0] }

// Supported reports whether lang is one of the catalogue's languages.
func (c *Catalogue) Supported(lang string) bool { return slices.Contains(c.langs, lang) }

// Match picks the language for an Accept-Language header: the best of
// the catalogue's languages, else the default.
func (c *Catalogue) Match(acceptLanguage string) string {
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return c.langs[0]
	}
	_, i, conf := c.matcher.Match(prefs...)
	if conf == language.No {
		return c.langs[0]
	}
	return c.langs[i]
}

// Keys lists the default language's keys, sorted.
func (c *Catalogue) Keys() []string {
	keys := make([]string, 0, len(c.texts[c.langs[0]]))
	for k := range c.texts[c.langs[0]] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Text returns the raw text of key in lang (for tests and tools).
func (c *Catalogue) Text(lang, key string) (Text, bool) {
	t, ok := c.texts[lang][key]
	return t, ok
}

// Has reports whether key is in the catalogue.
func (c *Catalogue) Has(key string) bool {
	_, ok := c.texts[c.langs[0]][key]
	return ok
}

// Printer returns the printer of lang (the default language when lang is
// not in the catalogue).
func (c *Catalogue) Printer(lang string) *Printer {
	if !c.Supported(lang) {
		lang = c.langs[0]
	}
	return &Printer{lang: lang, p: message.NewPrinter(language.Make(lang), message.Catalog(c.builder)), c: c}
}

// Printer formats the messages of one language.
type Printer struct {
	lang string
	p    *message.Printer
	c    *Catalogue
}

// Lang is the printer's language ("en").
func (p *Printer) Lang() string { return p.lang }

// T returns the message key in the printer's language, formatted with
// args. A key that is not in the catalogue is returned as "!key!" so that
// it stands out (tests fail on it).
func (p *Printer) T(key string, args ...any) string {
	if !p.c.Has(key) {
		return "!" + key + "!"
	}
	return p.p.Sprintf(key, args...)
}
