package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// TokenPrefix starts every API token, so that secret scanners and people
// can recognise one.
const TokenPrefix = "cdt_"

// NewToken returns a new random API token (256 bits), the short prefix
// shown in listings, and the SHA-256 hash that is stored. The token itself
// is never stored.
func NewToken() (plain, display string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", nil, fmt.Errorf("token: %w", err)
	}
	plain = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, plain[:len(TokenPrefix)+6], HashToken(plain), nil
}

// HashToken returns the stored form of a token. Tokens carry 256 random
// bits, so a fast hash suffices: there is nothing to guess.
func HashToken(plain string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(plain)))
	return h[:]
}
