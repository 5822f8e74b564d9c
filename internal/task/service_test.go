package task_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/certdesk/certdesk/internal/access"
	"github.com/certdesk/certdesk/internal/apperr"
	"github.com/certdesk/certdesk/internal/identity"
	"github.com/certdesk/certdesk/internal/incident"
	"github.com/certdesk/certdesk/internal/org"
	"github.com/certdesk/certdesk/internal/task"
	"github.com/certdesk/certdesk/internal/testapp"
	"github.com/certdesk/certdesk/internal/testdb"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// bundle is what the service tests work with: the app, an incident
// reported by a city and the city's responder.
type bundle struct {
	h         *testapp.Harness
	svc       *task.Service
	inc       *incident.Incident
	responder *identity.User
}

func setup(t *testing.T) *bundle {
	t.Helper()
	h := testapp.New(t, testapp.Options{NoWorkers: true})
	h.Org("national", org.NationalCERT, "")
	h.Org("region", org.RegionalCERT, "national")
	h.Org("city", org.LocalAuthority, "region")
	reporter, _ := h.User("city", access.Reporter)
	responder, _ := h.User("city", access.Responder)
	inc, _, err := h.App.Incidents.Create(context.Background(), reporter.Principal(),
		incident.NewIncident{Title: "Ransomware", Severity: incident.High}, nil)
	require.NoError(t, err)
	return &bundle{h: h, svc: h.App.Tasks, inc: inc, responder: responder}
}

func (b *bundle) events(t *testing.T) []incident.Event {
	t.Helper()
	_, evs, _, err := b.h.App.Incidents.Timeline(context.Background(), access.System, b.inc.ID.String(), nil, incident.Page{Limit: 100})
	require.NoError(t, err)
	return evs
}

func (b *bundle) tasks(t *testing.T) []task.Task {
	t.Helper()
	_, ts, _, err := b.svc.List(context.Background(), access.System, b.inc.ID.String(), task.Any, incident.Page{})
	require.NoError(t, err)
	return ts
}

// TestCreateInTxJoinsAnotherDomainsTransaction is what a playbook step
// does: inside a transaction of another domain (here the incident's), it
// creates a task as certdesk, and both commit or roll back together.
func TestCreateInTxJoinsAnotherDomainsTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	var created *task.Task
	err := b.h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
		ttx, ok := tx.(task.Tx)
		require.True(t, ok, "the incident transaction is also a task transaction")
		if err := tx.AppendEvent(ctx, &incident.Event{IncidentID: b.inc.ID, Actor: "certdesk", Kind: "playbook_step",
			Data: json.RawMessage(`{"step":"isolate"}`), OccurredAt: b.inc.CreatedAt}); err != nil {
			return err
		}
		var err error
		created, err = b.svc.CreateInTx(ctx, ttx, access.System, b.inc.ID, task.NewTask{Title: "Isolate affected hosts", Assignee: b.responder.Email})
		return err
	})
	require.NoError(t, err)
	require.Nil(t, created.CreatedBy, "certdesk created it")
	require.Equal(t, "", created.CreatedByEmail)
	require.Equal(t, 1, created.Position)
	require.Equal(t, b.responder.ID, *created.AssigneeID)

	ts := b.tasks(t)
	require.Len(t, ts, 1)
	require.Equal(t, created.ID, ts[0].ID)
	require.Nil(t, ts[0].CreatedBy)
	require.Equal(t, b.responder.Email, ts[0].AssigneeEmail)
	evs := b.events(t)
	require.Equal(t, task.EventCreated, evs[len(evs)-1].Kind)
	require.Equal(t, "certdesk", evs[len(evs)-1].Actor)
	require.Nil(t, evs[len(evs)-1].ActorUserID)

	t.Run("a failure later in the transaction takes the task with it", func(t *testing.T) {
		before := len(b.events(t))
		boom := errors.New("the next step failed")
		err := b.h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
			if _, err := b.svc.CreateInTx(ctx, tx.(task.Tx), access.System, b.inc.ID, task.NewTask{Title: "rolled back"}); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Len(t, b.tasks(t), 1)
		require.Len(t, b.events(t), before)
	})

	t.Run("the rules hold inside a transaction too", func(t *testing.T) {
		err := b.h.App.Store.InTx(ctx, func(ctx context.Context, tx incident.Tx) error {
			_, err := b.svc.CreateInTx(ctx, tx.(task.Tx), access.System, b.inc.ID, task.NewTask{Title: ""})
			return err
		})
		require.True(t, apperr.Is(err, apperr.Invalid), "%v", err)
		viewer, _ := b.h.User("city", access.Viewer)
		err = b.h.App.Store.InTaskTx(ctx, func(ctx context.Context, tx task.Tx) error {
			_, err := b.svc.CreateInTx(ctx, tx, viewer.Principal(), b.inc.ID, task.NewTask{Title: "viewer"})
			return err
		})
		require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)
	})
}

func TestQueueOfCertdeskItself(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.svc.Queue(context.Background(), access.System, task.QueueFilter{}, incident.Page{})
	require.True(t, apperr.Is(err, apperr.Invalid), "%v", err)
}
