// Package sealed keeps secrets certdesk must read back — an
// organisation's OpenID Connect client secret, a person's TOTP key —
// encrypted in the database with AES-256-GCM under one key of the
// installation (CERTDESK_SECRETS_KEY, or a key file in the data folder).
// A copy of the database without the key reveals none of them.
//
// Every sealed value is bound to a label naming what it is and whose
// ("totp:<user id>"): a value copied to another row or column does not
// open there.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// KeySize is the length of a key: 256 bits.
const KeySize = 32

// version is the first byte of every sealed value, so that a later
// algorithm or key can be told apart.
const version = 1

// ErrOpen is the answer to a value that does not open: another key,
// another label, or changed bytes.
var ErrOpen = errors.New("sealed: the value does not open with this key and label")

// Box seals and opens values with one key.
type Box struct {
	once sync.Once
	load func() ([]byte, error)
	aead cipher.AEAD
	err  error
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	b := &Box{aead: aead}
	b.once.Do(func() {})
	return b, nil
}

// Deferred returns a Box whose key load reads at its first use (a key
// file is then created only by an installation that keeps a secret).
func Deferred(load func() ([]byte, error)) *Box {
	return &Box{load: load}
}

func (b *Box) ready() error {
	b.once.Do(func() {
		var key []byte
		if key, b.err = b.load(); b.err == nil {
			b.aead, b.err = newAEAD(key)
		}
	})
	return b.err
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealed: the key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return aead, nil
}

// NewKey returns a random key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	return k, nil
}

// ParseKey reads a key written as standard or URL-safe base64, with or
// without padding (what CERTDESK_SECRETS_KEY holds).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("must be %d bytes in base64 (openssl rand -base64 32), not %d", KeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("must be base64 (openssl rand -base64 32)")
}

// KeyFile reads the key kept in path, creating it (mode 0600) with a
// random key when there is none: the key of an installation that runs
// one process and did not set CERTDESK_SECRETS_KEY.
func KeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return ParseKey(string(b))
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	k, err := NewKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process wrote it first
		return KeyFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("sealed: writing %s: %w", path, err)
	}
	return k, nil
}

// Seal encrypts plain for label: a version byte, a random nonce and the
// ciphertext with its tag.
func (b *Box) Seal(plain []byte, label string) ([]byte, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, plain, []byte(label)), nil
}

// Open decrypts what Seal returned for the same label; anything else is
// ErrOpen (a key that cannot be loaded is its own error).
func (b *Box) Open(sealed []byte, label string) ([]byte, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(label))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
