package spreadsheet

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// WritePages writes the header and every page, defusing formulas; it
// stops at max rows in whole pages, and a page that cannot be read ends
// the file after what was written, returning the error.
func TestWritePagesStreamsEveryPageUpToMax(t *testing.T) {
	pages := map[string][]string{"": {"a", "=1+1"}, "p2": {"c", "d"}, "p3": {"e"}}
	nexts := map[string]string{"": "p2", "p2": "p3", "p3": ""}
	more := func(after string) ([]string, string, error) { return pages[after], nexts[after], nil }
	row := func(s *string) []string { return []string{*s} }

	var b strings.Builder
	require.NoError(t, WritePages(&b, []string{"name"}, pages[""], nexts[""], more, row, 100))
	require.Equal(t, "name\na\n'=1+1\nc\nd\ne\n", b.String())

	b.Reset()
	require.NoError(t, WritePages(&b, []string{"name"}, pages[""], nexts[""], more, row, 3))
	require.Equal(t, "name\na\n'=1+1\nc\nd\n", b.String(), "whole pages up to max")

	b.Reset()
	broken := errors.New("the database went away")
	err := WritePages(&b, []string{"name"}, pages[""], nexts[""], func(string) ([]string, string, error) { return nil, "", broken }, row, 100)
	require.ErrorIs(t, err, broken)
	require.Equal(t, "name\na\n'=1+1\n", b.String())
}
