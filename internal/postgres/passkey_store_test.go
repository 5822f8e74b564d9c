package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/passkey"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// A ceremony is one per browser and kind, taken once, and dead after its
// expiry; passkeys are renamed and removed only by their person; the
// organisation's policy defaults to allowing a passkey alone.
func TestPasskeyStore(t *testing.T) {
	t.Parallel()
	h, _ := setup(t)
	ctx := context.Background()
	u, _ := h.User("city", access.Reporter)
	other, _ := h.User("city", access.Reporter)
	s := h.App.Store
	now := time.Now().UTC()
	in := func(fn func(tx passkey.Tx) error) error {
		return s.InPasskeyTx(ctx, func(ctx context.Context, tx passkey.Tx) error { return fn(tx) })
	}
	binding := []byte("0123456789abcdef0123456789abcdef")
	put := func(data string, userID *uuid.UUID, expires time.Time) {
		require.NoError(t, in(func(tx passkey.Tx) error {
			return tx.PutCeremony(ctx, passkey.Ceremony{Binding: binding, Kind: passkey.KindRegister, UserID: userID,
				Data: json.RawMessage(data), ExpiresAt: expires}, now)
		}))
	}
	take := func() (*passkey.Ceremony, error) {
		var c *passkey.Ceremony
		err := in(func(tx passkey.Tx) error {
			var err error
			c, err = tx.TakeCeremony(ctx, binding, passkey.KindRegister, now)
			return err
		})
		return c, err
	}
	put(`{"challenge":"a"}`, nil, now.Add(time.Minute))
	put(`{"challenge":"b"}`, &u.ID, now.Add(time.Minute)) // replaces the first
	c, err := take()
	require.NoError(t, err)
	require.JSONEq(t, `{"challenge":"b"}`, string(c.Data))
	require.Equal(t, u.ID, *c.UserID)
	_, err = take()
	require.True(t, apperr.Is(err, apperr.NotFound), "taken once")
	put(`{"challenge":"c"}`, nil, now.Add(-time.Second))
	_, err = take()
	require.True(t, apperr.Is(err, apperr.NotFound), "expired")

	pk := &passkey.Passkey{ID: []byte{1, 2, 3}, UserID: u.ID, Name: "Laptop", CreatedAt: now, Credential: json.RawMessage(`{"id":"AQID"}`)}
	require.NoError(t, in(func(tx passkey.Tx) error { return tx.InsertPasskey(ctx, pk) }))
	list, err := s.Passkeys(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "Laptop", list[0].Name)
	require.NoError(t, in(func(tx passkey.Tx) error {
		ok, err := tx.RenamePasskey(ctx, pk.ID, other.ID, "Mine")
		require.False(t, ok)
		_, ok, _ = tx.DeletePasskey(ctx, pk.ID, other.ID)
		require.False(t, ok)
		return err
	}))
	require.NoError(t, in(func(tx passkey.Tx) error {
		return tx.UsePasskey(ctx, pk.ID, json.RawMessage(`{"id":"AQID","n":2}`), now)
	}))
	list, err = s.Passkeys(ctx, u.ID)
	require.NoError(t, err)
	require.NotNil(t, list[0].LastUsedAt)
	require.JSONEq(t, `{"id":"AQID","n":2}`, string(list[0].Credential))

	alone, err := s.PasskeyAlone(ctx, u.ID)
	require.NoError(t, err)
	require.True(t, alone, "no policy row: allowed")
	_, err = h.App.DB.SQL.ExecContext(ctx, `INSERT INTO org_sign_in_policies (org_id, passkey_alone, updated_at)
		SELECT org_id, false, now() FROM users WHERE id = $1`, u.ID)
	require.NoError(t, err)
	alone, err = s.PasskeyAlone(ctx, u.ID)
	require.NoError(t, err)
	require.False(t, alone)
}
