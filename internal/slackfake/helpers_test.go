package slackfake_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// lockedWriter lets the fake print from its handler goroutines while the
// test reads.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
