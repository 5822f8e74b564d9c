package httpapi_test

import (
	"bytes"
	"net/http"

	"github.com/certdesk/certdesk/internal/testapp"
)

// The playbook routes in the access matrix. The catalogue is readable by
// every authenticated user (docs/security.md); a dry run on an incident
// follows the incident's visibility: invisible is a 404, never a 403, and
// the 404 does not show the incident.

func (w *matrixWorld) playbookListProbes(v secUser, _ string) []secProbe {
	return []secProbe{{path: "/api/v1/playbooks", want: http.StatusOK, check: func(r *testapp.Response) string {
		if !bytes.Contains(r.Body, []byte(`"id":"ransomware"`)) {
			return "the shipped ransomware playbook is not listed"
		}
		return ""
	}}}
}

func (w *matrixWorld) playbookGetProbes(v secUser, target string) []secProbe {
	if target == "unknown" {
		return []secProbe{{path: "/api/v1/playbooks/no-such-playbook", want: http.StatusNotFound}}
	}
	return []secProbe{{path: "/api/v1/playbooks/" + target, want: http.StatusOK}}
}

// playbookCACAOProbes: the CACAO export is readable like the catalogue,
// by every authenticated user.
func (w *matrixWorld) playbookCACAOProbes(v secUser, target string) []secProbe {
	if target == "unknown" {
		return []secProbe{{path: "/api/v1/playbooks/no-such-playbook/cacao", want: http.StatusNotFound}}
	}
	return []secProbe{{path: "/api/v1/playbooks/" + target + "/cacao", want: http.StatusOK, check: func(r *testapp.Response) string {
		if !bytes.Contains(r.Body, []byte(`"spec_version": "cacao-2.0"`)) {
			return "not a CACAO v2 playbook"
		}
		return ""
	}}}
}

func (w *matrixWorld) playbookDryRunProbes(incidentFor incidentForFunc) func(v secUser, target string) []secProbe {
	return func(v secUser, target string) []secProbe {
		inc, want := incidentFor(v, target)
		id, ref, title := incidentKeys(inc)
		check := incidentCheck(title, id, "the plan is not about the incident asked for", nil)
		var probes []secProbe
		for _, key := range []struct{ variant, value string }{{"(uuid)", id}, {"(reference)", ref}} {
			probes = append(probes, secProbe{path: "/api/v1/playbooks/ransomware/dry-run", method: http.MethodPost,
				body: map[string]any{"incident": key.value}, want: want, check: check, variant: key.variant})
		}
		return probes
	}
}
