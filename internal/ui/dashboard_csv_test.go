package ui

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The dashboard's CSV uses the one formula guard of every CSV certdesk
// writes: white space and zero-width characters before = + - @ do not
// get a formula past it (the security review's finding 13).
func TestDashboardCSVDefusesFormulas(t *testing.T) {
	row := []string{"=1+1", " =HYPERLINK(\"x\")", "\u200b@SUM(A1)", "\n-2", "City of Northbridge", ""}
	got := csvCells(row)
	require.Equal(t, []string{"'=1+1", "' =HYPERLINK(\"x\")", "'\u200b@SUM(A1)", "'\n-2", "City of Northbridge", ""}, got)
	require.Equal(t, "=1+1", row[0], "the chart's own table is left as it was")
}
