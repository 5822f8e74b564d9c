package arch

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/certdesk/certdesk/"

// rule says which importers may import what matches Import (a prefix).
type rule struct {
	Import string   // an import path prefix
	Only   []string // the packages (relative to the module) that may import it
	Why    string
}

var rules = []rule{
	{"gorm.io/", []string{"internal/postgres"}, "the store is the only package that speaks SQL through GORM"},
	{"github.com/labstack/echo", []string{"internal/app", "internal/httpapi", "internal/ui"}, "HTTP stays at the edge"},
	{"github.com/riverqueue/river", []string{"internal/worker", "internal/postgres", "internal/app", "internal/bench"},
		"the domain queues work through its Tx.Enqueue, never River"},
	{module + "internal/postgres", []string{"internal/app", "internal/bench", "internal/testapp", "internal/testdb"},
		"the domain and its workers reach the store through their Tx interfaces, wired by app"},
	{module + "internal/slack", []string{"internal/app"}, "chat goes out through notify's interface, wired by app"},
	{"riverqueue.com/riverui", []string{"internal/worker"}, "River's web UI is built on the River client, in one place; the UI mounts it as an http.Handler"},
	{"github.com/minio/minio-go", []string{"internal/objstore", "internal/s3fake"}, "evidence reaches the object store through evidence.BlobStore"},
	{"github.com/johannesboyne/gofakes3", []string{"internal/s3fake"}, "the fake S3 server is for tests only"},
	{module + "internal/s3fake", []string{}, "the fake S3 server is for tests only"},
	{"github.com/go-webauthn/", []string{"internal/passkey"}, "passkeys (WebAuthn) are checked in one place; the UI and the store see its domain types"},
	{"github.com/coreos/go-oidc", []string{"internal/sso"}, "OpenID Connect is spoken in one place; the UI calls sso's service"},
	{"golang.org/x/oauth2", []string{"internal/sso"}, "OpenID Connect is spoken in one place; the UI calls sso's service"},
	{"github.com/go-jose/go-jose", []string{"internal/oidcfake"}, "tokens are verified by go-oidc (internal/sso); only the test provider signs them"},
	{module + "internal/oidcfake", []string{}, "the fake OpenID Connect provider is for tests only"},
	{"github.com/pquerna/otp", []string{"internal/session"}, "one-time codes are checked by the session service (factors_totp.go), nowhere else"},
	{"github.com/emersion/go-smtp", []string{"internal/mailin", "internal/mail/mailtest"}, "the inbound SMTP listener speaks SMTP in one place; the app starts it through mailin.Service (and tests relay through mailtest)"},
	{module + "internal/mail/mailtest", []string{}, "the test SMTP relay is for tests only"},
	{"github.com/skip2/go-qrcode", []string{"internal/ui"}, "the set-up page's QR code is drawn by the page that shows it"},
}

// domain are the packages at the centre: they import the standard
// library, each other and google/uuid, nothing else.
var domain = []string{"internal/incident", "internal/org", "internal/access", "internal/apperr"}

// domainMay are the module's packages the domain packages may import.
var domainMay = []string{"internal/incident", "internal/org", "internal/access", "internal/apperr", "internal/audit", "internal/taxonomy"}

// pending are imports that break a rule and are yet to go, by importing
// package. The test fails when one of them is no longer there, so that
// the list only shrinks. Empty since the workers complete jobs through
// the domain transaction's *sql.Tx (worker.sqlTxOf) instead of importing
// the store, and chat replies go through notify (notify.RespondJob).
var pending = map[string][]string{}

// packages reads the non-test imports of every package of the module.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, top := range []string{"cmd", "internal", "migrations", "playbooks", "web"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			p, err := build.ImportDir(path, 0)
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			} else if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			out[filepath.ToSlash(rel)] = p.Imports
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d packages under %s", len(out), root)
	}
	return out
}

// under reports whether import path imp matches a rule's prefix: any
// path that starts with it outside the module (github.com/riverqueue/river
// covers rivertype and rivershared too), the package and those below it
// inside the module (internal/slack does not cover internal/slackfake, the
// development stand-in for Slack's Web API, which sends nothing anywhere).
func under(imp, prefix string) bool {
	if !strings.HasPrefix(prefix, module) {
		return strings.HasPrefix(imp, prefix)
	}
	return imp == prefix || strings.HasPrefix(imp, prefix+"/")
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	pkgs := packages(t)
	seenPending := map[string]bool{}
	broken := func(pkg, imp string) bool {
		if slices.Contains(pending[pkg], imp) {
			seenPending[pkg+" → "+imp] = true
			return false
		}
		return true
	}
	for pkg, imports := range pkgs {
		for _, imp := range imports {
			for _, r := range rules {
				if under(imp, r.Import) && pkg != strings.TrimPrefix(r.Import, module) && !slices.Contains(r.Only, pkg) && broken(pkg, imp) {
					t.Errorf("%s imports %s: only %s may (%s)", pkg, imp, strings.Join(r.Only, ", "), r.Why)
				}
			}
			if slices.Contains(domain, pkg) {
				own, inModule := strings.CutPrefix(imp, module)
				switch {
				case inModule && !slices.Contains(domainMay, own):
					t.Errorf("domain package %s imports %s: the domain imports only %s", pkg, imp, strings.Join(domainMay, ", "))
				case !inModule && strings.Contains(strings.Split(imp, "/")[0], ".") && imp != "github.com/google/uuid":
					t.Errorf("domain package %s imports %s: outside the module, only github.com/google/uuid", pkg, imp)
				}
			}
		}
	}
	for _, imp := range pkgs["internal/config"] {
		if own, ok := strings.CutPrefix(imp, module); ok && own != "internal/identity" {
			t.Errorf("internal/config imports %s: config reads certdesk's variables and imports no feature (identity only for the reset link's bounds)", imp)
		}
	}
	for pkg, imps := range pending {
		for _, imp := range imps {
			if !seenPending[pkg+" → "+imp] {
				t.Errorf("%s no longer imports %s: take it off the pending list", pkg, imp)
			}
		}
	}
}
