package stats_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/escalation"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/stats"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// world is a small constituency: a national CERT, two regions in different
// time zones, cities, an operator and a partner, with people in each.
type world struct {
	h     *testapp.Harness
	ctx   context.Context
	users map[string]access.Principal // by name
}

func newWorld(t *testing.T) *world {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true, Playbooks: testapp.NoPlaybooks})
	w := &world{h: h, ctx: context.Background(), users: map[string]access.Principal{}}
	for _, o := range []struct {
		slug   string
		kind   org.Kind
		parent string
		zone   string
		sector string
	}{
		{"national", org.NationalCERT, "", "Europe/Berlin", ""},
		{"north", org.RegionalCERT, "national", "Europe/Berlin", ""},
		{"south", org.RegionalCERT, "national", "America/New_York", ""},
		{"n1", org.LocalAuthority, "north", "Europe/Berlin", "public-administration"},
		{"n2", org.LocalAuthority, "north", "UTC", "public-administration"},
		{"s1", org.LocalAuthority, "south", "America/New_York", ""},
		{"op1", org.Operator, "south", "UTC", "energy"},
		{"partner", org.Partner, "", "Asia/Kolkata", ""},
	} {
		oo := h.Org(o.slug, o.kind, o.parent)
		_, err := h.App.DB.SQL.ExecContext(w.ctx, `UPDATE organizations SET time_zone = $1, sector = $2 WHERE id = $3`, o.zone, o.sector, oo.ID)
		require.NoError(t, err)
	}
	for _, u := range []struct {
		name, org string
		role      access.Role
	}{
		{"national-coord", "national", access.Coordinator}, {"national-viewer", "national", access.Viewer},
		{"north-coord", "north", access.Coordinator}, {"north-viewer", "north", access.Viewer},
		{"south-coord", "south", access.Coordinator},
		{"n1-rep", "n1", access.Reporter}, {"n1-viewer", "n1", access.Viewer}, {"n2-rep", "n2", access.Reporter},
		{"s1-rep", "s1", access.Reporter}, {"op1-rep", "op1", access.Reporter}, {"partner-viewer", "partner", access.Viewer},
	} {
		usr, _ := h.User(u.org, u.role)
		w.users[u.name] = usr.Principal()
	}
	return w
}

// ok fails the test on anything but an application error (a refused
// random operation is part of the game).
func ok(t *testing.T, err error) bool {
	t.Helper()
	var ae *apperr.Error
	if err != nil && !errors.As(err, &ae) {
		require.NoError(t, err)
	}
	if ae != nil && ae.Code == apperr.Internal {
		require.NoError(t, err)
	}
	return err == nil
}

// directCells computes a viewer's cells the slow way: every incident the
// visibility rule lets it list, its facts computed afresh from the
// incident and its timeline, and their cells in the viewer's time zone.
func (w *world) directCells(t *testing.T, p access.Principal) map[stats.Key]stats.Cell {
	t.Helper()
	var ids []uuid.UUID
	page := incident.Page{Limit: incident.MaxLimit}
	for {
		incs, next, err := w.h.App.Incidents.List(w.ctx, p, incident.Filter{}, page)
		require.NoError(t, err)
		for _, inc := range incs {
			ids = append(ids, inc.ID)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	var zone string
	require.NoError(t, w.h.App.DB.SQL.QueryRowContext(w.ctx, `SELECT time_zone FROM organizations WHERE id = $1`, p.OrgID).Scan(&zone))
	loc, err := time.LoadLocation(zone)
	require.NoError(t, err)
	out := map[stats.Key]stats.Cell{}
	if len(ids) == 0 {
		return out
	}
	require.NoError(t, w.h.App.Store.InStatsTx(w.ctx, func(ctx context.Context, tx stats.Tx) error {
		srcs, err := tx.StatsSources(ctx, ids)
		if err != nil {
			return err
		}
		for _, s := range srcs {
			f := stats.ComputeFacts(s.Source)
			for _, c := range stats.Cells(&f, p.OrgID, loc) {
				sum := out[c.Key()]
				sum.Series, sum.Day, sum.K1, sum.K2 = c.Series, c.Day, c.K1, c.K2
				sum.N += c.N
				sum.Total += c.Total
				out[c.Key()] = sum
			}
		}
		return nil
	}))
	return out
}

var (
	allDays = [2]time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
	tlps    = []string{"TLP:RED", "TLP:AMBER+STRICT", "TLP:AMBER", "TLP:AMBER", "TLP:GREEN", "TLP:CLEAR"}
	cats    = []string{"", "malicious-code", "availability", "fraud", "intrusions"}
	types   = map[string]string{"malicious-code": "infected-system", "availability": "ddos", "fraud": "phishing", "intrusions": "system-compromise"}
)

// TestRollupsAgreeWithDirectCount runs a random sequence of changes —
// reports at any TLP, TLP changes, stage moves, close and reopen,
// acknowledgements, reclassification, flags and people affected, deadlines
// met, shares, named participants, escalations accepted and declined, an
// organisation moved to another region and time zones changed — with
// compactions in between, and checks after each round, for every viewer,
// that the cells summed from the roll-ups (plus the incidents seen beyond
// them) equal the cells of the incidents the visibility rule lets the
// viewer list, computed afresh; and that every incident's stored facts are
// its facts now.
func TestRollupsAgreeWithDirectCount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 42))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	reporters := []string{"n1-rep", "n2-rep", "s1-rep", "op1-rep", "north-coord", "national-coord"}
	coords := []string{"national-coord", "north-coord", "south-coord"}
	var ids []uuid.UUID
	var escs []string
	viewers := []string{"national-coord", "national-viewer", "north-viewer", "south-coord", "n1-rep", "n1-viewer", "n2-rep",
		"s1-rep", "op1-rep", "partner-viewer"}
	sys := access.System
	check := func(round int) {
		for _, name := range viewers {
			p := w.users[name]
			got, err := w.h.App.Stats.Cells(w.ctx, p, allDays[0], allDays[1])
			require.NoError(t, err)
			want := w.directCells(t, p)
			require.Equal(t, want, got, "round %d, viewer %s (seed %d)", round, name, seed)
		}
		// Every incident's stored facts are its facts now.
		require.NoError(t, w.h.App.Store.InStatsTx(w.ctx, func(ctx context.Context, tx stats.Tx) error {
			srcs, err := tx.StatsSources(ctx, ids)
			if err != nil {
				return err
			}
			for _, s := range srcs {
				f := stats.ComputeFacts(s.Source)
				require.NotNil(t, s.Stored, "round %d: facts of %s", round, s.Source.Incident.ID)
				require.True(t, s.Stored.Equal(&f), "round %d: stored facts of %s\n%+v\nwant %+v", round, s.Source.Incident.ID, *s.Stored, f)
			}
			return nil
		}))
	}
	for round := range 8 {
		for range 30 {
			w.h.Advance(time.Duration(rng.IntN(20)) * time.Hour)
			var id string
			if len(ids) > 0 {
				id = ids[rng.IntN(len(ids))].String()
			}
			switch op := rng.IntN(16); {
			case op < 4 || id == "":
				cat := pick(cats)
				n := incident.NewIncident{Title: "Incident " + fmt.Sprint(len(ids)), TLP: incident.TLP(pick(tlps)),
					Severity: incident.Severities[rng.IntN(4)], Stage: incident.Stages[rng.IntN(4)], Category: cat,
					Type: types[cat], Significant: rng.IntN(3) == 0, PersonalDataBreach: rng.IntN(3) == 0}
				if n.PersonalDataBreach && rng.IntN(2) == 0 {
					people := int64(rng.IntN(5000))
					n.AffectedPeople = &people
				}
				inc, _, err := w.h.App.Incidents.Create(w.ctx, w.users[pick(reporters)], n, nil)
				require.NoError(t, err)
				ids = append(ids, inc.ID)
				if rng.IntN(5) > 0 {
					require.NoError(t, w.h.App.Incidents.Route(w.ctx, inc.ID, nil))
				}
			case op == 4:
				tlp := incident.TLP(pick(tlps))
				_, err := w.h.App.Incidents.Update(w.ctx, sys, id, incident.Patch{TLP: &tlp}, nil)
				ok(t, err)
			case op == 5:
				_, err := w.h.App.Incidents.Transition(w.ctx, sys, id, incident.Stages[rng.IntN(4)], "random", nil)
				ok(t, err)
			case op == 6:
				_, err := w.h.App.Incidents.Close(w.ctx, sys, id, "done", nil)
				ok(t, err)
			case op == 7:
				_, err := w.h.App.Incidents.Reopen(w.ctx, sys, id, "again", nil)
				ok(t, err)
			case op == 8:
				_, err := w.h.App.Incidents.Acknowledge(w.ctx, sys, id)
				ok(t, err)
			case op == 9:
				cat, sev := pick(cats), incident.Severities[rng.IntN(4)]
				typ := types[cat]
				sig, pdb := rng.IntN(2) == 0, rng.IntN(2) == 0
				people := int64(rng.IntN(100_000))
				_, err := w.h.App.Incidents.Update(w.ctx, sys, id, incident.Patch{Category: &cat, Type: &typ, Severity: &sev,
					Significant: &sig, PersonalDataBreach: &pdb, AffectedPeople: &people, ClearAffectedPeople: rng.IntN(3) == 0}, nil)
				ok(t, err)
			case op == 10:
				_, err := w.h.App.Incidents.MarkDeadlineMet(w.ctx, sys, id, incident.DeadlineKinds[rng.IntN(4)], "ref")
				ok(t, err)
			case op == 11:
				_, err := w.h.App.Incidents.Share(w.ctx, sys, id, pick([]string{"n2", "s1", "op1", "partner", "south", "north"}), "")
				ok(t, err)
			case op == 12:
				_, err := w.h.App.Incidents.AddParticipant(w.ctx, sys, id, w.users[pick(viewers)].Email)
				ok(t, err)
			case op == 13:
				to, kind := pick([]string{"parent", "national", "partner"}), pick([]string{"coordinate", "assist"})
				for _, c := range coords {
					e, err := w.h.App.Escalations.Request(w.ctx, w.users[c], id, escalation.Ask{To: to, Kind: kind, Reason: "help",
						JoinsStrictCircle: true})
					if ok(t, err) {
						escs = append(escs, e.ID.String())
						break
					}
				}
			case op == 14 && len(escs) > 0:
				e := escs[rng.IntN(len(escs))]
				for _, c := range coords {
					var err error
					if rng.IntN(3) > 0 {
						_, err = w.h.App.Escalations.Accept(w.ctx, w.users[c], e, "ok")
					} else {
						_, err = w.h.App.Escalations.Decline(w.ctx, w.users[c], e, "no")
					}
					if ok(t, err) {
						break
					}
				}
			default:
				_, err := w.h.App.StatsMaintainer.Compact(w.ctx)
				require.NoError(t, err)
			}
		}
		switch round {
		case 2: // a city moves to the other region
			_, err := w.h.App.Orgs.Update(w.ctx, org.Actor{System: true, Name: "certdesk"}, "n2", org.Patch{Parent: ptr("south")})
			require.NoError(t, err)
		case 3: // the national CERT and a city change their time zones, a city its sector
			for slug, zone := range map[string]string{"national": "Pacific/Auckland", "n1": "America/Los_Angeles"} {
				_, err := w.h.App.Orgs.Update(w.ctx, org.Actor{System: true, Name: "certdesk"}, slug, org.Patch{TimeZone: ptr(zone)})
				require.NoError(t, err)
			}
			_, err := w.h.App.Orgs.Update(w.ctx, org.Actor{System: true, Name: "certdesk"}, "s1", org.Patch{Sector: ptr("health")})
			require.NoError(t, err)
		}
		check(round)
	}
	n, err := w.h.App.StatsMaintainer.Compact(w.ctx)
	require.NoError(t, err)
	t.Logf("%d incidents, %d escalations; the last compaction folded %d rows", len(ids), len(escs), n)
	check(99)

	// The unmet deadlines kept beside the facts (the dashboard's missed
	// deadlines) are exactly the stored facts' deadlines without a met_at,
	// after every change above (deadlines planned, met, moved).
	var unmet, differ int
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM stats_unmet_deadlines`).Scan(&unmet))
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`WITH want AS (
			SELECT f.incident_id, d->>'kind' AS kind, (d->>'due_at')::timestamptz AS due_at
			FROM stats_facts f, jsonb_array_elements(f.deadlines) d WHERE d->>'met_at' IS NULL)
		SELECT count(*) FROM ((SELECT * FROM want EXCEPT SELECT incident_id, kind, due_at FROM stats_unmet_deadlines)
			UNION ALL (SELECT incident_id, kind, due_at FROM stats_unmet_deadlines EXCEPT SELECT * FROM want)) x`).Scan(&differ))
	require.Positive(t, unmet, "significant and breach reports plan deadlines")
	require.Zero(t, differ, "unmet deadlines differ from the facts' deadlines without met_at")
	var met int
	require.NoError(t, w.h.App.DB.SQL.QueryRow(`SELECT count(*) FROM stats_facts f, jsonb_array_elements(f.deadlines) d
		WHERE d->>'met_at' IS NOT NULL`).Scan(&met))
	require.Positive(t, met, "some deadlines were met, and their rows went")
}

func ptr[T any](v T) *T { return &v }

// Incidents without stored facts (from before the metrics existed, or
// written by other means) get them from the backfill, batch after batch
// in ID order: afterwards every viewer's cells are the direct count
// again, and a second backfill finds nothing to do.
func TestBackfillGivesFactsToIncidentsWithoutThem(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	reporters := []string{"n1-rep", "n2-rep", "s1-rep", "op1-rep", "north-coord", "national-coord", "n1-rep"}
	for i, name := range reporters {
		_, _, err := w.h.App.Incidents.Create(w.ctx, w.users[name], incident.NewIncident{Title: fmt.Sprintf("Incident %d", i),
			TLP: incident.TLP(tlps[i%len(tlps)]), Severity: incident.Severities[i%4], Significant: i%2 == 0}, nil)
		require.NoError(t, err)
	}
	_, err := w.h.App.DB.SQL.ExecContext(w.ctx, `DELETE FROM stats_facts; DELETE FROM stats_delta; DELETE FROM stats_rollup`)
	require.NoError(t, err)
	national := w.users["national-coord"]
	got, err := w.h.App.Stats.Cells(w.ctx, national, allDays[0], allDays[1])
	require.NoError(t, err)
	require.NotEqual(t, w.directCells(t, national), got, "without facts the roll-ups miss the incidents")

	m := stats.NewMaintainer(w.h.App.Store.InStatsTx)
	n, err := m.BackfillInBatches(w.ctx, 2)
	require.NoError(t, err)
	require.Equal(t, len(reporters), n, "every incident, in batches of two")
	for _, name := range []string{"national-coord", "north-viewer", "south-coord", "n1-rep", "partner-viewer"} {
		got, err := w.h.App.Stats.Cells(w.ctx, w.users[name], allDays[0], allDays[1])
		require.NoError(t, err)
		require.Equal(t, w.directCells(t, w.users[name]), got, "viewer %s", name)
	}
	n, err = m.Backfill(w.ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left to backfill")
}
