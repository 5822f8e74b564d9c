package pgembed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// serverUser is the operating-system account that runs initdb and postgres
// when the calling process runs as root.
type serverUser struct {
	name string
	home string
	uid  uint32
	gid  uint32
}

// lookupServerUser returns the account "postgres", which initdb and postgres
// run as when the calling process is root.
func lookupServerUser() (*serverUser, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return nil, errors.New("running as root, but initdb and postgres refuse to run as root and " +
				"there is no operating-system user \"postgres\" to run them as; " +
				"`apt-get install postgresql` creates it (or run as a non-root user, or set DATABASE_URL)")
		}
		return nil, fmt.Errorf("look up user postgres: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: bad uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user postgres: bad gid %q: %w", u.Gid, err)
	}
	return &serverUser{name: u.Username, home: u.HomeDir, uid: uint32(uid), gid: uint32(gid)}, nil
}

// prepareDataDir creates dataDir (mode 0700) and any missing parent folders
// (mode 0755). When su is not nil, it also checks that su can reach dataDir
// and hands dataDir and everything in it to su.
func prepareDataDir(dataDir string, su *serverUser) error {
	if err := makeParents(filepath.Dir(dataDir)); err != nil {
		return err
	}
	if err := os.Mkdir(dataDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create data folder: %w", err)
	}
	fi, err := os.Stat(dataDir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data folder %s is not a folder", dataDir)
	}
	if su == nil {
		return nil
	}
	if err := checkTraversable(filepath.Dir(dataDir), su); err != nil {
		return err
	}
	return chownTree(dataDir, su)
}

// makeParents creates dir and its missing parents with mode 0755 (regardless
// of the umask), leaving existing folders alone.
func makeParents(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("data folder parent: %w", err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create data folder parent: %w", err)
		}
		if err := os.Chmod(missing[i], 0o755); err != nil {
			return fmt.Errorf("create data folder parent: %w", err)
		}
	}
	return nil
}

// checkTraversable returns an error naming the first folder on the way from
// the file system root to dir that su may not enter. It never changes the
// permissions of existing folders.
func checkTraversable(dir string, su *serverUser) error {
	var chain []string
	for d := dir; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("data folder parent: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		perm := fi.Mode().Perm()
		var canEnter bool
		switch {
		case st.Uid == su.uid:
			canEnter = perm&0o100 != 0
		case st.Gid == su.gid:
			canEnter = perm&0o010 != 0
		default:
			canEnter = perm&0o001 != 0
		}
		if !canEnter {
			return fmt.Errorf("folder %s (mode %v) cannot be entered by user %s, which runs postgres "+
				"because the service runs as root; put the data folder somewhere else "+
				"(for example under /var/lib or a folder made with os.MkdirTemp) or allow it with `chmod o+x %s`",
				d, perm, su.name, d)
		}
	}
	return nil
}

// chownTree hands root and everything below it to su.
func chownTree(root string, su *serverUser) error {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(su.uid), int(su.gid))
	})
	if err != nil {
		return fmt.Errorf("hand data folder to user %s: %w", su.name, err)
	}
	return nil
}
