package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

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
			"Without arguments, check the playbooks shipped with certdesk. A folder means its *.yaml files.")
	if help, err := parse(fs, args); help || err != nil {
		return err
	}
	var srcs []playbook.Source
	var err error
	if fs.NArg() == 0 {
		srcs, err = embeddedSources()
	} else {
		srcs, err = fileSources(fs.Args())
	}
	if err != nil {
		return err
	}
	pbs, err := playbook.LoadSources(srcs)
	var perrs playbook.Errors
	if errors.As(err, &perrs) {
		for _, e := range perrs {
			fmt.Fprintln(env.Stdout, e.Error())
		}
		fmt.Fprintf(env.Stderr, "%d problem(s) in %d file(s)\n", len(perrs), len(srcs))
		return errInvalidPlaybooks
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "%d playbooks valid\n", len(pbs))
	return err
}

func embeddedSources() ([]playbook.Source, error) {
	fsys := playbooks.FS()
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	srcs := make([]playbook.Source, 0, len(names))
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, playbook.Source{Name: "playbooks/" + n, Data: data})
	}
	return srcs, nil
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
