package pgembed

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is wrapped by the error that FindBinDir (and therefore Start)
// returns when the PostgreSQL server binaries initdb and postgres cannot be
// found.
var ErrNoBinaries = errors.New("postgresql server binaries not found")

// debianGlob matches initdb in the Debian/Ubuntu layout of PostgreSQL.
const debianGlob = "/usr/lib/postgresql/*/bin/initdb"

// fixHint tells the user how to make the binaries available.
const fixHint = "install them with `apt-get install postgresql`, " +
	"set PG_BINDIR to the folder that holds initdb and postgres, " +
	"or set DATABASE_URL to use an existing PostgreSQL server"

// FindBinDir returns the folder that holds the PostgreSQL server binaries
// initdb and postgres. It reads environment variables through getenv (nil
// means os.Getenv). It uses, in this order: the folder named by PG_BINDIR
// when that variable is set (it must then contain both binaries), the highest
// major version under /usr/lib/postgresql/*/bin, and the folder of initdb on
// the PATH. When nothing is found, the error wraps ErrNoBinaries and explains
// how to fix the problem.
func FindBinDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}

	if dir := getenv("PG_BINDIR"); dir != "" {
		if hasBinaries(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%w: PG_BINDIR=%s does not contain both initdb and postgres; %s",
			ErrNoBinaries, dir, fixHint)
	}

	if dir := newestDebianBinDir(); dir != "" {
		return dir, nil
	}

	if dir := pathBinDir(); dir != "" {
		return dir, nil
	}

	return "", fmt.Errorf("%w: looked in %s and on the PATH; %s",
		ErrNoBinaries, filepath.Dir(debianGlob), fixHint)
}

// newestDebianBinDir returns the bin folder of the highest PostgreSQL version
// installed in the Debian layout, or "" when there is none.
func newestDebianBinDir() string {
	matches, err := filepath.Glob(debianGlob)
	if err != nil || len(matches) == 0 {
		return ""
	}
	type candidate struct {
		dir     string
		version []int
	}
	var candidates []candidate
	for _, m := range matches {
		dir := filepath.Dir(m)
		if !hasBinaries(dir) {
			continue
		}
		// m is /usr/lib/postgresql/<version>/bin/initdb.
		candidates = append(candidates, candidate{dir: dir, version: parseVersion(filepath.Base(filepath.Dir(dir)))})
	}
	if len(candidates) == 0 {
		return ""
	}
	sort.Slice(candidates, func(i, j int) bool {
		return versionLess(candidates[i].version, candidates[j].version)
	})
	return candidates[len(candidates)-1].dir
}

// pathBinDir finds initdb and postgres through the PATH and returns a folder
// that holds both, or "" when there is none.
func pathBinDir() string {
	var dirs []string
	for _, name := range []string{"initdb", "postgres"} {
		p, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		dirs = append(dirs, filepath.Dir(p))
		// Symlinks such as /usr/local/bin/initdb usually point into the real
		// bin folder, which is where initdb itself looks for postgres.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}
	for _, dir := range dirs {
		if hasBinaries(dir) {
			return dir
		}
	}
	return ""
}

// hasBinaries reports whether dir contains executable initdb and postgres
// files.
func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// parseVersion turns a folder name such as "15" or "9.6" into its numeric
// parts; parts that are not numbers count as zero.
func parseVersion(s string) []int {
	parts := strings.Split(s, ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}

// versionLess compares two versions produced by parseVersion.
func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
