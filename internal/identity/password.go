package identity

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/certdesk/certdesk/internal/apperr"
	"golang.org/x/crypto/argon2"
)

// Password policy.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// Argon2id parameters (OWASP's recommendation: 19 MiB, 2 passes, 1 lane).
// They are stored with each hash, so raising them later keeps old hashes
// verifiable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

//go:embed common-passwords.txt
var commonList []byte

var common = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(commonList))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
}()

// CheckPassword applies the password policy: at least 12 and at most 256
// characters, not a commonly used password, not one character repeated,
// and not containing the user's e-mail name.
func CheckPassword(pw, email string) error {
	var fs apperr.Fields
	n := utf8.RuneCountInString(pw)
	lower := strings.ToLower(pw)
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	switch {
	case n < MinPasswordLength:
		fs.Add("password", "min_length", "password must be at least %d characters", MinPasswordLength)
	case n > MaxPasswordLength:
		fs.Add("password", "max_length", "password must be at most %d characters", MaxPasswordLength)
	case common[lower] || common[strings.TrimRight(lower, "0123456789!")]:
		fs.Add("password", "common", "this password is too common; choose another")
	case strings.Count(pw, pw[:1]) == len(pw):
		fs.Add("password", "repeated", "password must not be one character repeated")
	case len(local) >= 4 && strings.Contains(lower, local):
		fs.Add("password", "contains_email", "password must not contain your e-mail name")
	}
	return fs.Err()
}

// HashPassword returns an argon2id hash of pw in the PHC string format
// ($argon2id$v=19$m=...,t=...,p=...$salt$hash).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

var errBadHash = errors.New("unrecognised password hash")

// VerifyPassword reports whether pw matches the encoded hash, in constant
// time over the hash.
func VerifyPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
