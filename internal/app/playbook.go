package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/playbooks"
)

// errInvalidPlaybooks reports that playbook validate found problems; they
// have been printed.
var errInvalidPlaybooks = errors.New("invalid playbooks")

func playbookCmd(_ context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(env.Stdout, "Usage: certdesk playbook validate [files or folders...]")
		fmt.Fprintln(env.Stdout, "\nCommands:\n  validate   check playbooks; without arguments, the shipped ones")
		if len(args) == 0 {
			return ErrUsage
		}
		return nil
	}
	switch args[0] {
	case "validate":
		return playbookValidate(env, args[1:])
	}
	fmt.Fprintf(env.Stderr, "certdesk playbook: unknown command %q\n", args[0])
	return ErrUsage
}

func playbookValidate(env Env, args []string) error {
	fs := newFlags(env, "playbook validate", "[files or folders...]",
		"Check playbooks: print file:line:col: message for every problem, or \"N playbooks valid\".\n"+
			"Without arguments, check what serve loads: the playbooks shipped with certdesk and those\n"+
			"of CERTDESK_PLAYBOOK_DIR when it is set. A folder means its *.yaml and *.yml files.")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	var cat *playbook.Catalog
	if fs.NArg() == 0 {
		cfg, err := config.Load(env.Getenv)
		if err != nil {
			return err
		}
		if cat, err = loadPlaybooks(cfg); err != nil {
			return err
		}
	} else {
		srcs, err := fileSources(fs.Args())
		if err != nil {
			return err
		}
		cat = playbook.BuildCatalog(nil, srcs, notify.Templates())
	}
	if errs := cat.Errors(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(env.Stdout, e.Error())
		}
		fmt.Fprintf(env.Stderr, "%d problem(s) in %d file(s)\n", len(errs), len(cat.Invalid()))
		return errInvalidPlaybooks
	}
	_, err := fmt.Fprintf(env.Stdout, "%d playbooks valid\n", len(cat.Valid()))
	return err
}

// loadPlaybooks loads the catalogue serve and worker run with: the shipped
// playbooks and CERTDESK_PLAYBOOK_DIR, with the notification templates
// checked. Invalid playbooks are entries of the catalogue, not errors; the
// error is a folder that cannot be read.
func loadPlaybooks(cfg config.Config) (*playbook.Catalog, error) {
	cat, err := playbook.LoadCatalog(playbook.CatalogOptions{Shipped: playbooks.FS(), Dir: cfg.PlaybookDir, Templates: notify.Templates()})
	if err != nil {
		return nil, fmt.Errorf("CERTDESK_PLAYBOOK_DIR: %w", err)
	}
	return cat, nil
}

// InvalidPlaybooksError is why serve and worker refuse to start: playbooks
// that do not validate, without CERTDESK_SKIP_INVALID_PLAYBOOKS.
type InvalidPlaybooksError struct {
	Files  []string        // the invalid files
	Errors playbook.Errors // every problem
}

func (e *InvalidPlaybooksError) Error() string {
	return fmt.Sprintf("%d invalid playbook file(s) (%s); fix them, or start with --skip-invalid-playbooks "+
		"(CERTDESK_SKIP_INVALID_PLAYBOOKS=true) to run without them:\n%s",
		len(e.Files), strings.Join(e.Files, ", "), e.Errors.Error())
}

// startPlaybooks loads the catalogue for serve and worker and refuses
// invalid playbooks unless cfg.SkipInvalidPlaybooks: then it logs a warning for each skipped
// file, with its problems, and goes on without it.
func startPlaybooks(cfg config.Config, log *slog.Logger) (*playbook.Catalog, error) {
	cat, err := loadPlaybooks(cfg)
	if err != nil {
		return nil, err
	}
	invalid := cat.Invalid()
	if len(invalid) > 0 && !cfg.SkipInvalidPlaybooks {
		e := &InvalidPlaybooksError{Errors: cat.Errors()}
		for _, en := range invalid {
			e.Files = append(e.Files, en.File)
		}
		return nil, e
	}
	for _, en := range invalid {
		log.Warn("skipping an invalid playbook", "file", en.File, "id", en.ID, "problems", len(en.Errors), "errors", en.Errors.Error())
	}
	for _, en := range cat.Entries() {
		if en.Replaces != "" && en.Valid {
			log.Info("a local playbook replaces a shipped one", "id", en.ID, "file", en.File, "replaces", en.Replaces)
		}
	}
	log.Info("playbooks loaded", "valid", len(cat.Valid()), "skipped", len(invalid), "dir", cfg.PlaybookDir)
	return cat, nil
}

func fileSources(paths []string) ([]playbook.Source, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("playbook validate: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("playbook validate: %w", err)
		}
		var in []string
		for _, e := range entries {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
				in = append(in, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(in)
		files = append(files, in...)
	}
	srcs := make([]playbook.Source, 0, len(files))
	for _, f := range files {
		data, err := readLimited(f, playbook.MaxFileSize+1)
		if err != nil {
			return nil, fmt.Errorf("playbook validate: %w", err)
		}
		srcs = append(srcs, playbook.Source{Name: f, Data: data})
	}
	return srcs, nil
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}
