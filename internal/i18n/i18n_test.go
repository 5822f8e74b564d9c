package i18n_test

import (
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/certdesk/certdesk/internal/i18n"
	"github.com/certdesk/certdesk/web"
	"github.com/stretchr/testify/require"
)

func shipped(t *testing.T) *i18n.Catalogue {
	t.Helper()
	sub, err := fs.Sub(web.I18n, "i18n")
	require.NoError(t, err)
	c, err := i18n.LoadDir(sub, "en")
	require.NoError(t, err, "every key of en.json needs its text in every other language, with the same verbs")
	return c
}

// The shipped catalogue loads: English and German, every key of the one
// in the other.
func TestShippedCatalogueIsComplete(t *testing.T) {
	t.Parallel()
	c := shipped(t)
	require.Equal(t, []string{"en", "de"}, c.Languages())
	for _, key := range c.Keys() {
		de, ok := c.Text("de", key)
		require.True(t, ok, key)
		require.NotEmpty(t, de.Plain+de.Plural["other"], key)
	}
}

// A key without its German text, a German key English lacks, different
// verbs and a stray % are each named.
func TestCheckNamesWhatIsMissing(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		en, de, want string
	}{
		"missing":     {`{"a": "A", "b": "B"}`, `{"a": "Ä"}`, `de: "b" has no text`},
		"extra":       {`{"a": "A"}`, `{"a": "Ä", "z": "Z"}`, `de: "z" is not a key of en`},
		"verbs":       {`{"a": "due in %s"}`, `{"a": "fällig"}`, `de: "a" has the verbs`},
		"percent":     {`{"a": "100% sure"}`, `{"a": "100 %% sicher"}`, `en: "a" has a % that is not a verb`},
		"empty":       {`{"a": "A"}`, `{"a": ""}`, `de: "a" has no text`},
		"bad plural":  {`{"a": {"one": "%d x"}}`, `{"a": {"other": "%d x"}}`, `must be a string or an object of plural forms`},
		"plural form": {`{"a": {"few": "x", "other": "%d x"}}`, `{"a": {"other": "%d x"}}`, `not supported for language "en"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := i18n.Load(fstest.MapFS{"en.json": {Data: []byte(tc.en)}, "de.json": {Data: []byte(tc.de)}}, "en", "de")
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// Plural forms follow the language's rules, and numbers are written the
// language's way.
func TestPluralsAndNumbers(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load(fstest.MapFS{
		"en.json": {Data: []byte(`{"n": {"one": "%d incident", "other": "%d incidents"}}`)},
		"de.json": {Data: []byte(`{"n": {"one": "%d Vorfall", "other": "%d Vorfälle"}}`)},
	}, "en", "de")
	require.NoError(t, err)
	require.Equal(t, "1 incident", c.Printer("en").T("n", 1))
	require.Equal(t, "12,000 incidents", c.Printer("en").T("n", 12000))
	require.Equal(t, "12.000 Vorfälle", c.Printer("de").T("n", 12000))
	require.Equal(t, "!nope!", c.Printer("de").T("nope"), "an unknown key stands out")
	require.Equal(t, "en", c.Printer("fr").Lang(), "an unknown language is the default")
}

func TestMatchAcceptLanguage(t *testing.T) {
	t.Parallel()
	c := shipped(t)
	for header, want := range map[string]string{
		"de-DE,de;q=0.9,en;q=0.8": "de",
		"de-AT":                   "de",
		"en-GB,en;q=0.9":          "en",
		"fr-FR,fr;q=0.9":          "en",
		"fr-FR,de;q=0.5":          "de",
		"":                        "en",
		"garbage;;;":              "en",
	} {
		require.Equal(t, want, c.Match(header), header)
	}
}

// Deadlines read the same way on every page: "due in 5 h 12 min (14:30
// CET)", tomorrow and later days named, overdue ones said so, in the
// reader's language and time zone, with UTC on hover.
func TestDue(t *testing.T) {
	t.Parallel()
	c := shipped(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Date(2026, 3, 10, 8, 18, 0, 0, time.UTC) // 09:18 CET
	en := i18n.NewLocale(c.Printer("en"), berlin, now)
	de := i18n.NewLocale(c.Printer("de"), berlin, now)

	due := time.Date(2026, 3, 10, 13, 30, 0, 0, time.UTC) // 14:30 CET
	require.Equal(t, "due in 5 h 12 min (14:30 CET)", en.Due(due))
	require.Equal(t, "fällig in 5 Std. 12 Min. (14:30 CET)", de.Due(due))
	require.Equal(t, "due in 1 d 5 h (tomorrow 14:30 CET)", en.Due(due.Add(24*time.Hour)))
	require.Equal(t, "due in 3 d 5 h (13 Mar 2026, 14:30 CET)", en.Due(due.Add(72*time.Hour)))
	require.Equal(t, "fällig in 3 T. 5 Std. (13.03.2026, 14:30 CET)", de.Due(due.Add(72*time.Hour)))
	require.Equal(t, "overdue by 2 h 3 min (07:15 CET)", en.Due(now.Add(-2*time.Hour-3*time.Minute)))
	require.Equal(t, "due in 12 min (09:30 CET)", en.Due(now.Add(12*time.Minute)))
	require.Equal(t, "due in less than a minute (09:18 CET)", en.Due(now.Add(30*time.Second)))
	require.Equal(t, "overdue by 1 d (yesterday 09:18 CET)", en.Due(now.Add(-24*time.Hour)))
	require.Equal(t, "12 h", en.Duration(12*time.Hour))
	require.Equal(t, "12 Std.", de.Duration(12*time.Hour))

	h := string(en.DueHTML(due))
	require.Equal(t, `<time datetime="2026-03-10T13:30:00Z" title="2026-03-10 13:30 UTC">due in 5 h 12 min (14:30 CET)</time>`, h)

	// Summer time: the zone's abbreviation follows the date.
	summer := i18n.NewLocale(c.Printer("en"), berlin, time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC))
	require.Equal(t, "1 Jul 2026, 10:00 CEST", summer.DateTime(time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)))

	// The night the clocks change: "tomorrow" is still the next day.
	eve := i18n.NewLocale(c.Printer("en"), berlin, time.Date(2026, 3, 28, 22, 0, 0, 0, time.UTC)) // 23:00 CET, Sat
	require.Equal(t, "tomorrow 22:30 CEST", eve.When(time.Date(2026, 3, 29, 20, 30, 0, 0, time.UTC)))
}

// A time element escapes what it shows.
func TestTimeElementIsEscaped(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load(fstest.MapFS{
		"en.json": {Data: []byte(`{"format.datetime": "<b>2006</b>", "format.clock": "15:04", "format.date": "2006"}`)},
	}, "en")
	require.NoError(t, err)
	l := i18n.NewLocale(c.Printer("en"), time.UTC, time.Now())
	require.Contains(t, string(l.Time(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))), "&lt;b&gt;2026&lt;/b&gt;")
}

// A language's messages may be split over <lang>.json and <lang>/*.json
// (one file per area of the UI); a key defined twice is refused, naming
// both files, and the split files count for completeness like the rest.
func TestMessagesSplitOverFiles(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"en.json":        {Data: []byte(`{"a": "A"}`)},
		"en/report.json": {Data: []byte(`{"b": "B"}`)},
		"de.json":        {Data: []byte(`{"a": "A-de"}`)},
		"de/report.json": {Data: []byte(`{"b": "B-de"}`)},
	}
	c, err := i18n.LoadDir(fsys, "en")
	require.NoError(t, err)
	txt, ok := c.Text("de", "b")
	require.True(t, ok)
	require.Equal(t, "B-de", txt.Plain)

	fsys["de/report.json"] = &fstest.MapFile{Data: []byte(`{}`)}
	_, err = i18n.LoadDir(fsys, "en")
	require.ErrorContains(t, err, `"b"`, "a key without its German text fails")

	fsys["de/report.json"] = &fstest.MapFile{Data: []byte(`{"a": "again", "b": "B-de"}`)}
	_, err = i18n.LoadDir(fsys, "en")
	require.ErrorContains(t, err, `"a" is defined in de.json and in de/report.json`)
}

// Sizes are written as file managers do, with the language's decimal
// separator; days are named for a heading relative to today.
func TestSizeAndDay(t *testing.T) {
	t.Parallel()
	c := shipped(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	now := time.Date(2026, 3, 10, 22, 30, 0, 0, time.UTC) // 23:30 CET
	en := i18n.NewLocale(c.Printer("en"), berlin, now)
	de := i18n.NewLocale(c.Printer("de"), berlin, now)
	for n, want := range map[int64][2]string{
		1:             {"1 byte", "1 Byte"},
		54:            {"54 bytes", "54 Byte"},
		1023:          {"1,023 bytes", "1.023 Byte"},
		1024:          {"1.0 KB", "1,0 KB"},
		3_500:         {"3.4 KB", "3,4 KB"},
		10_188:        {"9.9 KB", "9,9 KB"},
		10_240:        {"10 KB", "10 KB"},
		64 << 10:      {"64 KB", "64 KB"},
		100 << 20:     {"100 MB", "100 MB"},
		1_610_612_736: {"1.5 GB", "1,5 GB"},
	} {
		require.Equal(t, want[0], en.Size(n), n)
		require.Equal(t, want[1], de.Size(n), n)
	}
	require.Equal(t, "Today", en.Day(now.Add(-23*time.Hour)))     // 00:30 CET the same day
	require.Equal(t, "Yesterday", en.Day(now.Add(-24*time.Hour))) // 23:30 CET the day before
	require.Equal(t, "Gestern", de.Day(now.Add(-24*time.Hour)))
	require.Equal(t, "8 Mar 2026", en.Day(now.Add(-48*time.Hour)))
	require.Equal(t, "08.03.2026", de.Day(now.Add(-48*time.Hour)))
}
