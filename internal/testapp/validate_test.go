package testapp

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// recorder is a testing.TB that records a failure instead of failing the
// test, so that a test can see what validate refuses.
type recorder struct {
	testing.TB
	failure string
}

// stopped is what FailNow panics with to end validate, like
// runtime.Goexit ends a failing test.
type stopped struct{}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failure += fmt.Sprintf(format, args...)
}

func (r *recorder) FailNow() { panic(stopped{}) }

// check runs validate on a request and an answer and returns its failure
// ("" when both are what docs/openapi.yaml describes).
func check(t *testing.T, method, path, body string, status int, answer string) (failure string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if status >= 400 {
		h.Set("Content-Type", "application/problem+json")
	}
	rec := &recorder{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopped); !ok {
				panic(r)
			}
		}
		failure = rec.failure
	}()
	validate(rec, req, []byte(body), &Response{Status: status, Header: h, Body: []byte(answer)})
	return ""
}

const problem422 = `{"type":"urn:certdesk:problem:invalid","title":"Unprocessable Entity","status":422,"detail":"x","request_id":"r",` +
	`"errors":[{"field":"to","rule":"enum","message":"m"}]}`

// TestRequestBodiesAreValidated: a JSON request body that certdesk
// accepted must be one docs/openapi.yaml allows; a body certdesk refused
// is judged by its answer only.
func TestRequestBodiesAreValidated(t *testing.T) {
	t.Parallel()
	const path = "/api/v1/incidents/INC-2026-000001/transitions"
	t.Run("accepted body the document refuses fails", func(t *testing.T) {
		f := check(t, http.MethodPost, path, `{"to":"nowhere"}`, http.StatusOK, `{}`)
		require.Contains(t, f, "a request body docs/openapi.yaml does not allow")
		require.Contains(t, f, `"/to"`)
	})
	t.Run("accepted body with a field the document lacks fails", func(t *testing.T) {
		f := check(t, http.MethodPost, path, `{"to":"recovery","why":"x"}`, http.StatusOK, `{}`)
		require.Contains(t, f, "a request body docs/openapi.yaml does not allow")
	})
	t.Run("refused body is judged by its answer", func(t *testing.T) {
		for _, status := range []int{http.StatusUnprocessableEntity, http.StatusNotFound, http.StatusForbidden} {
			answer := strings.Replace(problem422, `"status":422`, fmt.Sprintf(`"status":%d`, status), 1)
			require.Empty(t, check(t, http.MethodPost, path, `{"to":"nowhere"}`, status, answer), "status %d", status)
		}
	})
	t.Run("a route without a body may not take one", func(t *testing.T) {
		f := check(t, http.MethodPost, "/api/v1/incidents/INC-2026-000001/acknowledge", `{"x":1}`, http.StatusOK, `{}`)
		require.Contains(t, f, "takes no request body")
	})
}
