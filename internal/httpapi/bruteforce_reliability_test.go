//go:build reliability

package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/config"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/session"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/stretchr/testify/require"
)

// signinAnswer is the answer to one sign-in attempt, with what it cost
// the server: the time to the answer and the bytes the process allocated
// meanwhile (argon2id allocates its memory, 19 MiB, on every hash).
type signinAnswer struct {
	status int
	header http.Header
	body   string
	took   time.Duration
	alloc  uint64
}

var signinCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signinAttempt fetches the sign-in form from base (for its pre-session
// cookie and CSRF token), then posts email and pw as a browser of address
// addr would.
func signinAttempt(t *testing.T, base, email, pw, addr string) signinAnswer {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(base + "/signin")
	require.NoError(t, err)
	form, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	m := signinCSRF.FindStringSubmatch(string(form))
	require.NotNil(t, m, "no CSRF token on the sign-in form")
	body := url.Values{"csrf": {m[1]}, "email": {email}, "password": {pw}}.Encode()
	req, err := http.NewRequest(http.MethodPost, base+"/signin", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	resp, err = hc.Do(req)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	require.NoError(t, err)
	runtime.ReadMemStats(&after)
	return signinAnswer{status: resp.StatusCode, header: resp.Header, body: string(b), took: took, alloc: after.TotalAlloc - before.TotalAlloc}
}

// argonMiB is the memory one argon2id hash of certdesk's parameters
// allocates (identity.HashPassword: m = 19 MiB).
const argonMiB = 19

// hashes is how many password hashes an answer's allocations account for.
func (a signinAnswer) hashes() int { return int(a.alloc / (argonMiB << 20)) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestReliabilityBruteForce is item 9 of the reliability battery
// (docs/reliability.md, "Brute force and enumeration"): two API servers on
// one database and an attacker who spreads password guesses over both
// and over many addresses. The throttle counts every attempt wherever it
// lands; a concurrent burst gets no more password checks than the limit;
// an unknown e-mail address and a wrong password get the same answer
// (status, page, headers, cookies) after the same password-hash work.
func TestReliabilityBruteForce(t *testing.T) {
	a := identitySetup(t, testapp.Options{NoWorkers: true, Config: func(c *config.Config) { c.TrustProxy = true }})
	b := a.Replica()
	servers := []*testapp.Harness{a, b}
	// One throttle window for the whole test, however slow the machine.
	a.Clock.Freeze()
	ctx := context.Background()
	city, err := a.App.Store.OrganizationBySlug(ctx, "city")
	require.NoError(t, err)
	const pw = "violet-tugboat-harbour-77"
	user := func(local string) string {
		email := local + "@city.example"
		_, err := a.App.Identity.CreateUser(ctx, access.System, identity.NewUser{OrgID: city.ID, Email: email,
			Name: local, Role: access.Responder, Password: pw})
		require.NoError(t, err)
		return email
	}
	limit := session.AccountRule.Limit
	addrN := 0
	addr := func() string { addrN++; return fmt.Sprintf("198.18.%d.%d", addrN/250, addrN%250+1) }

	// 1. Alternating, one account, a new address for every guess: the
	// account's limit counts the guesses of both servers.
	victim := user("victim-0001")
	for i := range limit {
		got := signinAttempt(t, servers[i%2].URL, victim, fmt.Sprintf("guess-%02d-wrong-password", i), addr())
		require.Equal(t, http.StatusUnauthorized, got.status, "guess %d on server %d", i+1, i%2)
	}
	for i, s := range servers {
		got := signinAttempt(t, s.URL, victim, pw, addr())
		require.Equal(t, http.StatusTooManyRequests, got.status, "server %d: over the account's limit, even the right password", i)
		require.NotEmpty(t, got.header.Get("Retry-After"))
		require.Empty(t, got.header.Values("Set-Cookie"), "no session")
	}

	// 2. Alternating, one address, a new unknown account for every guess:
	// the address's limit counts both servers' failures.
	from := addr()
	for i := range identity.AddressRule.Limit {
		got := signinAttempt(t, servers[i%2].URL, fmt.Sprintf("nobody-%04d@city.example", i), pw, from)
		require.Equal(t, http.StatusUnauthorized, got.status, "guess %d from one address", i+1)
	}
	for i, s := range servers {
		got := signinAttempt(t, s.URL, victim, pw, from)
		require.Equal(t, http.StatusTooManyRequests, got.status, "server %d: over the address's limit", i)
	}

	// 3. A concurrent burst at one account, half on each server, each
	// guess from its own address: no more guesses are checked than the
	// limit allows.
	burstVictim := user("victim-0002")
	const burst = 24
	statuses := make([]int, burst)
	addrs := make([]string, burst)
	for i := range addrs {
		addrs[i] = addr()
	}
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-startGate
			statuses[i] = signinAttempt(t, servers[i%2].URL, burstVictim, fmt.Sprintf("burst-%02d-wrong-password", i), addrs[i]).status
		}()
	}
	close(startGate)
	wg.Wait()
	checked, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Errorf("burst answer %d", s)
		}
	}
	require.LessOrEqual(t, checked, limit, "a concurrent burst of %d guesses: %d checked, the limit is %d", burst, checked, limit)
	require.Equal(t, burst, checked+refused)

	// 4. Enumeration: a wrong password for a real account and an unknown
	// address of the same length, alternating servers, each from a fresh
	// address: the same answer, the same hash work.
	const pairs = 20
	var wrongTook, unknownTook []time.Duration
	var wrongHashes, unknownHashes []int
	knowns := make([]string, pairs)
	for k := range knowns {
		knowns[k] = user(fmt.Sprintf("agent-%04d", k))
	}
	runtime.GC()
	for k, known := range knowns {
		ghost := fmt.Sprintf("ghost-%04d@city.example", k)
		require.Len(t, ghost, len(known))
		s := servers[k%2]
		var wrong, unknown signinAnswer
		if k%2 == 0 {
			wrong = signinAttempt(t, s.URL, known, "not-the-password-123", addr())
			unknown = signinAttempt(t, s.URL, ghost, "not-the-password-123", addr())
		} else {
			unknown = signinAttempt(t, s.URL, ghost, "not-the-password-123", addr())
			wrong = signinAttempt(t, s.URL, known, "not-the-password-123", addr())
		}
		require.Equal(t, http.StatusUnauthorized, wrong.status)
		require.Equal(t, wrong.status, unknown.status)
		norm := func(body, email string) string {
			return strings.ReplaceAll(signinCSRF.ReplaceAllString(body, `name="csrf" value="…"`), email, "EMAIL")
		}
		require.Equal(t, norm(wrong.body, known), norm(unknown.body, ghost), "the same page")
		require.Equal(t, headerShape(wrong.header), headerShape(unknown.header), "the same headers and cookies")
		require.Empty(t, wrong.header.Values("Set-Cookie"))
		wrongTook, unknownTook = append(wrongTook, wrong.took), append(unknownTook, unknown.took)
		wrongHashes, unknownHashes = append(wrongHashes, wrong.hashes()), append(unknownHashes, unknown.hashes())
	}
	for k := range pairs {
		require.GreaterOrEqual(t, wrongHashes[k], 1, "pair %d: a wrong password is checked against its hash", k)
		require.Equal(t, wrongHashes[k], unknownHashes[k], "pair %d: an unknown address does the same hash work", k)
	}
	mw, mu := median(wrongTook), median(unknownTook)
	t.Logf("T9: 2 servers; %d alternating guesses at one account then 429 on both; %d at one address then 429 on both; "+
		"a burst of %d concurrent guesses: %d checked, %d refused (limit %d); %d pairs wrong password / unknown e-mail: "+
		"same status, page, headers and cookies, password hashes per attempt %v / %v, median %s / %s (ratio %.2f)",
		limit, identity.AddressRule.Limit, burst, checked, refused, limit, pairs, slices.Max(wrongHashes), slices.Max(unknownHashes),
		mw.Round(time.Millisecond), mu.Round(time.Millisecond), float64(mu)/float64(mw))
}

// headerShape is an answer's headers without those that differ between
// any two answers (the date, the request ID).
func headerShape(h http.Header) http.Header {
	out := h.Clone()
	out.Del("Date")
	out.Del("X-Request-Id")
	return out
}
