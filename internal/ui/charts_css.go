package ui

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/certdesk/certdesk/internal/chart"
)

// chartStylesName is where the charts' stylesheet (chart.Stylesheet) is
// served under /static/: the dashboard's page links it.
const chartStylesName = "charts.css"

// withChartStyles adds charts.css, chart.Stylesheet, to the static
// files, so that it is served, cached and versioned like the others and
// the chart package stays the one place its colours are defined.
func withChartStyles(static fs.FS) fs.FS {
	return chartStylesFS{FS: static, data: []byte(chart.Stylesheet)}
}

type chartStylesFS struct {
	fs.FS
	data []byte
}

func (f chartStylesFS) Open(name string) (fs.File, error) {
	if name == chartStylesName {
		return &memFile{Reader: bytes.NewReader(f.data), info: memInfo{name: name, size: int64(len(f.data))}}, nil
	}
	return f.FS.Open(name)
}

// ReadDir lists a folder; the root also lists charts.css.
func (f chartStylesFS) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(f.FS, name)
	if err != nil || name != "." {
		return entries, err
	}
	entries = slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return e.Name() == chartStylesName })
	entries = append(entries, fs.FileInfoToDirEntry(memInfo{name: chartStylesName, size: int64(len(f.data))}))
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// memFile is a file held in memory (it seeks, as http.ServeContent needs).
type memFile struct {
	*bytes.Reader
	info memInfo
}

func (m *memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (m *memFile) Close() error               { return nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
