package playbook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Origin says where a catalogue entry comes from.
type Origin string

// The origins of playbooks.
const (
	// Shipped playbooks are built into certdesk (the playbooks/ folder).
	Shipped Origin = "shipped"
	// Local playbooks come from the operator's folder (CERTDESK_PLAYBOOK_DIR).
	Local Origin = "local"
)

// Entry is one playbook file of a catalogue with its validation status.
type Entry struct {
	// ID is the playbook's id; empty when the file is too broken to tell.
	ID string
	// File is the name errors use: playbooks/<name> for shipped files, the
	// path for local ones.
	File   string
	Origin Origin
	// Replaces is the file of the shipped playbook this local one replaces
	// (same id); empty otherwise.
	Replaces string
	// Playbook is what could be parsed: complete when Valid, possibly
	// partial (or nil) when not.
	Playbook *Playbook
	Valid    bool
	// Errors lists every problem of the file, sorted by position; empty
	// when Valid.
	Errors Errors
	// Source is the file's content.
	Source []byte
	// SHA256 is the hex SHA-256 of Source.
	SHA256 string
}

// Catalog is the set of playbooks a certdesk process knows: the shipped
// ones and the local folder's, each with its validation status. It is
// immutable once built and safe for concurrent use.
type Catalog struct {
	entries []*Entry
}

// CatalogOptions say what LoadCatalog loads.
type CatalogOptions struct {
	// Shipped holds the shipped playbooks (playbooks.FS()): its *.yaml files
	// at the top. Nil: none.
	Shipped fs.FS
	// Dir is the local folder: its *.yaml and *.yml files (not
	// sub-folders). A local playbook with the id of a shipped one replaces
	// it. Empty: none.
	Dir string
	// Templates are the notification templates a notify step may name
	// (notify.Templates()). Nil: template names are not checked.
	Templates []string
}

// LoadCatalog reads the shipped playbooks and the local folder and builds
// their catalogue. Problems in playbook files are not errors here: they
// are in the entries (see Catalog.Errors). The error reports a folder or a
// file that cannot be read.
func LoadCatalog(o CatalogOptions) (*Catalog, error) {
	var shipped, local []Source
	if o.Shipped != nil {
		names, err := fs.Glob(o.Shipped, "*.yaml")
		if err != nil {
			return nil, fmt.Errorf("list shipped playbooks: %w", err)
		}
		for _, n := range names {
			data, err := readFSLimited(o.Shipped, n)
			if err != nil {
				return nil, fmt.Errorf("read shipped playbook %s: %w", n, err)
			}
			shipped = append(shipped, Source{Name: path.Join("playbooks", n), Data: data})
		}
	}
	if o.Dir != "" {
		var err error
		if local, err = ReadDir(o.Dir); err != nil {
			return nil, err
		}
	}
	return BuildCatalog(shipped, local, o.Templates), nil
}

// ReadDir reads the *.yaml and *.yml files at the top of the folder dir,
// in name order, each cut at MaxFileSize+1 bytes (so that Parse reports
// a file that is too large).
func ReadDir(dir string) ([]Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("playbook folder: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("playbook folder %s: not a folder", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("playbook folder: %w", err)
	}
	var srcs []Source
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			continue
		}
		p := filepath.Join(dir, n)
		data, err := readFSLimited(os.DirFS(dir), n)
		if err != nil {
			return nil, fmt.Errorf("read playbook %s: %w", p, err)
		}
		srcs = append(srcs, Source{Name: p, Data: data})
	}
	return srcs, nil
}

func readFSLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

// BuildCatalog parses and validates shipped and local sources into a
// catalogue. Playbook ids must be unique within each origin (a later file,
// in the given order, that repeats an id is invalid); a local playbook
// whose id is a shipped one's replaces it, whether or not it is valid (a
// broken replacement never silently falls back to the shipped version).
// With templates not nil, every notify step must name one of them.
func BuildCatalog(shipped, local []Source, templates []string) *Catalog {
	c := &Catalog{}
	byID := map[string]*Entry{}
	add := func(origin Origin, srcs []Source) {
		seen := map[string]string{} // id → file, within this origin
		for _, src := range srcs {
			e := newEntry(origin, src, templates)
			if e.ID != "" {
				if other, dup := seen[e.ID]; dup {
					pos := e.Playbook.idPos
					e.Errors = append(e.Errors, &Error{File: e.File, Line: pos.Line, Column: pos.Column,
						Msg: fmt.Sprintf("playbook id %q is already used by %s", e.ID, other)})
					e.Errors.sort()
					e.Valid = false
					c.entries = append(c.entries, e)
					continue
				}
				seen[e.ID] = e.File
				if prev, ok := byID[e.ID]; ok && prev.Origin == Shipped && origin == Local {
					e.Replaces = prev.File
					c.entries = slices.DeleteFunc(c.entries, func(x *Entry) bool { return x == prev })
				}
				byID[e.ID] = e
			}
			c.entries = append(c.entries, e)
		}
	}
	add(Shipped, shipped)
	add(Local, local)
	slices.SortStableFunc(c.entries, func(a, b *Entry) int {
		switch {
		case (a.ID == "") != (b.ID == ""):
			if a.ID == "" {
				return 1
			}
			return -1
		case a.ID != b.ID:
			return strings.Compare(a.ID, b.ID)
		}
		return strings.Compare(a.File, b.File)
	})
	return c
}

func newEntry(origin Origin, src Source, templates []string) *Entry {
	sum := sha256.Sum256(src.Data)
	e := &Entry{File: src.Name, Origin: origin, Source: src.Data, SHA256: hex.EncodeToString(sum[:])}
	pb, errs := Parse(src.Name, src.Data)
	if pb != nil && templates != nil {
		// Also when the file has other problems: all problems in one pass.
		errs = append(errs, checkTemplates(pb, src.Data, templates)...)
		errs.sort()
	}
	e.Playbook, e.Errors, e.Valid = pb, errs, len(errs) == 0
	if pb != nil {
		e.ID = pb.ID
	}
	return e
}

// checkTemplates reports notify steps whose template is unknown, at the
// template's position in the file (at the step's when it cannot be found).
func checkTemplates(pb *Playbook, data []byte, known []string) Errors {
	var errs Errors
	for i, s := range pb.Steps {
		if s.Action != ActionNotify {
			continue
		}
		name, _ := s.With["template"].(string)
		if name == "" || slices.Contains(known, name) {
			continue
		}
		pos := templatePos(data, i)
		if pos.Line == 0 {
			pos = s.Pos
		}
		errs = append(errs, &Error{File: pb.File, Line: pos.Line, Column: pos.Column,
			Msg: fmt.Sprintf("notify template %q is not a notification template (known: %s)", name, strings.Join(known, ", "))})
	}
	errs.sort()
	return errs
}

// templatePos finds the value node of steps[i].with.template.
func templatePos(data []byte, i int) Pos {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return Pos{}
	}
	steps := mapValue(doc.Content[0], "steps")
	if steps == nil || steps.Kind != yaml.SequenceNode || i >= len(steps.Content) {
		return Pos{}
	}
	if v := mapValue(mapValue(steps.Content[i], "with"), "template"); v != nil {
		return Pos{v.Line, v.Column}
	}
	return Pos{}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(n.Content); j += 2 {
		if n.Content[j].Value == key {
			return n.Content[j+1]
		}
	}
	return nil
}

// Entries returns every entry: by id, then file; entries without an id last.
func (c *Catalog) Entries() []*Entry { return slices.Clone(c.entries) }

// Entry returns the entry of the playbook id, valid or not; when files
// share the id, the valid one.
func (c *Catalog) Entry(id string) (*Entry, bool) {
	var found *Entry
	for _, e := range c.entries {
		if id != "" && e.ID == id && (found == nil || e.Valid && !found.Valid) {
			found = e
		}
	}
	return found, found != nil
}

// Valid returns the valid playbooks, by id: the ones the run engine uses.
func (c *Catalog) Valid() []*Playbook {
	var out []*Playbook
	for _, e := range c.entries {
		if e.Valid {
			out = append(out, e.Playbook)
		}
	}
	return out
}

// Invalid returns the entries that are not valid.
func (c *Catalog) Invalid() []*Entry {
	var out []*Entry
	for _, e := range c.entries {
		if !e.Valid {
			out = append(out, e)
		}
	}
	return out
}

// Errors returns every problem of every entry, sorted by file and position;
// nil when every playbook is valid.
func (c *Catalog) Errors() Errors {
	var all Errors
	for _, e := range c.entries {
		all = append(all, e.Errors...)
	}
	if len(all) == 0 {
		return nil
	}
	all.sort()
	return all
}
