package taxii

import (
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestQueryValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		q     Query
		limit int
		field string
	}{
		{name: "default limit", q: Query{}, limit: DefaultLimit},
		{name: "limit kept", q: Query{Limit: 7}, limit: 7},
		{name: "limit capped", q: Query{Limit: MaxLimit + 1}, limit: MaxLimit},
		{name: "negative limit", q: Query{Limit: -1}, field: "limit"},
		{name: "version keywords", q: Query{Versions: []string{"last", "first", "all"}}, limit: DefaultLimit},
		{name: "version timestamp", q: Query{Versions: []string{"2026-12-05T01:02:03.456Z"}}, limit: DefaultLimit},
		{name: "version nonsense", q: Query{Versions: []string{"latest"}}, field: "match[version]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.q.Validate()
			if tc.field != "" {
				ae, ok := apperr.As(err)
				require.True(t, ok, "%v", err)
				require.Equal(t, apperr.Invalid, ae.Code)
				require.Equal(t, tc.field, ae.Fields[0].Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.limit, tc.q.Limit)
		})
	}
}

func TestQueryMatches(t *testing.T) {
	t.Parallel()
	o := Object{ID: "indicator--1", Type: "indicator", SpecVersion: "2.1", Version: "2026-12-05T01:02:03.456Z"}
	for _, tc := range []struct {
		name string
		q    Query
		want bool
	}{
		{"no filter", Query{}, true},
		{"id", Query{IDs: []string{"x", "indicator--1"}}, true},
		{"other id", Query{IDs: []string{"indicator--2"}}, false},
		{"type", Query{Types: []string{"incident", "indicator"}}, true},
		{"other type", Query{Types: []string{"incident"}}, false},
		{"spec version", Query{SpecVersions: []string{"2.1"}}, true},
		{"other spec version", Query{SpecVersions: []string{"2.0"}}, false},
		{"last", Query{Versions: []string{"last"}}, true},
		{"same instant, other precision", Query{Versions: []string{"2026-12-05T01:02:03.456000Z"}}, true},
		{"other version", Query{Versions: []string{"2026-12-05T01:02:03Z"}}, false},
		{"all must hold", Query{IDs: []string{"indicator--1"}, Types: []string{"incident"}}, false},
	} {
		require.Equal(t, tc.want, tc.q.matches(o), tc.name)
	}
}

func TestNextRoundTrip(t *testing.T) {
	t.Parallel()
	c := cursor{A: time.Date(2026, 12, 5, 1, 2, 3, 456789000, time.UTC), I: uuid.New(), N: 3}
	got, err := decodeNext(c.encode())
	require.NoError(t, err)
	require.True(t, c.A.Equal(got.A))
	require.Equal(t, c.I, got.I)
	require.Equal(t, c.N, got.N)
	for _, bad := range []string{"", "garbage", "e30", cursor{A: c.A, N: 1}.encode(), cursor{A: c.A, I: c.I, N: -1}.encode()} {
		_, err := decodeNext(bad)
		require.Equal(t, apperr.Invalid, apperr.CodeOf(err), "%q", bad)
	}
}

func TestSplitList(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"a", "b", "c"}, SplitList([]string{"a, b", "", "c,"}))
	require.Nil(t, SplitList(nil))
}

func TestTimestampKeepsMicroseconds(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 1, 2, 3, 456789000, time.FixedZone("CET", 3600))
	s := Timestamp(at)
	require.Equal(t, "2026-12-05T00:02:03.456789Z", s)
	back, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	require.True(t, at.Equal(back), "added_after from a header selects exactly what follows")
}
