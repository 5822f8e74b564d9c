package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultUserAgent        = "certdesk-webhook/1"
)

// Resolver looks up the addresses of a host name. *net.Resolver implements
// it; tests pass a fixed table.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configure a Client. The zero value is usable: nothing private
// allowed, the defaults above, the system resolver and clock.
type Options struct {
	// Allow lists address ranges the client may reach even though Classify
	// refuses them (an internal webhook receiver, a test server on
	// 127.0.0.1). Empty: only public addresses.
	Allow []netip.Prefix
	// Timeout bounds one request from connecting to the last byte of the
	// answer read. 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes is how much of an answer's body is kept; the rest is
	// not read. 0 means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// UserAgent is sent as User-Agent. Empty means DefaultUserAgent.
	UserAgent string
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Now is the clock used for X-Certdesk-Timestamp; nil means time.Now.
	Now func() time.Time
}

// Client sends signed JSON requests to user-configured URLs, refusing
// non-public destinations at connect time. It is safe for concurrent use.
type Client struct {
	allow    []netip.Prefix
	resolver Resolver
	now      func() time.Time
	agent    string
	max      int64
	http     *http.Client
}

// New builds a Client. It fails when an option is out of range; the error
// names the option.
func New(o Options) (*Client, error) {
	if o.Timeout < 0 {
		return nil, fmt.Errorf("outbound: Options.Timeout must not be negative, got %s", o.Timeout)
	}
	if o.MaxResponseBytes < 0 {
		return nil, fmt.Errorf("outbound: Options.MaxResponseBytes must not be negative, got %d", o.MaxResponseBytes)
	}
	c := &Client{resolver: o.Resolver, now: o.Now, agent: o.UserAgent, max: o.MaxResponseBytes}
	for _, p := range o.Allow {
		if !p.IsValid() {
			return nil, errors.New("outbound: Options.Allow holds an invalid prefix")
		}
		c.allow = append(c.allow, normalisePrefix(p))
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.agent == "" {
		c.agent = DefaultUserAgent
	}
	if c.max == 0 {
		c.max = DefaultMaxResponseBytes
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	transport := &http.Transport{
		// No Proxy: a proxy from the environment would make the proxy,
		// not this client, choose the address, and bypass the guard.
		Proxy:                  nil,
		DialContext:            c.dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           20,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c.http = &http.Client{
		Transport: transport,
		Timeout:   timeout,
		// Redirects are not followed: a receiver that moved must be
		// reconfigured, and a redirect cannot lead to a refused address.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// dial resolves address itself, refuses the host when any of its
// addresses is refused, and connects to the permitted addresses in turn
// through a dialer whose Control hook checks the address once more, on
// the socket about to connect.
func (c *Client) dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	ipnet := "ip"
	switch network {
	case "tcp4":
		ipnet = "ip4"
	case "tcp6":
		ipnet = "ip6"
	}
	addrs, err := c.addrsOf(ctx, ipnet, host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if err := c.permitted(host, a); err != nil {
			return nil, err
		}
	}
	d := &net.Dialer{
		Control: func(_, hostport string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(hostport)
			if err != nil {
				return fmt.Errorf("outbound: unexpected dial address %q", hostport)
			}
			return c.permitted(host, ap.Addr())
		},
	}
	var first error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.WithZone("").String(), port))
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// addrsOf resolves host (an address stands for itself) on ipnet ("ip",
// "ip4" or "ip6").
func (c *Client) addrsOf(ctx context.Context, ipnet, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := c.resolver.LookupNetIP(ctx, ipnet, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// Verdict is the guard's answer about a URL before anything is sent to
// it: what its host resolves to now, and whether the client would connect.
type Verdict struct {
	// Host is the URL's host name or address.
	Host string
	// Addrs are the addresses Host resolves to now.
	Addrs []netip.Addr
	// Refused is the first address the client refuses to connect to (nil
	// when it would connect to every one).
	Refused *RefusedError
	// Err is why nothing could be judged: the URL is not absolute http(s)
	// (an *InvalidError) or its host does not resolve.
	Err error
}

// Allowed reports whether the client would send to the URL now.
func (v Verdict) Allowed() bool { return v.Err == nil && v.Refused == nil }

// Check asks the guard about rawURL as PostJSON would when sending: the
// host is resolved and each address judged (Classify, and Options.Allow).
// Nothing is sent. Names resolve again at every request, so a name that
// later resolves elsewhere is judged again then.
func (c *Client) Check(ctx context.Context, rawURL string) Verdict {
	u, err := checkURL(rawURL)
	if err != nil {
		return Verdict{Err: err}
	}
	v := Verdict{Host: u.Hostname()}
	if v.Addrs, v.Err = c.addrsOf(ctx, "ip", v.Host); v.Err != nil {
		return v
	}
	for _, a := range v.Addrs {
		if err := c.permitted(v.Host, a); err != nil {
			v.Refused, _ = IsRefused(err)
			break
		}
	}
	return v
}

// Response is what a receiver answered.
type Response struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Header holds the answer's headers.
	Header http.Header
	// Body is at most MaxResponseBytes of the answer's body.
	Body []byte
	// Truncated is true when the body was longer than Body.
	Truncated bool
}

// PostJSON sends body (JSON) to rawURL with a POST, signed with secret as
// described in the package documentation, and returns the answer. A
// non-empty key is sent as the Idempotency-Key header: the caller gives
// every attempt to deliver the same thing the same key.
//
// A 2xx answer returns a nil error. Any other answer returns the Response
// and a *StatusError. A URL that is not absolute http(s), an empty
// secret, or a refused destination fails before anything is sent. Errors
// never contain the URL's path or query, which often hold a secret; use
// IsPermanent and RetryAfter to decide what to do next.
func (c *Client) PostJSON(ctx context.Context, rawURL string, body []byte, secret, key string) (*Response, error) {
	u, err := checkURL(rawURL)
	if err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, &InvalidError{Reason: "the signing secret is empty"}
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		// err's text can carry the whole URL, secrets in its path or
		// query included: name the host only.
		return nil, &InvalidError{Reason: "cannot build the request to " + u.Host}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.agent)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	if key != "" {
		req.Header.Set(HeaderIdempotencyKey, key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message carries the full URL
		}
		return nil, &RequestError{Host: u.Host, Err: err}
	}
	defer resp.Body.Close()
	buf, err := io.ReadAll(io.LimitReader(resp.Body, c.max+1))
	if err != nil {
		return nil, &RequestError{Host: u.Host, Err: fmt.Errorf("read answer: %w", err)}
	}
	out := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: buf}
	if int64(len(buf)) > c.max {
		out.Body, out.Truncated = buf[:c.max], true
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return out, nil
	}
	se := &StatusError{Host: u.Host, StatusCode: resp.StatusCode}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	}
	return out, se
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &InvalidError{Reason: "the URL does not parse"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, &InvalidError{Reason: "the URL scheme must be http or https"}
	}
	if u.Hostname() == "" {
		return nil, &InvalidError{Reason: "the URL has no host"}
	}
	return u, nil
}

// MaxRetryAfter is the longest Retry-After the client reports: a larger
// one (or one so large that it overflows a Duration) is cut to it.
const MaxRetryAfter = time.Hour

// parseRetryAfter reads delta-seconds or an HTTP date, at most
// MaxRetryAfter; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		// Compare in seconds: n * time.Second overflows for huge n.
		if n >= int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(n) * time.Second
	} else if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-") {
		return MaxRetryAfter
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// HTTPClient is the client's guarded *http.Client, for a library that
// sends its own requests (OpenID Connect discovery, keys and token
// requests: internal/sso): the same address checks, timeout and no
// redirects, without the signature.
func (c *Client) HTTPClient() *http.Client { return c.http }
