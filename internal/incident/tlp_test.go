package incident

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTLPOrder: every pair of labels, and an unknown one, which counts as
// the strictest.
func TestTLPOrder(t *testing.T) {
	t.Parallel()
	for i, a := range TLPs {
		for j, b := range TLPs {
			require.Equal(t, i > j, a.LooserThan(b), "%s looser than %s", a, b)
			want := a
			if j < i {
				want = b
			}
			require.Equal(t, want, StricterTLP(a, b), "stricter of %s and %s", a, b)
		}
		require.False(t, TLP("TLP:PURPLE").LooserThan(a))
		require.Equal(t, TLP("TLP:PURPLE"), StricterTLP(a, "TLP:PURPLE"))
		require.Equal(t, TLP("TLP:PURPLE"), StricterTLP("TLP:PURPLE", a))
	}
}
