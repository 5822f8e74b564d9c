package incident

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestViewIsWhatTransportsShow: the view re-renders a description stored
// by an older renderer (without changing the stored incident), computes
// the deadlines in the reporting organisation's time zone at the
// service's clock, and gives a list one moment.
func TestViewIsWhatTransportsShow(t *testing.T) {
	now := at("2026-10-02T08:00:00Z")
	svc := NewService(nil, func() time.Time { return now })
	svc.Renderer, svc.RenderVersion = func(src string) string { return "<p>" + src + "</p>" }, 3

	detected := at("2026-10-01T10:00:00Z")
	inc := Incident{Description: "new words", DescriptionHTML: "<p>old</p>", DescriptionHTMLVersion: 2,
		Significant: true, DetectedAt: &detected, ReportingOrgTimeZone: "Europe/Berlin"}
	v := svc.View(&inc)
	require.Equal(t, "<p>new words</p>", v.DescriptionHTML, "an older renderer's HTML is rendered again")
	require.Equal(t, 3, v.DescriptionHTMLVersion)
	require.Equal(t, "<p>old</p>", inc.DescriptionHTML, "the incident itself is not changed")
	require.Equal(t, "Europe/Berlin", v.Location.String())
	require.Equal(t, now, v.At)
	ds := byKind(v.Deadlines)
	require.Len(t, ds, 3)
	require.Equal(t, at("2026-10-02T10:00:00Z"), ds[NIS2EarlyWarning].DueAt)
	require.Equal(t, 2*time.Hour, ds[NIS2EarlyWarning].TimeLeft)
	// The notification is due 4 Oct 12:00 in Berlin (summer time); the
	// final report a calendar month later at the same wall-clock time,
	// in winter time: 11:00 UTC, not 10:00.
	require.Equal(t, at("2026-11-04T11:00:00Z"), ds[NIS2FinalReport].DueAt)

	inc.DescriptionHTMLVersion = 3
	require.Equal(t, "<p>old</p>", svc.View(&inc).DescriptionHTML, "the current renderer's HTML is kept")
	inc.ReportingOrgTimeZone = "Mars/Olympus_Mons"
	v = svc.View(&inc)
	require.Equal(t, time.UTC, v.Location, "an unknown zone is UTC")
	require.Equal(t, at("2026-11-04T10:00:00Z"), byKind(v.Deadlines)[NIS2FinalReport].DueAt)
	empty := Incident{DescriptionHTMLVersion: 1}
	require.Empty(t, svc.View(&empty).DescriptionHTML, "nothing to render")
	require.Empty(t, svc.View(&empty).Deadlines)

	calls := 0
	svc.now = func() time.Time { calls++; return now.Add(time.Duration(calls) * time.Second) }
	vs := svc.Views([]Incident{inc, inc, inc})
	require.Equal(t, 1, calls, "one moment for the whole list")
	require.Equal(t, vs[0].At, vs[2].At)
}
