package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseReminders(t *testing.T) {
	t.Parallel()
	good := map[string][]int{"50%,90%": {50, 90}, " 10% , 20%": {10, 20}, "off": {}, "none": {}, "99%": {99}}
	for in, want := range good {
		got, err := ParseReminders(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	bad := map[string]string{
		"":                                   "no reminder points",
		"50":                                 `"50" is not a percentage`,
		"0%":                                 `"0%" is not a percentage`,
		"100%":                               `"100%" is not a percentage`,
		"x%":                                 `"x%" is not a percentage`,
		"90%,50%":                            "ascending",
		"50%,50%":                            "ascending",
		"1%,2%,3%,4%,5%,6%,7%,8%,9%,10%,11%": "at most 10",
	}
	for in, want := range bad {
		_, err := ParseReminders(in)
		require.ErrorContains(t, err, want, in)
	}
}
