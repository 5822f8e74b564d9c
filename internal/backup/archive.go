package backup

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// A backup can also be one file: a tar archive (not compressed: the dump
// is compressed already, evidence mostly is) of the backup folder's parts,
// the manifest first. CreateFile and Extract convert between the two.

// IsArchive reports whether name is meant as a single-file backup (it ends
// in .tar).
func IsArchive(name string) bool { return strings.HasSuffix(name, ".tar") }

// Pack writes the backup folder dir into a new tar file at file, synced,
// and put in place under its name only when complete.
func Pack(dir, file string) error {
	if _, err := os.Lstat(file); err == nil {
		return fmt.Errorf("backup: %s exists: name a new file", file)
	}
	tmp := file + ".partial"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = out.Close()
			_ = os.Remove(tmp)
		}
	}()
	tw := tar.NewWriter(out)
	names := []string{ManifestFile, ManifestSumFile, DatabaseFile}
	err = filepath.WalkDir(filepath.Join(dir, EvidenceDir), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for _, name := range names {
		if err := addFile(tw, dir, name); err != nil {
			return err
		}
	}
	if err := tw.Close(); err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: write %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	done = true
	return syncDir(filepath.Dir(file))
}

func addFile(tw *tar.Writer, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o400, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("backup: %s: %w", name, err)
	}
	return nil
}

// partName is every name a backup may hold.
var partName = regexp.MustCompile(`^(manifest\.json|manifest\.json\.sha256|database\.pgdump|evidence/sha256/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64})$`)

// Unpack extracts the single-file backup file into the empty folder dir.
// It accepts only the names a backup holds, regular files only, so an
// archive cannot write outside dir; whether the parts are intact is
// Verify's to say.
func Unpack(file, dir string) error {
	in, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer in.Close()
	tr := tar.NewReader(in)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &DamagedError{Dir: file, Part: "(archive)", Detail: err.Error()}
		}
		name := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || !partName.MatchString(name) {
			return &DamagedError{Dir: file, Part: h.Name, Detail: "not a part of a certdesk backup"}
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return &DamagedError{Dir: file, Part: name, Detail: err.Error()}
		}
	}
}
