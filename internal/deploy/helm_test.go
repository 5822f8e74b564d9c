package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// helm returns the helm binary `make lint-deploy` installs into
// .cache/helm-<version>/ (or $HELM); without one the test fails.
func helm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	found, _ := filepath.Glob(filepath.Join(root, ".cache", "helm-*", "helm"))
	if len(found) > 0 {
		sort.Strings(found)
		return found[len(found)-1]
	}
	if h, err := exec.LookPath("helm"); err == nil {
		return h
	}
	t.Fatal("helm not found in .cache/helm-*/ nor on PATH: make lint-deploy (a step of make test) installs it")
	return ""
}

// object is one rendered Kubernetes object, read loosely.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name string `yaml:"name"`
	} `yaml:"volumes"`
}

type probe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

type container struct {
	Name string   `yaml:"name"`
	Args []string `yaml:"args"`
	Env  []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		ReadOnlyRootFilesystem bool `yaml:"readOnlyRootFilesystem"`
	} `yaml:"securityContext"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	StartupProbe   *probe `yaml:"startupProbe"`
	VolumeMounts   []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

// render runs helm template on the chart with the lint values and args,
// and returns the objects by "Kind/name".
func render(t *testing.T, bin string, args ...string) (map[string]object, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"template", "certdesk", filepath.Join(root, "deploy", "helm", "certdesk"),
		"--values", filepath.Join(root, "deploy", "helm", "lint-values.yaml")}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, errors.New(errb.String())
	}
	objs := map[string]object{}
	dec := yaml.NewDecoder(&out)
	for {
		var o object
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if o.Kind != "" {
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return objs, nil
}

// TestHelmChart renders deploy/helm/certdesk with helm template and checks
// what helm lint does not: the API probes /healthz (liveness) and /readyz
// (readiness) and works no jobs, the worker runs `worker`, the migration Job
// is a pre-install and pre-upgrade hook running `migrate up`, both have a
// PodDisruptionBudget, every pod is non-root on a read-only root file
// system with resources, and every variable the chart sets is one
// internal/config reads. Then the folder backend, a Secret of one's own and
// a missing DATABASE_URL.
func TestHelmChart(t *testing.T) {
	t.Parallel()
	bin := helm(t)
	objs, err := render(t, bin)
	require.NoError(t, err)

	api, ok := objs["Deployment/certdesk-api"]
	require.True(t, ok, "rendered: %v", keys(objs))
	worker := objs["Deployment/certdesk-worker"]
	job := objs["Job/certdesk-migrate"]

	c := api.Spec.Template.Spec.Containers[0]
	require.Equal(t, []string{"serve"}, c.Args)
	require.NotNil(t, c.LivenessProbe)
	require.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
	require.NotNil(t, c.ReadinessProbe)
	require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
	require.NotNil(t, c.StartupProbe)
	require.Equal(t, "/healthz", c.StartupProbe.HTTPGet.Path)
	require.True(t, slices.ContainsFunc(c.Env, func(e struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	}) bool {
		return e.Name == "CERTDESK_WORKERS" && e.Value == "false"
	}), "the API Deployment sets CERTDESK_WORKERS=false")

	require.Equal(t, []string{"worker"}, worker.Spec.Template.Spec.Containers[0].Args)
	require.Equal(t, []string{"migrate", "up"}, job.Spec.Template.Spec.Containers[0].Args)
	require.Equal(t, "pre-install,pre-upgrade", job.Metadata.Annotations["helm.sh/hook"])

	for _, component := range []string{"api", "worker"} {
		pdb, ok := objs["PodDisruptionBudget/certdesk-"+component]
		require.True(t, ok, component)
		require.Equal(t, component, pdb.Spec.Selector.MatchLabels["app.kubernetes.io/component"])
	}
	require.Contains(t, objs, "Service/certdesk")

	var names []string
	for key, o := range objs {
		names = append(names, keys(o.Data)...)
		names = append(names, keys(o.StringData)...)
		pod := o.Spec.Template.Spec
		if len(pod.Containers) == 0 {
			continue
		}
		require.True(t, pod.SecurityContext.RunAsNonRoot, key)
		for _, c := range pod.Containers {
			require.True(t, c.SecurityContext.ReadOnlyRootFilesystem, "%s %s", key, c.Name)
			require.NotEmpty(t, c.Resources.Requests, "%s %s", key, c.Name)
			require.NotEmpty(t, c.Resources.Limits, "%s %s", key, c.Name)
			for _, e := range c.Env {
				names = append(names, e.Name)
			}
		}
	}
	requireKnown(t, "the chart", names)
	require.Contains(t, objs["ConfigMap/certdesk"].Data, "CERTDESK_S3_BUCKET")
	require.Contains(t, objs["Secret/certdesk"].StringData, "DATABASE_URL")

	// The folder backend: a claim, mounted by API and worker at CERTDESK_BLOB_DIR.
	objs, err = render(t, bin, "--set", "evidence.backend=folder", "--set", "secrets.existingSecret=mine")
	require.NoError(t, err)
	require.Contains(t, objs, "PersistentVolumeClaim/certdesk-evidence")
	require.NotContains(t, objs, "Secret/certdesk", "existingSecret: the chart makes no Secret")
	dir := objs["ConfigMap/certdesk"].Data["CERTDESK_BLOB_DIR"]
	require.NotEmpty(t, dir)
	for _, d := range []string{"Deployment/certdesk-api", "Deployment/certdesk-worker"} {
		mounts := objs[d].Spec.Template.Spec.Containers[0].VolumeMounts
		require.True(t, slices.ContainsFunc(mounts, func(m struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		}) bool {
			return m.Name == "evidence" && m.MountPath == dir
		}), d)
	}

	// Without DATABASE_URL the chart refuses to render, naming the value.
	_, err = render(t, bin, "--set", "secrets.databaseURL=")
	require.ErrorContains(t, err, "secrets.databaseURL")
}
