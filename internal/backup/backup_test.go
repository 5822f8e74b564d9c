package backup

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, conn, password string }{
		{"postgres://certdesk:s%40cret@db.example:5432/certdesk?sslmode=require", "postgres://certdesk@db.example:5432/certdesk?sslmode=require", "s@cret"},
		{"postgres://postgres@127.0.0.1:5432/certdesk?sslmode=disable&pool_max_conns=40", "postgres://postgres@127.0.0.1:5432/certdesk?sslmode=disable", ""},
		{"postgresql://u:p@h/d", "postgresql://u@h/d", "p"},
		{"host=db.example user=certdesk password=x dbname=certdesk", "host=db.example user=certdesk password=x dbname=certdesk", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			conn, pw, err := splitPassword(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.conn, conn)
			require.Equal(t, tc.password, pw)
		})
	}
}

// TestUnpackAcceptsOnlyABackupsNames: an archive cannot write outside the
// folder it is unpacked into, nor anything but a backup's parts.
func TestUnpackAcceptsOnlyABackupsNames(t *testing.T) {
	t.Parallel()
	for _, h := range []tar.Header{
		{Name: "../evil", Typeflag: tar.TypeReg},
		{Name: "evidence/sha256/aa/bb/../../../../x", Typeflag: tar.TypeReg},
		{Name: "/etc/passwd", Typeflag: tar.TypeReg},
		{Name: "manifest.json", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"},
		{Name: "evidence/sha256/aa/bb/short", Typeflag: tar.TypeReg},
	} {
		t.Run(h.Name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "b.tar")
			f, err := os.Create(file)
			require.NoError(t, err)
			tw := tar.NewWriter(f)
			require.NoError(t, tw.WriteHeader(&h))
			require.NoError(t, tw.Close())
			require.NoError(t, f.Close())
			dir := t.TempDir()
			err = Unpack(file, dir)
			var d *DamagedError
			require.True(t, errors.As(err, &d), "%v", err)
			require.Contains(t, err.Error(), "not a part of a certdesk backup")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries)
		})
	}
}
