package sealed_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certdesk/certdesk/internal/sealed"
	"github.com/stretchr/testify/require"
)

// A sealed value opens with its key and label only; changed bytes,
// another label or another key are ErrOpen, and two seals of one value
// differ.
func TestSealOpensOnlyWithItsKeyAndLabel(t *testing.T) {
	k, err := sealed.NewKey()
	require.NoError(t, err)
	box, err := sealed.New(k)
	require.NoError(t, err)
	a, err := box.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:1")
	require.NoError(t, err)
	b, err := box.Seal([]byte("JBSWY3DPEHPK3PXP"), "totp:1")
	require.NoError(t, err)
	require.NotEqual(t, a, b, "every seal has its own nonce")
	require.NotContains(t, string(a), "JBSWY3DPEHPK3PXP")

	plain, err := box.Open(a, "totp:1")
	require.NoError(t, err)
	require.Equal(t, "JBSWY3DPEHPK3PXP", string(plain))

	_, err = box.Open(a, "totp:2")
	require.ErrorIs(t, err, sealed.ErrOpen, "another label")
	bad := append([]byte(nil), a...)
	bad[len(bad)-1] ^= 1
	_, err = box.Open(bad, "totp:1")
	require.ErrorIs(t, err, sealed.ErrOpen, "changed bytes")
	_, err = box.Open(a[:5], "totp:1")
	require.ErrorIs(t, err, sealed.ErrOpen, "too short")
	k2, err := sealed.NewKey()
	require.NoError(t, err)
	other, err := sealed.New(k2)
	require.NoError(t, err)
	_, err = other.Open(a, "totp:1")
	require.ErrorIs(t, err, sealed.ErrOpen, "another key")

	_, err = sealed.New(k[:16])
	require.Error(t, err)
}

// ParseKey takes base64 of 32 bytes in either alphabet and names the rule
// otherwise; KeyFile creates a private key file once and reads it after.
func TestKeysFromTheEnvironmentAndTheDataFolder(t *testing.T) {
	k, err := sealed.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
	require.NoError(t, err)
	require.Len(t, k, 32)
	require.Equal(t, byte(31), k[31])
	_, err = sealed.ParseKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
	require.NoError(t, err, "unpadded")
	_, err = sealed.ParseKey("c2hvcnQ=")
	require.ErrorContains(t, err, "32 bytes")
	_, err = sealed.ParseKey("not base64!")
	require.ErrorContains(t, err, "base64")

	path := filepath.Join(t.TempDir(), "sub", "secrets.key")
	first, err := sealed.KeyFile(path)
	require.NoError(t, err)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	again, err := sealed.KeyFile(path)
	require.NoError(t, err)
	require.Equal(t, first, again)
}

// A deferred Box reads its key at the first use only, and a key that
// cannot be loaded is the error of every use.
func TestDeferredBoxLoadsItsKeyOnFirstUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.key")
	box := sealed.Deferred(func() ([]byte, error) { return sealed.KeyFile(path) })
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "nothing written before a secret is sealed")
	v, err := box.Seal([]byte("s"), "l")
	require.NoError(t, err)
	again := sealed.Deferred(func() ([]byte, error) { return sealed.KeyFile(path) })
	plain, err := again.Open(v, "l")
	require.NoError(t, err)
	require.Equal(t, "s", string(plain), "the key file outlives the process")

	broken := sealed.Deferred(func() ([]byte, error) { return sealed.ParseKey("c2hvcnQ=") })
	_, err = broken.Seal([]byte("s"), "l")
	require.ErrorContains(t, err, "32 bytes")
	_, err = broken.Open(v, "l")
	require.ErrorContains(t, err, "32 bytes")
}
