package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/internal/config"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// root is the repository, from this package's folder.
const root = "../.."

// known reports whether certdesk reads the variable name.
func known(name string) bool {
	return slices.ContainsFunc(config.Vars, func(v config.Var) bool { return v.Name == name })
}

// requireKnown fails for every certdesk-looking variable (CERTDESK_*,
// SLACK_*, DATABASE_URL, PG_BINDIR) that internal/config does not read: a
// typo in a descriptor is otherwise silently ignored.
func requireKnown(t *testing.T, where string, names []string) {
	t.Helper()
	for _, n := range names {
		if strings.HasPrefix(n, "CERTDESK_") || strings.HasPrefix(n, "SLACK_") || n == "DATABASE_URL" || n == "PG_BINDIR" {
			require.True(t, known(n), "%s sets %s, which internal/config does not read (config.Vars)", where, n)
		}
	}
}

// composeService is the part of a Compose service the test reads.
type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	EnvFile     string            `yaml:"env_file"`
	ReadOnly    bool              `yaml:"read_only"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// envFileNames reads the variable names of an env file.
func envFileNames(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if name, _, ok := strings.Cut(line, "="); ok && !strings.ContainsAny(name, " \t") && name != "" {
			names = append(names, name)
		}
	}
	return names
}

// TestComposeFile reads deploy/compose.yaml (YAML merge keys resolved) and
// its example env files: migrations run once before the API and the worker,
// the API works no jobs and checks itself with `certdesk healthcheck`
// (/readyz), the worker runs `worker`, state is on named volumes, and every
// variable set (also those commented out in the examples) is one certdesk
// reads.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "deploy", "compose.yaml"))
	require.NoError(t, err)
	var file struct {
		Services map[string]composeService `yaml:"services"`
		Volumes  map[string]any            `yaml:"volumes"`
	}
	require.NoError(t, yaml.Unmarshal(b, &file))
	s := file.Services
	require.ElementsMatch(t, []string{"postgres", "migrate", "api", "worker"}, keys(s))

	require.Equal(t, []string{"migrate", "up"}, s["migrate"].Command)
	require.Equal(t, "service_healthy", s["migrate"].DependsOn["postgres"].Condition)
	require.Equal(t, []string{"serve"}, s["api"].Command)
	require.Equal(t, "false", s["api"].Environment["CERTDESK_WORKERS"], "the API process works no jobs")
	require.NotNil(t, s["api"].Healthcheck)
	require.Equal(t, []string{"CMD", "/certdesk", "healthcheck"}, s["api"].Healthcheck.Test, "the image has no shell or curl")
	require.Equal(t, []string{"worker"}, s["worker"].Command)
	for _, name := range []string{"api", "worker"} {
		require.Equal(t, "service_completed_successfully", s[name].DependsOn["migrate"].Condition, name)
		require.True(t, s[name].ReadOnly, name)
		require.Contains(t, s[name].Volumes, "evidence:"+s[name].Environment["CERTDESK_BLOB_DIR"], "%s: evidence on the named volume", name)
	}
	require.Contains(t, s["postgres"].Volumes, "postgres:/var/lib/postgresql/data")
	require.Contains(t, file.Volumes, "postgres")
	require.Contains(t, file.Volumes, "evidence")
	require.NotNil(t, s["postgres"].Healthcheck)

	for name, svc := range s {
		requireKnown(t, "deploy/compose.yaml service "+name, keys(svc.Environment))
	}
	requireKnown(t, "deploy/certdesk.env.example", envFileNames(t, filepath.Join(root, "deploy", "certdesk.env.example")))
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
