package httpapi_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/stretchr/testify/require"
)

type listBody struct {
	Incidents []struct {
		ID        string   `json:"id"`
		Reference string   `json:"reference"`
		Title     string   `json:"title"`
		Tags      []string `json:"tags"`
	} `json:"incidents"`
	NextCursor *string `json:"next_cursor"`
}

// titles lists the titles a query returns as the responder, following every page.
func (w *caseWorld) titles(t *testing.T, query string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		path := "/api/v1/incidents?limit=2&" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := w.h.As(w.responder).Request(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", query, r.Body)
		var l listBody
		r.JSON(t, &l)
		for _, inc := range l.Incidents {
			out = append(out, inc.Title)
		}
		if l.NextCursor == nil {
			return out
		}
		cursor = *l.NextCursor
	}
}

func TestListFiltersAndSearch(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	old := time.Now().Add(-100 * time.Hour).UTC().Format(time.RFC3339)
	w.report(t, map[string]any{"title": "Ransomware at the town hall", "description": "LockBit note on the file server",
		"severity": "critical", "type": "malicious-code:infected-system", "tags": []string{"ransomware"}})
	w.report(t, map[string]any{"title": "Phishing against council staff", "description": "Fake payroll login page",
		"severity": "medium", "type": "fraud:phishing", "tags": []string{"phishing", "payroll"}, "tlp": "green"})
	leak := w.report(t, map[string]any{"title": "Resident records leaked", "description": "A CSV of 4,000 residents on a paste site",
		"severity": "high", "type": "information-content-security:data-leak", "personal_data_breach": true, "detected_at": old})
	w.report(t, map[string]any{"title": "DDoS on the citizen portal", "severity": "high", "type": "availability:ddos",
		"significant": true})
	rs := w.h.As(w.responder)
	require.Equal(t, http.StatusOK, rs.Request(http.MethodPost, "/api/v1/incidents/"+leak.ID+"/close",
		map[string]any{"resolution": "Paste removed; residents informed."}).Status)

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"DDoS on the citizen portal", "Resident records leaked", "Phishing against council staff", "Ransomware at the town hall"}},
		{"sort=created", []string{"Ransomware at the town hall", "Phishing against council staff", "Resident records leaked", "DDoS on the citizen portal"}},
		{"sort=-updated", []string{"Resident records leaked", "DDoS on the citizen portal", "Phishing against council staff", "Ransomware at the town hall"}},
		{"severity=high", []string{"DDoS on the citizen portal", "Resident records leaked"}},
		{"status=closed", []string{"Resident records leaked"}},
		{"category=fraud", []string{"Phishing against council staff"}},
		{"type=availability:ddos", []string{"DDoS on the citizen portal"}},
		{"tag=PAYROLL", []string{"Phishing against council staff"}},
		{"tlp=green", []string{"Phishing against council staff"}},
		{"personal_data_breach=true", []string{"Resident records leaked"}},
		{"significant=true", []string{"DDoS on the citizen portal"}},
		{"deadline=missed", []string{"Resident records leaked"}}, // detected 100 h ago, GDPR 72 h not met
		{"deadline=open", []string{"DDoS on the citizen portal", "Resident records leaked"}},
		{"reporting_org=city&coordinating_org=region", []string{"DDoS on the citizen portal", "Resident records leaked", "Phishing against council staff", "Ransomware at the town hall"}},
		{"reporting_org=sibling", nil},
		{"q=lockbit", []string{"Ransomware at the town hall"}},
		{"q=" + url.QueryEscape(`"file server"`), []string{"Ransomware at the town hall"}},
		{"q=" + url.QueryEscape("portal -ddos"), nil},
		{"q=residents", []string{"Resident records leaked"}},
		{"created_after=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			require.Equal(t, tc.want, w.titles(t, tc.query))
		})
	}

	t.Run("a deadline met leaves deadline=missed and deadline=open", func(t *testing.T) {
		r := rs.Request(http.MethodPost, "/api/v1/incidents/"+leak.ID+"/deadlines/gdpr_notification/met", map[string]any{"reference": "DPA-2026-17"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Empty(t, w.titles(t, "deadline=missed"))
		require.Equal(t, []string{"DDoS on the citizen portal"}, w.titles(t, "deadline=open"))
	})

	t.Run("assignee", func(t *testing.T) {
		r := rs.Request(http.MethodPatch, "/api/v1/incidents/"+leak.ID, `{"assignee":"`+w.responderEmail+`"}`,
			"Content-Type", "application/merge-patch+json")
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, []string{"Resident records leaked"}, w.titles(t, "assignee=me"))
		require.Equal(t, []string{"Resident records leaked"}, w.titles(t, "assignee="+url.QueryEscape(w.responderEmail)))
		require.Empty(t, w.titles(t, "assignee=nobody@example.org"))
	})

	t.Run("bad filters name the parameter", func(t *testing.T) {
		for q, field := range map[string]string{"severity=huge": "severity", "stage=x": "stage", "sort=title": "sort",
			"significant=maybe": "significant", "created_after=yesterday": "created_after", "deadline=soon": "deadline",
			"category=malware": "category", "q=" + strings.Repeat("x", 201): "q"} {
			r := rs.Request(http.MethodGet, "/api/v1/incidents?"+q, nil)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, q)
			require.Equal(t, field, fieldOf(t, r), q)
		}
		r := rs.Request(http.MethodGet, "/api/v1/incidents?limit=1", nil)
		var l listBody
		r.JSON(t, &l)
		r = rs.Request(http.MethodGet, "/api/v1/incidents?sort=updated&cursor="+url.QueryEscape(*l.NextCursor), nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a cursor of another sort order")
	})
}

func TestCSVExportDefusesFormulas(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	w.report(t, map[string]any{"title": `=HYPERLINK("http://evil.example","click")`, "tags": []string{"csv"}})
	w.report(t, map[string]any{"title": "Plain, \"quoted\" title", "tags": []string{"csv"}})
	r := w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents.csv?tag=csv&sort=created", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "text/csv; charset=utf-8", r.Header.Get("Content-Type"))
	require.Contains(t, r.Header.Get("Content-Disposition"), "attachment")
	recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, "reference", recs[0][0])
	require.Equal(t, `'=HYPERLINK("http://evil.example","click")`, recs[1][1], "the formula is text")
	require.Equal(t, `Plain, "quoted" title`, recs[2][1], "CSV quoting round-trips")
	r = w.h.As(w.responder).Request(http.MethodGet, "/api/v1/incidents.csv?severity=huge", nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a bad filter is a problem, not a broken file")
}

// TestPaginationWhileInserting: a listing that follows next_cursor returns
// every incident that existed when it began exactly once, while new
// incidents arrive between its pages.
func TestPaginationWhileInserting(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	ctx := context.Background()
	reporter, _ := w.h.User("city", access.Reporter)
	const before = 60
	for i := range before {
		_, _, err := w.h.App.Incidents.Create(ctx, reporter.Principal(), incidentNamed(fmt.Sprintf("existing %02d", i)), nil)
		require.NoError(t, err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := w.h.App.Incidents.Create(ctx, reporter.Principal(), incidentNamed(fmt.Sprintf("new %03d", i)), nil); err != nil {
				t.Errorf("insert: %v", err)
				return
			}
		}
	}()
	for _, sort := range []string{"-created", "created"} {
		seen := map[string]int{}
		cursor := ""
		for {
			path := "/api/v1/incidents?limit=7&sort=" + sort
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			var l listBody
			w.h.As(w.responder).Request(http.MethodGet, path, nil).JSON(t, &l)
			for _, inc := range l.Incidents {
				seen[inc.Title]++
			}
			if l.NextCursor == nil {
				break
			}
			cursor = *l.NextCursor
		}
		for i := range before {
			require.Equal(t, 1, seen[fmt.Sprintf("existing %02d", i)], "%s: existing %02d exactly once", sort, i)
		}
		for title, n := range seen {
			require.Equal(t, 1, n, "%s: %s seen %d times", sort, title, n)
		}
	}
	close(stop)
	wg.Wait()
}

func TestSearchFindsComments(t *testing.T) {
	t.Parallel()
	w := caseSetup(t)
	inc := w.report(t, map[string]any{"title": "Suspicious logins"})
	w.report(t, map[string]any{"title": "Unrelated outage"})
	r := w.h.As(w.responder).Request(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/comments",
		map[string]any{"body": "The source address belongs to the Quasarbotnet infrastructure."})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Equal(t, []string{"Suspicious logins"}, w.titles(t, "q=quasarbotnet"), "comments are searched too")
}
