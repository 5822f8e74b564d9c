package outbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature headers of every request.
const (
	// HeaderTimestamp carries the Unix time (seconds) of signing.
	HeaderTimestamp = "X-Certdesk-Timestamp"
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256.
	HeaderSignature = "X-Certdesk-Signature"
	// HeaderIdempotencyKey names what a request delivers: every attempt
	// to deliver the same thing carries the same key, so a receiver that
	// remembers the keys it processed drops a repeat (a retry after a
	// timeout, or a worker that died between the call and recording it).
	HeaderIdempotencyKey = "Idempotency-Key"
)

// DefaultTolerance is the clock skew Verify accepts when given 0.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrMissingSignature = errors.New("outbound: missing " + HeaderTimestamp + " or " + HeaderSignature)
	ErrBadTimestamp     = errors.New("outbound: " + HeaderTimestamp + " is not a Unix time")
	ErrStaleTimestamp   = errors.New("outbound: " + HeaderTimestamp + " is outside the accepted window")
	ErrBadSignature     = errors.New("outbound: signature does not match")
)

// Sign returns the X-Certdesk-Signature value for a body sent at the Unix
// time timestamp (decimal seconds): "sha256=" followed by the lower-case
// hex HMAC-SHA256, keyed with secret, of timestamp + "." + body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received request's signature headers against its raw
// body, for receivers written in Go: the timestamp must be within
// tolerance of now (DefaultTolerance when 0), which limits replays, and
// the signature must match, compared in constant time. It returns nil or
// one of ErrMissingSignature, ErrBadTimestamp, ErrStaleTimestamp and
// ErrBadSignature.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sig := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return ErrMissingSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStaleTimestamp
	}
	if !strings.HasPrefix(sig, "sha256=") {
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(sig)) {
		return ErrBadSignature
	}
	return nil
}
