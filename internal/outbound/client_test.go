package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const secret = "s3cret-webhook-key"

// fixedResolver answers from a table, so tests control DNS without a network.
type fixedResolver map[string][]netip.Addr

func (r fixedResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// receiver is an httptest server on 127.0.0.1 that counts requests and
// verifies their signature.
type receiver struct {
	*httptest.Server
	hits     atomic.Int32
	verified atomic.Int32
	lastBody atomic.Value
}

func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		body, _ := io.ReadAll(req.Body)
		r.lastBody.Store(string(body))
		if Verify(secret, req.Header, body, time.Now(), 0) == nil {
			r.verified.Add(1)
		}
		if h != nil {
			h(w, req)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) port() string {
	u, _ := url.Parse(r.URL)
	return u.Port()
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func mustNew(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	require.NoError(t, err)
	return c
}

func TestRefusedDestinations(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, nil)
	p := recv.port()
	c := mustNew(t, Options{Resolver: fixedResolver{
		"rebind.example":   {netip.MustParseAddr("127.0.0.1")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
		"mixed.example":    {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.1")},
		"mapped.example":   {netip.MustParseAddr("::ffff:127.0.0.1")},
	}})
	sys := mustNew(t, Options{}) // the system resolver: "localhost" comes from /etc/hosts
	for _, tc := range []struct {
		name, url string
		client    *Client
		reason    string
	}{
		{"127.0.0.1", "http://127.0.0.1:" + p + "/hook", c, "loopback"},
		{"::1", "http://[::1]:" + p + "/hook", c, "loopback"},
		{"metadata 169.254.169.254", "http://169.254.169.254/latest/meta-data/", c, "link-local"},
		{"10/8", "http://10.0.0.1/hook", c, "private"},
		{"192.168/16", "https://192.168.0.1/hook", c, "private"},
		{"0.0.0.0", "http://0.0.0.0:" + p + "/hook", c, "unspecified"},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:" + p + "/hook", c, "loopback"},
		{"localhost", "http://localhost:" + p + "/hook", sys, "loopback"},
		{"name resolving to loopback", "http://rebind.example:" + p + "/hook", c, "loopback"},
		{"name resolving to metadata", "http://metadata.example/hook", c, "link-local"},
		{"name resolving to a mapped loopback", "http://mapped.example:" + p + "/hook", c, "loopback"},
		{"one private address among public ones", "http://mixed.example/hook", c, "private"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := tc.client.PostJSON(context.Background(), tc.url, []byte(`{"a":1}`), secret, "")
			require.Error(t, err)
			require.Nil(t, resp)
			re, ok := IsRefused(err)
			require.True(t, ok, "refused, got %v", err)
			require.Equal(t, tc.reason, re.Reason)
			require.True(t, IsPermanent(err))
			require.NotContains(t, err.Error(), "/hook", "errors leave out the URL path")
		})
	}
	require.Zero(t, recv.hits.Load(), "no refused request reached the server")
}

func TestAllowedRequestIsSigned(t *testing.T) {
	t.Parallel()
	keys := make(chan string, 4)
	recv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("User-Agent") != "certdesk-test" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if _, sent := r.Header[HeaderIdempotencyKey]; sent {
			keys <- r.Header.Get(HeaderIdempotencyKey)
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	c := mustNew(t, Options{Allow: loopback, UserAgent: "certdesk-test",
		Resolver: fixedResolver{"receiver.test": {netip.MustParseAddr("127.0.0.1")}}})
	body := []byte(`{"incident":"INC-2026-000042","severity":"high"}`)
	for _, u := range []string{
		recv.URL + "/hook?token=x",
		"http://receiver.test:" + recv.port() + "/hook",
		"http://[::ffff:127.0.0.1]:" + recv.port() + "/hook", // mapped form, allowed by the IPv4 prefix
	} {
		resp, err := c.PostJSON(context.Background(), u, body, secret, "")
		require.NoError(t, err, u)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, `{"ok":true}`, string(resp.Body))
		require.False(t, resp.Truncated)
	}
	require.EqualValues(t, 3, recv.hits.Load())
	require.EqualValues(t, 3, recv.verified.Load(), "the receiver verified every signature")
	require.Equal(t, string(body), recv.lastBody.Load())
	require.Empty(t, keys, "no Idempotency-Key header without a key")
	_, err := c.PostJSON(context.Background(), recv.URL+"/hook", body, secret, "notification-7")
	require.NoError(t, err)
	require.Equal(t, "notification-7", <-keys, "a key is sent as the Idempotency-Key header")

	// Another /32 does not let 127.0.0.1 through.
	other := mustNew(t, Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	_, err = other.PostJSON(context.Background(), recv.URL, body, secret, "")
	_, refused := IsRefused(err)
	require.True(t, refused)
	require.EqualValues(t, 4, recv.hits.Load(), "the refused request never reached the receiver")
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"x":1}`)
	ts := fmt.Sprint(now.Unix())
	h := http.Header{}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(secret, ts, body))
	require.NoError(t, Verify(secret, h, body, now, 0))
	require.NoError(t, Verify(secret, h, body, now.Add(4*time.Minute), 0))

	require.ErrorIs(t, Verify("other", h, body, now, 0), ErrBadSignature)
	require.ErrorIs(t, Verify(secret, h, []byte(`{"x":2}`), now, 0), ErrBadSignature)
	require.ErrorIs(t, Verify(secret, h, body, now.Add(6*time.Minute), 0), ErrStaleTimestamp)
	require.ErrorIs(t, Verify(secret, h, body, now.Add(-6*time.Minute), 0), ErrStaleTimestamp)
	require.NoError(t, Verify(secret, h, body, now.Add(6*time.Minute), 10*time.Minute))
	require.ErrorIs(t, Verify(secret, http.Header{}, body, now, 0), ErrMissingSignature)

	moved := h.Clone() // a signature is bound to its timestamp
	moved.Set(HeaderTimestamp, fmt.Sprint(now.Unix()+1))
	require.ErrorIs(t, Verify(secret, moved, body, now, 0), ErrBadSignature)
	bad := h.Clone()
	bad.Set(HeaderTimestamp, "yesterday")
	require.ErrorIs(t, Verify(secret, bad, body, now, 0), ErrBadTimestamp)
	noPrefix := h.Clone()
	noPrefix.Set(HeaderSignature, strings.TrimPrefix(h.Get(HeaderSignature), "sha256="))
	require.ErrorIs(t, Verify(secret, noPrefix, body, now, 0), ErrBadSignature)

	// A known answer, as computed by `printf '1.{}' | openssl dgst -sha256 -hmac k`.
	require.Equal(t, "sha256=3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158", Sign("k", "1", []byte("{}")))
}

func TestSignatureUsesClock(t *testing.T) {
	t.Parallel()
	at := time.Unix(1_700_000_000, 0)
	recv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(HeaderTimestamp) != "1700000000" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	c := mustNew(t, Options{Allow: loopback, Now: func() time.Time { return at }})
	_, err := c.PostJSON(context.Background(), recv.URL, []byte(`{}`), secret, "")
	require.NoError(t, err)
}

func TestHugeResponseIsCut(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		chunk := strings.Repeat("x", 32<<10)
		for range 64 { // 2 MiB
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	c := mustNew(t, Options{Allow: loopback, MaxResponseBytes: 1000})
	resp, err := c.PostJSON(context.Background(), recv.URL, []byte(`{}`), secret, "")
	require.NoError(t, err)
	require.Len(t, resp.Body, 1000)
	require.True(t, resp.Truncated)

	d := mustNew(t, Options{Allow: loopback}) // the default bound is 64 KiB
	resp, err = d.PostJSON(context.Background(), recv.URL, []byte(`{}`), secret, "")
	require.NoError(t, err)
	require.Len(t, resp.Body, DefaultMaxResponseBytes)
	require.True(t, resp.Truncated)
}

func TestSlowServerTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	recv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := mustNew(t, Options{Allow: loopback, Timeout: 200 * time.Millisecond})
	start := time.Now()
	resp, err := c.PostJSON(context.Background(), recv.URL, []byte(`{}`), secret, "")
	require.Error(t, err)
	require.Nil(t, resp)
	require.True(t, IsTimeout(err), "timeout, got %v", err)
	require.False(t, IsPermanent(err), "a timeout is worth retrying")
	require.Less(t, time.Since(start), 5*time.Second)

	// A slow body counts against the same limit.
	slowBody := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	_, err = c.PostJSON(context.Background(), slowBody.URL, []byte(`{}`), secret, "")
	require.Error(t, err)
	require.True(t, IsTimeout(err), "timeout, got %v", err)
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, nil)
	for _, loc := range []string{
		"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"http://10.0.0.1/internal",
		target.URL + "/elsewhere", // even an allowed address is not followed
	} {
		recv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, loc, http.StatusFound)
		})
		c := mustNew(t, Options{Allow: loopback})
		resp, err := c.PostJSON(context.Background(), recv.URL, []byte(`{}`), secret, "")
		require.Error(t, err)
		var se *StatusError
		require.ErrorAs(t, err, &se)
		require.Equal(t, http.StatusFound, se.StatusCode)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		require.Equal(t, loc, resp.Header.Get("Location"))
		require.True(t, IsPermanent(err))
		require.Contains(t, err.Error(), "redirects are not followed")
		require.EqualValues(t, 1, recv.hits.Load())
	}
	require.Zero(t, target.hits.Load())
}

func TestStatusClassification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration
	}{
		{400, "", true, 0},
		{401, "", true, 0},
		{404, "", true, 0},
		{410, "", true, 0},
		{422, "", true, 0},
		{408, "", false, 0},
		{429, "7", false, 7 * time.Second},
		{429, "", false, 0},
		{500, "", false, 0},
		{502, "", false, 0},
		{503, "120", false, 2 * time.Minute},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			recv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, "nope")
			})
			c := mustNew(t, Options{Allow: loopback})
			resp, err := c.PostJSON(context.Background(), recv.URL, []byte(`{}`), secret, "")
			require.Error(t, err)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, "nope", string(resp.Body))
			require.Equal(t, tc.permanent, IsPermanent(err))
			d, ok := RetryAfter(err)
			require.Equal(t, tc.wait, d)
			require.Equal(t, tc.wait > 0, ok)
		})
	}
}

func TestRetryAfterDate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	require.Equal(t, 90*time.Second, parseRetryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
	require.Zero(t, parseRetryAfter("soon", now))
	require.Zero(t, parseRetryAfter("-5", now))
	require.Zero(t, parseRetryAfter("-99999999999999999999", now))
}

// A huge Retry-After is cut to an hour instead of overflowing into a
// negative or tiny wait.
func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	require.Equal(t, 59*time.Minute+59*time.Second, parseRetryAfter("3599", now))
	for _, v := range []string{"3600", "3601", "86400", "9223372036", "9223372037", "18446744073709551", "9223372036854775807", "99999999999999999999999"} {
		require.Equal(t, MaxRetryAfter, parseRetryAfter(v, now), v)
	}
	require.Equal(t, MaxRetryAfter, parseRetryAfter(now.AddDate(5, 0, 0).Format(http.TimeFormat), now))
}

func TestNetworkErrorsAreRetryable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	c := mustNew(t, Options{Allow: loopback, Resolver: fixedResolver{}})
	_, err = c.PostJSON(context.Background(), "http://"+addr+"/", []byte(`{}`), secret, "")
	require.Error(t, err)
	require.False(t, IsPermanent(err), "connection refused is worth retrying: %v", err)

	_, err = c.PostJSON(context.Background(), "http://unknown.test/", []byte(`{}`), secret, "")
	require.Error(t, err)
	require.False(t, IsPermanent(err), "DNS errors are worth retrying: %v", err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.PostJSON(ctx, "http://"+addr+"/", []byte(`{}`), secret, "")
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	require.False(t, IsPermanent(err))
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	c := mustNew(t, Options{Allow: loopback})
	for _, u := range []string{"ftp://example.org/x", "file:///etc/passwd", "gopher://example.org", "/relative", "http://", "http://%zz", "example.org/hook"} {
		_, err := c.PostJSON(context.Background(), u, []byte(`{}`), secret, "")
		var ie *InvalidError
		require.ErrorAs(t, err, &ie, u)
		require.True(t, IsPermanent(err), u)
	}
	_, err := c.PostJSON(context.Background(), "https://example.org/hook", []byte(`{}`), "", "")
	require.ErrorContains(t, err, "secret")
	require.True(t, IsPermanent(err))
}

// A request that cannot be built says so with the host only: the error of
// net/http can carry the whole URL, and the URL of a webhook often holds a
// secret.
func TestRequestThatCannotBeBuiltNamesTheHostOnly(t *testing.T) {
	t.Parallel()
	c := mustNew(t, Options{Allow: loopback})
	var noCtx context.Context // net/http refuses a nil context
	_, err := c.PostJSON(noCtx, "https://hooks.example.org/services/T0/B0/SECRET-PATH?token=SECRET-QUERY", []byte(`{}`), secret, "")
	var ie *InvalidError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, "outbound: cannot build the request to hooks.example.org", err.Error())
}

func TestOptions(t *testing.T) {
	t.Parallel()
	_, err := New(Options{Timeout: -time.Second})
	require.ErrorContains(t, err, "Options.Timeout")
	_, err = New(Options{MaxResponseBytes: -1})
	require.ErrorContains(t, err, "Options.MaxResponseBytes")
	_, err = New(Options{Allow: []netip.Prefix{{}}})
	require.ErrorContains(t, err, "Options.Allow")

	c := mustNew(t, Options{})
	tr := c.http.Transport.(*http.Transport)
	require.Nil(t, tr.Proxy, "no proxy from the environment: it would choose the address instead of the guard")
	require.Equal(t, DefaultTimeout, c.http.Timeout)
	require.EqualValues(t, DefaultMaxResponseBytes, c.max)
	require.Equal(t, DefaultUserAgent, c.agent)
}

// flippingResolver answers each lookup with the next address of a list, as
// a DNS server run by an attacker (DNS rebinding) would.
type flippingResolver struct {
	answers []netip.Addr
	n       atomic.Int32
}

func (r *flippingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	i := int(r.n.Add(1)-1) % len(r.answers)
	return []netip.Addr{r.answers[i]}, nil
}

func TestDNSRebindingIsCheckedOnEveryConnection(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close") // every request needs a new connection
	})
	res := &flippingResolver{answers: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")}}
	c := mustNew(t, Options{Allow: loopback, Resolver: res})
	u := "http://hook.example:" + recv.port() + "/"
	_, err := c.PostJSON(context.Background(), u, []byte(`{}`), secret, "")
	require.NoError(t, err, "first answer is allowed")
	_, err = c.PostJSON(context.Background(), u, []byte(`{}`), secret, "")
	re, ok := IsRefused(err)
	require.True(t, ok, "the second answer is checked again: %v", err)
	require.Equal(t, netip.MustParseAddr("127.0.0.2"), re.Addr)
	require.Equal(t, "hook.example", re.Host)
	require.EqualValues(t, 1, recv.hits.Load())
	require.EqualValues(t, 2, res.n.Load())
}

func TestCheckJudgesAURLBeforeSending(t *testing.T) {
	t.Parallel()
	res := fixedResolver{
		"hooks.example":    {netip.MustParseAddr("93.184.215.14")},
		"internal.example": {netip.MustParseAddr("93.184.215.14"), netip.MustParseAddr("10.1.2.3")},
	}
	c, err := New(Options{Resolver: res, Allow: []netip.Prefix{netip.MustParsePrefix("192.168.7.0/24")}})
	require.NoError(t, err)
	ctx := context.Background()

	v := c.Check(ctx, "https://hooks.example/in/secret-token")
	require.True(t, v.Allowed())
	require.Equal(t, "hooks.example", v.Host)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("93.184.215.14")}, v.Addrs)

	v = c.Check(ctx, "https://internal.example/hook")
	require.False(t, v.Allowed())
	require.NotNil(t, v.Refused, "one private address refuses the name")
	require.Equal(t, "private", v.Refused.Reason)
	require.Equal(t, netip.MustParseAddr("10.1.2.3"), v.Refused.Addr)

	v = c.Check(ctx, "http://[::1]:8080/hook")
	require.Equal(t, "loopback", v.Refused.Reason)
	require.True(t, c.Check(ctx, "http://192.168.7.9/hook").Allowed(), "Options.Allow lets a range through")

	v = c.Check(ctx, "https://nowhere.example/hook")
	require.False(t, v.Allowed())
	require.Error(t, v.Err)
	require.Nil(t, v.Refused)

	v = c.Check(ctx, "ftp://hooks.example/")
	var ie *InvalidError
	require.ErrorAs(t, v.Err, &ie)
}
