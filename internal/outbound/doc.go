// Package outbound is certdesk's one way to send HTTP requests to addresses
// that users configure: playbook webhook steps and webhook notifications.
//
// A URL typed by a user must not become a way into the network certdesk
// runs in (server-side request forgery). The Client therefore checks every
// address it is about to connect to, after name resolution and at connect
// time, and refuses loopback, link-local (including the cloud metadata
// address 169.254.169.254), private, carrier-grade NAT, unspecified,
// multicast and other special-purpose addresses, in their IPv4, IPv6 and
// IPv4-mapped IPv6 forms, unless an Allow prefix of the operator contains
// the address. Because the check runs on the address actually dialled, a
// name whose DNS answer changes between a check and the connection (DNS
// rebinding) cannot get past it.
//
// The Client follows no redirects (a 3xx answer is returned as a permanent
// error), ignores HTTP_PROXY and friends, bounds each request by a timeout
// and reads at most MaxResponseBytes of an answer.
//
// Every request is signed: the receiver recomputes
//
//	X-Certdesk-Signature: sha256=hex(HMAC-SHA256(secret, X-Certdesk-Timestamp + "." + body))
//
// over the raw body bytes and compares in constant time; Verify does this
// for receivers written in Go. docs/security.md ("Outbound requests")
// describes the scheme for receivers in other languages.
//
// Errors say whether retrying can help: IsPermanent is true for refused
// destinations, bad URLs, redirects and 4xx answers other than 408 and
// 429; everything else (5xx, 408, 429, timeouts, network errors) is worth
// retrying, and RetryAfter reports a 429 or 503 answer's Retry-After.
package outbound
