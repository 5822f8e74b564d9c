package playbook_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certdesk/certdesk/internal/notify"
	"github.com/certdesk/certdesk/internal/playbook"
	"github.com/certdesk/certdesk/playbooks"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	return dir
}

func ids(pbs []*playbook.Playbook) []string {
	out := make([]string, len(pbs))
	for i, pb := range pbs {
		out[i] = pb.ID
	}
	return out
}

func TestCatalogShippedPlaybooksAreValid(t *testing.T) {
	t.Parallel()
	c, err := playbook.LoadCatalog(playbook.CatalogOptions{Shipped: playbooks.FS(), Templates: notify.Templates()})
	require.NoError(t, err)
	require.Empty(t, c.Errors())
	require.Equal(t, []string{"ddos", "defacement", "personal-data-breach", "phishing-campaign", "ransomware", "vulnerability-advisory"}, ids(c.Valid()))
	for _, e := range c.Entries() {
		require.Equal(t, playbook.Shipped, e.Origin)
		require.True(t, strings.HasPrefix(e.File, "playbooks/"), e.File)
		require.Len(t, e.SHA256, 64)
		require.NotEmpty(t, e.Source)
	}
	e, ok := c.Entry("ransomware")
	require.True(t, ok)
	require.Equal(t, "playbooks/ransomware.yaml", e.File)
	_, ok = c.Entry("nope")
	require.False(t, ok)
	_, ok = c.Entry("")
	require.False(t, ok)
}

const localOK = "id: %s\nname: Local\nversion: %d\ntriggers: [{ on: manual }]\nsteps:\n  - { id: a, action: notify, with: { to: parent, template: ransomware_started } }\n"

func local(id string, version int) string {
	return strings.NewReplacer("%s", id, "%d", string(rune('0'+version))).Replace(localOK)
}

func TestCatalogLocalFolder(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"ransomware.yml":     local("ransomware", 7),                                                                         // replaces the shipped one
		"a-extra.yaml":       local("extra", 1),                                                                              // a new one
		"b-extra-again.yaml": local("extra", 2),                                                                              // repeats an id: invalid
		"ddos.yaml":          "id: ddos\nname: D\nversion: 1\ntriggers: [{ on: manual }]\nsteps: [{ id: a, action: fly }]\n", // replaces the shipped ddos, and is invalid
		"zz-broken.yaml":     "id: ddos2\nname: [broken\n",                                                                   // too broken to tell its id
		"notes.txt":          "not a playbook",                                                                               // ignored
		".hidden.yaml":       "id: hidden",                                                                                   // ignored
		"sub/deep.yaml":      local("deep", 1),                                                                               // sub-folders are ignored
		"unknown-tpl.yaml":   strings.ReplaceAll(local("tpl", 1), "ransomware_started", "ransomware_begun"),
	})
	c, err := playbook.LoadCatalog(playbook.CatalogOptions{Shipped: playbooks.FS(), Dir: dir, Templates: notify.Templates()})
	require.NoError(t, err)

	// The broken ddos replaces the shipped one: it is not silently used instead.
	require.Equal(t, []string{"defacement", "extra", "personal-data-breach", "phishing-campaign", "ransomware", "vulnerability-advisory"}, ids(c.Valid()))
	r, ok := c.Entry("ransomware")
	require.True(t, ok)
	require.Equal(t, playbook.Local, r.Origin)
	require.Equal(t, "playbooks/ransomware.yaml", r.Replaces)
	require.Equal(t, 7, r.Playbook.Version)
	require.Equal(t, filepath.Join(dir, "ransomware.yml"), r.File)

	x, ok := c.Entry("extra")
	require.True(t, ok)
	require.True(t, x.Valid, "the first file with the id wins")
	require.Equal(t, 1, x.Playbook.Version)

	var got strings.Builder
	for _, e := range c.Invalid() {
		got.WriteString(string(e.Origin) + " " + e.ID + " " + e.Replaces + "\n")
	}
	got.WriteString(strings.ReplaceAll(c.Errors().Error(), dir+string(filepath.Separator), "<dir>/") + "\n")
	golden(t, "catalog", got.String())

	// Without a template list, template names are not checked.
	c, err = playbook.LoadCatalog(playbook.CatalogOptions{Dir: dir})
	require.NoError(t, err)
	_, ok = c.Entry("tpl")
	require.True(t, ok)
	tpl, _ := c.Entry("tpl")
	require.True(t, tpl.Valid)
}

func TestCatalogFolderErrors(t *testing.T) {
	t.Parallel()
	_, err := playbook.LoadCatalog(playbook.CatalogOptions{Dir: filepath.Join(t.TempDir(), "missing")})
	require.ErrorContains(t, err, "playbook folder")
	f := filepath.Join(t.TempDir(), "file.yaml")
	require.NoError(t, os.WriteFile(f, []byte(local("x", 1)), 0o644))
	_, err = playbook.LoadCatalog(playbook.CatalogOptions{Dir: f})
	require.ErrorContains(t, err, "not a folder")

	// A file over the size limit is an invalid entry, not a read error.
	dir := writeFiles(t, map[string]string{"big.yaml": "# " + strings.Repeat("x", playbook.MaxFileSize+10)})
	c, err := playbook.LoadCatalog(playbook.CatalogOptions{Dir: dir})
	require.NoError(t, err)
	require.Len(t, c.Invalid(), 1)
	require.Contains(t, c.Errors().Error(), "larger than")
	require.Empty(t, c.Valid())
}

func TestCatalogUnknownTemplatePosition(t *testing.T) {
	t.Parallel()
	src := "id: t\nname: T\nversion: 1\ntriggers: [{ on: manual }]\nsteps:\n" +
		"  - id: a\n    action: notify\n    with:\n      to: parent\n      template: nope\n" +
		"  - { id: b, action: notify, with: { to: parent, template: patch_reminder } }\n" +
		"  - { id: c, action: notify, with: { to: parent, template: also_nope } }\n"
	c := playbook.BuildCatalog(nil, []playbook.Source{{Name: "t.yaml", Data: []byte(src)}}, []string{"patch_reminder", "x"})
	require.Equal(t, "t.yaml:10:17: notify template \"nope\" is not a notification template (known: patch_reminder, x)\n"+
		"t.yaml:12:60: notify template \"also_nope\" is not a notification template (known: patch_reminder, x)", c.Errors().Error())
	e := c.Entries()[0]
	require.False(t, e.Valid)
	require.Equal(t, "t", e.ID)
	require.NotNil(t, e.Playbook, "an invalid entry keeps what could be parsed")
}
